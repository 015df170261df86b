package scenarios

import (
	"slices"
	"strings"
	"testing"
)

// A run on a terminal shows its progress there: virtual time, events, operations; the line
// ends erased.
func TestRunProgressShowsTimeEventsOps(t *testing.T) {
	var bar strings.Builder
	if _, err := Run(Named("leader-failover"), Options{Progress: &bar}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"s virtual", " events", " ops"} {
		if !strings.Contains(bar.String(), want) {
			t.Errorf("progress %q lacks %q", bar.String(), want)
		}
	}
}

// The nearest library names of a misspelt one, nearest first; none for a name near nothing.
func TestNearestNames(t *testing.T) {
	if got := NearestNames("leader-failver", 3); len(got) == 0 || got[0] != "leader-failover" {
		t.Errorf("leader-failver: got %v", got)
	}
	if got := NearestNames("kip101", 5); !slices.Contains(got, "kip101-hw-truncation") {
		t.Errorf("kip101: got %v; want the kip101 scenarios", got)
	}
	if got := NearestNames("zzzzzzzzzzzzzzzz", 3); len(got) != 0 {
		t.Errorf("zzzz…: got %v; want none", got)
	}
}
