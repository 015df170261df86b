package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func lifeWorld(t *testing.T) (*World, *[]*recorder) {
	t.Helper()
	o := DefaultOptions()
	o.OSFlushInterval = 0
	w := New(o)
	var rs []*recorder
	w.AddNode(1, "1", recorders(new([]*recorder)))
	w.AddNode(2, "2", recorders(&rs))
	return w, &rs
}

// Reference: DESIGN.md "Disks": kill keeps the page cache, crash loses it, stop flushes first.
func TestKillCrashStopDiskSemantics(t *testing.T) {
	tests := []struct {
		name  string
		fault func(w *World) error
		state NodeState
		want  []any // log after the fault and a restart
		thenC []any // log after a further crash of the restarted node's machine
	}{
		{"kill keeps unflushed appends", func(w *World) error { return w.Kill(2) }, Killed, entries(0, 1, 2, 3), entries(0, 1)},
		{"crash loses unflushed appends", func(w *World) error { return w.Crash(2) }, Crashed, entries(0, 1), entries(0, 1)},
		{"stop flushes", func(w *World) error { return w.Stop(2) }, Stopped, entries(0, 1, 2, 3), entries(0, 1, 2, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, rs := lifeWorld(t)
			sendAll(w, 1, 2, 2)
			w.RunFor(time.Second)
			w.Disk(2).Flush("log")
			w.Host(1).Send(2, msg{2})
			w.Host(1).Send(2, msg{3})
			w.RunFor(time.Second)
			if err := tt.fault(w); err != nil {
				t.Fatal(err)
			}
			if got := w.State(2); got != tt.state {
				t.Fatalf("state: got %v; want %v", got, tt.state)
			}
			if w.Node(2) != nil {
				t.Fatalf("Node(2): got a node object; want nil while down")
			}
			if err := w.Restart(2); err != nil {
				t.Fatal(err)
			}
			if got := w.Disk(2).Read("log"); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("after restart: got %v; want %v", got, tt.want)
			}
			if len(*rs) != 2 {
				t.Fatalf("got %d incarnations; want 2", len(*rs))
			}
			if err := w.Crash(2); err != nil {
				t.Fatal(err)
			}
			if got := w.Disk(2).Read("log"); !reflect.DeepEqual(got, tt.thenC) {
				t.Fatalf("after a further crash: got %v; want %v", got, tt.thenC)
			}
		})
	}
}

func TestTruncateBelowDurableThenCrashRestores(t *testing.T) {
	w, _ := lifeWorld(t)
	d := w.Disk(2)
	sendAll(w, 1, 2, 5)
	w.RunFor(time.Second)
	d.Flush("log")
	d.Truncate("log", 2) // e.g. a follower truncating to the leader's epoch end offset
	d.Append("log", 100)
	if err := w.Crash(2); err != nil {
		t.Fatal(err)
	}
	if got, want := d.Read("log"), entries(0, 1, 2, 3, 4); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v; want %v", got, want)
	}
}

func TestRestartCallsFactoryAgainWithSameDisk(t *testing.T) {
	w := New(DefaultOptions())
	var hosts []*Host
	w.AddNode(5, "five", func(h *Host) Node {
		hosts = append(hosts, h)
		h.Disk().Append("starts", len(hosts))
		h.Disk().Flush("starts")
		return &recorder{h: h}
	})
	for i := 0; i < 3; i++ {
		if err := w.Kill(5); err != nil {
			t.Fatal(err)
		}
		w.RunFor(time.Second)
		if err := w.Restart(5); err != nil {
			t.Fatal(err)
		}
	}
	if len(hosts) != 4 {
		t.Fatalf("got %d factory calls; want 4", len(hosts))
	}
	for i, h := range hosts {
		if h.Disk() != w.Disk(5) {
			t.Fatalf("incarnation %d: got a different disk; want the same", i)
		}
	}
	if got, want := w.Disk(5).Read("starts"), entries(1, 2, 3, 4); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v; want %v", got, want)
	}
	if w.Host(5) != hosts[3] {
		t.Fatalf("Host(5): got an old host; want the current incarnation's")
	}
	var starts []int64
	for i := 0; i < w.Trace().Len(); i++ {
		if e := w.Trace().At(i); e.Kind == Start {
			starts = append(starts, e.Arg)
		}
	}
	if !reflect.DeepEqual(starts, []int64{1, 2, 3, 4}) {
		t.Fatalf("Start events: got %v; want [1 2 3 4]", starts)
	}
}

