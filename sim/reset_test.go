package sim

import (
	"testing"
	"time"
)

type reset struct{ peer int32 }

// resetWorld has nodes 1 and 2 that have exchanged a message, with connection resets on.
func resetWorld(t *testing.T) (*World, *[]*recorder, *[]*recorder) {
	t.Helper()
	o := DefaultOptions()
	o.Seed = 3
	o.ConnectionReset = func(peer int32) any { return reset{peer} }
	w := New(o)
	var a, b []*recorder
	w.AddNode(1, "a", recorders(&a))
	w.AddNode(2, "b", recorders(&b))
	sendAll(w, 1, 2, 1)
	w.RunFor(10 * time.Millisecond)
	return w, &a, &b
}

func resets(rs []recv) []int32 {
	var out []int32
	for _, r := range rs {
		if m, ok := r.msg.(reset); ok {
			out = append(out, m.peer)
		}
	}
	return out
}

// A killed or stopped process resets its connections; a power loss or a cut link tells nothing.
func TestConnectionResetOnProcessDeath(t *testing.T) {
	cases := []struct {
		name  string
		fault func(w *World) error
		want  int
	}{
		{"kill", func(w *World) error { return w.Kill(2) }, 1},
		{"stop", func(w *World) error { return w.Stop(2) }, 1},
		{"crash", func(w *World) error { return w.Crash(2) }, 0},
		{"kill behind a cut", func(w *World) error { w.Cut(2, 1); return w.Kill(2) }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, a, _ := resetWorld(t)
			if err := tc.fault(w); err != nil {
				t.Fatal(err)
			}
			w.RunFor(time.Second)
			if got := resets((*a)[0].got); len(got) != tc.want {
				t.Errorf("node 1 got resets %v; want %d", got, tc.want)
			}
		})
	}
}

// A message to a machine whose process is dead is refused at once; a powered-off machine is silent.
func TestConnectionRefusedByDeadProcess(t *testing.T) {
	for _, crash := range []bool{false, true} {
		w, a, _ := resetWorld(t)
		if crash {
			_ = w.Crash(2)
		} else {
			_ = w.Kill(2)
		}
		w.RunFor(time.Second)
		before := len(resets((*a)[0].got))
		sendAll(w, 1, 2, 1)
		w.RunFor(time.Second)
		got := len(resets((*a)[0].got)) - before
		if want := map[bool]int{false: 1, true: 0}[crash]; got != want {
			t.Errorf("crash=%v: %d refusals; want %d", crash, got, want)
		}
	}
}

// A burst of messages to a dead process is refused once: one reset per connection, not one per
// message (else a client re-sending on every reset would multiply its requests).
func TestOneResetPerBurst(t *testing.T) {
	w, a, _ := resetWorld(t)
	_ = w.Kill(2)
	w.RunFor(time.Second)
	before := len(resets((*a)[0].got))
	sendAll(w, 1, 2, 50)
	w.RunFor(time.Second)
	if got := len(resets((*a)[0].got)) - before; got != 1 {
		t.Errorf("%d resets for a burst of 50 messages; want 1", got)
	}
	sendAll(w, 1, 2, 1) // a later message, after the reset arrived, is refused again
	w.RunFor(time.Second)
	if got := len(resets((*a)[0].got)) - before; got != 2 {
		t.Errorf("%d resets after a second attempt; want 2", got)
	}
}
