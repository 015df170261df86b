package sim

import (
	"reflect"
	"testing"
	"time"
)

// netWorld builds a world of recorders 1, 2, 3, 4 with the given latency range.
func netWorld(t *testing.T, min, max time.Duration) (*World, map[int32]*[]*recorder) {
	t.Helper()
	o := DefaultOptions()
	o.Seed = 1
	o.LatencyMin, o.LatencyMax = min, max
	w := New(o)
	rs := map[int32]*[]*recorder{}
	for _, id := range []int32{1, 2, 3, 4} {
		var l []*recorder
		rs[id] = &l
		w.AddNode(id, testName(id), recorders(rs[id]))
	}
	return w, rs
}

func last(rs *[]*recorder) *recorder { return (*rs)[len(*rs)-1] }

func TestLinkDeliversInOrderUnderRandomLatency(t *testing.T) {
	w, rs := netWorld(t, time.Millisecond, 50*time.Millisecond)
	h := w.Host(1)
	n := 0
	for burst := 0; burst < 100; burst++ {
		for i := 0; i < 10; i++ {
			h.Send(2, msg{n})
			n++
		}
		w.RunFor(time.Duration(burst%7) * time.Millisecond)
	}
	w.RunFor(time.Second)
	got := msgs(last(rs[2]).got)
	if !equalInts(got, ints(n)) {
		t.Fatalf("got order %v; want 0..%d in order", got, n-1)
	}
	// Latency really varies: deliveries are not all one fixed delay apart.
	distinct := map[time.Duration]bool{}
	for _, r := range last(rs[2]).got {
		distinct[r.at] = true
	}
	if len(distinct) < 20 {
		t.Fatalf("got %d distinct delivery times; want ≥ 20 under 1ms..50ms latency", len(distinct))
	}
}

// reach sends one message along every ordered pair and reports which arrived.
func reach(w *World, rs map[int32]*[]*recorder) map[[2]int32]bool {
	ids := []int32{1, 2, 3, 4}
	before := map[int32]int{}
	for _, id := range ids {
		before[id] = len(last(rs[id]).got)
	}
	for _, a := range ids {
		for _, b := range ids {
			if a != b {
				w.Host(a).Send(b, msg{int(a)})
			}
		}
	}
	w.RunFor(time.Second)
	out := map[[2]int32]bool{}
	for _, b := range ids {
		for _, r := range last(rs[b]).got[before[b]:] {
			out[[2]int32{r.from, b}] = true
		}
	}
	return out
}

func TestNetworkFaults(t *testing.T) {
	all := func(cut ...[2]int32) map[[2]int32]bool {
		m := map[[2]int32]bool{}
		for a := int32(1); a <= 4; a++ {
			for b := int32(1); b <= 4; b++ {
				if a != b {
					m[[2]int32{a, b}] = true
				}
			}
		}
		for _, c := range cut {
			delete(m, c)
		}
		return m
	}
	tests := []struct {
		name  string
		fault func(w *World)
		want  map[[2]int32]bool
	}{
		{"none", func(w *World) {}, all()},
		{"partition 1 2 | 3", func(w *World) { w.Partition([]int32{1, 2}, []int32{3}) },
			all([2]int32{1, 3}, [2]int32{3, 1}, [2]int32{2, 3}, [2]int32{3, 2})},
		{"isolate 2", func(w *World) { w.Isolate(2) },
			all([2]int32{1, 2}, [2]int32{2, 1}, [2]int32{3, 2}, [2]int32{2, 3}, [2]int32{4, 2}, [2]int32{2, 4})},
		{"cut 1 -> 2", func(w *World) { w.Cut(1, 2) }, all([2]int32{1, 2})},
		{"partitions add up", func(w *World) {
			w.Partition([]int32{1}, []int32{2})
			w.Partition([]int32{3}, []int32{4})
		}, all([2]int32{1, 2}, [2]int32{2, 1}, [2]int32{3, 4}, [2]int32{4, 3})},
		{"loss 1 -> 2 p=1", func(w *World) { w.Loss(1, 2, 1) }, all([2]int32{1, 2})},
		{"heal", func(w *World) {
			w.Partition([]int32{1, 2}, []int32{3, 4})
			w.Isolate(1)
			w.Cut(4, 3)
			w.Loss(2, 1, 1)
			w.Slow(3, time.Hour)
			w.Heal()
		}, all()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rs := netWorld(t, time.Millisecond, 3*time.Millisecond)
			tt.fault(w)
			got := reach(w, rs)
			for k := range tt.want {
				if !got[k] {
					t.Errorf("%d -> %d: got dropped; want delivered", k[0], k[1])
				}
			}
			for k := range got {
				if !tt.want[k] {
					t.Errorf("%d -> %d: got delivered; want dropped", k[0], k[1])
				}
			}
		})
	}
}

