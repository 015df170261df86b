package cluster

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Reference: KIP-455 (partition reassignment) and decommissioning a broker: broker 4 joins a
// running cluster, orders/0 moves from [1 2 3] to [2 3 4] while a producer writes to it; 4
// fetches from the leader and joins the ISR, the move completes, leadership leaves 1 (it was
// the leader), 1 deletes its replica, and 4's log holds what the leader's does. Then 1 holds
// no replica and is removed: controlled shutdown, then UnregisterBroker.
func TestReassignOntoNewBrokerAndRemoveOld(t *testing.T) {
	c := newCluster(t, 3, 11, nil)
	tp := TP("orders", 0)
	mustTopic(t, c, TopicSpec{Name: "orders", Partitions: 1, Assignment: [][]int32{{1, 2, 3}}})
	mustProducer(t, c, "p1", "orders", 50, "acks", "all")
	c.RunFor(2 * time.Second)

	if err := c.AddBroker(4); err != nil {
		t.Fatal(err)
	}
	await(t, c, "broker 4 registered and unfenced", 30*time.Second, func() bool { return c.LiveBrokers() == 4 })
	if err := c.Reassign(tp, []int32{2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	await(t, c, "the move starts", 5*time.Second, func() bool { return c.Reassigning(tp) })
	await(t, c, "the move completes", 30*time.Second, func() bool {
		return !c.Reassigning(tp) && slices.Equal(c.Replicas(tp), []int32{2, 3, 4})
	})
	if l := c.Leader(tp); l != 2 {
		t.Fatalf("leader after the move: got %d; want 2 (the first target replica in the ISR)", l)
	}
	await(t, c, "broker 1 deletes its replica", 5*time.Second, func() bool { return c.Replica(1, tp) == nil })
	for _, f := range c.World.Disk(1).Files() {
		if strings.HasPrefix(f, "orders/0/") {
			t.Fatalf("broker 1 still has %s; want the replica's files deleted", f)
		}
	}
	c.RunFor(2 * time.Second)
	leader, moved := logValues(c, 2, tp), logValues(c, 4, tp)
	hw := c.Replica(2, tp).HW()
	for off := int64(0); off < hw; off++ {
		if moved[off] != leader[off] {
			t.Fatalf("offset %d: broker 4 has %d, leader 2 has %d", off, moved[off], leader[off])
		}
	}
	if hw == 0 {
		t.Fatal("nothing committed; want the producer's records")
	}

	if err := c.RemoveBroker(2); err == nil || !strings.Contains(err.Error(), "still holds replicas of orders/0") {
		t.Fatalf("remove broker 2 (a replica): got %v; want refused, naming orders/0", err)
	}
	if err := c.Reassign(tp, []int32{2, 2, 3}); err == nil || !strings.Contains(err.Error(), "named twice") {
		t.Fatalf("reassign [2 2 3]: got %v; want an error naming the duplicate", err)
	}
	if err := c.Reassign(tp, []int32{2, 3, 7}); err == nil || !strings.Contains(err.Error(), "broker 7 is not registered") {
		t.Fatalf("reassign [2 3 7]: got %v; want an error naming broker 7", err)
	}
	if err := c.RemoveBroker(1); err != nil {
		t.Fatal(err)
	}
	await(t, c, "broker 1 unregistered", 30*time.Second, func() bool { return c.Committed().Brokers[1] == nil })
	if n := c.LiveBrokers(); n != 3 {
		t.Fatalf("live brokers: got %d; want 3", n)
	}
	if errs := c.AdminErrors(); len(errs) > 0 {
		t.Fatalf("admin errors: %v", errs)
	}
}