// timerNode sets a timer when built and records what fires.
type timerNode struct {
	h     *Host
	fired *[]any
}

func (n *timerNode) Step(now time.Duration, from int32, m any) { *n.fired = append(*n.fired, m) }

func TestTimersOfKilledIncarnationNeverFire(t *testing.T) {
	for _, fault := range []string{"kill", "crash", "stop"} {
		t.Run(fault, func(t *testing.T) {
			w := New(DefaultOptions())
			var fired []any
			inc := 0
			w.AddNode(1, "1", func(h *Host) Node {
				inc++
				h.After(time.Second, tick{inc})
				return &timerNode{h: h, fired: &fired}
			})
			old := w.Host(1)
			w.RunFor(500 * time.Millisecond)
			var err error
			switch fault {
			case "kill":
				err = w.Kill(1)
			case "crash":
				err = w.Crash(1)
			case "stop":
				err = w.Stop(1)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Restart(1); err != nil {
				t.Fatal(err)
			}
			old.After(0, tick{99}) // a stale host's calls do nothing
			old.Send(1, tick{98})
			w.RunFor(10 * time.Second)
			if !reflect.DeepEqual(fired, []any{tick{2}}) {
				t.Fatalf("got %v fired; want only [{2}] from the new incarnation", fired)
			}
			if s := w.Stats(); s.VoidTimers != 1 {
				t.Fatalf("got %d void timers; want 1", s.VoidTimers)
			}
		})
	}
}

// stopper halts a while after Stop, flushing nothing itself.
type stopper struct {
	h     *Host
	delay time.Duration
}

type halt2 struct{}

func (s *stopper) Step(now time.Duration, from int32, m any) {
	switch m := m.(type) {
	case halt2:
		s.h.Halt()
	case msg:
		s.h.Disk().Append("log", m.N)
	}
}

func (s *stopper) Stop(now time.Duration) { s.h.After(s.delay, halt2{}) }

func TestGracefulStop(t *testing.T) {
	tests := []struct {
		name     string
		delay    time.Duration
		wantAt   time.Duration
		wantHalt int64
	}{
		{"halts after controlled shutdown", 2 * time.Second, 2 * time.Second, HaltStopped},
		{"forced after StopTimeout", time.Hour, 30 * time.Second, HaltForced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			o.OSFlushInterval = 0
			w := New(o)
			w.AddNode(1, "1", recorders(new([]*recorder)))
			w.AddNode(2, "2", func(h *Host) Node { return &stopper{h: h, delay: tt.delay} })
			sendAll(w, 1, 2, 3)
			w.RunFor(time.Second)
			start := w.Now()
			if err := w.Stop(2); err != nil {
				t.Fatal(err)
			}
			if got := w.State(2); got != Stopping {
				t.Fatalf("state: got %v; want stopping", got)
			}
			// A stopping node still takes messages.
			w.Host(1).Send(2, msg{3})
			ok := w.RunUntil(func() bool { return w.State(2) == Stopped }, time.Hour)
			if !ok || w.Now()-start != tt.wantAt {
				t.Fatalf("got stopped=%v after %v; want stopped after %v", ok, w.Now()-start, tt.wantAt)
			}
			if d := w.Disk(2); d.Dirty() || !reflect.DeepEqual(d.Read("log"), entries(0, 1, 2, 3)) {
				t.Fatalf("got dirty=%v log %v; want flushed [0 1 2 3]", d.Dirty(), d.Read("log"))
			}
			e := w.Trace().At(w.Trace().Len() - 1)
			if e.Kind != Halt || e.Arg != tt.wantHalt {
				t.Fatalf("last event: got %s; want halt %d", w.Trace().Describe(e), tt.wantHalt)
			}
		})
	}
}