func TestDropReasonsTraced(t *testing.T) {
	w, _ := netWorld(t, time.Millisecond, time.Millisecond)
	w.Partition([]int32{1}, []int32{2})
	w.Cut(1, 3)
	w.Loss(1, 4, 1)
	w.Host(1).Send(2, msg{0})
	w.Host(1).Send(3, msg{0})
	w.Host(1).Send(4, msg{0})
	w.Host(1).Send(99, msg{0})
	want := []struct {
		to     int32
		reason int64
	}{{2, DropPartitioned}, {3, DropCut}, {4, DropLost}, {99, DropDown}}
	var got []Event
	for i := 0; i < w.Trace().Len(); i++ {
		if e := w.Trace().At(i); e.Kind == Drop {
			got = append(got, e)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d drops; want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.Node != want[i].to || e.Peer != 1 || e.Arg != want[i].reason || w.Trace().TypeName(e.Type) != "sim.msg" {
			t.Errorf("drop %d: got %s; want to %d reason %s type sim.msg", i, w.Trace().Describe(e), want[i].to, DropReason(want[i].reason))
		}
	}
}

func TestCutAtDeliveryTimeDrops(t *testing.T) {
	w, rs := netWorld(t, 10*time.Millisecond, 10*time.Millisecond)
	w.Host(1).Send(2, msg{1})
	w.RunFor(5 * time.Millisecond)
	w.Cut(1, 2)
	w.RunFor(time.Second)
	if got := msgs(last(rs[2]).got); len(got) != 0 {
		t.Fatalf("got %v delivered; want the in-flight message dropped by the cut", got)
	}
	if s := w.Stats(); s.Drops != 1 {
		t.Fatalf("got %d drops; want 1", s.Drops)
	}
}

func TestLossProbabilityRoughlyHonoured(t *testing.T) {
	w, rs := netWorld(t, time.Millisecond, time.Millisecond)
	w.Loss(1, 2, 0.25)
	const n = 20000
	sendAll(w, 1, 2, n)
	w.RunFor(time.Second)
	got := len(last(rs[2]).got)
	lost := float64(n-got) / n
	if lost < 0.23 || lost > 0.27 {
		t.Fatalf("got loss rate %.3f; want 0.25 ± 0.02", lost)
	}
	// The reverse direction is untouched.
	sendAll(w, 2, 1, 100)
	w.RunFor(time.Second)
	if got := len(last(rs[1]).got); got != 100 {
		t.Fatalf("2 -> 1: got %d of 100; want all (loss is one-way)", got)
	}
}

func TestSlowAddsLatency(t *testing.T) {
	tests := []struct {
		name string
		slow map[int32]time.Duration
		want time.Duration
	}{
		{"none", nil, 2 * time.Millisecond},
		{"receiver slow", map[int32]time.Duration{2: 10 * time.Millisecond}, 12 * time.Millisecond},
		{"sender slow", map[int32]time.Duration{1: 10 * time.Millisecond}, 12 * time.Millisecond},
		{"both slow", map[int32]time.Duration{1: 10 * time.Millisecond, 2: 5 * time.Millisecond}, 17 * time.Millisecond},
		{"other node slow", map[int32]time.Duration{3: 10 * time.Millisecond}, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rs := netWorld(t, 2*time.Millisecond, 2*time.Millisecond)
			for id, d := range tt.slow {
				w.Slow(id, d)
			}
			start := w.Now()
			w.Host(1).Send(2, msg{1})
			w.RunFor(time.Second)
			got := last(rs[2]).got
			if len(got) != 1 || got[0].at-start != tt.want {
				t.Fatalf("got %v; want one delivery after %v", got, tt.want)
			}
		})
	}
}

func TestSelfSendHasZeroLatency(t *testing.T) {
	w, rs := netWorld(t, 5*time.Millisecond, 5*time.Millisecond)
	w.RunFor(time.Millisecond)
	w.Isolate(1) // isolation does not cut a node from itself
	w.Host(1).Send(1, msg{7})
	w.Step()
	got := last(rs[1]).got
	if len(got) != 1 || got[0].at != time.Millisecond || got[0].from != 1 {
		t.Fatalf("got %v; want msg 7 from 1 at 1ms", got)
	}
}

