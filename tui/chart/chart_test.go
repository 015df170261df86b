package chart

import (
	"kafkasim/tui/internal/viewtest"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The chart of orders/0 at 80, 120 and 200 columns.
func TestChartGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.History(), theme.New(false), w, 14, 0) })
}

// The fault band shades the time since the kill, and only that.
func TestFaultBandShadesTheFault(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	out := strings.Split(ansi.Strip(Render(s.History(), theme.New(false), 100, 14, 0)), "\n")
	band := out[len(out)-1]
	if !strings.HasPrefix(band, "faults") || strings.Count(band, "░") < 10 {
		t.Errorf("band %q; want a shaded stretch", band)
	}
	if strings.HasSuffix(strings.TrimRight(band, " "), "faults ░") {
		t.Errorf("band %q shades nothing", band)
	}
}
