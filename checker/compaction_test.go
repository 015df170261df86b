package checker

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

// compaction-lost-key fires on a real run whose log cleaner also removes the batches holding a
// key's latest record (config.Bugs.CleanerDropsLatest), and stays quiet with Kafka's cleaner,
// which keeps them (LogCleaner: a record goes only when a later one of its key supersedes it).
func TestCompactionLostKeyFiresOnAPlantedCleanerBug(t *testing.T) {
	for _, planted := range []bool{true, false} {
		name := "fixed"
		if planted {
			name = "planted"
		}
		t.Run(name, func(t *testing.T) {
			r := newRun(t, 3, 61, func(s *cluster.Spec) {
				_ = s.Broker.Set("log.retention.check.interval.ms", "1s")
				s.Broker.Bugs.CleanerDropsLatest = planted
			})
			r.topic(orders(map[string]string{"cleanup.policy": "compact", "internal.segment.bytes": "4KB", "min.cleanable.dirty.ratio": "0.1"}, 1, 2, 3))
			if _, err := r.c.AddProducer(cluster.ProducerSpec{Name: "p1", Topic: "orders", Config: config.DefaultProducer(), Rate: 300, Keys: 10}); err != nil {
				t.Fatal(err)
			}
			r.c.RunFor(20 * time.Second)
			leader := r.c.Replica(r.c.Leader(p0), p0)
			if leader == nil || leader.LEO() < 3000 || len(leader.Log().Batches()) > 1000 {
				t.Fatalf("the run did not compact: leader %v", leader)
			}
			if planted {
				r.wantViolation(CompactionLostKey)
				return
			}
			if vs := r.violations(CompactionLostKey); len(vs) > 0 {
				t.Errorf("%s without the planted bug: %s", CompactionLostKey, vs[0].Detail)
			}
			for _, inv := range InvariantNames {
				if vs := r.violations(inv); len(vs) > 0 {
					t.Errorf("%s on a compacted topic: %s", inv, vs[0].Detail)
				}
			}
		})
	}
}
