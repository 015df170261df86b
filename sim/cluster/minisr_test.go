package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Reference: NOT_ENOUGH_REPLICAS_AFTER_APPEND (Partition.checkEnoughReplicasReachOffset) and the
// strict min ISR of Partition.maybeIncrementLeaderHW (KAFKA-15583). A follower stalls, the leader
// shrinks the ISR to itself below min.insync.replicas. Before Kafka 3.7 (KAFKA-15583; strict.min.isr=false) the
// HW still advances and the waiting acks=all requests fail with NOT_ENOUGH_REPLICAS_AFTER_APPEND
// though their records are committed; with strict min ISR the HW stands still. Either way the
// producer's retry appends the records again unless it is idempotent.
func TestStrictMinISR(t *testing.T) {
	for _, strict := range []bool{true, false} {
		for _, idem := range []bool{false, true} {
			t.Run(fmt.Sprintf("strict.min.isr=%v/idempotence=%v", strict, idem), func(t *testing.T) {
				c := newCluster(t, 2, 47, func(s *Spec) { s.Broker.StrictMinISR = strict })
				mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2))
				mustProducer(t, c, "p1", "orders", 0, "acks", "all", "enable.idempotence", fmt.Sprint(idem),
					"request.timeout.ms", "20s", "delivery.timeout.ms", "300s")
				_ = c.Send("p1", 5)
				await(t, c, "warm-up", 10*time.Second, func() bool { return len(acked(c, p0)) == 5 })
				c.World.Slow(2, 40*time.Second)
				_ = c.Send("p1", 20)
				await(t, c, "ISR {1}", 90*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1}) })
				c.RunFor(2 * time.Second)
				leader, follower := c.Replica(1, p0), c.Replica(2, p0)
				advanced := leader.HW() > follower.LEO()
				if strict && advanced {
					t.Errorf("HW %d passed the stalled follower's LEO %d with ISR {1} under strict min ISR", leader.HW(), follower.LEO())
				}
				if !strict && !advanced {
					t.Errorf("HW %d stayed at or below the follower's LEO %d; want it to advance with ISR {1} before Kafka 3.7", leader.HW(), follower.LEO())
				}
				c.RunFor(30 * time.Second) // the waiting requests end: timed out, or refused after the append
				c.World.Heal()
				await(t, c, "ISR {1,2}", 120*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1, 2}) })
				c.RunFor(30 * time.Second)
				if got := len(acked(c, p0)); got != 25 {
					t.Errorf("%d sends acknowledged; want all 25 after the heal", got)
				}
				dups := 0
				for _, n := range valueCounts(c, 1, p0) {
					if n > 1 {
						dups++
					}
				}
				if idem && dups > 0 {
					t.Errorf("%d values appended twice with idempotence", dups)
				}
				if !idem && dups == 0 {
					t.Errorf("no value appended twice without idempotence; want the retries to duplicate")
				}
			})
		}
	}
}
