package chart

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kafkasim/tui/internal/viewtest"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The shading starts in the column of the kill's instant, read off the chart's own time axis
// (not shifted by the band's label), and runs to the right edge without being cut.
func TestFaultBandStartsAtTheKill(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	var kill time.Duration = -1
	for _, e := range s.Events() {
		if e.Kind == session.Fault {
			kill = e.At
		}
	}
	for _, w := range viewtest.Widths {
		out := strings.Split(ansi.Strip(Render(s.History(), theme.New(false), w, 14, 0)), "\n")
		band, axis := []rune(out[len(out)-1]), []rune(out[len(out)-2])
		start := slices.Index(band, '░')
		if start < 0 || strings.Contains(string(band), "…") || band[len(band)-1] != '░' {
			t.Fatalf("%d columns: band %q; want the shading to run to the right edge, uncut", w, string(band))
		}
		// Two labelled seconds around the kill: their columns give the axis' scale.
		sec := int(kill.Seconds())
		col := func(label string) float64 {
			i := strings.Index(string(axis), " "+label+" ")
			if i < 0 {
				t.Fatalf("%d columns: no %q on the axis %q", w, label, string(axis))
			}
			return float64(len([]rune(string(axis)[:i])) + 1)
		}
		a, b := col(fmt.Sprintf("%ds", sec)), col(fmt.Sprintf("%ds", sec+1))
		want := a + (b-a)*(kill.Seconds()-float64(sec))
		if d := float64(start) - want; d < -1.5 || d > 1.5 {
			t.Errorf("%d columns: shading starts at column %d; the kill at %v is at column %.1f", w, start, kill, want)
		}
	}
}

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

// The throughput chart's scale covers the classroom producer's 1,000 records a second (and the
// burst when the backlog behind the failover is acknowledged at once), and it names its series.
func TestThroughputShowsTheProducerRate(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Throughput(s.History(), theme.New(false), 120, 12))
	if !strings.Contains(out, "p1 acked/s") || !strings.Contains(out, "app1 read/s") || !strings.Contains(out, "app2 read/s") {
		t.Fatalf("legend missing:\n%s", out)
	}
	top := 0
	for _, l := range strings.Split(out, "\n")[1:] {
		f := strings.Fields(strings.ReplaceAll(l, "│", " "))
		if len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				top = max(top, n)
			}
		}
	}
	if top < 1000 {
		t.Errorf("top of the scale %d; want at least the producer's 1,000 records/s\n%s", top, out)
	}
}