type exiter struct{ h *Host }

func (e *exiter) Step(now time.Duration, from int32, m any) {
	e.h.Disk().Append("log", 1)
	e.h.Halt()
	e.h.Send(from, msg{1}) // after Halt: ignored
}

func TestHaltWhileRunningExitsWithoutFlush(t *testing.T) {
	o := DefaultOptions()
	o.OSFlushInterval = 0
	w := New(o)
	var rs []*recorder
	w.AddNode(1, "1", recorders(&rs))
	w.AddNode(2, "2", func(h *Host) Node { return &exiter{h: h} })
	w.Host(1).Send(2, msg{0})
	w.RunFor(time.Second)
	if got := w.State(2); got != Stopped {
		t.Fatalf("state: got %v; want stopped", got)
	}
	if !w.Disk(2).Dirty() {
		t.Fatalf("got a flushed disk; want the exit not to flush")
	}
	if len(rs[0].got) != 0 {
		t.Fatalf("got %v at 1; want nothing sent after Halt", rs[0].got)
	}
}

func TestOSWritebackFlushesKilledNodesDisk(t *testing.T) {
	o := DefaultOptions()
	o.OSFlushInterval = 5 * time.Second
	w := New(o)
	w.AddNode(1, "1", recorders(new([]*recorder)))
	w.AddNode(2, "2", recorders(new([]*recorder)))
	sendAll(w, 1, 2, 3)
	w.RunFor(time.Second)
	if err := w.Kill(2); err != nil {
		t.Fatal(err)
	}
	w.RunFor(3 * time.Second) // t = 4s: no writeback yet
	if !w.Disk(2).Dirty() {
		t.Fatalf("at 4s: got a clean disk; want dirty before the first writeback")
	}
	w.RunFor(time.Second) // t = 5s: writeback
	if err := w.Crash(2); err != nil {
		t.Fatal(err)
	}
	if got := w.Disk(2).Read("log"); !reflect.DeepEqual(got, entries(0, 1, 2)) {
		t.Fatalf("after writeback and crash: got %v; want [0 1 2]", got)
	}
	if s := w.Stats(); s.Writebacks != 1 {
		t.Fatalf("got %d writebacks; want 1", s.Writebacks)
	}
}

func TestFaultsInWrongStateReturnErrors(t *testing.T) {
	w, _ := lifeWorld(t)
	tests := []struct {
		name string
		op   func() error
		want string // "" = no error
	}{
		{"restart running", func() error { return w.Restart(2) }, "restart 2: node is running"},
		{"resume running", func() error { return w.Resume(2) }, "resume 2: node is running"},
		{"kill unknown", func() error { return w.Kill(7) }, "kill 7: no such node"},
		{"pause", func() error { return w.Pause(2) }, ""},
		{"pause paused", func() error { return w.Pause(2) }, "pause 2: node is paused"},
		{"stop paused", func() error { return w.Stop(2) }, "stop 2: node is paused"},
		{"kill paused", func() error { return w.Kill(2) }, ""},
		{"kill killed", func() error { return w.Kill(2) }, "kill 2: node is killed"},
		{"stop killed", func() error { return w.Stop(2) }, "stop 2: node is killed"},
		{"crash killed", func() error { return w.Crash(2) }, ""},
		{"crash crashed", func() error { return w.Crash(2) }, "crash 2: node is crashed"},
		{"pause crashed", func() error { return w.Pause(2) }, "pause 2: node is crashed"},
		{"restart crashed", func() error { return w.Restart(2) }, ""},
		{"stop", func() error { return w.Stop(2) }, ""},
		{"stop stopped", func() error { return w.Stop(2) }, "stop 2: node is stopped"},
		{"add duplicate", func() error { return w.Add(2, "x", recorders(new([]*recorder))) }, "add node 2: already exists"},
		{"add zero", func() error { return w.Add(0, "x", recorders(new([]*recorder))) }, "add node: id 0 is reserved"},
	}
	for _, tt := range tests {
		err := tt.op()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: got %v; want no error", tt.name, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: got %v; want %q", tt.name, err, tt.want)
		}
	}
}

