package cluster

import (
	"kafkasim/tui/internal/viewtest"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The pane at 80, 120 and 200 columns (go test -update rewrites the golden files).
func TestClusterPaneGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
}

// A killed broker reads "killed, FENCED" with its glyph, and the active controller is named.
func TestKilledBrokerMarkedByGlyphAndWord(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 120, -1))
	if !strings.Contains(out, "✖ killed, FENCED") {
		t.Errorf("got\n%s\nwant a broker marked ✖ killed, FENCED", out)
	}
	if !strings.Contains(out, "active controller: c") {
		t.Errorf("got\n%s\nwant the active controller named", out)
	}
}
