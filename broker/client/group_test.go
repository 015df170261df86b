package client

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Reference: AbstractCoordinator.ensureCoordinatorReady. A FindCoordinator whose connection
// drops (ConsumerNetworkClient fails it with a DisconnectException) is sent again after
// retry.backoff.ms, not after request.timeout.ms: a member whose lookup went to a dead broker
// finds its coordinator at once and goes on to join.
func TestFindCoordinatorRetriedAfterDisconnect(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 2, 1)
	var finds []sentMsg
	w.handle = func(to int32, msg any) {
		m, ok := msg.(*protocol.FindCoordinatorRequest)
		if !ok {
			c.handle(to, msg)
			return
		}
		finds = append(finds, sentMsg{at: w.now, to: to, msg: m})
		if len(finds) == 1 {
			w.push(w.now+w.latency, to, &node.ConnectionReset{Peer: to}) // the broker is down
			return
		}
		w.reply(to, &protocol.FindCoordinatorResponse{CorrelationID: m.CorrelationID, NodeID: 2})
	}
	cfg := config.DefaultConsumer()
	cfg.Group = "g1"
	startConsumer(t, w, cfg)
	w.runUntil(5 * time.Second)
	if len(finds) < 2 {
		t.Fatalf("%d FindCoordinator requests in 5s; want the one that was reset sent again", len(finds))
	}
	if gap := finds[1].at - finds[0].at; gap > time.Second {
		t.Errorf("FindCoordinator sent again %v after the first; want about retry.backoff.ms (%v), not request.timeout.ms", gap, cfg.RetryBackoff)
	}
	joined := false
	for _, s := range w.sent {
		_, isJoin := s.msg.(*protocol.JoinGroupRequest)
		joined = joined || isJoin && s.to == 2
	}
	if !joined {
		t.Error("no JoinGroup to the coordinator (broker 2) after the lookup was retried")
	}
}
