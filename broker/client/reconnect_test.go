package client

import (
	"testing"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// After a connection reset the producer leaves the broker alone for reconnect.backoff.ms,
// doubling while it keeps refusing, with ±20% jitter: a dead broker is not hammered
// (ClusterConnectionStates' reconnect back-off).
func TestReconnectBackoffAfterReset(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(int, protocol.ProducePartition) produceAction { return produceAction{drop: true} }
	startProducer(t, w, producerConfig(t, "enable.idempotence", "false", "linger.ms", "0", "retry.backoff.ms", "1"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(w.now + ms)
	if n := len(w.produces()); n != 1 {
		t.Fatalf("%d produce requests; want 1", n)
	}
	// The leader's process dies: three resets, each followed by a retry only after the back-off.
	var gaps []int64
	for i := 0; i < 3; i++ {
		reset := w.now
		w.push(w.now, 1, &node.ConnectionReset{Peer: 1})
		w.runUntil(w.now + 2000*ms)
		ps := w.produces()
		if len(ps) != 2+i {
			t.Fatalf("after reset %d: %d produce requests; want %d", i+1, len(ps), 2+i)
		}
		gaps = append(gaps, int64((ps[len(ps)-1].at-reset)/ms))
		w.now = ps[len(ps)-1].at
	}
	want := []int64{50, 100, 200}
	for i := range want {
		if lo, hi := want[i]*8/10, want[i]*12/10+5; gaps[i] < lo || gaps[i] > hi {
			t.Errorf("retry %d came %dms after the reset; want %d..%dms (reconnect.backoff.ms doubling, ±20%% jitter)", i+1, gaps[i], lo, hi)
		}
	}
}

// NetworkClient.leastLoadedNode takes a node it may connect to over one within its reconnect
// back-off (ClusterConnectionStates.canConnect): metadata and coordinator look-ups skip brokers
// backing off while another is there, ask them again once the back-off passed, and ask one
// anyway when every broker backs off.
func TestMetadataPickSkipsNodesInReconnectBackoff_LeastLoadedNode(t *testing.T) {
	env := newWorld(t).env()
	rc := newReconnects(50*ms, 1000*ms)
	m := newTopicMeta("t", []int32{1, 2, 3}, 100*ms, 1000*ms)
	m.brokers = []int32{1, 2, 3}
	m.rc = &rc
	rc.failed(env, 0, 1)
	rc.failed(env, 0, 2)
	seen := map[int32]int{}
	for range 60 {
		seen[m.pick(env, 10*ms, -1)]++
	}
	if seen[3] != 60 {
		t.Errorf("picks within the back-off of brokers 1 and 2: %v; want broker 3 only", seen)
	}
	if to := m.pick(env, 10*ms, 3); to != 1 && to != 2 {
		t.Errorf("pick avoiding 3 with 1 and 2 backing off: %d; want 1 or 2", to)
	}
	clear(seen)
	for range 60 {
		seen[m.pick(env, 200*ms, -1)]++
	}
	if seen[1] == 0 || seen[2] == 0 || seen[3] == 0 {
		t.Errorf("picks after the back-off: %v; want every broker", seen)
	}
	rc.failed(env, 300*ms, 3)
	rc.failed(env, 300*ms, 1)
	rc.failed(env, 300*ms, 2)
	if to := m.pick(env, 310*ms, -1); to < 1 || to > 3 {
		t.Errorf("pick with every broker backing off: %d; want one of them", to)
	}
}
