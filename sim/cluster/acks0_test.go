package cluster

import (
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/sim"
)

// Reference: KafkaApis.handleProduceRequest closes the connection of an acks=0 produce it cannot
// take (the request has no response to carry NOT_LEADER_OR_FOLLOWER), and the producer asks for
// metadata on the disconnect (NetworkClient.processDisconnection →
// DefaultMetadataUpdater.handleServerDisconnect). An acks=0 producer follows leadership twice:
// when the leader stops (its process exits and resets the connection), and when a preferred
// leader election moves leadership away from a broker that keeps running (only its closing the
// connection tells the producer).
func TestAcksZeroProducerRecoversAfterLeaderChange(t *testing.T) {
	c := newCluster(t, 3, 11, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 1000, "acks", "0")
	c.RunFor(2 * time.Second)

	// The records sent in a second that ended half a second ago are all in the leader's log.
	recentInLog := func(what string) {
		t.Helper()
		c.RunFor(3 * time.Second)
		vals := map[int64]bool{}
		for _, v := range logValues(c, c.Leader(p0), p0) {
			vals[v] = true
		}
		from, to, total, missing := c.Now()-1500*time.Millisecond, c.Now()-500*time.Millisecond, 0, 0
		for _, op := range c.History() {
			if op.Type != history.Send || op.Client != "p1" || op.Complete < from || op.Complete >= to || op.Outcome != history.OK {
				continue
			}
			for _, v := range op.Values {
				total++
				if !vals[v] {
					missing++
				}
			}
		}
		if total < 900 || missing > 0 {
			t.Errorf("%s: %d of the %d records sent in that second are not in leader %d's log; want every one",
				what, missing, total, c.Leader(p0))
		}
	}

	if err := c.World.Stop(1); err != nil {
		t.Fatal(err)
	}
	await(t, c, "leadership moved", 5*time.Second, func() bool { l := c.Leader(p0); return l == 2 || l == 3 })
	recentInLog("after stop 1")
	// The controlled shutdown ends once the other brokers have replayed the leadership moves
	// (BrokerHeartbeatManager.calculateNextBrokerState).
	await(t, c, "broker 1 stopped", 30*time.Second, func() bool { return c.World.State(1) == sim.Stopped })

	if err := c.World.Restart(1); err != nil {
		t.Fatal(err)
	}
	await(t, c, "broker 1 back in the ISR", 60*time.Second, func() bool { return len(c.ISR(p0)) == 3 })
	old := c.Leader(p0)
	c.ElectLeaders(false, p0)
	await(t, c, "preferred leader 1", 10*time.Second, func() bool { return c.Leader(p0) == 1 })
	if !running(c, old) {
		t.Fatalf("broker %d stopped; want it running (it must close the connection itself)", old)
	}
	recentInLog("after the preferred leader election")
}
