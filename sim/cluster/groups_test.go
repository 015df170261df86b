package cluster

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/group"
	"kafkasim/sim"
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

func awaitStable(t *testing.T, c *Cluster, members int) {
	t.Helper()
	ok := c.RunUntil(func() bool {
		g := c.Group("g1")
		return g != nil && g.State() == group.Stable && len(g.Members()) == members
	}, 60*time.Second)
	if !ok {
		t.Fatalf("group g1 not stable with %d members by %v", members, c.Now())
	}
}

// Reference: KIP-345 (GroupMetadataManager.updateStaticMemberThenRebalanceOrCompleteJoin): a
// static member (group.instance.id) that restarts within its session rejoins with a new member
// id and takes its old assignment back without a rebalance: the generation does not move.
func TestStaticMemberRejoinKeepsAssignment(t *testing.T) {
	c := groupCluster(t, 3)
	groupConsumer(t, c, "c1", "group.instance.id", "i1", "session.timeout.ms", "30s")
	groupConsumer(t, c, "c2", "group.instance.id", "i2", "session.timeout.ms", "30s")
	awaitStable(t, c, 2)
	c.RunFor(2 * time.Second)
	gen := c.Group("g1").Generation
	before := c.Consumer("c1").Assigned()
	oldID, _, _ := c.Consumer("c1").Member()
	id, _ := c.Client("c1")
	_ = c.World.Kill(id)
	c.RunFor(5 * time.Second)
	_ = c.World.Restart(id)
	if !c.RunUntil(func() bool { _, _, stable := c.Consumer("c1").Member(); return stable }, 20*time.Second) {
		t.Fatalf("the restarted static member never took an assignment")
	}
	c.RunFor(5 * time.Second)
	newID, g1, _ := c.Consumer("c1").Member()
	if g := c.Group("g1"); g.Generation != gen || g1 != gen {
		t.Errorf("generation %d (c1 in %d) after the restart; want %d: no rebalance", g.Generation, g1, gen)
	}
	if after := c.Consumer("c1").Assigned(); !slices.Equal(after, before) {
		t.Errorf("c1 assigned %v after the restart; want %v", after, before)
	}
	if newID == oldID {
		t.Errorf("member id %s unchanged; want a new one (the old one is fenced)", newID)
	}
}

// Reference: GroupMetadataManager.expireClassicGroupMemberHeartbeat: a member that stops
// heartbeating (its process died) stays in the group until session.timeout.ms passes, then is
// removed and the group rebalances; the survivor takes every partition.
func TestSessionTimeoutExpiresMember(t *testing.T) {
	c := groupCluster(t, 4)
	groupConsumer(t, c, "c1", "session.timeout.ms", "20s")
	groupConsumer(t, c, "c2", "session.timeout.ms", "20s")
	awaitStable(t, c, 2)
	gen := c.Group("g1").Generation
	id, _ := c.Client("c1")
	_ = c.World.Kill(id)
	killed := c.Now()
	c.RunFor(15 * time.Second)
	if g := c.Group("g1"); len(g.Members()) != 2 || g.Generation != gen {
		t.Fatalf("%v after the kill: %d members, generation %d; want c1 still a member of generation %d until its session expires",
			c.Now()-killed, len(g.Members()), g.Generation, gen)
	}
	awaitStable(t, c, 1)
	if took := c.Now() - killed; took < 20*time.Second || took > 30*time.Second {
		t.Errorf("c1 removed %v after its death; want soon after session.timeout.ms (20s)", took)
	}
	if !c.RunUntil(func() bool { return len(c.Consumer("c2").Assigned()) == 4 }, 20*time.Second) {
		t.Errorf("c2 assigned %v; want all four partitions", c.Consumer("c2").Assigned())
	}
}

// Reference: AbstractCoordinator.HeartbeatThread and handlePollTimeoutExpiry: a consumer that
// does not poll within max.poll.interval.ms leaves the group at once (LeaveGroup), long before
// its session would expire; the group rebalances without it.
func TestMaxPollIntervalLeavesGroup(t *testing.T) {
	c := groupCluster(t, 5)
	groupConsumer(t, c, "c1", "session.timeout.ms", "60s", "max.poll.interval.ms", "5s", "processing", "8s")
	groupConsumer(t, c, "c2", "session.timeout.ms", "60s", "max.poll.interval.ms", "5s")
	p := config.DefaultProducer()
	if _, err := c.AddProducer(ProducerSpec{Name: "p1", Topic: "orders", Config: p, Rate: 50}); err != nil {
		t.Fatal(err)
	}
	awaitStable(t, c, 2)
	start := c.Now()
	if !c.RunUntil(func() bool { g := c.Group("g1"); return g != nil && len(g.Members()) == 1 }, 30*time.Second) {
		t.Fatalf("c1 still in the group %v later; want it to leave after max.poll.interval.ms (5s) of processing", c.Now()-start)
	}
	if took := c.Now() - start; took >= 60*time.Second {
		t.Errorf("left after %v; want well before the 60s session timeout", took)
	}
	if m := c.Group("g1").Members()[0]; m.ClientID != "c2" {
		t.Errorf("the member left is %s; want c2", m.ClientID)
	}
}

