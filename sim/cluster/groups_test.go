package cluster

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/group"
)

func groupCluster(t *testing.T, seed uint64) *Cluster {
	t.Helper()
	spec := DefaultSpec()
	spec.Sim.Seed = seed
	_ = spec.Broker.Set("offsets.topic.num.partitions", "5")
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(TopicSpec{Name: "orders", Partitions: 4, Replication: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	return c
}

func groupConsumer(t *testing.T, c *Cluster, name string, kv ...string) {
	t.Helper()
	cfg := config.DefaultConsumer()
	cfg.AutoOffsetReset = "earliest"
	_ = cfg.Set("group", "g1")
	for i := 0; i+1 < len(kv); i += 2 {
		if err := cfg.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AddConsumer(ConsumerSpec{Name: name, Topic: "orders", Config: cfg}); err != nil {
		t.Fatal(err)
	}
}

// Reference: GroupMetadataManager.prepareRebalance and tryCompleteInitialRebalanceElseSchedule:
// the first rebalance of an empty group waits group.initial.rebalance.delay.ms (3 s) for more
// members before it completes, even though every member has joined.
func TestJoinGroupWaitsForInitialRebalanceDelay(t *testing.T) {
	c := groupCluster(t, 1)
	start := c.Now()
	groupConsumer(t, c, "c1")
	groupConsumer(t, c, "c2")
	if !c.RunUntil(func() bool { g := c.Group("g1"); return g != nil && g.State() == group.Stable }, 30*time.Second) {
		t.Fatalf("group g1 never stable")
	}
	if took := c.Now() - start; took < 3*time.Second {
		t.Errorf("the group became stable after %v; want at least the 3s initial delay", took)
	}
	c.RunFor(time.Second)
	g := c.Group("g1")
	if len(g.Members()) != 2 || g.Generation != 1 {
		t.Errorf("members %d generation %d; want 2 members in generation 1", len(g.Members()), g.Generation)
	}
	a1, a2 := c.Consumer("c1").Assigned(), c.Consumer("c2").Assigned()
	if len(a1) != 2 || len(a2) != 2 {
		t.Errorf("assigned %v and %v; want two partitions each (range over 4 partitions)", a1, a2)
	}
}