func TestKillDropsHeldMessages(t *testing.T) {
	w, rs := lifeWorld(t)
	if err := w.Pause(2); err != nil {
		t.Fatal(err)
	}
	sendAll(w, 1, 2, 3)
	w.RunFor(time.Second)
	if err := w.Kill(2); err != nil {
		t.Fatal(err)
	}
	if err := w.Restart(2); err != nil {
		t.Fatal(err)
	}
	w.RunFor(time.Second)
	for i, r := range *rs {
		if len(r.got) != 0 {
			t.Fatalf("incarnation %d: got %v; want nothing (held messages die with the process)", i, r.got)
		}
	}
	if s := w.Stats(); s.Drops != 3 {
		t.Fatalf("got %d drops; want 3", s.Drops)
	}
}

func TestRunUntil(t *testing.T) {
	setup := func() (*World, *recorder) {
		w := New(DefaultOptions())
		var rs []*recorder
		w.AddNode(1, "1", recorders(&rs))
		rs[0].h.After(100*time.Millisecond, tick{1})
		rs[0].h.After(300*time.Millisecond, tick{2})
		return w, rs[0]
	}
	t.Run("true before the first event", func(t *testing.T) {
		w, _ := setup()
		if !w.RunUntil(func() bool { return true }, time.Second) || w.Now() != 0 {
			t.Fatalf("got now %v; want true at 0", w.Now())
		}
	})
	t.Run("stops at the event that makes it true", func(t *testing.T) {
		w, r := setup()
		ok := w.RunUntil(func() bool { return len(r.got) == 1 }, time.Second)
		if !ok || w.Now() != 100*time.Millisecond {
			t.Fatalf("got %v at %v; want true at 100ms", ok, w.Now())
		}
		if w.Stats().Pending != 1 {
			t.Fatalf("got %d pending; want the 300ms timer still queued", w.Stats().Pending)
		}
	})
	t.Run("limit reached before the next event", func(t *testing.T) {
		w, r := setup()
		ok := w.RunUntil(func() bool { return len(r.got) == 2 }, 200*time.Millisecond)
		if ok || w.Now() != 200*time.Millisecond || len(r.got) != 1 {
			t.Fatalf("got %v at %v with %d inputs; want false at 200ms with 1", ok, w.Now(), len(r.got))
		}
	})
	t.Run("queue empties", func(t *testing.T) {
		w, r := setup()
		ok := w.RunUntil(func() bool { return len(r.got) == 3 }, time.Hour)
		if ok || w.Now() != time.Hour {
			t.Fatalf("got %v at %v; want false at 1h", ok, w.Now())
		}
	})
	t.Run("event exactly at the limit runs", func(t *testing.T) {
		w, r := setup()
		ok := w.RunUntil(func() bool { return len(r.got) == 2 }, 300*time.Millisecond)
		if !ok || w.Now() != 300*time.Millisecond {
			t.Fatalf("got %v at %v; want true at 300ms", ok, w.Now())
		}
	})
}

type observer struct{ h *Host }

type note struct{ v int64 }

func (n note) TraceArg() int64 { return n.v }

