package zookeeper_test

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/scenarios"
	"kafkasim/tui/internal/viewtest"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
	"kafkasim/tui/zookeeper"
)

// play runs a library scenario on seed 1 to at, or to the end of its script.
func play(t *testing.T, name string, at time.Duration) *session.Session {
	t.Helper()
	sc := scenarios.Named(name)
	if sc == nil {
		t.Fatalf("no library scenario %s", name)
	}
	s, err := session.New(session.Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200 && s.Snapshot().At < at && !s.Snapshot().Done; i++ {
		if s.Snapshot().Paused {
			s.Continue()
		}
		s.Advance(time.Second)
	}
	if s.Snapshot().At < at && !s.Snapshot().Done {
		t.Fatalf("the scenario stopped at %v; want it at %v or its end", s.Snapshot().At, at)
	}
	return s
}

// The view at 80, 120 and 200 columns at the end of zk-controller-failover's script: its
// controller broker died and another won /controller: the ensemble with its leader, /controller naming the new
// controller at /controller_epoch 2, the registered brokers and each partition's state with
// its version (go test -update rewrites the golden files).
func TestZooKeeperViewGolden(t *testing.T) {
	s := play(t, "zk-controller-failover", time.Minute)
	z := s.Snapshot().ZooKeeper
	if z == nil {
		t.Fatal("no ZooKeeper state in a ZooKeeper-mode snapshot")
	}
	viewtest.Golden(t, func(w int) string { return zookeeper.Render(z, theme.New(false), w, 0) })
	out := ansi.Strip(zookeeper.Render(z, theme.New(false), 120, 0))
	for _, want := range []string{"ZooKeeper  leader z", "leading", "following", "/controller ", "/controller_epoch", "/brokers/ids/", "/brokers/topics/", "/state", "isr {", "ephemeral, session 0x"} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant a line with %q", out, want)
		}
	}
	if z.ControllerEpoch != 2 || z.Controller < 1 {
		t.Errorf("controller %d at epoch %d; want a broker at epoch 2", z.Controller, z.ControllerEpoch)
	}
	if h := zookeeper.Height(z); h != len(strings.Split(out, "\n")) {
		t.Errorf("Height %d differs from the %d lines drawn", h, len(strings.Split(out, "\n")))
	}
	// The controller broker is the cluster pane's active node.
	for _, n := range s.Snapshot().Nodes {
		if n.Active != (!n.Controller && n.ID == z.Controller) {
			t.Errorf("node %s: Active %v; want only the controller broker %d active", n.Name, n.Active, z.Controller)
		}
	}
}

// Without a quorum the view says so and shows the last committed tree a server holds; a
// small height cuts the view with "…"; KRaft mode has no view.
func TestZooKeeperViewQuorumLossAndCut(t *testing.T) {
	s := play(t, "zk-quorum-loss", 10*time.Second)
	z := s.Snapshot().ZooKeeper
	out := ansi.Strip(zookeeper.Render(z, theme.New(false), 120, 0))
	if !strings.Contains(out, "no quorum") || !strings.Contains(out, "last committed tree") || !strings.Contains(out, "/controller_epoch") {
		t.Errorf("got\n%s\nwant no quorum and the last committed tree", out)
	}
	out = ansi.Strip(zookeeper.Render(z, theme.New(false), 80, 3))
	if lines := strings.Split(out, "\n"); len(lines) != 3 || !strings.Contains(lines[2], "…") {
		t.Errorf("height 3: got\n%s\nwant two lines and …", out)
	}
	k, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	if k.Snapshot().ZooKeeper != nil || zookeeper.Render(nil, theme.New(false), 80, 0) != "" {
		t.Error("KRaft mode: want no ZooKeeper state and an empty view")
	}
}
