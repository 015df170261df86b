package tui

import (
	"strings"
	"testing"
	"time"
)

// The elastic keys in the live classroom: b adds broker 4, which appears among the brokers; R
// on orders/0 opens the command line with a move of its last replica onto broker 4, enter runs
// it, and while it is in progress the Reassignments view shows 4 being added (with its LEO
// against the leader's) and the replica leaving; D on broker 4, then y, is refused while 4
// holds a replica. On a narrow screen v reaches the same view in the lower pane.
func TestElasticKeysAddBrokerAndReassign(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 120, 40
	m.s.Advance(2 * time.Second)
	pressAll(m, "b")
	if !strings.Contains(screen(m), "✓ add broker 4") {
		t.Fatalf("b: want add broker 4 run:\n%s", screen(m))
	}
	registered := func() bool {
		for _, n := range m.s.Snapshot().Nodes {
			if n.ID == 4 && !n.Controller && n.Epoch > 0 && !n.Fenced {
				return true
			}
		}
		return false
	}
	for i := 0; i < 100 && !registered(); i++ {
		m.s.Advance(100 * time.Millisecond)
	}
	if !registered() {
		t.Fatalf("broker 4 not registered and unfenced after 10s: %+v", m.s.Snapshot().Nodes)
	}
	p := m.s.Snapshot().Partitions[m.selPart]
	if p.Name() != "orders/0" {
		t.Fatalf("selected %s; want orders/0", p.Name())
	}
	pressAll(m, "R")
	want := "reassign orders/0 replicas=" + joinIDs([]int32{p.Replicas[0].Broker, p.Replicas[1].Broker, 4})
	if !m.cmdline || m.input != want {
		t.Fatalf("R: got command line %v %q; want %q to edit", m.cmdline, m.input, want)
	}
	pressAll(m, "enter")
	if !strings.Contains(screen(m), "✓ "+want) {
		t.Fatalf("enter: want the move run:\n%s", screen(m))
	}
	for i := 0; i < 100 && !m.s.Snapshot().Partitions[m.selPart].Reassigning(); i++ {
		m.s.StepEvent()
	}
	scr := screen(m)
	leaving := p.Replicas[2].Broker
	for _, s := range []string{"Reassignments  1 partition moving", "adding {4}", "+ 4 ", "LEO ", "- " + joinIDs([]int32{leaving}) + " "} {
		if !strings.Contains(scr, s) {
			t.Errorf("during the move: want %q on the screen:\n%s", s, scr)
		}
	}

	pressAll(m, "tab")
	for i := 0; i < 10 && m.s.Snapshot().Nodes[m.selNode].Name != "4"; i++ {
		pressAll(m, "j")
	}
	pressAll(m, "D")
	if !strings.Contains(screen(m), "remove broker 4? y confirms") {
		t.Fatalf("D on broker 4: want it to wait for y:\n%s", screen(m))
	}
	pressAll(m, "y")
	if scr := screen(m); !strings.Contains(scr, "✗") || !strings.Contains(scr, "still holds replicas of orders/0") {
		t.Fatalf("y: want remove broker 4 refused, naming orders/0:\n%s", scr)
	}

	m.w, m.h = 80, 30
	for i := 0; i < lowers && m.lower != lowerReassign; i++ {
		pressAll(m, "v")
	}
	if scr := screen(m); !strings.Contains(scr, "Reassignments") {
		t.Fatalf("v on a narrow screen: want the Reassignments view in the lower pane:\n%s", scr)
	}
}

// D needs a broker selected: on a partition it says how to select one.
func TestRemoveBrokerKeyNeedsABroker(t *testing.T) {
	m := newPaused(t, Options{})
	m.w, m.h = 120, 40
	pressAll(m, "D")
	if scr := screen(m); !strings.Contains(scr, "select a broker first") || m.confirm != "" {
		t.Fatalf("D on a partition: got confirm %q and\n%s\nwant a hint to select a broker", m.confirm, scr)
	}
}
