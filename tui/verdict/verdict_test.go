package verdict

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The pane after the unclean election at 80×20, 120×38 and 200×48, the second finding
// selected.
func TestCheckerPaneGolden(t *testing.T) {
	s, err := session.UncleanFixture()
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{80, 20}, {120, 38}, {200, 48}} {
		t.Run(fmt.Sprint(size[0]), func(t *testing.T) {
			golden.RequireEqual(t, ansi.Strip(Render(s.HeadVerdict(), theme.New(false), size[0], size[1], 1, "")))
		})
	}
}

// The selected anomaly is explained and each operation it names has a row: its index,
// client, type, partition, outcome and offsets.
func TestSelectedAnomalyShowsItsOperations(t *testing.T) {
	s, err := session.UncleanFixture()
	if err != nil {
		t.Fatal(err)
	}
	v := s.HeadVerdict()
	if len(v.Findings) == 0 {
		t.Fatal("no findings")
	}
	f := v.Findings[0]
	out := ansi.Strip(Render(v, theme.New(false), 120, 40, 0, ""))
	if !strings.Contains(out, "✗ INVALID") || !strings.Contains(out, f.Name) {
		t.Errorf("got\n%s\nwant the verdict and %s", out, f.Name)
	}
	for _, op := range f.Ops {
		want := fmt.Sprintf("#%-6d %-4s %-4s %s/%d", op.Index, op.Client, op.Type, op.Topic, op.Partition)
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant a row %q", out, want)
		}
	}
}

// Without findings the pane says what holds; the verdict word carries a glyph.
func TestNothingFound(t *testing.T) {
	v := &session.Verdict{Verdict: "valid", Counts: map[string]int{}}
	out := ansi.Strip(Render(v, theme.New(false), 80, 10, 0, ""))
	if !strings.Contains(out, "✓ valid") || !strings.Contains(out, "nothing found so far") {
		t.Errorf("got\n%s\nwant ✓ valid and nothing found", out)
	}
}

// list keeps numbers within the width and says how many it left out.
func TestListCutsWithCount(t *testing.T) {
	got := list([]int64{100, 101, 102, 103, 104, 105}, 14)
	if got != "100 101 …+4" {
		t.Errorf("got %q; want %q", got, "100 101 …+4")
	}
	if got := list(nil, 10); got != "-" {
		t.Errorf("got %q; want -", got)
	}
}
