package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"kafkasim/scenarios"
	"kafkasim/tui/session"
)

// newPaused is the live classroom, not playing (time moves only by keys).
func newPaused(t *testing.T, o Options) *Model {
	t.Helper()
	if o.Seed == 0 {
		o.Seed = 1
	}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	m.playing = false
	m.syncJudge = true
	return m
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// run drives the model through a real program (teatest) with keys, then quits and returns the
// final model.
func run(t *testing.T, m *Model, w, h int, keys ...string) *Model {
	t.Helper()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	for _, k := range keys {
		tm.Send(press(k))
	}
	tm.Send(press("q"))
	return tm.FinalModel(t, teatest.WithFinalTimeout(20*time.Second)).(*Model)
}

func screen(m *Model) string { return ansi.Strip(m.Render()) }

// The whole screen at 80×24, 120×40 and 200×50, after a kill (K, confirmed) and an election
// (the second N: the first stops at the group's rebalance).
func TestScreenGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 50}} {
		t.Run(fmt.Sprint(size[0]), func(t *testing.T) {
			m := run(t, newPaused(t, Options{}), size[0], size[1], "K", "y", "N", "N")
			golden.RequireEqual(t, screen(m))
		})
	}
}

var row = regexp.MustCompile(`orders/0\s+(-?\d+)\s+(\d+)\s+(\{[0-9,]*\})`)

func partitionRow(t *testing.T, scr string) (leader, epoch, isr string) {
	t.Helper()
	m := row.FindStringSubmatch(scr)
	if m == nil {
		t.Fatalf("no orders/0 row on screen:\n%s", scr)
	}
	return m[1], m[2], m[3]
}

// Keys alone: K (then y) kills the leader of the selected partition (orders/0), N runs to the election
// (N again past the marks of the group's start);
// the screen shows the new leader, the bumped epoch and the shrunk ISR.
func TestKillLeaderByKeysShowsNewLeaderEpochAndISR(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 200, 50
	l0, e0, isr0 := partitionRow(t, screen(m))
	if isr0 != "{1,2,3}" {
		t.Fatalf("before: ISR %s; want {1,2,3}", isr0)
	}
	m = run(t, m, 200, 50, "K", "y", "N")
	// The classroom's group creates __consumer_offsets and rebalances around the kill: the
	// election of orders/0 may be a few marks on.
	for i := 0; i < 10; i++ {
		if l, _, _ := partitionRow(t, screen(m)); l != l0 {
			break
		}
		pressAll(m, "N")
	}
	scr := screen(m)
	l1, e1, isr1 := partitionRow(t, scr)
	if l1 == l0 || l1 == "-1" {
		t.Errorf("leader %s after killing %s; want another broker", l1, l0)
	}
	if e1 <= e0 {
		t.Errorf("epoch %s; want above %s", e1, e0)
	}
	if want := strings.Replace(strings.Replace(isr0, l0+",", "", 1), ","+l0, "", 1); isr1 != want {
		t.Errorf("ISR %s; want %s (the killed leader out)", isr1, want)
	}
	if !strings.Contains(scr, "elected leader, epoch "+e1) || !strings.Contains(scr, "✖ killed") {
		t.Errorf("screen lacks the election event or the killed broker:\n%s", scr)
	}
}

