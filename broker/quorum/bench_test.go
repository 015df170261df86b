package quorum

import (
	"testing"
	"time"
)

// BenchmarkQuorumStep measures the cost of one delivered input (message or timer) in a
// 3-voter quorum with 2 observers under a steady append load, invariant checks off.
func BenchmarkQuorumStep(b *testing.B) {
	w := newWorld(b, 1, 3, 1, 2)
	w.noCheck = true
	w.waitReady(5 * time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	steps := 0
	for steps < b.N {
		if l := w.readyLeader(); l != nil {
			w.nextValue++
			l.raft.Append(w.now, []any{w.nextValue})
		}
		end := w.now + 10*time.Millisecond
		for len(w.q) > 0 && w.q[0].at <= end {
			w.step()
			steps++
		}
		w.now = end
	}
	b.ReportMetric(float64(w.now)/float64(b.Elapsed()), "sim-x-realtime")
}
