package tui

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"kafkasim/scenarios"
	"kafkasim/tui/internal/viewtest"
	"kafkasim/tui/session"
)

// heights are the screen heights the golden screens use at viewtest's widths.
var heights = map[int]int{80: 24, 120: 40, 200: 50}

// goldenScreens renders the model at 80×24, 120×40 and 200×50 against the golden files.
func goldenScreens(t *testing.T, m *Model) {
	t.Helper()
	viewtest.Golden(t, func(w int) string {
		m.w, m.h = w, heights[w]
		return screen(m)
	})
}

// scenario is a library scenario's model, not playing, judging in Update.
func scenario(t *testing.T, name string, present bool) *Model {
	t.Helper()
	m, err := New(Options{Scenario: scenarios.Named(name), Present: present})
	if err != nil {
		t.Fatal(err)
	}
	m.playing, m.syncJudge = false, true
	return m
}

// pressAll presses each key in turn.
func pressAll(m *Model, ks ...string) {
	for _, k := range ks {
		m.Update(press(k))
	}
}

var (
	elected = regexp.MustCompile(`^(\S+): broker (\d+) elected leader.*, ISR (\{[0-9,]*\})`)
	offline = regexp.MustCompile(`^(\S+): OFFLINE, no leader \(epoch \d+\), ISR (\{[0-9,]*\})`)
	isrMove = regexp.MustCompile(`^(\S+): ISR (?:shrinks|expands) from \{[0-9,]*\} to (\{[0-9,]*\})`)
	created = regexp.MustCompile(`^(\S+) created: .*broker (\d+) leads.*, ISR (\{[0-9,]*\})`)
)

// agree checks that every part of the screen shows the world as of the same event index: the
// header's event number, the last line of the event log, the table's leaders and ISRs (as the
// log last stated them), and the story strip's cursor.
func agree(t *testing.T, m *Model, step string) {
	t.Helper()
	snap := m.s.Snapshot()
	evs := m.s.Events()
	scr := screen(m)
	lines := strings.Split(scr, "\n")
	if want := fmt.Sprintf("event %d", snap.Log); !strings.Contains(lines[0], want) {
		t.Fatalf("%s: header %q; want %q", step, lines[0], want)
	}
	if a, b := fmt.Sprintf("%.3fs ▲", snap.At.Seconds()), fmt.Sprintf("▲ %.3fs", snap.At.Seconds()); !strings.Contains(lines[2], a) && !strings.Contains(lines[2], b) {
		want := a
		t.Fatalf("%s: story cursor line %q; want %q", step, lines[2], want)
	}
	if len(evs) != snap.Log {
		t.Fatalf("%s: %d events shown; the snapshot is of event %d", step, len(evs), snap.Log)
	}
	if n := len(evs); n > 0 && evs[n-1].Kind != session.Proposal {
		if want := fmt.Sprintf("%9.3fs %s", evs[n-1].At.Seconds(), evs[n-1].Kind.Glyph()); !strings.Contains(scr, want) {
			t.Fatalf("%s: the last event %q is not on screen:\n%s", step, evs[n-1].Text, scr)
		}
	}
	if n := len(evs); n > 0 && evs[n-1].At > snap.At {
		t.Fatalf("%s: event at %v shown at %v", step, evs[n-1].At, snap.At)
	}
	// The table says what the log last said of each partition.
	type said struct{ leader, isr string }
	last := map[string]said{}
	for _, e := range evs {
		if m := elected.FindStringSubmatch(e.Text); m != nil {
			last[m[1]] = said{m[2], m[3]}
		} else if m := created.FindStringSubmatch(e.Text); m != nil {
			last[m[1]] = said{m[2], m[3]}
		} else if m := offline.FindStringSubmatch(e.Text); m != nil {
			last[m[1]] = said{"-1", m[2]}
		} else if m := isrMove.FindStringSubmatch(e.Text); m != nil {
			s := last[m[1]]
			last[m[1]] = said{s.leader, m[2]}
		}
	}
	for _, p := range snap.Partitions {
		s, ok := last[p.Name()]
		if !ok {
			continue
		}
		if got := session.Set(p.ISR); got != s.isr || s.leader != "" && fmt.Sprint(p.Leader) != s.leader {
			t.Fatalf("%s (event %d, %v): the table shows %s leader %d ISR %s; the log last said leader %s ISR %s", step, snap.Log, snap.At, p.Name(), p.Leader, got, s.leader, s.isr)
		}
	}
}