func (o *observer) Step(now time.Duration, from int32, m any) {
	o.h.Observe(note{7})
	o.h.Send(99, msg{1}) // unknown node: dropped
}

func TestObserveAndOnEventOrder(t *testing.T) {
	w := New(DefaultOptions())
	var seen []string
	var observed []any
	w.OnObserve(func(now time.Duration, node int32, ev any) {
		observed = append(observed, ev)
		seen = append(seen, "observe-callback")
	})
	w.OnEvent(func(e *Event) { seen = append(seen, e.Kind.String()) })
	w.AddNode(1, "1", func(h *Host) Node { return &observer{h: h} })
	w.Inject(1, tick{})
	w.RunFor(time.Second)
	want := []string{"start", "observe-callback", "inject", "observe", "drop"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("got %v; want %v", seen, want)
	}
	if !reflect.DeepEqual(observed, []any{note{7}}) {
		t.Fatalf("got observed %v; want [{7}]", observed)
	}
	e := w.Trace().At(2)
	if e.Kind != Observe || e.Node != 1 || e.Arg != 7 || w.Trace().TypeName(e.Type) != "sim.note" {
		t.Fatalf("got %s; want observe at node 1 of sim.note arg 7", w.Trace().Describe(e))
	}
}

func TestFaultsAreTraced(t *testing.T) {
	w, _ := lifeWorld(t)
	w.Slow(2, 5*time.Millisecond)
	w.Loss(1, 2, 0.5)
	w.Partition([]int32{1}, []int32{2})
	_ = w.Kill(2)
	var got []string
	for i := 0; i < w.Trace().Len(); i++ {
		if e := w.Trace().At(i); e.Kind == Fault {
			got = append(got, w.Trace().Describe(e))
		}
	}
	want := []string{
		"0s fault node=2 slow param=5000000",
		"0s fault node=1 loss peer=2 param=500000",
		"0s fault node=1 partition",
		"0s fault node=2 partition param=1",
		"0s fault node=2 kill",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q; want %q", got, want)
	}
}

func TestRandStreams(t *testing.T) {
	w := New(Options{Seed: 9})
	a := w.Rand("workload")
	if w.Rand("workload") != a {
		t.Fatalf("got a new *Rand for the same name; want the same")
	}
	// A fork does not depend on how much the parent has drawn.
	r := NewRand(9)
	f1 := r.Fork("x").Uint64()
	r.Uint64()
	if f2 := r.Fork("x").Uint64(); f1 != f2 {
		t.Fatalf("got %x then %x; want the same fork", f1, f2)
	}
	if NewRand(9).Fork("x").Uint64() == NewRand(9).Fork("y").Uint64() {
		t.Fatalf("got equal first draws for forks x and y; want independent streams")
	}
	for i := 0; i < 10000; i++ {
		if v := a.Int63n(7); v < 0 || v >= 7 {
			t.Fatalf("Int63n(7): got %d; want [0,7)", v)
		}
		if v := a.Duration(time.Millisecond, 3*time.Millisecond); v < time.Millisecond || v > 3*time.Millisecond {
			t.Fatalf("Duration: got %v; want [1ms,3ms]", v)
		}
		if v := a.Float64(); v < 0 || v >= 1 {
			t.Fatalf("Float64: got %v; want [0,1)", v)
		}
	}
	if got := a.Intn(0); got != 0 {
		t.Fatalf("Intn(0): got %d; want 0", got)
	}
}

func TestOnEventSeesFaultEffects(t *testing.T) {
	w, _ := lifeWorld(t)
	var states []NodeState
	w.OnEvent(func(e *Event) {
		if e.Kind == Fault {
			states = append(states, w.State(2))
		}
	})
	_ = w.Pause(2)
	_ = w.Kill(2)
	_ = w.Restart(2)
	if want := []NodeState{Paused, Killed, Running}; !reflect.DeepEqual(states, want) {
		t.Fatalf("got %v; want %v", states, want)
	}
}
