package checker

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

// groupRun: two consumers of group g1 share a 4-partition topic while a producer writes; c1
// is killed (its group notices after session.timeout.ms) and restarted. protocol is the
// group's group.protocol.
func groupRun(t *testing.T, protocol string, plant func(b *config.Bugs, c *config.Consumer)) *Report {
	t.Helper()
	var cb config.Consumer
	r := newRun(t, 3, 71, func(s *cluster.Spec) {
		_ = s.Broker.Set("offsets.topic.num.partitions", "5")
		if plant != nil {
			plant(&s.Broker.Bugs, &cb)
		}
	})
	r.topic(cluster.TopicSpec{Name: "orders", Partitions: 4, Replication: 3})
	r.producer("p1", "orders", 200, "acks", "all")
	for _, name := range []string{"c1", "c2"} {
		cc := config.DefaultConsumer()
		cc.AutoOffsetReset = "earliest"
		cc.Bugs = cb.Bugs
		_ = cc.Set("group", "g1")
		if protocol == "classic" {
			_ = cc.Set("session.timeout.ms", "10s")
		}
		_ = cc.Set("processing", "50ms")
		_ = cc.Set("group.protocol", protocol)
		if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: name, Topic: "orders", Config: cc}); err != nil {
			t.Fatal(err)
		}
	}
	r.c.RunFor(15 * time.Second)
	id, _ := r.c.Client("c1")
	_ = r.c.World.Kill(id)
	r.c.RunFor(20 * time.Second)
	_ = r.c.World.Restart(id)
	r.c.RunFor(15 * time.Second)
	_ = r.c.SetRate("p1", 0)
	r.c.RunFor(15 * time.Second)
	r.c.Close()
	cfg := Config{Idempotent: true, Online: r.online}
	return Check(r.c.History(), cfg)
}

// Each group rule fires on a real run with a planted bug and stays quiet without it, for both
// protocols. Under KIP-848 the one-owner rule's bug is the coordinator's: it gives a partition
// before its owner revoked it.
func TestPlantedGroupBugs(t *testing.T) {
	for _, protocol := range []string{"classic", "consumer"} {
		t.Run(protocol, func(t *testing.T) { plantedGroupBugs(t, protocol) })
	}
}

func plantedGroupBugs(t *testing.T, protocol string) {
	assignEverything := func(_ *config.Bugs, c *config.Consumer) { c.Bugs.AssignEverything = true }
	if protocol == "consumer" {
		assignEverything = func(b *config.Bugs, _ *config.Consumer) { b.AssignBeforeRevoke = true }
	}
	cases := []struct {
		name  string
		plant func(b *config.Bugs, c *config.Consumer)
	}{
		{OneOwnerPerGeneration, assignEverything},
		{GroupSkip, func(_ *config.Bugs, c *config.Consumer) { c.Bugs.CommitAhead = true }},
		{GroupDuplicate, func(b *config.Bugs, _ *config.Consumer) { b.IgnoreOffsetCommits = true }},
	}
	fixed := groupRun(t, protocol, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := groupRun(t, protocol, tc.plant)
			if rep.Findings()[tc.name] == 0 {
				t.Errorf("%s: not found with the planted bug\n%s", tc.name, rep.Text())
			}
			if n := fixed.Findings()[tc.name]; n > 0 && tc.name != GroupDuplicate {
				t.Errorf("%s: %d without the planted bug\n%s", tc.name, n, fixed.Text())
			}
		})
	}
	if fixed.Verdict != Valid {
		t.Errorf("verdict %s without a planted bug; want valid\n%s", fixed.Verdict, fixed.Text())
	}
	for _, name := range []string{PollSkip, NonmonotonicPoll} {
		if n := fixed.Findings()[name]; n > 0 {
			t.Errorf("%s %d across legitimate rebalances; want 0", name, n)
		}
	}
}
