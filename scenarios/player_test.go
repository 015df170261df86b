package scenarios

import (
	"strings"
	"testing"
	"time"
)

// noRecover re-parses a scenario with `finish recover=false` appended: Run then ends with the
// producers' close only, as a played session does when it is exported.
func noRecover(t *testing.T, s *Scenario) *Scenario {
	t.Helper()
	src, err := Source(s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Parse(s.File, append(src, "\nfinish recover=false\n"...))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// playToEnd drives a player in uneven slices, continuing past every pause, until its script is
// done.
func playToEnd(t *testing.T, p *Player) {
	t.Helper()
	slices := []time.Duration{137 * time.Millisecond, time.Second, 3 * time.Millisecond, 0, 2500 * time.Millisecond}
	for i := 0; !p.Done(); i++ {
		if i > 100000 {
			t.Fatalf("the player did not finish; at line %d: %s", p.Line(), p.Current())
		}
		if p.Paused() {
			p.Continue()
		}
		p.Advance(slices[i%len(slices)], nil)
	}
}

// Played in slices, a scenario goes through the same events as Run: the trace hashes match.
func TestPlayerInSlicesFollowsRun(t *testing.T) {
	for _, name := range []string{"leader-failover", "classroom", "slow-follower"} {
		t.Run(name, func(t *testing.T) {
			s := Named(name)
			p, err := NewPlayer(s, Options{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			playToEnd(t, p)
			p.Cluster().Close()
			r, err := Run(noRecover(t, s), Options{Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Cluster().World.Trace().Hash(), r.TraceHash; got != want {
				t.Errorf("player hash %016x; want Run's %016x", got, want)
			}
		})
	}
}

// Stepping one event at a time (stop after the first event) and typed faults in the middle of a
// scripted wait and await are written so that Run reproduces the session's trace hash.
func TestExportReplaysTypedStatementsToTheSameHash(t *testing.T) {
	s := Named("leader-failover")
	p, err := NewPlayer(s, Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Cluster()
	oneEvent := func() func() bool {
		n := c.World.Trace().Len()
		return func() bool { return c.World.Trace().Len() > n }
	}
	p.Advance(1500*time.Millisecond, nil)
	for range 7 {
		p.Advance(time.Minute, oneEvent())
	}
	if err := p.Exec("slow 2 latency=40ms"); err != nil {
		t.Fatal(err)
	}
	p.Advance(700*time.Millisecond, nil)
	if err := p.Exec(`say "typed"`); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec("wait 300ms"); err != nil {
		t.Fatal(err)
	}
	p.Advance(5*time.Second, nil)
	if err := p.Exec("heal"); err != nil {
		t.Fatal(err)
	}
	if err := p.Exec("kill 3"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		p.Advance(time.Minute, oneEvent())
	}
	if err := p.Exec("restart 3"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20 && !p.Done(); i++ {
		if p.Paused() {
			p.Continue()
		}
		p.Advance(900*time.Millisecond, nil)
	}
	p.Advance(2*time.Second, nil)
	for range 2 {
		p.Advance(time.Minute, oneEvent())
	}
	text, err := p.Export()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"config seed=5", "slow 2 latency=40ms", `say "typed"`, "kill 3", "run until ", "finish recover=false"} {
		if !strings.Contains(text, want) {
			t.Errorf("export lacks %q:\n%s", want, text)
		}
	}
	p.Cluster().Close()
	again, err := Parse("exported.scenario", []byte(text))
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, text)
	}
	r, err := Run(again, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.TraceHash, c.World.Trace().Hash(); got != want {
		t.Errorf("replayed hash %016x; want the session's %016x\n%s", got, want, text)
	}
}

// A typed statement is checked against the scenario: unknown nodes and set-up statements are
// errors naming the column; nothing runs.
func TestExecRejectsBadStatements(t *testing.T) {
	s := Named("leader-failover")
	for _, tc := range []struct{ text, want string }{
		{"kill 9", "command:1:6: broker 9 does not exist"},
		{"topic x partitions=1 replication=1", "command:1:1: topic: set-up statements cannot be typed"},
		{"", "command:1:1: expected a statement"},
		{"partition 1 | ", "command:1:"},
		{"kill leader nope/0", `command:1:13: unknown topic "nope"`},
	} {
		err := s.CheckStatement(tc.text)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("CheckStatement(%q) = %v; want %q…", tc.text, err, tc.want)
		}
	}
	if err := s.CheckStatement("kill leader orders/0"); err != nil {
		t.Errorf("CheckStatement(kill leader orders/0) = %v; want nil", err)
	}
	if got := s.Statements(); got != len(Named("leader-failover").stmts) {
		t.Errorf("checking changed the scenario: %d statements", got)
	}
}

// A failed await is noted, counted and exported as a comment plus the time it took.
func TestFailedAwaitIsNotedAndExportedAsAComment(t *testing.T) {
	s := mustParseSrc(t, head+"await leader orders/0 == none within 2s\nsay \"after\"\n")
	p, err := NewPlayer(s, Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	for !p.Done() {
		p.Advance(time.Second, nil)
	}
	var kinds []NoteKind
	for _, n := range p.TakeNotes() {
		kinds = append(kinds, n.Kind)
	}
	if len(kinds) != 2 || kinds[0] != NoteFailed || kinds[1] != NoteSay {
		t.Errorf("notes %v; want a failure then the say", kinds)
	}
	if p.Failures() != 1 {
		t.Errorf("Failures = %d; want 1", p.Failures())
	}
	if got := strings.Join(p.lines, "\n"); !strings.Contains(got, "# failed here: await leader orders/0 == none within 2s") || !strings.Contains(got, "wait 2s") {
		t.Errorf("transcript:\n%s\nwant the failed await as a comment and wait 2s", got)
	}
}
