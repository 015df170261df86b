package quorum

import (
	"testing"
	"time"

	"kafkasim/broker/node"
)

// Reference: KIP-595 observers (brokers fetching __cluster_metadata without a vote): they find
// the leader, follow its HW, keep the log on disk across a kill and a crash, and move to the
// new leader after a leader change.
func TestObserversFollowAndRecover(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		w := newWorld(t, seed, 3, 1, 2)
		w.waitReady(5 * time.Second)
		w.runWithLoad(3*time.Second, 30*time.Millisecond)
		w.run(time.Second)
		l := w.leader()
		for _, id := range []int32{1, 2} {
			o := w.nodes[id].obs
			if got, e := o.Leader(); got != l.id || e != l.raft.Epoch() {
				t.Errorf("seed %d: observer %d follows %s/%d; want %s/%d", seed, id, node.Name(got), e, node.Name(l.id), l.raft.Epoch())
			}
			if o.HighWatermark() != l.raft.HighWatermark() || o.EndOffset() != l.raft.EndOffset() {
				t.Errorf("seed %d: observer %d HW %d LEO %d; want %d %d", seed, id, o.HighWatermark(), o.EndOffset(), l.raft.HighWatermark(), l.raft.EndOffset())
			}
		}
		// Observer 1 is killed (page cache kept), observer 2 loses power (flushed entries kept).
		leo := w.nodes[1].obs.EndOffset()
		w.kill(1)
		w.crash(2)
		w.restart(1)
		w.restart(2)
		for _, id := range []int32{1, 2} {
			if got := w.nodes[id].obs.EndOffset(); got != leo {
				t.Errorf("seed %d: observer %d recovered LEO %d from disk; want %d", seed, id, got, leo)
			}
		}
		// Leader change: observers find the new one.
		w.kill(l.id)
		w.runWithLoad(6*time.Second, 30*time.Millisecond)
		w.run(time.Second)
		nl := w.leader()
		if nl == nil || nl == l {
			t.Fatalf("seed %d: no new leader (%s)", seed, w.roles())
		}
		for _, id := range []int32{1, 2} {
			o := w.nodes[id].obs
			if got, _ := o.Leader(); got != nl.id {
				t.Errorf("seed %d: observer %d follows %s; want %s", seed, id, node.Name(got), node.Name(nl.id))
			}
			if o.HighWatermark() != nl.raft.HighWatermark() {
				t.Errorf("seed %d: observer %d HW %d; want %d (%s)", seed, id, o.HighWatermark(), nl.raft.HighWatermark(), w.roles())
			}
		}
	}
}
