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

// A client named like a ZooKeeper server is ambiguous in ZooKeeper mode.
func TestZooKeeperNameClashIsAnError(t *testing.T) {
	_, err := Parse("t.scenario", []byte(zkHead+"producer z1 topic=orders\nkill z1\n"))
	if err == nil || !strings.Contains(err.Error(), "z1 is ambiguous: both ZooKeeper server z1 and a client") {
		t.Fatalf("got %v; want the ambiguity named", err)
	}
}
