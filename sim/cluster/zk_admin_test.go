package cluster

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker"
	"kafkasim/sim"
)

// KafkaController.doControlledShutdown: a broker stopping cleanly asks the controller first;
// its leaderships move to other ISR members and it leaves the ISRs before its session closes,
// so no partition is without a leader while it goes.
func TestZkModeControlledShutdownMovesLeadershipsFirst(t *testing.T) {
	c := newZkCluster(t, 3, 4, nil)
	mustTopic(t, c, TopicSpec{Name: "t", Partitions: 3, Replication: 3})
	c.RunFor(3 * time.Second)
	ctl := c.ActiveController()
	victim := int32(1)
	if victim == ctl {
		victim = 2
	}
	var started []*broker.ControlledShutdownStarted
	offline := false
	c.World.OnObserve(func(now time.Duration, id int32, ev any) {
		if e, ok := ev.(*broker.ControlledShutdownStarted); ok {
			started = append(started, e)
		}
	})
	if err := c.World.Stop(victim); err != nil {
		t.Fatal(err)
	}
	if !c.RunUntil(func() bool {
		for p := 0; p < 3; p++ {
			if !c.Online(TP("t", p)) && c.Leader(TP("t", p)) != victim {
				offline = true
			}
		}
		return c.World.State(victim) == sim.Stopped
	}, 30*time.Second) {
		t.Fatalf("broker %d did not stop", victim)
	}
	if len(started) != 1 || started[0].Broker != victim || started[0].Controller != ctl {
		t.Fatalf("controlled shutdowns: got %v; want one of broker %d by controller %d", started, victim, ctl)
	}
	if offline {
		t.Error("a partition was without a leader during the controlled shutdown")
	}
	for p := 0; p < 3; p++ {
		if l := c.Leader(TP("t", p)); l == victim || l < 0 {
			t.Errorf("t/%d leader: got %d; want a running broker", p, l)
		}
		if slices.Contains(c.ISR(TP("t", p)), victim) {
			t.Errorf("t/%d ISR %v holds the stopped broker %d", p, c.ISR(TP("t", p)), victim)
		}
	}
}

// onPartitionReassignment (KIP-455 through the controller): the move's replicas go to the
// topic znode with adding and removing sets, the new replica joins the ISR, and the move
// completes with the removed replica gone and its log deleted.
func TestZkModeReassignmentCompletes(t *testing.T) {
	c := newZkCluster(t, 3, 5, nil)
	mustTopic(t, c, TopicSpec{Name: "t", Partitions: 1, Replication: 2, Assignment: [][]int32{{1, 2}}})
	mustProducer(t, c, "p", "t", 50, "acks", "all")
	c.RunFor(3 * time.Second)
	if err := c.Reassign(TP("t", 0), []int32{3, 2}); err != nil {
		t.Fatal(err)
	}
	if !c.RunUntil(func() bool { return c.Reassigning(TP("t", 0)) }, 5*time.Second) {
		t.Fatal("the move never showed in /brokers/topics/t")
	}
	if got := c.Replicas(TP("t", 0)); !slices.Equal(got, []int32{3, 2, 1}) {
		t.Errorf("replicas during the move: got %v; want [3 2 1] (target, then the removed)", got)
	}
	if !c.RunUntil(func() bool { return !c.Reassigning(TP("t", 0)) }, 30*time.Second) {
		t.Fatal("the move did not complete")
	}
	if got := c.Replicas(TP("t", 0)); !slices.Equal(got, []int32{3, 2}) {
		t.Errorf("replicas: got %v; want [3 2]", got)
	}
	if l := c.Leader(TP("t", 0)); l != 3 && l != 2 {
		t.Errorf("leader: got %d; want a target replica", l)
	}
	c.RunFor(time.Second)
	if r := c.Replica(1, TP("t", 0)); r != nil {
		t.Error("broker 1 still hosts t/0 after the move (StopReplica with delete)")
	}
}

// PreferredReplicaLeaderElection: after a failover the leadership goes back to the first
// replica of the assignment once it is in the ISR, by ElectLeaders or by the controller's
// auto.leader.rebalance.enable check.
func TestZkModePreferredLeaderElection(t *testing.T) {
	for _, auto := range []bool{false, true} {
		c := newZkCluster(t, 3, 6, func(s *Spec) {
			s.Broker.AutoLeaderRebalanceEnable = auto
			s.Broker.LeaderImbalanceCheckInterval = 10 * time.Second
		})
		mustTopic(t, c, TopicSpec{Name: "t", Partitions: 1, Replication: 3, Assignment: [][]int32{{1, 2, 3}}})
		c.RunFor(3 * time.Second)
		if err := c.World.Stop(1); err != nil {
			t.Fatal(err)
		}
		if !c.RunUntil(func() bool { l := c.Leader(TP("t", 0)); return l > 1 && c.World.State(1) == sim.Stopped }, 30*time.Second) {
			t.Fatal("no failover")
		}
		if err := c.World.Restart(1); err != nil {
			t.Fatal(err)
		}
		if !c.RunUntil(func() bool { return slices.Contains(c.ISR(TP("t", 0)), 1) }, 30*time.Second) {
			t.Fatal("broker 1 did not rejoin the ISR")
		}
		if !auto {
			c.RunFor(15 * time.Second)
			if l := c.Leader(TP("t", 0)); l == 1 {
				t.Fatal("auto.leader.rebalance.enable=false: the leadership moved back without an election")
			}
			c.ElectLeaders(false, TP("t", 0))
		}
		if !c.RunUntil(func() bool { return c.Leader(TP("t", 0)) == 1 }, 20*time.Second) {
			t.Fatalf("auto=%v: leader %d; want the preferred replica 1", auto, c.Leader(TP("t", 0)))
		}
	}
}
