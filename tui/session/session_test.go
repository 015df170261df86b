package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/checker"
	"kafkasim/scenarios"
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

// playToEnd plays a library scenario through its pauses to the end of its script.
func playToEnd(t testing.TB, name string) *Session {
	t.Helper()
	sc := scenarios.Named(name)
	if sc == nil {
		t.Fatalf("no library scenario %s", name)
	}
	s, err := New(Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && !s.Snapshot().Done; i++ {
		s.Continue()
		s.Advance(time.Second)
	}
	if !s.Snapshot().Done {
		t.Fatalf("%s not done at %v", name, s.Snapshot().At)
	}
	return s
}

// The unclean election loses acknowledged records: judged, the history shows
// inconsistent-offsets, each naming its operations, at the time of the first; rewound to
// before the election, the judgement of then is shown, and it found nothing.
func TestUncleanElectionJudgedWithOperations(t *testing.T) {
	s, err := UncleanFixture()
	if err != nil {
		t.Fatal(err)
	}
	v := s.Verdict()
	if v.Verdict != "invalid" || v.Counts["inconsistent-offsets"] == 0 {
		t.Fatalf("verdict %q counts %v; want invalid with inconsistent-offsets", v.Verdict, v.Counts)
	}
	var f *Finding
	for i := range v.Findings {
		if v.Findings[i].Name == "inconsistent-offsets" {
			f = &v.Findings[i]
			break
		}
	}
	if f == nil {
		t.Fatal("no inconsistent-offsets finding listed")
	}
	if len(f.Ops) < 2 || !strings.Contains(f.Text, "unclean.leader.election.enable=true") {
		t.Errorf("finding %+v; want two operations or more and the permitting setting named", f)
	}
	for _, op := range f.Ops {
		if op.Invoke < f.Began {
			t.Errorf("op #%d invoked at %v, before the finding's beginning %v", op.Index, op.Invoke, f.Began)
		}
		if op.Complete > f.At {
			t.Errorf("op #%d completed at %v, after the finding's time %v (it shows once its last operation completed)", op.Index, op.Complete, f.At)
		}
	}
	// The anomaly shows after the unclean election that caused it, not before.
	var elected time.Duration = -1
	for _, e := range s.Events() {
		if e.Kind == Election && strings.Contains(e.Text, "UNCLEANLY") {
			elected = e.At
		}
	}
	if elected < 0 || f.At < elected {
		t.Errorf("finding at %v; want at or after the unclean election (%v)", f.At, elected)
	}
	if s.JudgeNow() {
		t.Error("JudgeNow judged again with no new operation")
	}
	s.SeekTime(f.At - time.Second)
	if old := s.Verdict(); old.Judged != nil && old.Counts["inconsistent-offsets"] > 0 {
		t.Errorf("rewound to %v: %v; want nothing found yet", s.Snapshot().At, old.Counts)
	}
}

// KIP-101's bug truncates committed records: the online invariant fails during the run and
// shows at the virtual time of the event it failed after, with no history judgement needed.
func TestOnlineViolationAtItsVirtualTime(t *testing.T) {
	s := playToEnd(t, "kip101-hw-truncation")
	v := s.Verdict()
	if v.Violations == 0 || v.Verdict != "invalid" {
		t.Fatalf("violations %d verdict %q; want committed-never-truncated found online", v.Violations, v.Verdict)
	}
	f := v.Findings[0]
	if !f.Invariant || f.Name != "committed-never-truncated" || f.At <= 0 || f.At > s.Snapshot().At {
		t.Errorf("first finding %+v; want the invariant at a time within the run", f)
	}
	var trunc time.Duration = -1
	for _, e := range s.Events() {
		if e.Kind == Truncation && e.At <= f.At {
			trunc = e.At
		}
	}
	if trunc < 0 {
		t.Errorf("no truncation event at or before the violation at %v", f.At)
	}
	s.SeekTime(f.At - time.Millisecond)
	if got := s.Verdict().Violations; got != 0 {
		t.Errorf("rewound before it: %d violations; want 0", got)
	}
}

// A fork re-simulates with its own online checker and keeps the judgements of the shared past.
func TestForkKeepsJudgementsOfThePast(t *testing.T) {
	s := newLive(t)
	s.Advance(3 * time.Second)
	s.JudgeNow()
	s.Advance(6 * time.Second)
	s.JudgeNow()
	s.SeekTime(10 * time.Second) // live: the set-up ends at 4.1s; judged at 7.1s and 13.1s
	if err := s.Exec("kill 1"); err != nil {
		t.Fatal(err)
	}
	tl := s.Timeline()
	if tl.online == nil || len(tl.judged) != 1 || tl.judged[0].At > tl.ForkAt {
		t.Fatalf("fork: online %v, %d judgements; want the checker attached and the one before %v", tl.online != nil, len(tl.judged), tl.ForkAt)
	}
	if v := s.Verdict(); v.Verdict != "valid" {
		t.Errorf("verdict on the fork %q; want valid", v.Verdict)
	}
}

// A live history ends with sends no consumer has read yet: unseen anomalies on sends
// acknowledged within UnseenGrace of the judgement are provisional, counted apart and left out
// of the verdict; older ones count.
func TestRecentUnseenIsProvisional(t *testing.T) {
	tl := &Timeline{}
	ops := history.History{
		{Index: 0, Client: "p1", Type: history.Send, Topic: "t", Values: []int64{1}, Offsets: []int64{0}, Invoke: time.Second, Complete: 2 * time.Second, Outcome: history.OK},
		{Index: 1, Client: "p1", Type: history.Send, Topic: "t", Values: []int64{2}, Offsets: []int64{1}, Invoke: 29 * time.Second, Complete: 30 * time.Second, Outcome: history.OK},
	}
	unseen := func(op int) checker.Anomaly { return checker.Anomaly{Name: checker.Unseen, Ops: []int{op}} }
	j := tl.explain(Judgement{At: 31 * time.Second, Ops: 2, Report: &checker.Report{
		Anomalies: []checker.Anomaly{unseen(0), unseen(1)}, Counts: map[string]int{checker.Unseen: 2},
	}, ops: ops})
	if j.counts[checker.Unseen] != 1 || j.provisional != 1 {
		t.Errorf("unseen counted %d, provisional %d; want 1 and 1", j.counts[checker.Unseen], j.provisional)
	}
	if j.findings[0].Provisional || !j.findings[1].Provisional {
		t.Errorf("provisional %v, %v; want the old send counted and the recent one provisional", j.findings[0].Provisional, j.findings[1].Provisional)
	}
	if j.findings[1].Began != 29*time.Second || j.findings[1].At != 30*time.Second {
		t.Errorf("finding began %v at %v; want its operation's invoke, 29s, and its completion, 30s", j.findings[1].Began, j.findings[1].At)
	}
}

// BenchmarkJudge is one history judgement of the classroom after ten virtual seconds and after
// a minute: what the UI runs off its thread, every JudgeEvery at most.
func BenchmarkJudge(b *testing.B) {
	for _, d := range []time.Duration{10 * time.Second, time.Minute} {
		b.Run(d.String(), func(b *testing.B) {
			s := newLive(b)
			s.Advance(d)
			var ops int
			for i := 0; i < b.N; i++ {
				s.tl().judged = nil
				work := s.JudgeWork(true)
				j := work()
				s.Judged(j)
				ops = j.Ops
			}
			b.ReportMetric(float64(ops), "ops")
		})
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
