package checker

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

// Each invariant that the fixed protocol never breaks is shown firing on a real simulated run
// with a bug planted in the broker or the controller (config.Bugs, set only here), and staying
// quiet on the same run without the bug.

type plantedRun struct {
	invariant string
	plant     func(b *config.Bugs)
	brokers   int
	tune      func(s *cluster.Spec)
	topic     cluster.TopicSpec
	acks      string
	drive     func(r *run) // the faults, after the producer has started
}

var plantedRuns = []plantedRun{
	{
		// The leader's HW one past its LEO.
		invariant: HWAtMostLEO, plant: func(b *config.Bugs) { b.HWPastLEO = true },
		brokers: 1, topic: orders(nil, 1), acks: "1",
		drive: func(r *run) { r.c.RunFor(2 * time.Second) },
	},
	{
		// Retention deletes segments the HW has not reached: a follower slowed by 200ms keeps
		// the HW of acks=1 writes well behind the LEO, and segments are small.
		invariant: LogStartAtMostLSO, plant: func(b *config.Bugs) { b.LogStartPastHW = true },
		brokers: 3, tune: func(s *cluster.Spec) { _ = s.Broker.Set("log.retention.check.interval.ms", "1s") },
		topic: orders(map[string]string{"internal.segment.bytes": "1000", "retention.bytes": "3000"}, 1, 2, 3), acks: "1",
		drive: func(r *run) {
			r.c.World.Slow(3, 200*time.Millisecond)
			r.c.RunFor(10 * time.Second)
			r.c.World.Heal()
		},
	},
	{
		// The leader lets its HW fall: counting every replica's LEO, it takes the lower HW
		// when a follower that lost its unflushed log to a power loss fetches from the start
		// again (Kafka counts the ISR and keeps the maximum: Partition.maybeIncrementLeaderHW).
		invariant: LeaderHWMonotonic, plant: func(b *config.Bugs) { b.HWRegress = true },
		brokers: 3, tune: func(s *cluster.Spec) { s.Sim.OSFlushInterval = 0 },
		topic: orders(nil, 1, 2, 3), acks: "1",
		drive: func(r *run) {
			_ = r.c.World.Crash(3)
			r.c.RunFor(time.Second)
			_ = r.c.World.Restart(3)
			r.c.RunFor(15 * time.Second)
		},
	},
	{
		// The controller elects a leader and leaves it out of the ISR.
		invariant: LeaderInISR, plant: func(b *config.Bugs) { b.LeaderOutsideISR = true },
		brokers: 3, topic: orders(map[string]string{"min.insync.replicas": "1"}, 1, 2, 3), acks: "all",
		drive: killLeader,
	},
	{
		// The controller moves leadership without a new epoch: the paused old leader, resumed,
		// still leads in the epoch the new leader now leads in.
		invariant: OneLeaderPerEpoch, plant: func(b *config.Bugs) { b.StaleLeaderEpoch = true },
		brokers: 3, topic: orders(map[string]string{"min.insync.replicas": "1"}, 1, 2, 3), acks: "all",
		drive: func(r *run) {
			_ = r.c.World.Pause(1)
			r.await("new leader", 30*time.Second, func() bool { l := r.c.Leader(p0); return l >= 0 && l != 1 })
			_ = r.c.World.Resume(1)
			r.c.RunFor(5 * time.Second)
		},
	},
	{
		// The controller lowers the leader epoch on a leader change.
		invariant: EpochsGrow, plant: func(b *config.Bugs) { b.LeaderEpochRegress = true },
		brokers: 3, topic: orders(map[string]string{"min.insync.replicas": "1"}, 1, 2, 3), acks: "all",
		drive: killLeader,
	},
	{
		// The controller completes a reassignment before its target replicas are in the ISR:
		// orders/0 moves from [1 2 3] to [2 3 4] while broker 3 is down and fenced, and the
		// move drops broker 1 at once, leaving the ISR [2] below min.insync.replicas=2.
		invariant: ReassignKeepsMinISR, plant: func(b *config.Bugs) { b.ReassignEarly = true },
		brokers: 4, topic: orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3), acks: "all",
		drive: func(r *run) {
			_ = r.c.World.Kill(3)
			r.await("3 out of the ISR", 30*time.Second, func() bool { return !slices.Contains(r.c.ISR(p0), 3) })
			if err := r.c.Reassign(p0, []int32{2, 3, 4}); err != nil {
				r.t.Fatalf("Reassign: %v", err)
			}
			r.c.RunFor(3 * time.Second)
			_ = r.c.World.Restart(3)
			r.c.RunFor(15 * time.Second)
		},
	},
}

func killLeader(r *run) {
	_ = r.c.World.Kill(1)
	r.await("new leader", 30*time.Second, func() bool { l := r.c.Leader(p0); return l >= 0 && l != 1 })
	r.c.RunFor(3 * time.Second)
}

func TestPlantedBugsBreakTheirInvariant(t *testing.T) {
	for _, pr := range plantedRuns {
		for _, planted := range []bool{true, false} {
			name := pr.invariant + "/fixed"
			if planted {
				name = pr.invariant + "/planted"
			}
			t.Run(name, func(t *testing.T) {
				r := newRun(t, pr.brokers, 61, func(s *cluster.Spec) {
					if pr.tune != nil {
						pr.tune(s)
					}
					if planted {
						pr.plant(&s.Broker.Bugs)
					}
				})
				r.topic(pr.topic)
				r.producer("p1", "orders", 300, "acks", pr.acks)
				r.c.RunFor(2 * time.Second)
				pr.drive(r)
				if planted {
					r.wantViolation(pr.invariant)
					return
				}
				if vs := r.violations(pr.invariant); len(vs) > 0 {
					t.Errorf("%s violated without the planted bug: %s", pr.invariant, vs[0].Detail)
				}
			})
		}
	}
}

// Reference: KAFKA-13574 (ambiguous errors reported as failures). A
// producer that does not retry reports the batches in flight to a killed leader; those the
// followers had already fetched survive on the new leader and are read. Reported as failed,
// they are aborted reads (G1a); reported as unknown, as our producer does, they are fine.
func TestPlantedClientBugG1a(t *testing.T) {
	for _, planted := range []bool{true, false} {
		t.Run(map[bool]string{true: "planted", false: "fixed"}[planted], func(t *testing.T) {
			r := newRun(t, 3, 61, nil) // a seed where batches in flight to the killed leader were fetched
			r.topic(orders(map[string]string{"min.insync.replicas": "1"}, 1, 2, 3))
			p := config.DefaultProducer()
			for k, v := range map[string]string{"acks": "all", "retries": "0", "enable.idempotence": "false"} {
				_ = p.Set(k, v)
			}
			p.ReportsAppendedAsFailed = planted
			if _, err := r.c.AddProducer(cluster.ProducerSpec{Name: "p1", Topic: "orders", Config: p, Rate: 500}); err != nil {
				t.Fatal(err)
			}
			r.consumer("c1", "orders")
			r.c.RunFor(2 * time.Second)
			killLeader(r)
			rep := r.finish(Config{AcksBelowAll: false}, []string{"p1"}, "c1")
			if planted && !hasAnomaly(rep, G1a) {
				t.Errorf("no G1a with the planted bug; verdict %s\n%s", rep.Verdict, rep.Text())
			}
			if !planted && hasAnomaly(rep, G1a) {
				t.Errorf("G1a without the planted bug:\n%s", rep.Text())
			}
			if planted {
				t.Logf("%s", anomaly(rep, G1a).Explanation)
			}
		})
	}
}