// Item 1: stepping a whole scenario with n (space at its pause points) to its end, then back
// with ← to the start: at every step every view agrees on the event index, n moves exactly
// to the next event of the log and ← to the one before.
func TestEveryViewAgreesOnTheEventIndexThroughAScenario(t *testing.T) {
	m := scenario(t, "unclean-election", false)
	m.w, m.h = 120, 40
	agree(t, m, "start")
	steps := 0
	for !m.s.Ended() && steps < 2000 {
		before := m.s.Snapshot().Log
		if m.s.Snapshot().Paused {
			pressAll(m, "space")
			m.playing = false
		} else {
			pressAll(m, "n")
		}
		steps++
		if after := m.s.Snapshot().Log; after < before {
			t.Fatalf("step %d: n went back from event %d to %d", steps, before, after)
		}
		agree(t, m, fmt.Sprintf("step %d (n)", steps))
	}
	if !m.s.Ended() {
		t.Fatalf("not at the end after %d steps", steps)
	}
	head := m.s.Snapshot().Log
	logs := []int{head}
	for m.s.Cursor() > 0 {
		pressAll(m, "left")
		logs = append(logs, m.s.Snapshot().Log)
		agree(t, m, fmt.Sprintf("back to event %d", m.s.Snapshot().Log))
	}
	// Back again forward with n: the same events, in the same order.
	var fwd []int
	for m.s.Rewound() {
		pressAll(m, "n")
		fwd = append(fwd, m.s.Snapshot().Log)
	}
	slices.Reverse(logs)
	if !slices.Equal(logs[1:], fwd) {
		t.Errorf("← visited events %v; n visits %v", logs, fwd)
	}
}

// Item 1: after K (y) and N, `[` shows the instant of the kill, and `]` from there (a few
// times, past the group's marks) the election, where the table shows the new leader the event log names (not the old one,
// offline, unfenced); every view agrees at each.
func TestMarksShowTheChangeTheyName(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 120, 40
	pressAll(m, "n", "K", "y", "N")
	agree(t, m, "N")
	pressAll(m, "[")
	agree(t, m, "[")
	evs := m.s.Events()
	if e := evs[len(evs)-1]; e.Kind != session.Fault || e.Text != "kill 1" {
		t.Fatalf("[ shows %q; want the kill", e.Text)
	}
	at := m.s.Snapshot().Log
	// The classroom's group creates __consumer_offsets and rebalances around the kill: each
	// ] shows the next change, and the election of orders/0 is a few of them on.
	found := false
	for i := 0; i < 10 && !found; i++ {
		from := m.s.Snapshot().Log
		pressAll(m, "]")
		agree(t, m, "]")
		evs = m.s.Events()
		if got := len(evs); got <= from || !evs[got-1].Kind.Marks() {
			t.Fatalf("] from event %d shows event %d; want the next change", from, got)
		}
		for _, e := range evs[at:] {
			found = found || strings.Contains(e.Text, "orders/0: broker 2 elected leader")
		}
	}
	if p := m.s.Snapshot().Partitions[0]; !found || p.Leader != 2 || p.Offline {
		t.Errorf("] shows orders/0 led by %d (offline %v), election logged %v; want broker 2's election", p.Leader, p.Offline, found)
	}
	goldenScreens(t, m)
}

