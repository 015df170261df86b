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

// A name that is neither a file nor near a library scenario says where the library's names
// are; a near one suggests them.
func TestOpenUnknownNamePointsToTheList(t *testing.T) {
	for name, want := range map[string]string{
		"zzzzzzzzzzzzzzzz": "kafkasim list shows them all",
		"leader-failver":   "near name: leader-failover",
	} {
		if _, err := Open(name); err == nil || !strings.Contains(err.Error(), want) || !errNotExist(err) {
			t.Errorf("Open(%q): %v; want a not-found error saying %q", name, err, want)
		}
	}
}
