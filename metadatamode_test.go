package main

import (
	"strings"
	"testing"
)

// run --metadata-mode turns a KRaft scenario to ZooKeeper mode: it holds there, and the JSON
// names the replay with the flag; a scenario with KRaft-only words is bad input naming the
// flag; an unknown mode is bad input.
func TestRunMetadataMode(t *testing.T) {
	code, stdout, stderr := cli(t, "run", "leader-failover.scenario", "--metadata-mode", "zookeeper")
	if code != 0 || !strings.Contains(stdout, "ZooKeeper z1..z3") {
		t.Errorf("run --metadata-mode zookeeper: status %d; want 0 and a ZooKeeper cluster\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = cli(t, "run", "controller-rejoin-prevote.scenario", "--metadata-mode", "zookeeper")
	if code != 2 || !strings.Contains(stderr, "turned by --metadata-mode zookeeper") {
		t.Errorf("a KRaft-only scenario in ZooKeeper mode: status %d, stderr %q; want 2 naming the flag", code, stderr)
	}
	code, _, stderr = cli(t, "sweep", "leader-failover.scenario", "--seeds", "1-1", "--metadata-mode", "zk")
	if code != 2 || !strings.Contains(stderr, "want kraft or zookeeper") {
		t.Errorf("--metadata-mode zk: status %d, stderr %q; want 2 and the modes", code, stderr)
	}
}
