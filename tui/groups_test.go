package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/scenarios"
)

// Killing a consumer from the UI: tab to the Clients pane, select r2, K then y. The group
// notices at r2's session timeout: the log says why it rebalances and what generation 2 gives
// each member, and the Groups view shows r1 and r3 owning the four partitions.
func TestKillConsumerByKeysShowsTheRebalance(t *testing.T) {
	sc, err := scenarios.ParseFile("testdata/group-three.scenario")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	m.playing, m.syncJudge = false, true
	m.w, m.h = 120, 40
	for i := 0; i < 60 && m.s.Snapshot().Line < 14; i++ {
		m.s.Advance(time.Second)
	}
	if g := m.s.Snapshot().Groups; len(g) != 1 || g[0].State != "stable" || len(g[0].Members) != 3 {
		t.Fatalf("before the kill: %+v; want g1 stable with three members", g)
	}
	pressAll(m, "tab", "tab", "j", "j")
	if scr := screen(m); !strings.Contains(scr, "▸ r2") {
		t.Fatalf("after tab tab j j: want r2 selected in the Clients pane:\n%s", scr)
	}
	pressAll(m, "K")
	if scr := screen(m); !strings.Contains(scr, "kill r2? y confirms") {
		t.Fatalf("K: want the kill to wait for y:\n%s", scr)
	}
	pressAll(m, "y")
	if !strings.Contains(screen(m), "✓ kill r2") {
		t.Fatalf("y: want the kill run:\n%s", screen(m))
	}
	// N runs to the next mark: the rebalance at the session timeout, then generation 2.
	var texts []string
	for i := 0; i < 6 && !slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "g1 generation 2: ") }); i++ {
		pressAll(m, "N")
		texts = texts[:0]
		for _, e := range m.s.Events() {
			texts = append(texts, e.Text)
		}
	}
	for _, want := range []string{"kill r2", "g1 rebalances: r2 left, session timeout"} {
		if !slices.Contains(texts, want) {
			t.Errorf("no line %q in the log", want)
		}
	}
	gen := slices.IndexFunc(texts, func(s string) bool { return strings.HasPrefix(s, "g1 generation 2: ") })
	if gen < 0 || texts[gen] != "g1 generation 2: r1 {orders/0,orders/1}, r3 {orders/2,orders/3}" {
		t.Fatalf("want generation 2 to give r1 {orders/0,orders/1} and r3 {orders/2,orders/3}; got %q", texts[max(gen, 0):])
	}
	scr := screen(m)
	for _, want := range []string{"Groups", "g1  stable  generation 2", "r1   {orders/0,orders/1}", "{orders/2,orders/3}"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the screen lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "r2★") || strings.Contains(scr, "r2   {") {
		t.Errorf("r2 is still shown a member:\n%s", scr)
	}
	// The whole screen at 80×24 (the Groups view in the lower pane: v), 120×40 and 200×50.
	pressAll(m, "tab", "v", "v")
	goldenScreens(t, m)
}
