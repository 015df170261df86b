package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// Every library scenario that makes sense on both control planes holds on the other one too
// (a KRaft scenario turned to ZooKeeper mode, a ZooKeeper scenario to KRaft), and runs twice
// with the same trace; the others are named in oneModeOnly with their reason.
func TestLibraryInBothModes(t *testing.T) {
	names := map[string]bool{}
	for _, s := range Library() {
		name := strings.TrimSuffix(strings.TrimPrefix(s.File, libraryDir), ".scenario")
		names[name] = true
		other := ModeZooKeeper
		if s.ZooKeeperMode() {
			other = ModeKRaft
		}
		if OneModeOnly(name) != "" || Large(name) != "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := LibraryFile(name)
			files, err := WithMetadataMode([]*File{f}, other)
			if err != nil {
				t.Fatalf("--metadata-mode %s: %v; want it to parse (or name the scenario in oneModeOnly with the reason)", other, err)
			}
			sc, err := files[0].Scenario()
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			a, err := Run(sc, Options{Narrate: &out})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !a.OK {
				t.Fatalf("--metadata-mode %s: got OK=false (%s); want every expectation to hold\n%s", other, a.Failure, out.String())
			}
			if a.MetadataMode != other || !strings.HasSuffix(ReplayCommand(a), "--metadata-mode "+string(other)) {
				t.Errorf("replay %q; want it to carry --metadata-mode %s", ReplayCommand(a), other)
			}
			b, err := Run(sc, Options{})
			if err != nil {
				t.Fatalf("second Run: %v", err)
			}
			if a.TraceHash != b.TraceHash || a.Events != b.Events {
				t.Errorf("got trace %016x (%d events) then %016x (%d events); want the same twice", a.TraceHash, a.Events, b.TraceHash, b.Events)
			}
		})
	}
	for name := range oneModeOnly {
		if !names[name] {
			t.Errorf("oneModeOnly names %s, which is not a library scenario", name)
		}
	}
}

// The switch's words: the flag turns the cluster over, the file's config key too, and what
// the other mode lacks is refused naming the switch.
func TestMetadataModeSwitch(t *testing.T) {
	kraft := "cluster brokers=3 controllers=5\ntopic t partitions=1 replication=3\nwait 1s\n"
	s, err := ParseMode("k.scenario", []byte(kraft), ModeZooKeeper)
	if err != nil {
		t.Fatal(err)
	}
	if s.zk.servers != 5 || s.controllers != 0 {
		t.Errorf("zookeeper mode: got %d servers, %d controllers; want 5 servers, 0 controllers", s.zk.servers, s.controllers)
	}
	s, err = Parse("k.scenario", []byte("config metadata.mode=zookeeper\n"+kraft))
	if err != nil || s.zk.servers != 5 {
		t.Fatalf("config metadata.mode=zookeeper: %v; want 5 servers", err)
	}
	s, err = ParseMode("k.scenario", []byte("config metadata.mode=zookeeper\n"+kraft), ModeKRaft)
	if err != nil || s.zk.servers != 0 || s.controllers != 5 {
		t.Fatalf("--metadata-mode kraft over the file's zookeeper: %v; want the flag to win (KRaft, 5 controllers)", err)
	}
	for _, c := range []struct {
		src  string
		mode MetadataMode
		want string
	}{
		{"cluster brokers=3\nwait 1s\nkill c1\n", ModeZooKeeper, "c1: a KRaft controller, and this cluster runs on ZooKeeper (z1..z3; the controller is a broker, named by `controller`) (turned by --metadata-mode zookeeper)"},
		{"cluster brokers=3\nprotocol eligible.leader.replicas=true\n", ModeZooKeeper, "eligible.leader.replicas: a KRaft-only setting, and this cluster runs on ZooKeeper (zookeeper=3) (turned by --metadata-mode zookeeper)"},
		{"cluster brokers=3 zookeeper=3\nwait 1s\nkill z1\n", ModeKRaft, "z1: there is no ZooKeeper ensemble (the cluster runs KRaft (turned by --metadata-mode kraft)"},
		{"config metadata.mode=zk\n", ModeAsWritten, `metadata.mode: "zk" is not a metadata mode (kraft or zookeeper)`},
		{"cluster brokers=3\nnemesis kinds=kill,zookeeper\n", ModeAsWritten, "kinds: zookeeper: the cluster runs KRaft; there is no ZooKeeper ensemble to fault"},
		{"cluster brokers=3\nconfig controller.socket.timeout.ms=5000\n", ModeKRaft, "controller.socket.timeout.ms: the cluster runs KRaft; the key times the ZooKeeper-mode controller's requests to brokers"},
		{"cluster brokers=3\nwait 1s\nexpect stale.controller.refused == 0\n", ModeAsWritten, "stale.controller.refused: the cluster runs KRaft"},
	} {
		_, err := ParseMode("x.scenario", []byte(c.src), c.mode)
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(se.Msg, c.want) {
			t.Errorf("%q in mode %q: got %v; want an error containing %q", c.src, c.mode, err, c.want)
		}
	}
	if _, err := ParseMode("x.scenario", []byte("cluster brokers=3\nconfig controller.socket.timeout.ms=5000\nnemesis kinds=kill,zookeeper\nwait 1s\n"), ModeZooKeeper); err != nil {
		t.Errorf("ZooKeeper mode's words in ZooKeeper mode: %v; want them accepted", err)
	}
	// Turning ELR off is what ZooKeeper mode is: accepted.
	if _, err := ParseMode("x.scenario", []byte("protocol eligible.leader.replicas=false\n"), ModeZooKeeper); err != nil {
		t.Errorf("eligible.leader.replicas=false in ZooKeeper mode: %v; want it accepted", err)
	}
}

// The safe configuration under a nemesis of every kind, ZooKeeper servers included (a
// minority at a time, as controllers), turned to ZooKeeper mode: no false alarm. The broker
// power-loss budget there is zkUncleanBudget (no KIP-966). The seed count is
// KAFKASIM_NEMESIS_SEEDS as for KRaft mode (10 without it). Measured with 1,000 seeds (kafkasim sweep
// testdata/nemesis/safe.scenario --seeds 1-1000 --metadata-mode zookeeper): see the README's
// ZooKeeper mode section.
func TestNemesisInZooKeeperModeIsNoFalseAlarm(t *testing.T) {
	files, err := WithMetadataMode([]*File{openTestdata(t, "safe.scenario")}, ModeZooKeeper)
	if err != nil {
		t.Fatal(err)
	}
	n := nemesisSeeds(t, 10, 5) // the KRaft test's share is 30
	faults, zk := 0, 0
	sw := Sweep{Files: files, Seeds: SeedRange{First: 1, Last: n, Count: 1}, Parallel: 2}
	_, err = sw.Run(func(r *Result) error {
		faults += len(r.Faults)
		for _, f := range r.Faults {
			if strings.Contains(f.Statement, " z") {
				zk++
			}
		}
		if !r.OK || r.Verdict != "valid" {
			t.Errorf("seed %d: %s (verdict %s, anomalies %v)\nfaults:\n%s", r.Seed, r.Failure, r.Verdict, r.Anomalies, faultsText(r.Faults))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if faults < int(n) || zk == 0 {
		t.Errorf("%d faults over %d seeds, %d on ZooKeeper servers: the nemesis hardly ran", faults, n, zk)
	}
}