// Item 3: a scenario's end: the finish ran, the verdict and every expectation with ✓ or ✗,
// and time does not move on.
func TestEndShowsVerdictAndExpectations(t *testing.T) {
	m := scenario(t, "unclean-election", false)
	for i := 0; i < 1000 && !m.s.Ended(); i++ {
		if m.s.Snapshot().Paused {
			pressAll(m, "space")
		}
		m.s.Advance(5e9)
		m.Update(tickMsg{})
	}
	if !m.s.Ended() {
		t.Fatal("the scenario did not end")
	}
	r := m.s.Result()
	want, err := scenarios.Run(scenarios.Named("unclean-election"), scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != want.Verdict || r.OK != want.OK || len(r.Expectations) != len(want.Expectations) {
		t.Errorf("the UI's end: verdict %s ok %v, %d expectations; kafkasim run: %s %v %d", r.Verdict, r.OK, len(r.Expectations), want.Verdict, want.OK, len(want.Expectations))
	}
	at := m.s.Snapshot().At
	pressAll(m, "space", "n", "N")
	m.Update(tickMsg{})
	if m.s.Snapshot().At != at {
		t.Errorf("time moved on after the end: %v → %v", at, m.s.Snapshot().At)
	}
	m.msg = ""
	goldenScreens(t, m)
	m.w, m.h = 120, 40
	scr := screen(m)
	for _, w := range []string{"■ The end", "verdict  ✗ INVALID", "✓ line 39  expect verdict invalid", "■ the end"} {
		if !strings.Contains(scr, w) {
			t.Errorf("the end lacks %q:\n%s", w, scr)
		}
	}
}

// Item 4: in present mode, two captions of one instant queue: the first shows, enter brings
// the next; play waits while one waits.
func TestPresentModeQueuesCaptions(t *testing.T) {
	m := scenario(t, "classroom", true)
	for i := 0; i < 500 && len(m.captionQueue()) < 2; i++ {
		if m.s.Snapshot().Paused {
			pressAll(m, "space")
		}
		if len(m.captionQueue()) == 1 {
			pressAll(m, "enter")
		}
		m.playing = true
		m.Update(tickMsg{})
	}
	q := m.captionQueue()
	if len(q) < 2 {
		t.Fatalf("%d captions queued; want two of one instant", len(q))
	}
	at := m.s.Snapshot().At
	m.Update(tickMsg{})
	if m.s.Snapshot().At != at {
		t.Errorf("play went on with captions waiting")
	}
	goldenScreens(t, m)
	m.w, m.h = 120, 40
	if scr := screen(m); !strings.Contains(scr, "» "+q[0].Text[:20]) || !strings.Contains(scr, fmt.Sprintf("(1 of %d waiting · enter: next)", len(q))) {
		t.Errorf("screen lacks the first caption and the queue:\n%s", scr)
	}
	pressAll(m, "enter")
	if got := m.captionQueue(); len(got) != len(q)-1 || got[0].Text != q[1].Text {
		t.Errorf("after enter: %d waiting; want the next one first", len(got))
	}
}

// Item 4: an await says what it waits for and counts down; the say line before it says why.
func TestAwaitShowsWhatItWaitsFor(t *testing.T) {
	m := scenario(t, "unclean-election", false)
	m.s.Advance(15e9)
	m.msg = ""
	goldenScreens(t, m)
	m.w, m.h = 120, 40
	scr := screen(m)
	if !regexp.MustCompile(`⧗ line 17: await isr orders/0 == \{1\} within 60s — \d+\.\ds before it gives up`).MatchString(scr) || !strings.Contains(scr, "replica.lag.time.max.ms") {
		t.Errorf("no countdown or no reason:\n%s", scr)
	}
}

// Item 5: a statement that runs and fails is ✗ in the status line, once.
func TestFailedStatementIsACross(t *testing.T) {
	m := newPaused(t, Options{})
	pressAll(m, "tab", "down", "c")
	if !strings.HasPrefix(m.msg, "✓ crash 2") {
		t.Fatalf("crash: %q", m.msg)
	}
	pressAll(m, "s")
	if !strings.HasPrefix(m.msg, "✗ stop 2") || strings.Count(m.msg, "✗") != 1 {
		t.Errorf("s on a crashed broker: %q; want one ✗ and the statement", m.msg)
	}
	pressAll(m, ":")
	for _, r := range "expect leader orders/0 == 3" {
		if r == ' ' {
			pressAll(m, "space")
		} else {
			pressAll(m, string(r))
		}
	}
	pressAll(m, "enter")
	if !strings.HasPrefix(m.msg, "✗ expect leader orders/0 == 3") || strings.Count(m.msg, "✗") != 1 {
		t.Errorf("a failing :expect: %q; want one ✗", m.msg)
	}
	goldenScreens(t, m)
}

// Item 6: at 80×24 the table says how many partitions it does not show; one list at a time has
// the ▸ (tab moves it: partitions, brokers, clients).
func TestSmallScreenMoreAndOneCursor(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 80, 24
	scr := screen(m)
	if !strings.Contains(scr, "more below") || strings.Count(scr, "▸") != 1 {
		t.Errorf("80×24: want a 'more below' marker and one ▸:\n%s", scr)
	}
	pressAll(m, "tab")
	scr = screen(m)
	if strings.Count(scr, "▸") != 1 || !strings.Contains(scr, "▸1 ") {
		t.Errorf("after tab: want the ▸ on broker 1 only:\n%s", scr)
	}
	pressAll(m, "tab")
	scr = screen(m)
	if strings.Count(scr, "▸") != 1 || !strings.Contains(scr, "▸ p1") {
		t.Errorf("after a second tab: want the ▸ on client p1 only (the lower pane shows the clients):\n%s", scr)
	}
	pressAll(m, "tab", "j", "j", "j", "j", "j")
	goldenScreens(t, m)
}

// Item 7: the event log is in time order, a say line before the fault that follows it, and
// the first anomaly of an unclean election comes after the election.
func TestEventLogInTimeOrder(t *testing.T) {
	m := scenario(t, "classroom", false)
	for i := 0; i < 300 && !m.s.Ended(); i++ {
		if m.s.Snapshot().Paused {
			pressAll(m, "space")
		}
		m.s.Advance(2e9)
		m.Update(tickMsg{})
	}
	evs := m.s.AllEvents()
	for i := 1; i < len(evs); i++ {
		if evs[i].At < evs[i-1].At {
			t.Errorf("event %d at %v after event %d at %v: %q before %q", i, evs[i].At, i-1, evs[i-1].At, evs[i-1].Text, evs[i].Text)
		}
	}
	say, kill := -1, -1
	for i, e := range evs {
		if strings.HasPrefix(e.Text, "Kill broker 1") {
			say = i
		}
		if e.Kind == session.Fault && e.Text == "kill 1" && kill < 0 {
			kill = i
		}
	}
	if say < 0 || kill < 0 || say > kill {
		t.Errorf("the say line (event %d) comes after the kill it announces (event %d)", say, kill)
	}
}

// Item 8: j and k move the selection; K asks before it kills.
func TestVimKeysAndKill(t *testing.T) {
	m := newPaused(t, Options{})
	pressAll(m, "j", "j", "k")
	if m.selPart != 1 {
		t.Errorf("j j k: partition %d selected; want 1", m.selPart)
	}
	pressAll(m, "K")
	if m.confirm != "kill leader orders/1" || m.s.Timeline().Parent != 0 || len(m.s.AllEvents()) != len(m.s.Events()) {
		t.Fatalf("K: confirm %q; want the kill to wait for y", m.confirm)
	}
	pressAll(m, "y")
	if !strings.HasPrefix(m.msg, "✓ kill leader orders/1") {
		t.Errorf("K y: %q", m.msg)
	}
}