func TestPauseHoldsAndResumeDeliversInOrder(t *testing.T) {
	w, rs := netWorld(t, time.Millisecond, 5*time.Millisecond)
	r := last(rs[2])
	if err := w.Pause(2); err != nil {
		t.Fatal(err)
	}
	if got := w.State(2); got != Paused {
		t.Fatalf("got state %v; want paused", got)
	}
	sendAll(w, 1, 2, 20)
	r.h.After(10*time.Millisecond, tick{1})
	w.Inject(2, tick{2})
	w.RunFor(time.Second)
	if len(r.got) != 0 {
		t.Fatalf("got %d inputs while paused; want none", len(r.got))
	}
	if err := w.Resume(2); err != nil {
		t.Fatal(err)
	}
	w.Inject(2, tick{3}) // after the resume: behind everything that was held
	w.Host(1).Send(2, msg{20})
	w.RunFor(time.Second)
	if got := msgs(r.got); !equalInts(got, ints(21)) {
		t.Fatalf("got %v; want 0..20 in order", got)
	}
	var ticks []int
	for _, g := range r.got {
		if tk, ok := g.msg.(tick); ok {
			ticks = append(ticks, tk.gen)
			if g.at != time.Second {
				t.Errorf("tick %d: got at %v; want at the resume instant 1s", tk.gen, g.at)
			}
		}
	}
	// The inject came before the timer in time, so it was held first.
	if !equalInts(ticks, []int{2, 1, 3}) {
		t.Fatalf("got ticks %v; want [2 1 3] (held in order, then the post-resume inject)", ticks)
	}
	// The held inputs arrived at the resume instant, before anything else due then.
	for i := 0; i < 22; i++ {
		if r.got[i].at != time.Second {
			t.Fatalf("input %d: got at %v; want at the resume instant 1s", i, r.got[i].at)
		}
	}
	if m, ok := r.got[23].msg.(msg); !ok || m.N != 20 || r.got[23].at <= time.Second {
		t.Fatalf("last input: got %+v; want msg 20 after the resume, over the network", r.got[23])
	}
}

func TestDeliveryToRestartedNodeIsDropped(t *testing.T) {
	w, rs := netWorld(t, 10*time.Millisecond, 10*time.Millisecond)
	w.Host(1).Send(2, msg{1})
	w.RunFor(time.Millisecond)
	if err := w.Kill(2); err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(2); err != nil {
		t.Fatal(err)
	}
	w.RunFor(time.Second)
	if got := msgs(last(rs[2]).got); len(got) != 0 {
		t.Fatalf("new incarnation got %v; want nothing (the old connection died)", got)
	}
	if got := len(*rs[2]); got != 2 {
		t.Fatalf("got %d incarnations; want 2", got)
	}
}

func TestInjectIsOrderedAfterEventsDueNow(t *testing.T) {
	w, rs := netWorld(t, time.Millisecond, time.Millisecond)
	r := last(rs[1])
	r.h.After(0, tick{1})
	w.Inject(1, tick{2})
	r.h.After(0, tick{3})
	w.RunFor(0)
	var got []int
	for _, g := range r.got {
		got = append(got, g.msg.(tick).gen)
		if g.at != 0 {
			t.Errorf("got input at %v; want 0", g.at)
		}
	}
	if !equalInts(got, []int{1, 2, 3}) {
		t.Fatalf("got %v; want [1 2 3]", got)
	}
	if r.got[1].from != 0 {
		t.Fatalf("inject: got from %d; want 0", r.got[1].from)
	}
}

func TestIDsSortedAndFaultsOnLaterNodes(t *testing.T) {
	w := New(DefaultOptions())
	w.Isolate(10001) // a client not added yet
	for _, id := range []int32{3002, 2, 10001, 1, 3001} {
		w.AddNode(id, testName(id), recorders(new([]*recorder)))
	}
	if got, want := w.IDs(), []int32{1, 2, 3001, 3002, 10001}; !reflect.DeepEqual(got, want) {
		t.Fatalf("IDs: got %v; want %v", got, want)
	}
	if got := w.Name(3001); got != testName(3001) {
		t.Fatalf("Name(3001): got %q; want %q", got, testName(3001))
	}
	if w.State(77) != Absent || w.Name(77) != "" || w.Host(77) != nil || w.Disk(77) != nil || w.Node(77) != nil {
		t.Fatalf("unknown id 77: got a node; want absent")
	}
	w.Host(10001).Send(1, msg{1})
	w.Host(1).Send(10001, msg{2})
	w.RunFor(time.Second)
	if s := w.Stats(); s.Drops != 2 || s.Deliveries != 0 {
		t.Fatalf("got %d drops %d deliveries; want the isolation to apply to the later client", s.Drops, s.Deliveries)
	}
}
