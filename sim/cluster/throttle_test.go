package cluster

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/client"
	"kafkasim/broker/protocol"
)

// Reference: KIP-73 (replication quotas) as kafka-reassign-partitions.sh --throttle uses them:
// the same move of orders/0 onto the new broker 4, unthrottled, with only the follower's quota,
// and with the tool's throttle (leader and follower). The follower's quota bounds what broker 4
// copies (a SimpleRate over up to 11 one-second samples); the leader's counts the in-sync
// followers' traffic of the throttled partition too (KafkaApis.sizeOfThrottledPartitions), so
// a throttle below it starves the move. The throttle lists name the moving replicas, and
// raising the throttle lets the move finish.
func TestThrottledReassignmentCopiesAtTheQuota(t *testing.T) {
	const rate = 1000
	tp := TP("orders", 0)
	moved := func(move func(c *Cluster) error) (*Cluster, []*broker.ReplicationThrottled) {
		c := newCluster(t, 4, 5, func(s *Spec) { s.Broker.ReplicaFetchMaxBytes = 500 })
		var events []*broker.ReplicationThrottled
		c.World.OnObserve(func(_ time.Duration, _ int32, ev any) {
			if e, ok := ev.(*broker.ReplicationThrottled); ok {
				events = append(events, e)
			}
		})
		mustTopic(t, c, TopicSpec{Name: "orders", Partitions: 1, Assignment: [][]int32{{1, 2, 3}}})
		mustProducer(t, c, "p1", "orders", 100, "acks", "all")
		c.RunFor(20 * time.Second)
		if err := move(c); err != nil {
			t.Fatal(err)
		}
		c.RunFor(20 * time.Second)
		return c, events
	}

	free, _ := moved(func(c *Cluster) error { return c.Reassign(tp, []int32{2, 3, 4}) })
	if free.Reassigning(tp) || !slices.Equal(free.Replicas(tp), []int32{2, 3, 4}) {
		t.Fatalf("unthrottled move after 20s: replicas %v, reassigning %v; want done at [2 3 4]", free.Replicas(tp), free.Reassigning(tp))
	}

	follower, events := moved(func(c *Cluster) error {
		if err := c.AlterConfigs("", map[string]string{"follower.replication.throttled.rate": "1000"}); err != nil {
			return err
		}
		if err := c.AlterConfigs("orders", map[string]string{"follower.replication.throttled.replicas": "0:4"}); err != nil {
			return err
		}
		return c.Reassign(tp, []int32{2, 3, 4})
	})
	if !follower.Reassigning(tp) {
		t.Fatalf("follower-throttled move after 20s: done; want still in progress (the producer writes faster than %d B/s)", rate)
	}
	// The rate is measured over at least one second: over 20 s the follower copies about 20
	// windows' worth, and one fetch (replica.fetch.max.bytes) more at most.
	if copied, low, high := replicaBytes(follower, 4, tp), int64(rate*15), int64(rate*21+500); copied < low || copied > high {
		t.Fatalf("broker 4 copied %d bytes in 20s at %d B/s; want %d..%d", copied, rate, low, high)
	}
	if len(events) == 0 || !events[0].Throttled || events[0].Broker != 4 || events[0].Bound != rate {
		t.Fatalf("ReplicationThrottled events: got %+v; want broker 4 held back at bound %d first", events, rate)
	}

	c, _ := moved(func(c *Cluster) error { return c.ReassignThrottled(tp, []int32{2, 3, 4}, rate) })
	im := c.Committed()
	if got := im.Topics["orders"].Configs["follower.replication.throttled.replicas"]; got != "0:4" {
		t.Fatalf("follower.replication.throttled.replicas: got %q; want \"0:4\"", got)
	}
	if got := im.Topics["orders"].Configs["leader.replication.throttled.replicas"]; got != "0:1,0:2,0:3" {
		t.Fatalf("leader.replication.throttled.replicas: got %q; want \"0:1,0:2,0:3\"", got)
	}
	if got := im.Configs["leader.replication.throttled.rate"]; got != "1000" {
		t.Fatalf("leader.replication.throttled.rate: got %q; want \"1000\"", got)
	}
	// Brokers 2 and 3 alone replicate more than 1000 B/s of orders/0: the leader's quota is
	// over from the start, and broker 4 gets next to nothing.
	if copied := replicaBytes(c, 4, tp); !c.Reassigning(tp) || copied > 5*rate {
		t.Fatalf("throttled move after 20s: reassigning %v, broker 4 copied %d bytes; want in progress, at most %d", c.Reassigning(tp), copied, 5*rate)
	}
	if err := c.ReassignThrottled(tp, []int32{2, 3, 4}, 1_000_000); err != nil {
		t.Fatal(err)
	}
	await(t, c, "the move completes once the throttle is raised", 60*time.Second, func() bool { return !c.Reassigning(tp) })
	if l := c.Leader(tp); l != 2 {
		t.Fatalf("leader after the move: got %d; want 2", l)
	}
	if errs := c.AdminErrors(); len(errs) > 0 {
		t.Fatalf("admin errors: %v", errs)
	}
}

// replicaBytes is the size of broker's copy of tp, in v2 bytes.
func replicaBytes(c *Cluster, b int32, tp protocol.TopicPartition) int64 {
	p := c.Replica(b, tp)
	if p == nil {
		return 0
	}
	return p.Log().SizeBytes()
}

// Reference: KIP-455's ListPartitionReassignments through the admin client: during a move the
// answer names the partition with its adding and removing replicas, as Reassignments reads
// them from the committed metadata.
func TestListPartitionReassignmentsThroughTheAdminClient(t *testing.T) {
	c := newCluster(t, 4, 7, nil)
	tp := TP("orders", 0)
	mustTopic(t, c, TopicSpec{Name: "orders", Partitions: 2, Assignment: [][]int32{{1, 2, 3}, {2, 3, 1}}})
	var answers []*protocol.ListPartitionReassignmentsResponse
	c.World.OnObserve(func(_ time.Duration, _ int32, ev any) {
		if r, ok := ev.(*client.AdminResult); ok {
			if l, ok := r.Response.(*protocol.ListPartitionReassignmentsResponse); ok {
				answers = append(answers, l)
			}
		}
	})
	if err := c.ReassignThrottled(tp, []int32{2, 3, 4}, 100); err != nil {
		t.Fatal(err)
	}
	await(t, c, "the move starts", 5*time.Second, func() bool { return c.Reassigning(tp) })
	c.ListPartitionReassignments()
	await(t, c, "the listing", 5*time.Second, func() bool { return len(answers) == 1 })
	want := []Reassignment{{TP: tp, Replicas: []int32{2, 3, 4, 1}, Adding: []int32{4}, Removing: []int32{1}}}
	got := answers[0].Reassignments
	if len(got) != 1 || got[0].TP != tp || !slices.Equal(got[0].Replicas, want[0].Replicas) ||
		!slices.Equal(got[0].AddingReplicas, want[0].Adding) || !slices.Equal(got[0].RemovingReplicas, want[0].Removing) {
		t.Fatalf("ListPartitionReassignments: got %+v; want %+v", got, want)
	}
	if r := c.Reassignments(); len(r) != 1 || !slices.Equal(r[0].Adding, want[0].Adding) || !slices.Equal(r[0].Removing, want[0].Removing) {
		t.Fatalf("Reassignments: got %+v; want %+v", r, want)
	}
}
