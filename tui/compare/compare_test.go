package compare

import (
	"strings"
	"testing"
	"time"

	"kafkasim/scenarios"
	"kafkasim/tui/internal/viewtest"
)

// acks1Loss is the library's acks1-loss under acks=1 (left) and acks=all (right), seed 1,
// judged in step with the worlds (tests: deterministic).
func acks1Loss(t *testing.T) *Model {
	t.Helper()
	f := scenarios.LibraryFile("acks1-loss")
	m, err := New(Options{File: f, Settings: []scenarios.Setting{{Key: "acks", Value: "1"}, {Key: "acks", Value: "all"}}, Flag: Flag})
	if err != nil {
		t.Fatal(err)
	}
	m.syncJudge, m.w, m.h = true, 120, 40
	return m
}

// play moves both worlds a second at a time, leaving each pause at once, until both have
// ended; check runs after every move.
func play(t *testing.T, m *Model, check func(paused bool)) {
	t.Helper()
	for i := 0; i < 2000 && !m.Ended(); i++ {
		paused := m.Advance(time.Second, nil)
		m.judge()
		if check != nil {
			check(paused)
		}
		if paused {
			m.Continue()
		}
	}
	if !m.Ended() {
		t.Fatalf("the worlds have not ended after 2000 seconds; at %v", m.Now())
	}
}

// The two worlds move on one clock: after every move both stand at the same virtual time, but
// when a script paused (the other then stands within a step of the pause's instant) or a world
// has ended. acks1-loss under acks=1 loses acknowledged records and the checker finds them;
// under acks=all, on the same seed and faults, nothing is lost and the verdict is valid.
func TestWorldsStepTogetherAndDifferAsTheSettingsPredict(t *testing.T) {
	m := acks1Loss(t)
	a, b := m.Sides()[0], m.Sides()[1]
	moves, pauses := 0, 0
	play(t, m, func(paused bool) {
		moves++
		ta, tb := a.S.Head().At, b.S.Head().At
		switch {
		case a.S.Ended() || b.S.Ended():
		case paused:
			pauses++
			if d := ta - tb; d > Quantum || d < -Quantum {
				t.Errorf("at a pause the worlds stand at %v and %v; want within %v", ta, tb, Quantum)
			}
		case ta != tb:
			t.Errorf("move %d: the worlds stand at %v and %v; want one clock", moves, ta, tb)
		}
	})
	if pauses < 2 {
		t.Errorf("%d pauses; want the script's pauses in both worlds", pauses)
	}
	lostA, knownA := a.Lost()
	lostB, knownB := b.Lost()
	if !knownA || !knownB || lostA == 0 || lostB != 0 {
		t.Errorf("lost: acks=1 %d (known %v), acks=all %d (known %v); want losses under acks=1 only", lostA, knownA, lostB, knownB)
	}
	ra, rb := a.S.Result(), b.S.Result()
	if ra.Verdict != "invalid" || ra.Anomalies["lost-write"] == 0 || rb.Verdict != "valid" || len(rb.Anomalies) != 0 {
		t.Errorf("verdicts: acks=1 %s %v, acks=all %s %v; want invalid with lost-write, valid with none", ra.Verdict, ra.Anomalies, rb.Verdict, rb.Anomalies)
	}
	// The same as kafkasim compare finds: the UI's worlds are the runs, pauses left at once.
	sides, err := scenarios.Compare(scenarios.LibraryFile("acks1-loss"), 0, []scenarios.Setting{a.Setting, b.Setting})
	if err != nil {
		t.Fatal(err)
	}
	if sides[0].Lost != lostA || sides[1].Lost != lostB {
		t.Errorf("lost %d and %d; kafkasim compare finds %d and %d", lostA, lostB, sides[0].Lost, sides[1].Lost)
	}
}

// A step moves both worlds to the next line of either's event log, on one clock; a statement
// typed runs in both.
func TestStepAndTypedStatementGoToBothWorlds(t *testing.T) {
	m := acks1Loss(t)
	a, b := m.Sides()[0], m.Sides()[1]
	for i := 0; i < 5; i++ {
		la, lb := a.S.Head().Log, b.S.Head().Log
		if m.Step() {
			m.Continue()
			continue
		}
		if a.S.Head().At != b.S.Head().At {
			t.Fatalf("step %d: the worlds stand at %v and %v", i, a.S.Head().At, b.S.Head().At)
		}
		if a.S.Head().Log == la && b.S.Head().Log == lb && m.Now() < session10s {
			t.Errorf("step %d: neither event log grew", i)
		}
	}
	if err := m.Exec("kill 3"); err != nil {
		t.Fatal(err)
	}
	for _, sd := range m.Sides() {
		if st := sd.S.Head().Nodes[2].State; st != "killed" {
			t.Errorf("%s: broker 3 is %s; want killed in both worlds", sd.Setting, st)
		}
	}
	if err := m.Exec("restart 3"); err != nil {
		t.Fatal(err)
	}
	if err := m.Exec("restart 3"); err == nil || !strings.Contains(err.Error(), "acks=1:") || !strings.Contains(err.Error(), "acks=all:") {
		t.Errorf("restarting a running broker: %v; want each world's refusal, named", err)
	}
}

const session10s = 10 * time.Second

// The screen at the end of both worlds, at 80 (stacked), 120 and 200 columns.
func TestCompareScreenGolden(t *testing.T) {
	m := acks1Loss(t)
	play(t, m, nil)
	m.msg = ""
	viewtest.Golden(t, func(w int) string {
		m.w = w
		return m.Render()
	})
}

// Bad --compare values are errors naming the flag, before anything runs.
func TestCompareFlagErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"acks", `--compare "acks": want KEY=V1,V2`},
		{"acks=1", "--compare acks=1: want two values"},
		{"acks=1,all,0", "want two values"},
		{"acks=all,all", "the two values are the same"},
		{"no.such.key=1,2", "--compare no.such.key=1: no.such.key: unknown config key"},
		{"acks=1,most", `--compare acks=most: acks: "most" is not 0, 1 or all`},
	} {
		_, err := Play(nil, []string{"acks1-loss"}, tc.spec, 0, false, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--compare %s: %v; want %q", tc.spec, err, tc.want)
		}
	}
	if _, err := Play(nil, nil, "acks=1,all", 0, false, true); err == nil || !strings.Contains(err.Error(), "--compare: give the scenario FILE") {
		t.Errorf("no FILE: %v", err)
	}
}

// The screen at the script's first pause (both worlds at line 19, the followers slowed), on a
// small terminal: 24 lines at 80 (stacked), 120 and 200 columns.
func TestCompareScreenAtThePauseGolden(t *testing.T) {
	m := acks1Loss(t)
	if !m.Advance(time.Minute, nil) {
		t.Fatal("no pause within a minute")
	}
	m.h = 24
	viewtest.Golden(t, func(w int) string {
		m.w = w
		return m.Render()
	})
}
