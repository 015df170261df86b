package story

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/internal/viewtest"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The strip of the fixture (a kill, then the election) at 80, 120 and 200 columns, the cursor
// at the kill.
func TestStoryGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	marks := Marks(s.AllEvents(), nil)
	var kill session.Event
	for _, e := range s.AllEvents() {
		if e.Kind == session.Fault {
			kill = e
		}
	}
	viewtest.Golden(t, func(w int) string {
		out := Render(marks, s.Head().At, kill.At, theme.New(false), w, true)
		lines := strings.Split(ansi.Strip(out), "\n")
		if got := ansi.StringWidth(lines[0]); got != w {
			t.Errorf("%d columns: the strip is %d wide", w, got)
		}
		if !strings.Contains(lines[0], "↯") || !strings.Contains(lines[0], "★") {
			t.Errorf("%d columns: no fault or election mark: %q", w, lines[0])
		}
		return out
	})
}

// A consumer group's rebalance is marked ⟳ on the strip (r2 killed, g1 rebalances at its
// session timeout).
func TestRebalanceMarked(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	var at []float64
	for _, m := range Marks(s.AllEvents(), nil) {
		if m.Glyph == '⟳' {
			at = append(at, m.At.Seconds())
		}
	}
	if len(at) != 2 {
		t.Fatalf("rebalance marks at %v s; want two: r2 joining, then r2 leaving at its session timeout", at)
	}
	out := ansi.Strip(Render(Marks(s.AllEvents(), nil), s.Head().At, s.Head().At, theme.New(false), 120, false))
	if !strings.Contains(out, "⟳") {
		t.Errorf("the strip shows no ⟳: %q", out)
	}
}
