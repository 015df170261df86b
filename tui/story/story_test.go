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
