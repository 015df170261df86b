package cluster

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/protocol"
)

func newZkCluster(t *testing.T, brokers int, seed uint64, tune func(*Spec)) *Cluster {
	t.Helper()
	spec := DefaultSpec()
	spec.Brokers = brokers
	spec.ZooKeeper = 3
	spec.Sim.Seed = seed
	if tune != nil {
		tune(&spec)
	}
	c, err := New(spec)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// The first broker to create the ephemeral /controller is controller, at epoch 1; every
// broker is registered under /brokers/ids with its czxid as broker epoch.
func TestZkModeBootElectsOneControllerBroker(t *testing.T) {
	c := newZkCluster(t, 3, 1, nil)
	c.RunFor(5 * time.Second)
	ctl := c.ActiveController()
	if ctl < 1 || ctl > 3 {
		t.Fatalf("controller: got %d; want a broker", ctl)
	}
	if got := c.ControllerEpoch(); got != 1 {
		t.Fatalf("controller epoch: got %d; want 1", got)
	}
	n := 0
	for _, id := range c.BrokerIDs {
		if c.Broker(id).IsController() {
			n++
		}
		if got, want := c.Broker(id).Epoch(), c.Committed().Brokers[id].Epoch; got != want {
			t.Fatalf("broker %d epoch: got %d; want the czxid %d", id, got, want)
		}
	}
	if n != 1 {
		t.Fatalf("brokers acting as controller: got %d; want 1", n)
	}
}

// A topic created through the controller gets a leader and a full ISR, and acks=all writes
// commit on all replicas: replication is the KRaft mode's, only the control plane differs.
func TestZkModeTopicReplicates(t *testing.T) {
	c := newZkCluster(t, 3, 2, nil)
	mustTopic(t, c, TopicSpec{Name: "t", Partitions: 2, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
	mustProducer(t, c, "p", "t", 50, "acks", "all")
	c.RunFor(10 * time.Second)
	h := c.History()
	ok := 0
	for _, op := range h {
		if op.Type == "send" && op.Outcome == "ok" {
			ok++
		}
	}
	if ok < 100 {
		t.Fatalf("acknowledged sends: got %d; want at least 100", ok)
	}
	for p := 0; p < 2; p++ {
		if isr := c.ISR(TP("t", p)); len(isr) != 3 {
			t.Fatalf("t/%d ISR: got %v; want 3 replicas", p, isr)
		}
	}
}

// Controller failover: the controller broker dies; its session expires after
// zookeeper.session.timeout.ms, /controller goes, another broker wins it at the next epoch and
// re-elects the dead broker's partitions.
func TestZkModeControllerFailover(t *testing.T) {
	c := newZkCluster(t, 3, 3, nil)
	mustTopic(t, c, TopicSpec{Name: "t", Partitions: 3, Replication: 3})
	old := c.ActiveController()
	if err := c.World.Kill(old); err != nil {
		t.Fatal(err)
	}
	c.RunFor(10 * time.Second)
	if got := c.ControllerEpoch(); got != 1 {
		t.Fatalf("controller epoch 10s after the kill: got %d; want still 1 (the session lives 18s)", got)
	}
	if !c.RunUntil(func() bool { n := c.ActiveController(); return n > 0 && n != old }, 30*time.Second) {
		t.Fatal("no new controller")
	}
	if got := c.ControllerEpoch(); got != 2 {
		t.Fatalf("controller epoch: got %d; want 2", got)
	}
	if !c.RunUntil(func() bool {
		for p := 0; p < 3; p++ {
			if l := c.Leader(TP("t", p)); l == old || l < 0 || slices.Contains(c.ISR(TP("t", p)), old) {
				return false
			}
		}
		return true
	}, 10*time.Second) {
		t.Fatal("the dead broker still leads partitions or sits in an ISR")
	}
	for p := 0; p < 3; p++ {
		for _, r := range c.ISR(TP("t", p)) {
			if r == old {
				t.Fatalf("t/%d ISR %v still holds the dead broker %d", p, c.ISR(TP("t", p)), old)
			}
		}
	}
	// A zombie controller's request, of the old epoch, is refused by every broker that saw
	// the new one (STALE_CONTROLLER_EPOCH).
	var refused []*broker.StaleControllerRefused
	c.World.OnObserve(func(now time.Duration, id int32, ev any) {
		if e, ok := ev.(*broker.StaleControllerRefused); ok {
			refused = append(refused, e)
		}
	})
	target := c.ActiveController()
	before := c.Leader(TP("t", 0))
	c.World.Inject(target, &protocol.LeaderAndIsrRequest{ControllerID: old, ControllerEpoch: 1, BrokerEpoch: -1,
		Partitions: []protocol.ZkPartitionState{{TP: TP("t", 0), ControllerEpoch: 1, Leader: old, LeaderEpoch: 99, ISR: []int32{old}, Replicas: []int32{1, 2, 3}}}})
	c.RunFor(time.Second)
	if len(refused) != 1 || refused[0].Epoch != 1 || refused[0].Known != 2 {
		t.Fatalf("refusals: got %v; want one of epoch 1 by a broker at epoch 2", refused)
	}
	if p := c.Broker(target).Image().Partition("t", 0); p.Leader != before {
		t.Fatalf("t/0 leader in broker %d's metadata after the stale request: got %d; want %d", target, p.Leader, before)
	}
}

// A broker whose ZooKeeper session expires (paused past zookeeper.session.timeout.ms) leaves
// every ISR and loses its leaderships; resumed, it learns of the expiry, registers again with
// a new broker epoch (czxid) and rejoins the ISRs.
func TestZkModeSessionExpiryRemovesBrokerFromIsr(t *testing.T) {
	c := newZkCluster(t, 3, 4, nil)
	mustTopic(t, c, TopicSpec{Name: "t", Partitions: 3, Replication: 3})
	victim := int32(1)
	if victim == c.ActiveController() {
		victim = 2
	}
	epoch := c.Broker(victim).Epoch()
	if err := c.World.Pause(victim); err != nil {
		t.Fatal(err)
	}
	gone := func() bool {
		for p := 0; p < 3; p++ {
			if slices.Contains(c.ISR(TP("t", p)), victim) || c.Leader(TP("t", p)) == victim {
				return false
			}
		}
		return c.Committed().Brokers[victim] == nil
	}
	if !c.RunUntil(gone, 40*time.Second) {
		t.Fatal("the expired broker stayed registered or in an ISR")
	}
	if err := c.World.Resume(victim); err != nil {
		t.Fatal(err)
	}
	back := func() bool {
		for p := 0; p < 3; p++ {
			if !slices.Contains(c.ISR(TP("t", p)), victim) {
				return false
			}
		}
		return true
	}
	if !c.RunUntil(back, 60*time.Second) {
		t.Fatalf("the broker did not rejoin the ISRs: %v %v %v", c.ISR(TP("t", 0)), c.ISR(TP("t", 1)), c.ISR(TP("t", 2)))
	}
	if got := c.Broker(victim).Epoch(); got <= epoch {
		t.Fatalf("broker epoch after the new session: got %d; want above %d", got, epoch)
	}
}

// A leader whose session expired cannot shrink the ISR: its AlterPartition carries a broker
// epoch, leader epoch and zkVersion the controller no longer has, and is refused (KIP-497; the
// "cached zkVersion" refusal of the ZooKeeper-writing brokers before it), so with acks=all it
// acknowledges nothing alone.
func TestZkModeExpiredLeaderCannotShrinkIsr(t *testing.T) {
	c := newZkCluster(t, 3, 5, nil)
	// The leader is not the controller: a controller cut off from ZooKeeper is another story.
	ctl := c.ActiveController()
	var others []int32
	for _, id := range c.BrokerIDs {
		if id != ctl {
			others = append(others, id)
		}
	}
	lead, next := others[0], others[1]
	mustTopic(t, c, TopicSpec{Name: "t", Partitions: 1, Replication: 3, Assignment: [][]int32{{lead, next, ctl}}, Configs: map[string]string{"min.insync.replicas": "2"}})
	mustProducer(t, c, "p", "t", 50, "acks", "all")
	var refused []*broker.AlterPartitionRefused
	c.World.OnObserve(func(now time.Duration, id int32, ev any) {
		if e, ok := ev.(*broker.AlterPartitionRefused); ok {
			refused = append(refused, e)
		}
	})
	c.RunFor(3 * time.Second)
	c.World.Partition([]int32{lead}, c.ZooKeeper)
	if !c.RunUntil(func() bool { return c.Leader(TP("t", 0)) == next }, 30*time.Second) {
		t.Fatalf("leader: got %d; want %d after broker %d's session expired", c.Leader(TP("t", 0)), next, lead)
	}
	c.RunFor(50 * time.Second) // past replica.lag.time.max.ms (30s) without fetches
	if p := c.Replica(lead, TP("t", 0)); p == nil || !p.IsLeader() {
		t.Fatalf("broker %d should still believe it leads t/0 (nobody told it)", lead)
	}
	if len(refused) == 0 {
		t.Fatalf("broker %d's ISR shrink was not refused by the controller", lead)
	}
	if got := c.Replica(lead, TP("t", 0)).ISR(); len(got) < 2 {
		t.Fatalf("broker %d's own ISR: got %v; want it unshrunk (the shrink was refused)", lead, got)
	}
}
