package scenarios

import (
	"strings"
	"testing"

	"kafkasim/sim/cluster"
)

func mustParseSrc(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := Parse("t.scenario", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

// A failed await fails the run at its line with what it wanted and what it saw, marks the
// expectations after it as not reached, and narrates the command that replays the run.
func TestFailedAwaitReportsLineWantedSawAndReplay(t *testing.T) {
	s := mustParseSrc(t, head+`await leader orders/0 == none within 2s
expect online orders/0
expect anomaly lost-write
`)
	var out strings.Builder
	r, err := Run(s, Options{Seed: 42, Narrate: &out, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK {
		t.Fatal("got OK=true; want the await to fail")
	}
	if !strings.HasPrefix(r.Failure, "t.scenario:5: await leader orders/0 == none within 2s — wanted leader orders/0 == none, saw leader orders/0 is ") {
		t.Errorf("Failure = %q; want FILE:LINE: statement — wanted …, saw …", r.Failure)
	}
	if len(r.Expectations) != 3 {
		t.Fatalf("got %d expectations; want 3", len(r.Expectations))
	}
	if e := r.Expectations[1]; e.OK || e.Judged || e.Line != 6 || !strings.HasPrefix(e.Got, "not reached") {
		t.Errorf("expectation after the failure = %+v; want not reached", e)
	}
	if e := r.Expectations[2]; !e.OK || e.Judged {
		t.Errorf("anomaly expectation = %+v; want OK and not judged", e)
	}
	if got, want := ReplayCommand(r), "kafkasim run t.scenario --seed 42"; got != want {
		t.Errorf("ReplayCommand = %q; want %q", got, want)
	}
	if !strings.Contains(out.String(), "FAIL "+r.Failure) || !strings.Contains(out.String(), "replay: kafkasim run t.scenario --seed 42") {
		t.Errorf("narration lacks the failure or the replay command:\n%s", out.String())
	}
}

// say lines are narrated with the virtual time; with the checker off, verdict and anomaly
// expectations are noted as not judged.
func TestNarrationHasVirtualTimeAndNotJudgedNote(t *testing.T) {
	s := mustParseSrc(t, head+`wait 2s
say "two seconds later"
expect verdict valid
`)
	var out strings.Builder
	r, err := Run(s, Options{Narrate: &out, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Seed != 1 {
		t.Fatalf("OK %v seed %d (%s); want OK with the default seed 1", r.OK, r.Seed, r.Failure)
	}
	var sayLine string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasSuffix(l, "two seconds later") {
			sayLine = l
		}
	}
	// The cluster boots in a few virtual seconds, then the scenario waits 2s more.
	if sayLine == "" || !strings.HasSuffix(strings.Fields(sayLine)[0], "s") || strings.HasPrefix(strings.TrimSpace(sayLine), "0.000s") {
		t.Errorf("say line = %q; want it stamped with the virtual time after boot", sayLine)
	}
	if !strings.Contains(out.String(), "t.scenario:7: expect verdict valid — not judged (the checker is off)") {
		t.Errorf("narration lacks the not-judged note:\n%s", out.String())
	}
}

// A fault on `leader T/I` while the partition has none fails the run at that line.
func TestFaultOnMissingLeaderFails(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=1
topic t partitions=1 replication=1
kill 1
await leader t/0 == none within 20s
kill leader t/0
`)
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "t.scenario:5: kill leader t/0 — t/0 has no leader now"; r.OK || r.Failure != want {
		t.Errorf("got OK=%v Failure %q; want %q", r.OK, r.Failure, want)
	}
}

// The file's seed is used unless Options.Seed overrides it; the trace hash is the same with
// and without keeping the trace, and different seeds give different traces.
func TestSeedsAndTraceHash(t *testing.T) {
	s := mustParseSrc(t, "config seed=5\n"+head+"wait 3s\n")
	a, err := Run(s, Options{KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(s, Options{})
	c, _ := Run(s, Options{Seed: 6})
	if a.Seed != 5 || c.Seed != 6 {
		t.Errorf("seeds %d, %d; want 5 from the file and 6 from Options", a.Seed, c.Seed)
	}
	if a.TraceHash != b.TraceHash {
		t.Errorf("kept trace hash %016x, discarded %016x; want equal", a.TraceHash, b.TraceHash)
	}
	if a.TraceHash == c.TraceHash {
		t.Errorf("seeds 5 and 6 both hash %016x; want different", a.TraceHash)
	}
	if !a.Cluster.World.Trace().Kept() || b.Cluster.World.Trace().Kept() {
		t.Error("KeepTrace not honoured")
	}
}

// The finish restarts what is down and has every consumer read to the end; with
// recover=false the killed broker stays down.
func TestFinishRecoversUnlessToldNot(t *testing.T) {
	for _, recover := range []bool{true, false} {
		src := head + "wait 2s\nkill 2\nwait 1s\n"
		if !recover {
			src += "finish recover=false\n"
		}
		r, err := Run(mustParseSrc(t, src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := r.Cluster
		if up := c.Broker(2) != nil; up != recover {
			t.Errorf("recover=%v: broker 2 running = %v; want %v", recover, up, recover)
		}
		if recover {
			if !c.Consumer("c1").CaughtUp() {
				t.Error("consumer c1 not caught up after the finish")
			}
			if got := c.Producer("p1").Stats(); got.InFlight != 0 {
				t.Errorf("producer still has %d records in flight after the finish", got.InFlight)
			}
		}
	}
}

// Options.Judge judges verdict and anomaly expectations after the finish.
func TestJudgeJudgesVerdictAndAnomalies(t *testing.T) {
	s := mustParseSrc(t, head+"wait 1s\nexpect anomaly lost-write\nexpect no anomaly duplicate\nexpect verdict valid\n")
	var judged *cluster.Cluster
	r, err := Run(s, Options{Judge: func(c *cluster.Cluster) (string, map[string]int) {
		judged = c
		return "invalid", map[string]int{"lost-write": 2}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if judged != r.Cluster || r.Verdict != "invalid" || r.Anomalies["lost-write"] != 2 {
		t.Fatalf("judge saw %p (cluster %p), verdict %q, anomalies %v", judged, r.Cluster, r.Verdict, r.Anomalies)
	}
	got := []bool{r.Expectations[0].OK, r.Expectations[1].OK, r.Expectations[2].OK}
	if !got[0] || !got[1] || got[2] {
		t.Errorf("anomaly, no anomaly, verdict OK = %v; want true, true, false", got)
	}
	if r.OK || !strings.Contains(r.Failure, "expect verdict valid — wanted verdict valid, saw verdict invalid") {
		t.Errorf("OK %v Failure %q; want the verdict failure", r.OK, r.Failure)
	}
}

// Observe is called once the cluster exists, before any statement runs on it.
func TestObserveSeesTheCluster(t *testing.T) {
	var calls int
	var booted bool
	s := mustParseSrc(t, head+"wait 1s\n")
	r, err := Run(s, Options{Observe: func(c *cluster.Cluster) { calls++; booted = c.ActiveController() >= 0 }})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || !booted || !r.OK {
		t.Errorf("Observe called %d times, booted %v; want once on a booted cluster", calls, booted)
	}
}

// The classroom scenario is in the library and describes the classroom cluster.
func TestClassroom(t *testing.T) {
	s := Classroom()
	if s.File != "scenarios/classroom.scenario" || s.brokers != 3 || s.controllers != 3 {
		t.Fatalf("Classroom() = %s with %d brokers, %d controllers", s.File, s.brokers, s.controllers)
	}
	td := s.topic("orders")
	if td == nil || td.partitions != 6 || td.repl != 3 || td.configs["min.insync.replicas"] != "2" {
		t.Errorf("classroom topic = %+v; want orders, 6 partitions, RF 3, min.insync.replicas=2", td)
	}
	if pd := s.producer("p1"); pd == nil || pd.rate != 1000 || pd.cfg.Acks != -1 {
		t.Errorf("classroom producer = %+v; want 1000/s acks=all", pd)
	}
	if Named("classroom") == nil || Named("leader-failover.scenario") == nil || Named("nope") != nil || Named("../parse.go") != nil {
		t.Error("Named does not find library scenarios by name (or finds what is not one)")
	}
}

// By default the checker judges every run: the verdict and the anomaly expectations are judged
// after the finish, and the report is on the result.
func TestCheckerJudgesByDefault(t *testing.T) {
	s := mustParseSrc(t, head+`wait 3s
expect verdict valid
expect no anomaly lost-write
expect anomaly duplicate
`)
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != "valid" || r.Report == nil {
		t.Fatalf("verdict %q, report %v; want valid with a report", r.Verdict, r.Report != nil)
	}
	got := map[string]bool{}
	for _, e := range r.Expectations {
		if !e.Judged {
			t.Errorf("%q not judged", e.Text)
		}
		got[e.Text] = e.OK
	}
	if !got["expect verdict valid"] || !got["expect no anomaly lost-write"] || got["expect anomaly duplicate"] {
		t.Errorf("judged %v; want the verdict and no-lost-write to hold and the duplicate expectation to fail", got)
	}
	if r.OK {
		t.Error("OK with a failed anomaly expectation")
	}
}

// Every word of the language parses and runs (testdata/every-word.scenario uses them all).
func TestEveryWordOfTheLanguage(t *testing.T) {
	s, err := ParseFile("testdata/every-word.scenario")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("%s", r.Failure)
	}
	if r.Verdict != "valid" {
		t.Errorf("verdict %s; want valid", r.Verdict)
	}
}
