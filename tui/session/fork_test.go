package session

import (
	"reflect"
	"runtime"
	"testing"
	"time"
)

// replayed is a timeline re-simulated from the seed by tl's actions alone, as a check of what
// tl holds.
func replayed(t testing.TB, s *Session, tl *Timeline) *Timeline {
	t.Helper()
	r, err := s.newTimeline()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.replay(tl.actions, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// sameCourse fails unless tl and a from-scratch re-simulation of its actions have the same
// trace hash and the same history of client operations.
func sameCourse(t *testing.T, s *Session, tl *Timeline) {
	t.Helper()
	r := replayed(t, s, tl)
	if got, want := tl.c.World.Trace().Hash(), r.c.World.Trace().Hash(); got != want {
		t.Errorf("timeline %d: trace %016x; re-simulated from the seed: %016x", tl.ID, got, want)
	}
	if got, want := tl.c.History(), r.c.History(); !reflect.DeepEqual(got, want) {
		t.Errorf("timeline %d: %d operations differ from the %d re-simulated from the seed", tl.ID, len(got), len(want))
	}
}

// A fork shares its parent's history up to the fork (the same chunks), and both timelines go
// on independently: each keeps its own trace, and each holds what re-simulating its own
// actions from the seed gives.
func TestForkSharesTheParentsHistory(t *testing.T) {
	s := newLive(t)
	s.Advance(time.Minute)
	s.SeekTime(50 * time.Second)
	parent := s.tl()
	if err := s.Exec("kill 1"); err != nil {
		t.Fatal(err)
	}
	fork := s.tl()
	if fork == parent {
		t.Fatal("no fork")
	}
	// A minute records about 60,000 operations: full chunks of records and values before the
	// fork, each shared (a values chunk is 512 KiB; how many numbers an operation stores
	// depends on the history's encoding, so the test asks for one chunk's worth).
	if got := fork.c.SharedHistoryBytes(parent.c); got < 512<<10 {
		t.Errorf("the fork shares %d bytes of its parent's history; want at least 512 KiB", got)
	}
	sameCourse(t, s, fork)
	s.Advance(10 * time.Second)
	if err := s.SwitchTimeline(parent.ID); err != nil {
		t.Fatal(err)
	}
	s.Advance(10 * time.Second)
	if fork.c.World.Trace().Hash() == parent.c.World.Trace().Hash() {
		t.Error("the fork and its parent have one trace hash after going on apart")
	}
	sameCourse(t, s, fork)
	sameCourse(t, s, parent)
}

// BenchmarkForkMemory forks the classroom five and ten virtual minutes in (a kill typed one
// second back) and reports the heap the fork added (fork-B: its world and what it holds
// alone, after a collection) and its parent's history it shares instead (shared-B).
func BenchmarkForkMemory(b *testing.B) {
	for _, d := range []time.Duration{5 * time.Minute, 10 * time.Minute} {
		b.Run(d.String(), func(b *testing.B) {
			var added, inuse, shared, parentHeap float64
			for range b.N {
				b.StopTimer()
				s := newLive(b)
				s.Advance(d)
				s.SeekTime(d - time.Second)
				parent := s.tl()
				before := heap()
				b.StartTimer()
				if err := s.Exec("kill 1"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				after := heap()
				added += float64(after.HeapAlloc) - float64(before.HeapAlloc)
				inuse += float64(after.HeapInuse) - float64(before.HeapInuse)
				parentHeap += float64(before.HeapAlloc)
				shared += float64(s.tl().c.SharedHistoryBytes(parent.c))
				runtime.KeepAlive(s)
			}
			n := float64(b.N)
			b.ReportMetric(added/n, "fork-B")
			b.ReportMetric(inuse/n, "fork-inuse-B")
			b.ReportMetric(shared/n, "shared-B")
			b.ReportMetric(parentHeap/n, "parent-B")
		})
	}
}

// heap is the heap's statistics after a full collection.
func heap() runtime.MemStats {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}
