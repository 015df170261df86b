package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kafkasim/scenarios"
	"kafkasim/sim/cluster"
)

func newLive(t testing.TB) *Session {
	t.Helper()
	s, err := New(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func findPartition(t testing.TB, snap *Snapshot, name string) Partition {
	t.Helper()
	for _, p := range snap.Partitions {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no partition %s in the snapshot", name)
	return Partition{}
}

// Killing the leader of orders/0 elects another replica in a higher epoch, shrinks the ISR, and
// the event log says so in words.
func TestKillLeaderElectsAndShrinksISR(t *testing.T) {
	s := newLive(t)
	s.Advance(3 * time.Second)
	before := findPartition(t, s.Snapshot(), "orders/0")
	if before.Leader < 1 || len(before.ISR) != 3 {
		t.Fatalf("before: leader %d ISR %v; want a leader and 3 in sync", before.Leader, before.ISR)
	}
	if err := s.Exec("kill leader orders/0"); err != nil {
		t.Fatal(err)
	}
	s.Advance(20 * time.Second)
	after := findPartition(t, s.Snapshot(), "orders/0")
	if after.Leader == before.Leader || after.Leader < 1 {
		t.Errorf("leader after the kill = %d; want another broker than %d", after.Leader, before.Leader)
	}
	if after.Epoch <= before.Epoch {
		t.Errorf("epoch %d; want above %d", after.Epoch, before.Epoch)
	}
	if len(after.ISR) != 2 {
		t.Errorf("ISR %v; want 2 brokers", after.ISR)
	}
	var log []string
	for _, e := range s.Events() {
		log = append(log, e.Text)
	}
	all := strings.Join(log, "\n")
	for _, want := range []string{fmt.Sprintf("kill %d", before.Leader), "controller fences broker", "orders/0: broker"} {
		if !strings.Contains(all, want) {
			t.Errorf("event log lacks %q:\n%s", want, all)
		}
	}
}

// Rewinding shows an older snapshot; injecting a fault there forks a new timeline whose
// re-simulated prefix has the old timeline's hash, and the old timeline stays reachable.
func TestFaultWhileRewoundForksFromTheSameCourse(t *testing.T) {
	s := newLive(t)
	s.Advance(4 * time.Second)
	s.SeekTime(2 * time.Second)
	at := s.Snapshot()
	if !s.Rewound() {
		t.Fatal("not rewound after SeekTime")
	}
	if err := s.Exec("crash 2"); err != nil {
		t.Fatal(err)
	}
	if got := s.Timelines(); got != 2 {
		t.Fatalf("timelines %d; want 2", got)
	}
	if s.Rewound() {
		t.Error("still rewound after the fork")
	}
	if got := s.Timeline().ForkAt; got != at.At {
		t.Errorf("ForkAt %v; want %v", got, at.At)
	}
	s.Advance(time.Second)
	if n := s.Snapshot().Nodes[1]; n.State != "crashed" {
		t.Errorf("broker 2 is %s; want crashed", n.State)
	}
	if err := s.SwitchTimeline(1); err != nil {
		t.Fatal(err)
	}
	if n := s.Head().Nodes[1]; n.State != "running" {
		t.Errorf("broker 2 on the old timeline is %s; want running", n.State)
	}
}

// The session's export replays under Run to the session's trace hash.
func TestExportReplaysToTheSessionHash(t *testing.T) {
	s := newLive(t)
	s.Advance(2 * time.Second)
	for _, cmd := range []string{"kill leader orders/0", "partition 2 | 3"} {
		if err := s.Exec(cmd); err != nil {
			t.Fatal(err)
		}
		s.Advance(1500 * time.Millisecond)
		s.StepEvent()
	}
	s.ToMark()
	text, err := s.Export()
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cluster()
	c.Close()
	sc, err := scenarios.Parse("export.scenario", []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	r, err := scenarios.Run(sc, scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.TraceHash, c.World.Trace().Hash(); got != want {
		t.Errorf("replayed hash %016x; want %016x\n%s", got, want, text)
	}
}

// The checker hook is called as time passes and its verdict lands in the snapshots.
func TestJudgeHookVerdictInSnapshot(t *testing.T) {
	calls := 0
	s, err := New(Options{Seed: 1, Judge: func(c *cluster.Cluster) (string, map[string]int) {
		calls++
		return "valid", map[string]int{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.Advance(6 * time.Second)
	if calls == 0 || s.Snapshot().Verdict != "valid" {
		t.Errorf("calls %d verdict %q; want the hook called and valid shown", calls, s.Snapshot().Verdict)
	}
}

// BenchmarkRewind seeks to random points of a 10-minute session (display snapshots: no
// re-simulation).
func BenchmarkRewind(b *testing.B) {
	s := newLive(b)
	s.Advance(10 * time.Minute)
	n := s.Len()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Seek((i * 7919) % n)
		_ = s.Snapshot()
	}
	b.ReportMetric(float64(n), "snapshots")
}

// BenchmarkFork re-simulates from the seed to the middle of a one-minute session (a fault
// injected while rewound).
func BenchmarkFork(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := newLive(b)
		s.Advance(time.Minute)
		s.SeekTime(30 * time.Second)
		b.StartTimer()
		if err := s.Exec("kill 1"); err != nil {
			b.Fatal(err)
		}
	}
}
