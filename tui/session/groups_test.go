package session

import (
	"slices"
	"strings"
	"testing"
)

// The coordinator's events reach the log in words: the rebalance names the member that left
// and why, the new generation names each member's partitions, commits name the client.
func TestGroupEventsInWords(t *testing.T) {
	s, err := GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range s.Events() {
		if e.Kind == Rebalance || e.Kind == GroupNote {
			lines = append(lines, e.Text)
		}
	}
	for _, want := range []string{
		"g1 rebalances: r2 joined",
		"g1 generation 1: r1 {orders/0,orders/1}, r2 {orders/2}, r3 {orders/3}",
		"r1 commits orders/1 at 405",
		"g1 rebalances: r2 left, session timeout",
		"g1 generation 2: r1 {orders/0,orders/1}, r3 {orders/2,orders/3}",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in the log; got:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

// Rewinding shows the group as it was: before the session timeout r2 is still a member, its
// process down; after it, two members own the four partitions.
func TestGroupSnapshotsRewind(t *testing.T) {
	s, err := GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	end := s.Snapshot().Groups
	if len(end) != 1 || end[0].ID != "g1" || end[0].Generation != 2 || len(end[0].Members) != 2 || end[0].State != "stable" {
		t.Fatalf("at the end: %+v; want g1 stable in generation 2 with 2 members", end)
	}
	for i, e := range s.Events() {
		if e.Text == "g1 rebalances: r2 left, session timeout" {
			s.ShowEvent(i - 1)
			break
		}
	}
	g := s.Snapshot().Groups[0]
	if g.Generation != 1 || len(g.Members) != 3 || !g.MemberDown("r2") || g.MemberDown("r1") {
		t.Errorf("before the session timeout: generation %d, %d members, down %v; want generation 1, 3 members, r2 down", g.Generation, len(g.Members), g.Down)
	}
	for _, p := range g.Partitions {
		if p.Committed < 0 || p.End < p.Committed || p.Lag != p.End-p.Committed {
			t.Errorf("%s: committed %d, end %d, lag %d; want 0 ≤ committed ≤ end and lag = end − committed", p.TP, p.Committed, p.End, p.Lag)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1204: "1,204", 1234567: "1,234,567", -1204: "-1,204"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q; want %q", n, got, want)
		}
	}
}
