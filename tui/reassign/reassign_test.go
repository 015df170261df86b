package reassign

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/scenarios"
	"kafkasim/tui/internal/viewtest"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// throttled plays the library's throttled-reassignment scenario on seed 1 to 40s: orders/0 is
// moving from {1,2,3} to {2,3,4} throttled to 1 KB/s, broker 4 starved.
func throttled(t *testing.T) *session.Session {
	t.Helper()
	sc := scenarios.Named("throttled-reassignment")
	if sc == nil {
		t.Fatal("no library scenario throttled-reassignment")
	}
	s, err := session.New(session.Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && s.Snapshot().At < 40*time.Second; i++ {
		s.Advance(time.Second)
	}
	if s.Snapshot().At < 40*time.Second {
		t.Fatalf("the scenario stopped at %v; want it at 40s", s.Snapshot().At)
	}
	return s
}

// The view at 80, 120 and 200 columns during the throttled move: orders/0 with its four
// replicas, 4 being added (its LEO against the leader's, held back by the throttle) and 1, the leader,
// being removed (go test -update rewrites the golden files).
func TestReassignViewGolden(t *testing.T) {
	s := throttled(t)
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 120, 0))
	for _, want := range []string{"orders/0  replicas {2,3,4,1}  adding {4}  removing {1}  leader 1", "+ 4 ", "throttled (replication quota)", "- 1 ", "the leader: leadership moves"} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant a line with %q", out, want)
		}
	}
	if h := Height(s.Snapshot()); h != len(strings.Split(out, "\n")) {
		t.Errorf("Height %d differs from the %d lines drawn", h, len(strings.Split(out, "\n")))
	}
}

// With no move in progress the view says so and names the keys that start one; a small
// height cuts the list with "…".
func TestReassignViewEmptyAndCut(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 120, 0))
	if !strings.Contains(out, "none in progress") || !strings.Contains(out, "R reassigns the selected partition") {
		t.Errorf("got\n%s\nwant none in progress and the keys", out)
	}
	out = ansi.Strip(Render(throttled(t).Snapshot(), theme.New(false), 80, 2))
	if lines := strings.Split(out, "\n"); len(lines) != 2 || !strings.Contains(lines[1], "…") {
		t.Errorf("height 2: got\n%s\nwant the title and …", out)
	}
}
