package scenarios

import (
	"strings"
	"testing"
)

const zkHead = `cluster brokers=3 zookeeper=3
config zookeeper.session.timeout.ms=6000
topic orders partitions=1 replication=3
producer p1 topic=orders
`

// ZooKeeper mode's words parse: the servers as nodes, zk.leader, controller naming a broker.
func TestZooKeeperWordsParse(t *testing.T) {
	for _, src := range []string{"kill z1", "partition z1 | z2 z3", "expect zk.leader == z2", "expect zk.leader != none", "expect controller == 2", "expect controller.epoch >= 2", "kill controller"} {
		s, err := Parse("t.scenario", []byte(zkHead+src+"\n"))
		if err != nil {
			t.Errorf("%s: %v; want it parsed", src, err)
			continue
		}
		if s.zk.servers != 3 || s.zk.sessionTimeout.Milliseconds() != 6000 {
			t.Errorf("%s: zookeeper=%d session timeout %v; want 3 and 6s", src, s.zk.servers, s.zk.sessionTimeout)
		}
	}
}

// KRaft-only settings in ZooKeeper mode are errors that say why.
func TestKRaftOnlySettingsRefusedInZooKeeperMode(t *testing.T) {
	for src, want := range map[string]string{
		"protocol eligible.leader.replicas=true\n": "t.scenario:5:10: eligible.leader.replicas: a KRaft-only setting, and this cluster runs on ZooKeeper (zookeeper=3)",
		"config broker.session.timeout.ms=9000\n":  "t.scenario:5:8: broker.session.timeout.ms: a KRaft-only setting, and this cluster runs on ZooKeeper (zookeeper=3)",
	} {
		_, err := Parse("t.scenario", []byte(zkHead+src))
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v; want %s", strings.TrimSpace(src), err, want)
		}
	}
}

// A client named like a ZooKeeper server is ambiguous in ZooKeeper mode.
func TestZooKeeperNameClashIsAnError(t *testing.T) {
	_, err := Parse("t.scenario", []byte(zkHead+"producer z1 topic=orders\nkill z1\n"))
	if err == nil || !strings.Contains(err.Error(), "z1 is ambiguous: both ZooKeeper server z1 and a client") {
		t.Fatalf("got %v; want the ambiguity named", err)
	}
}