// Reference: KIP-429 (ConsumerCoordinator.onJoinPrepare and onJoinComplete,
// CooperativeStickyAssignor): when a member joins a cooperative group, the members keep
// consuming what they keep; only the partitions that move are revoked, and a follow-up
// rebalance hands them to the newcomer. An eager group revokes everything first.
func TestCooperativeRebalanceRevokesOnlyWhatMoves(t *testing.T) {
	for _, strategy := range []string{"cooperative-sticky", "range"} {
		t.Run(strategy, func(t *testing.T) {
			c := groupCluster(t, 6)
			groupConsumer(t, c, "c1", "partition.assignment.strategy", strategy)
			awaitStable(t, c, 1)
			if !c.RunUntil(func() bool { return len(c.Consumer("c1").Assigned()) == 4 }, 10*time.Second) {
				t.Fatalf("c1 never owned all four partitions")
			}
			// Watch c1's assignment on every event while c2 joins.
			minOwned, kept := 4, map[string]bool{}
			c.World.OnEvent(func(*sim.Event) {
				if cs := c.Consumer("c1"); cs != nil {
					minOwned = min(minOwned, len(cs.Assigned()))
				}
			})
			groupConsumer(t, c, "c2", "partition.assignment.strategy", strategy)
			awaitStable(t, c, 2)
			if !c.RunUntil(func() bool { return len(c.Consumer("c2").Assigned()) == 2 }, 30*time.Second) {
				t.Fatalf("c2 assigned %v; want two partitions", c.Consumer("c2").Assigned())
			}
			for _, tp := range c.Consumer("c1").Assigned() {
				kept[tp.String()] = true
			}
			if len(kept) != 2 {
				t.Errorf("c1 keeps %v; want two partitions", c.Consumer("c1").Assigned())
			}
			if strategy == "range" && minOwned != 0 {
				t.Errorf("eager: c1 owned at least %d partitions throughout; want it to revoke everything before rejoining", minOwned)
			}
			if strategy != "range" && minOwned != 2 {
				t.Errorf("cooperative: c1 owned as few as %d partitions during the rebalance; want it to keep the two it keeps (2)", minOwned)
			}
			if g := c.Group("g1"); strategy != "range" && g.Generation < 3 {
				t.Errorf("generation %d; want a follow-up rebalance (≥ 3)", g.Generation)
			}
		})
	}
}

// Reference: KafkaConsumer.close (ConsumerCoordinator.close, AbstractCoordinator.close): a
// consumer stopped cleanly commits its positions and sends LeaveGroup before it exits, so its
// group rebalances at once, not after session.timeout.ms, and the survivor starts where the
// leaver stopped.
func TestStopClosesConsumerAndLeavesGroup(t *testing.T) {
	c := groupCluster(t, 7)
	groupConsumer(t, c, "c1", "session.timeout.ms", "45s")
	groupConsumer(t, c, "c2", "session.timeout.ms", "45s")
	if _, err := c.AddProducer(ProducerSpec{Name: "p1", Topic: "orders", Config: config.DefaultProducer(), Rate: 50, Keys: 16}); err != nil {
		t.Fatal(err)
	}
	awaitStable(t, c, 2)
	c.RunFor(3 * time.Second)
	_ = c.SetRate("p1", 0)
	c.RunFor(2 * time.Second)
	owned := c.Consumer("c1").Assigned()
	pos := c.Consumer("c1").Positions()
	id, _ := c.Client("c1")
	if err := c.World.Stop(id); err != nil {
		t.Fatal(err)
	}
	stopped := c.Now()
	if !c.RunUntil(func() bool { return c.World.State(id) == sim.Stopped }, 10*time.Second) {
		t.Fatalf("c1 state %v 10s after stop; want stopped once it has left", c.World.State(id))
	}
	awaitStable(t, c, 1)
	if took := c.Now() - stopped; took > 10*time.Second {
		t.Errorf("the group rebalanced %v after the stop; want at once (LeaveGroup), not after the 45s session", took)
	}
	for _, tp := range owned {
		if got := c.GroupCommitted("g1", tp); got != pos[tp] {
			t.Errorf("committed %v = %d; want c1's position %d, committed on close", tp, got, pos[tp])
		}
	}
}
