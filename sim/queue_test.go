package sim

import (
	"container/heap"
	"math/rand/v2"
	"testing"
	"time"
)

// TestEventsOrderMatchesHeap checks that the calendar and the lanes of long timers change
// nothing in the order events come out: a random mix of timers (some of a few long delays, more
// delays than there are lanes; some past the calendar's reach, some at its edge), messages,
// bursts of them out of order, events due at once and resumed ones (due now, ahead of
// everything else due now) comes out of
// events exactly as out of a plain binary heap (container/heap), the reference for events' own
// 4-ary one.
func TestEventsOrderMatchesHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var e events
	var h refQueue
	var now time.Duration
	var seq int64
	delays := []time.Duration{time.Second, 2 * time.Second, 30 * time.Second, 120 * time.Second}
	for i := range maxLanes + 4 {
		delays = append(delays, time.Duration(3+i)*time.Second+time.Duration(i))
	}
	reach := time.Duration(calBuckets) << calShift
	popped := 0
	holdSeq := int64(-1 << 62)
	draining, drains := false, 0 // now and then everything is taken: time jumps ahead
	for step := 0; step < 400000; step++ {
		if step%50000 == 49999 {
			draining = true
		}
		if e.len() == 0 && draining {
			draining = false
			drains++
		}
		if step%1000 == 0 { // a burst: a hundred brokers answering fetches, out of order
			for range 300 {
				it := item{at: now + time.Duration(r.IntN(int(2*time.Millisecond))), seq: seq}
				if r.IntN(4) == 0 {
					it.at = now + time.Duration(r.IntN(4))*time.Millisecond // many due at once
				}
				seq++
				heap.Push(&h, it)
				e.push(it, -1)
			}
		}
		if r.IntN(3) > 0 && !draining || e.len() == 0 {
			d := time.Duration(r.IntN(5000)) * time.Microsecond
			lane := r.IntN(2) == 0
			switch k := r.IntN(20); {
			case lane:
				d = delays[r.IntN(len(delays))]
			case k == 0:
				d = 0
			case k == 1:
				d = reach - time.Duration(r.IntN(2<<calShift)) // about the calendar's edge
			case k == 2:
				d = time.Duration(r.IntN(int(time.Second)))
			case k == 3:
				d = time.Duration(r.IntN(1000)) // within one bucket
			case k < 8:
				d = time.Duration(r.IntN(20)) * 100 * time.Microsecond // many due at once
			}
			it := item{at: now + d, seq: seq, inc: uint32(step)}
			seq++
			if !lane && r.IntN(50) == 0 { // resumed: due now, before the rest due now
				it.at, it.seq = now, holdSeq
				holdSeq++
			}
			heap.Push(&h, it)
			if lane {
				e.push(it, d)
			} else {
				e.push(it, -1)
			}
			continue
		}
		if e.at() != h[0].at {
			t.Fatalf("step %d: next at %v; the heap says %v", step, e.at(), h[0].at)
		}
		got, want := e.pop(), heap.Pop(&h).(item)
		if got.seq != want.seq || got.at != want.at {
			t.Fatalf("step %d: popped (%v, %d); the heap pops (%v, %d)", step, got.at, got.seq, want.at, want.seq)
		}
		now = got.at
		popped++
	}
	if e.len() != len(h) || popped < 50000 || drains < 7 {
		t.Fatalf("%d events left, %d in the heap; %d popped, %d drains", e.len(), len(h), popped, drains)
	}
}

// refQueue is a plain binary heap on (at, seq) by container/heap.
type refQueue []item

func (h refQueue) Len() int           { return len(h) }
func (h refQueue) Less(i, j int) bool { return before(&h[i], &h[j]) }
func (h refQueue) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refQueue) Push(x any)        { *h = append(*h, x.(item)) }
func (h *refQueue) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
