package sim

import (
	"testing"
	"time"
)

type ping struct{ N int }
type pong struct{ N int }

func (p ping) TraceArg() int64 { return int64(p.N) }

// pinger pings a random peer every few milliseconds, answers pings with pongs, logs pongs to
// disk and stops gracefully a little after Stop.
type pinger struct {
	h     *Host
	peers []int32
	n     int
}

type halt struct{}

func newPinger(peers []int32) Factory {
	return func(h *Host) Node {
		p := &pinger{h: h, peers: peers, n: h.Disk().Len("pongs")}
		h.After(time.Duration(h.Rand()%5_000_000), tick{})
		return p
	}
}

func (p *pinger) Step(now time.Duration, from int32, m any) {
	switch m := m.(type) {
	case tick:
		p.n++
		p.h.Send(p.peers[p.h.Rand()%uint64(len(p.peers))], ping{p.n})
		p.h.After(2*time.Millisecond+time.Duration(p.h.Rand()%3_000_000), tick{})
	case ping:
		p.h.Send(from, pong(m))
	case pong:
		p.h.Disk().Append("pongs", m.N)
		if m.N%10 == 0 {
			p.h.Disk().Flush("pongs")
			p.h.Observe(m)
		}
	case halt:
		p.h.Halt()
	}
}

func (p *pinger) Stop(now time.Duration) { p.h.After(5*time.Millisecond, halt{}) }

// swarm runs five pingers for 10 virtual seconds under random faults and returns the trace.
func swarm(seed uint64, discard bool) *World {
	o := DefaultOptions()
	o.Seed = seed
	o.OSFlushInterval = time.Second
	o.DiscardTrace = discard
	w := New(o)
	ids := []int32{1, 2, 3, 3001, 10001}
	for _, id := range ids {
		w.AddNode(id, testName(id), newPinger(ids))
	}
	fr := w.Rand("faults")
	for i := 0; i < 100; i++ {
		w.RunFor(100 * time.Millisecond)
		a, b := ids[fr.Intn(len(ids))], ids[fr.Intn(len(ids))]
		switch fr.Intn(14) {
		case 0:
			_ = w.Kill(a)
		case 1:
			_ = w.Crash(a)
		case 2:
			_ = w.Stop(a)
		case 3, 4:
			_ = w.Restart(a)
		case 5:
			_ = w.Pause(a)
		case 6:
			_ = w.Resume(a)
		case 7:
			w.Partition([]int32{a}, []int32{b})
		case 8:
			w.Isolate(a)
		case 9:
			w.Cut(a, b)
		case 10:
			w.Slow(a, fr.Duration(0, 50*time.Millisecond))
		case 11:
			w.Loss(a, b, fr.Float64())
		case 12:
			w.Heal()
		case 13:
			w.Inject(a, tick{})
		}
	}
	return w
}

// testName is a display name for a test id.
func testName(id int32) string {
	return string(rune('a' + id%26))
}

func TestDeterminismSameSeedSameHash(t *testing.T) {
	a, b := swarm(42, false), swarm(42, false)
	if a.Trace().Hash() != b.Trace().Hash() {
		t.Fatalf("got hashes %x and %x for seed 42; want equal", a.Trace().Hash(), b.Trace().Hash())
	}
	if a.Trace().Len() < 1000 {
		t.Fatalf("got %d events; want a busy run (≥ 1000)", a.Trace().Len())
	}
	for i := 0; i < a.Trace().Len(); i++ {
		if a.Trace().At(i) != b.Trace().At(i) {
			t.Fatalf("event %d: got %+v; want %+v", i, b.Trace().At(i), a.Trace().At(i))
		}
	}
	// Discarding the bodies does not change the hash or the count.
	d := swarm(42, true)
	if d.Trace().Hash() != a.Trace().Hash() || d.Trace().Len() != a.Trace().Len() {
		t.Fatalf("discarded trace: got hash %x len %d; want %x len %d", d.Trace().Hash(), d.Trace().Len(), a.Trace().Hash(), a.Trace().Len())
	}
	if got := d.Trace().At(0); got != (Event{}) {
		t.Fatalf("discarded trace At(0): got %+v; want zero Event", got)
	}
}

func TestDeterminismDifferentSeedDifferentHash(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(1); seed <= 5; seed++ {
		h := swarm(seed, true).Trace().Hash()
		if prev, ok := seen[h]; ok {
			t.Fatalf("seeds %d and %d: got the same hash %x; want different", prev, seed, h)
		}
		seen[h] = seed
	}
}

func TestSwarmExercisesEveryEventKind(t *testing.T) {
	w := swarm(7, false)
	var kinds [16]int
	for i := 0; i < w.Trace().Len(); i++ {
		kinds[w.Trace().At(i).Kind]++
	}
	for k := Deliver; k <= Writeback; k++ {
		if kinds[k] == 0 {
			t.Errorf("kind %v: got 0 events; want some", k)
		}
	}
	s := w.Stats()
	if s.Events != int64(w.Trace().Len()) || s.Deliveries == 0 || s.Drops == 0 || s.Timers == 0 {
		t.Errorf("got stats %+v; want events = trace length and non-zero deliveries, drops, timers", s)
	}
}
