package cluster

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker"
)

// Reference: stray replicas (LogManager.isStrayKraftReplica, BrokerMetadataPublisher.
// initializeManagers, KAFKA-14616): broker 3 is killed, orders/0 moves from [1 2 3] to
// [1 2 4] while it is down, so 3 never sees the change that drops its replica. When 3 comes
// back, its first metadata publish finds orders/0's log on its disk, assigned elsewhere now,
// and deletes it; orders/1, which 3 still hosts, stays.
func TestStrayLogDeletedWhenTheBrokerComesBack(t *testing.T) {
	c := newCluster(t, 4, 3, nil)
	tp := TP("orders", 0)
	mustTopic(t, c, TopicSpec{Name: "orders", Partitions: 2, Assignment: [][]int32{{1, 2, 3}, {1, 2, 3}}})
	mustProducer(t, c, "p1", "orders", 50, "acks", "all")
	var strays []*broker.StrayReplicaDeleted
	c.World.OnObserve(func(_ time.Duration, _ int32, ev any) {
		if e, ok := ev.(*broker.StrayReplicaDeleted); ok {
			strays = append(strays, e)
		}
	})
	c.RunFor(3 * time.Second)
	hasLog := func(b int32, tp string) bool {
		return slices.ContainsFunc(c.World.Disk(b).Files(), func(f string) bool { return strings.HasPrefix(f, tp+"/") })
	}
	if !hasLog(3, "orders/0") {
		t.Fatal("broker 3 has no orders/0 log before the move; want one")
	}
	if err := c.World.Kill(3); err != nil {
		t.Fatal(err)
	}
	if err := c.Reassign(tp, []int32{1, 2, 4}); err != nil {
		t.Fatal(err)
	}
	await(t, c, "the move completes without broker 3", 30*time.Second, func() bool {
		return !c.Reassigning(tp) && slices.Equal(c.Replicas(tp), []int32{1, 2, 4})
	})
	if !hasLog(3, "orders/0") {
		t.Fatal("broker 3, down, lost its orders/0 log during the move; want it still on disk")
	}
	if err := c.World.Restart(3); err != nil {
		t.Fatal(err)
	}
	await(t, c, "broker 3 takes up orders/1 again", 30*time.Second, func() bool { return c.Replica(3, TP("orders", 1)) != nil })
	if hasLog(3, "orders/0") {
		t.Fatalf("broker 3 still has orders/0 files %v; want the stray log deleted (events %+v)", c.World.Disk(3).Files(), strays)
	}
	if !hasLog(3, "orders/1") {
		t.Fatal("broker 3 lost orders/1, which it hosts; want it kept")
	}
	if len(strays) != 1 || strays[0].Broker != 3 || strays[0].TP != tp || !slices.Equal(strays[0].Replicas, []int32{1, 2, 4}) || strays[0].Files == 0 {
		t.Fatalf("StrayReplicaDeleted events: got %+v; want one for broker 3, orders/0, replicas [1 2 4]", strays)
	}
}