// `w` writes the session as a scenario that Run replays to the session's trace hash.
func TestWriteKeyExportReplaysToTheSameHash(t *testing.T) {
	dir := t.TempDir()
	m := newPaused(t, Options{ExportDir: dir})
	for _, k := range []string{"n", "n", "K", "y", "N", ":", "p", "a", "r", "t"} {
		m.Update(press(k))
	}
	for _, k := range "ition 2 | 3" {
		m.Update(press(string(k)))
	}
	m.Update(press("enter"))
	for _, k := range []string{"n", "n", "n", "w"} {
		m.Update(press(k))
	}
	if m.wrote == "" {
		t.Fatalf("nothing written: %s", m.msg)
	}
	text, err := os.ReadFile(m.wrote)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(m.wrote) != dir || !strings.Contains(string(text), "partition 2 | 3") || !strings.Contains(string(text), "kill leader orders/0") {
		t.Errorf("export %s:\n%s\nwant the kill and the partition", m.wrote, text)
	}
	c := m.s.Cluster()
	c.Close()
	sc, err := scenarios.Parse(m.wrote, text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	r, err := scenarios.Run(sc, scenarios.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.TraceHash, c.World.Trace().Hash(); got != want {
		t.Errorf("replayed hash %016x; want the session's %016x\n%s", got, want, text)
	}
}

// The command line runs any statement; the cluster pane shows the network fault in force; a bad
// statement is reported, not run.
func TestCommandLine(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 120, 40
	type_ := func(s string) {
		m.Update(press(":"))
		for _, r := range s {
			if r == ' ' {
				m.Update(press("space"))
			} else {
				m.Update(press(string(r)))
			}
		}
		m.Update(press("enter"))
	}
	type_("partition 1 | 2 3")
	if scr := screen(m); !strings.Contains(scr, "network: ⚡ partition 1 | 2 3") {
		t.Errorf("screen lacks the partition:\n%s", scr)
	}
	type_("kill 7")
	if !strings.Contains(m.msg, "broker 7 does not exist") {
		t.Errorf("message %q; want the parse error", m.msg)
	}
}

// A fault injected while rewound starts a new timeline; the header says so.
func TestFaultWhileRewoundForksATimeline(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 200, 50
	for _, k := range []string{"n", "n", "n", "left", "left", "c"} {
		m.Update(press(k))
	}
	if n := m.s.Timelines(); n != 2 {
		t.Fatalf("timelines %d; want 2 (%s)", n, m.msg)
	}
	if scr := screen(m); !strings.Contains(scr, "timeline 2/2") {
		t.Errorf("header lacks the timeline:\n%s", strings.SplitN(scr, "\n", 2)[0])
	}
}

// In present mode a destructive key asks first; anything but y cancels.
func TestPresentModeConfirms(t *testing.T) {
	m := newPaused(t, Options{Present: true})
	m.Update(press("K"))
	if m.confirm != "kill leader orders/0" {
		t.Fatalf("confirm %q; want the kill to wait", m.confirm)
	}
	m.Update(press("n"))
	if m.s.Timeline().Parent != 0 || strings.Contains(m.msg, "✓") {
		t.Errorf("cancelled kill ran: %s", m.msg)
	}
	m.Update(press("K"))
	m.Update(press("y"))
	if !strings.HasPrefix(m.msg, "✓ kill leader orders/0") {
		t.Errorf("message %q; want the kill confirmed", m.msg)
	}
}

// Every fault key types its binding's statement about the selection (present mode holds the
// destructive ones for y); h heals at once, and r restarts the partition's first down replica
// at once.
func TestFaultKeysTypeTheirStatements(t *testing.T) {
	m := newPaused(t, Options{Present: true})
	for k, want := range map[string]string{
		"K": "kill leader orders/0",
		"c": "crash leader orders/0",
		"s": "stop leader orders/0",
		"p": "pause leader orders/0",
		"i": "isolate leader orders/0",
		"l": "slow leader orders/0 latency=100ms",
	} {
		m.Update(press(k))
		if m.confirm != want {
			t.Errorf("%s: confirm %q; want %q", k, m.confirm, want)
		}
		m.Update(press("n")) // cancels
	}
	m.Update(press("h"))
	if m.msg != "✓ heal" {
		t.Errorf("h: message %q; want ✓ heal", m.msg)
	}
	if m.s.Timeline().Parent != 0 || m.confirm != "" {
		t.Errorf("a cancelled fault ran (timeline parent %d, confirm %q)", m.s.Timeline().Parent, m.confirm)
	}
	m.w, m.h = 200, 50
	leader, _, _ := partitionRow(t, screen(m))
	for _, k := range []string{"K", "y", "N", "r"} {
		m.Update(press(k))
	}
	if want := "✓ restart " + leader; m.msg != want {
		t.Errorf("r after killing the leader: message %q; want %q", m.msg, want)
	}
}

// A scenario's pause stops play until space; its say lines are captions.
func TestScenarioPauseAndCaption(t *testing.T) {
	m, err := New(Options{Scenario: scenarios.Classroom(), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.speed = len(speeds) - 2 // ×100
	for i := 0; i < 200 && m.playing; i++ {
		m.Update(tickMsg{})
	}
	if m.playing || !m.s.Snapshot().Paused {
		t.Fatalf("still playing at %v; want the script's pause", m.s.Snapshot().At)
	}
	if scr := screen(m); !strings.Contains(scr, "» p1 writes 1,000 records a second") {
		t.Errorf("caption missing:\n%s", scr)
	}
	m.Update(press("space"))
	m.Update(tickMsg{})
	if !m.playing || m.s.Snapshot().Paused {
		t.Error("space did not continue past the pause")
	}
}

// BenchmarkFrame is one frame at ×1 on a 120×40 screen: a 33ms slice of virtual time
// simulated, snapshotted and drawn. Frames per second = 1e9 / ns/op.
func BenchmarkFrame(b *testing.B) {
	m, err := New(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m.w, m.h = 120, 40
	m.s.Advance(10 * time.Second)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Update(tickMsg{})
		_ = m.Render()
	}
}

// BenchmarkKeyWhileRewound is a key press shown rewound (step back then forward) with the
// redraw.
func BenchmarkKeyWhileRewound(b *testing.B) {
	m, err := New(Options{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m.w, m.h = 120, 40
	m.playing = false
	m.s.Advance(2 * time.Minute)
	m.s.SeekTime(time.Minute)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Update(press("left"))
		m.Update(press("n"))
		_ = m.Render()
	}
}

// The unclean-election scenario played in the UI: the checker, judging as the run goes, finds
// the lost records (inconsistent-offsets); `a` lists them with the operations each names, and
// enter shows the instant the first of those operations began.
func TestUncleanElectionAnomalyOnScreen(t *testing.T) {
	m, err := New(Options{Scenario: scenarios.Named("unclean-election")})
	if err != nil {
		t.Fatal(err)
	}
	m.syncJudge = true
	m.w, m.h = 120, 40
	m.speed = len(speeds) - 2 // ×100
	for i := 0; i < 100 && !m.s.Snapshot().Done; i++ {
		m.Update(tickMsg{})
		if m.s.Snapshot().Paused {
			m.Update(press("space")) // the teacher's pause points
		}
	}
	m.playing = false
	if !m.s.Snapshot().Done {
		t.Fatalf("the script is not done at %v", m.s.Snapshot().At)
	}
	m.Update(press("x")) // judge what completed since the last periodic judgement
	scr := screen(m)
	if header := strings.SplitN(scr, "\n", 2)[0]; !strings.Contains(header, "✗ INVALID") {
		t.Errorf("header %q; want ✗ INVALID", header)
	}
	m.Update(press("a"))
	m.Update(press("down"))
	scr = screen(m)
	v := m.s.HeadVerdict()
	if len(v.Findings) < 2 {
		t.Fatalf("%d findings; want several", len(v.Findings))
	}
	f := v.Findings[1]
	if f.Name != "inconsistent-offsets" || len(f.Ops) < 2 {
		t.Fatalf("finding %s with %d ops; want inconsistent-offsets naming a poll and a send", f.Name, len(f.Ops))
	}
	for _, want := range []string{"inconsistent-offsets", "▸ " + fmt.Sprintf("%9.3fs", f.At.Seconds()), "OP", "OUTCOME", "OFFSETS"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	for _, op := range f.Ops {
		want := fmt.Sprintf("#%-6d %-4s %-4s orders/0", op.Index, op.Client, op.Type)
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks the operation row %q:\n%s", want, scr)
		}
	}
	m.Update(press("enter"))
	at := m.s.Snapshot().At
	if !m.s.Rewound() || at > f.Began || f.Began-at > session.SnapEvery {
		t.Errorf("after enter: shown %v (rewound %v); want the snapshot at or just before %v", at, m.s.Rewound(), f.Began)
	}
	if scr := screen(m); !strings.Contains(scr, "⏪") || !strings.Contains(scr, fmt.Sprintf("#%d", f.Ops[0].Index)) {
		t.Errorf("screen after the jump lacks the rewound header or the operation:\n%s", scr)
	}
}

// KIP-101's bug truncates a committed record: the online invariant fails as it happens; at
// 80×24 `a` shows it, and enter shows the first instant after the event that failed it, where
// the header's verdict turns invalid (one step back it is not).
func TestInvariantViolationJumpsToItsEvent(t *testing.T) {
	m, err := New(Options{Scenario: scenarios.Named("kip101-hw-truncation")})
	if err != nil {
		t.Fatal(err)
	}
	m.syncJudge = true
	m.speed = len(speeds) - 2 // ×100
	for i := 0; i < 100 && !m.s.Snapshot().Done; i++ {
		m.Update(tickMsg{})
		if m.s.Snapshot().Paused {
			m.Update(press("space"))
		}
	}
	m.playing = false
	m.Update(press("a"))
	scr := screen(m)
	for _, want := range []string{"⚠ invariant committed-never-truncated", "committed records are gone"} {
		if !strings.Contains(scr, want) {
			t.Errorf("screen lacks %q:\n%s", want, scr)
		}
	}
	f := m.s.HeadVerdict().Findings[0]
	m.Update(press("enter"))
	snap := m.s.Snapshot()
	if snap.Events <= f.Event || !m.s.Rewound() {
		t.Fatalf("shown: %d events (rewound %v); want the first snapshot after event %d", snap.Events, m.s.Rewound(), f.Event)
	}
	m.w, m.h = 120, 40
	if header := strings.SplitN(screen(m), "\n", 2)[0]; !strings.Contains(header, "✗ INVALID") {
		t.Errorf("header %q; want ✗ INVALID at the violation", header)
	}
	m.Update(press("left"))
	if v := m.s.Verdict(); v.Violations != 0 {
		t.Errorf("one step before: %d violations; want 0", v.Violations)
	}
}
