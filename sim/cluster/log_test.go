package cluster

import (
	"strings"
	"testing"
	"time"
)

// Size retention deletes old segments on every replica and moves the log start forward; it
// never deletes past the HW.
func TestRetentionAdvancesLogStart(t *testing.T) {
	c := newCluster(t, 3, 41, func(s *Spec) { _ = s.Broker.Set("log.retention.check.interval.ms", "1s") })
	mustTopic(t, c, TopicSpec{Name: "orders", Partitions: 1, Replication: 3, Assignment: [][]int32{{1, 2, 3}},
		Configs: map[string]string{"internal.segment.bytes": "2000", "retention.bytes": "6000"}})
	mustProducer(t, c, "p1", "orders", 200, "acks", "all")
	c.RunFor(20 * time.Second)
	for _, id := range c.BrokerIDs {
		r := c.Replica(id, p0)
		if r.LogStart() == 0 {
			t.Errorf("broker %d: log start 0 after retention; want > 0 (LEO %d, segments %d)", id, r.LEO(), len(r.Log().Segments()))
		}
		if r.LogStart() > r.HW() {
			t.Errorf("broker %d: log start %d above HW %d", id, r.LogStart(), r.HW())
		}
		if size := r.Log().SizeBytes(); size > 6000+2*2000 {
			t.Errorf("broker %d: %d bytes kept; want about retention.bytes 6000", id, size)
		}
	}
}

// Partitions can be added, never removed; the controller places the new ones.
func TestAddPartitions(t *testing.T) {
	c := newCluster(t, 3, 43, nil)
	mustTopic(t, c, TopicSpec{Name: "orders", Partitions: 2, Replication: 2})
	if err := c.AddPartitions("orders", 5); err != nil {
		t.Fatal(err)
	}
	await(t, c, "5 partitions", 10*time.Second, func() bool { return c.PartitionCount("orders") == 5 && c.Ready() })
	for i := 0; i < 5; i++ {
		if p := c.PartitionState(TP("orders", i)); p == nil || len(p.Replicas) != 2 || p.Leader < 0 {
			t.Errorf("orders/%d = %+v; want 2 replicas and a leader", i, p)
		}
	}
	if err := c.AddPartitions("orders", 3); err == nil || !strings.Contains(err.Error(), "never removed") {
		t.Errorf("AddPartitions(3) = %v; want an error saying partitions are never removed", err)
	}
}
