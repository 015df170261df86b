package groups

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/internal/viewtest"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The view at 80, 120 and 200 columns, at the end of a run whose consumer r2 was killed: g1
// rebalanced to generation 2, r1 and r3 own two partitions each (go test -update rewrites the
// golden files).
func TestGroupsViewGolden(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
}

// Rewound to before the session timeout, the view shows r2 still a member, marked down.
func TestGroupsViewRewoundShowsTheDeadMember(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range s.Events() {
		if strings.HasPrefix(e.Text, "g1 rebalances: r2 left") {
			s.ShowEvent(i - 1)
			break
		}
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0))
	if !strings.Contains(out, "generation 1") || !strings.Contains(out, "r2★  {orders/2}  ✖ down") {
		t.Errorf("got\n%s\nwant generation 1 and r2 marked down", out)
	}
}

// A height too small for every line ends with "…" and keeps the group's header.
func TestGroupsViewFitsItsHeight(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 4))
	lines := strings.Split(out, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "g1  stable") || !strings.Contains(lines[3], "…") {
		t.Errorf("got\n%s\nwant 4 lines: the title, g1's header, a member, then …", out)
	}
	if h := Height(s.Snapshot()); h != len(strings.Split(ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0)), "\n")) {
		t.Errorf("Height %d differs from the lines drawn", h)
	}
}
