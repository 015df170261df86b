package cluster

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
)

func orders(configs map[string]string, replicas ...int32) TopicSpec {
	return TopicSpec{Name: "orders", Partitions: 1, Replication: len(replicas), Assignment: [][]int32{replicas}, Configs: configs}
}

var p0 = TP("orders", 0)

// classroom runs a default cluster with a workload and random faults and returns the trace hash.
func classroom(t testing.TB, seed uint64) uint64 {
	spec := DefaultSpec()
	spec.Sim.Seed = seed
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(TopicSpec{Name: "t", Partitions: 3, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddProducer(ProducerSpec{Name: "p", Topic: "t", Config: config.DefaultProducer(), Rate: 100}); err != nil {
		t.Fatal(err)
	}
	c.Nemesis(3*time.Second, 30*time.Second)
	c.RunFor(10 * time.Second)
	return c.World.Trace().Hash()
}

// The same seed gives the same trace; different seeds give different traces.
func TestDeterminismOverSeeds(t *testing.T) {
	seen := map[uint64]uint64{}
	for seed := uint64(1); seed <= 20; seed++ {
		a, b := classroom(t, seed), classroom(t, seed)
		if a != b {
			t.Fatalf("seed %d: trace hash %x then %x; want equal", seed, a, b)
		}
		if prev, dup := seen[a]; dup {
			t.Fatalf("seeds %d and %d: same trace hash %x; want different", prev, seed, a)
		}
		seen[a] = seed
	}
}

// Leader killed with acks=all, RF 3, min.insync.replicas=2: a new leader from the ISR soon
// after broker.session.timeout.ms, and no acknowledged record missing from its log.
func TestLeaderFailoverAcksAll(t *testing.T) {
	c := newCluster(t, 3, 7, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 200, "acks", "all")
	c.RunFor(5 * time.Second)
	if got := c.Leader(p0); got != 1 {
		t.Fatalf("leader = %d; want 1", got)
	}
	oldISR := isr(c, p0)
	killed := c.Now()
	if err := c.World.Kill(1); err != nil {
		t.Fatal(err)
	}
	session := c.Spec.Broker.BrokerSessionTimeout
	await(t, c, "new leader", session+5*time.Second, func() bool { l := c.Leader(p0); return l >= 0 && l != 1 })
	took := c.Now() - killed
	if took < session-c.Spec.Broker.BrokerHeartbeatInterval || took > session+2*time.Second {
		t.Errorf("new leader after %v; want about broker.session.timeout.ms (%v)", took, session)
	}
	leader := c.Leader(p0)
	if !slices.Contains(oldISR, leader) {
		t.Errorf("new leader %d not from the ISR %v", leader, oldISR)
	}
	before := len(acked(c, p0))
	c.RunFor(5 * time.Second)
	if after := len(acked(c, p0)); after <= before {
		t.Errorf("acknowledged sends %d → %d after failover; want progress", before, after)
	}
	if missing := missingAcked(c, leader, p0); len(missing) > 0 {
		t.Errorf("%d acknowledged records missing from new leader %d, first %+v", len(missing), leader, missing[0])
	}
}

// A follower slowed past replica.lag.time.max.ms leaves the ISR and rejoins after heal.
func TestSlowFollowerLeavesAndRejoinsISR(t *testing.T) {
	c := newCluster(t, 3, 3, nil)
	mustTopic(t, c, orders(nil, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 100, "acks", "1")
	c.RunFor(2 * time.Second)
	c.World.Slow(3, 20*time.Second)
	lag := c.Spec.Broker.ReplicaLagTimeMax
	await(t, c, "3 leaves the ISR", 3*lag, func() bool { return !slices.Contains(c.ISR(p0), 3) })
	if got := isr(c, p0); !slices.Equal(got, []int32{1, 2}) {
		t.Fatalf("ISR = %v; want [1 2]", got)
	}
	c.World.Heal()
	await(t, c, "3 rejoins the ISR", 60*time.Second, func() bool { return slices.Contains(c.ISR(p0), 3) })
}

// Two of three brokers down with min.insync.replicas=2: acks=all gets NOT_ENOUGH_REPLICAS and
// nothing is appended.
func TestMinISRRefusesWrites(t *testing.T) {
	c := newCluster(t, 3, 5, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
	// No retries: the refusal itself is the answer (with retries the producer keeps trying
	// until delivery.timeout.ms, and a retry in flight then makes the outcome unknown).
	mustProducer(t, c, "p1", "orders", 0, "acks", "all", "retries", "0", "enable.idempotence", "false")
	_ = c.Send("p1", 5)
	await(t, c, "first writes", 10*time.Second, func() bool { return len(acked(c, p0)) == 5 })
	_ = c.World.Kill(2)
	_ = c.World.Kill(3)
	await(t, c, "ISR shrinks to the leader", 30*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1}) })
	leo := c.Replica(1, p0).LEO()
	n := c.Ops()
	_ = c.Send("p1", 5)
	c.RunFor(15 * time.Second)
	if got := c.Replica(1, p0).LEO(); got != leo {
		t.Errorf("leader LEO %d → %d; want nothing appended", leo, got)
	}
	var refused int
	for _, op := range c.HistorySince(n) {
		if op.Type != history.Send {
			continue
		}
		if op.Outcome != history.Fail || op.Error != protocol.NOT_ENOUGH_REPLICAS.String() {
			t.Errorf("send %v: outcome %s error %q; want fail NOT_ENOUGH_REPLICAS", op.Values, op.Outcome, op.Error)
		}
		refused++
	}
	if refused != 5 {
		t.Errorf("%d sends completed; want 5 refused", refused)
	}
}

// Reference: Jepsen 2013 (aphyr.com/posts/293). The ISR shrinks to the leader, which keeps
// acknowledging acks=all writes; the leader dies and an out-of-sync replica is elected.
func TestJepsen2013UncleanElection(t *testing.T) {
	for _, unclean := range []bool{true, false} {
		t.Run(fmt.Sprintf("unclean=%v", unclean), func(t *testing.T) {
			c := newCluster(t, 3, 11, nil)
			mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "1", "unclean.leader.election.enable": fmt.Sprint(unclean)}, 1, 2, 3))
			mustProducer(t, c, "p1", "orders", 200, "acks", "all")
			c.RunFor(2 * time.Second)
			c.World.Partition([]int32{1}, []int32{2, 3})
			await(t, c, "ISR = {1}", 60*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1}) })
			c.RunFor(5 * time.Second)
			_ = c.World.Kill(1)
			if unclean {
				await(t, c, "unclean leader", 30*time.Second, func() bool { l := c.Leader(p0); return l == 2 || l == 3 })
			} else {
				await(t, c, "partition offline", 30*time.Second, func() bool { return c.Leader(p0) == protocol.NoLeader })
				c.RunFor(10 * time.Second)
				if l := c.Leader(p0); l != protocol.NoLeader {
					t.Fatalf("leader = %d with unclean election off; want none", l)
				}
			}
			c.Recover()
			await(t, c, "leader after recovery", 60*time.Second, func() bool { return c.Online(p0) })
			c.RunFor(10 * time.Second)
			missing := missingAcked(c, c.Leader(p0), p0)
			if unclean && len(missing) == 0 {
				t.Errorf("no acknowledged record lost after an unclean election; want loss")
			}
			if !unclean && len(missing) > 0 {
				t.Errorf("%d acknowledged records lost with unclean election off, first %+v", len(missing), missing[0])
			}
		})
	}
}

// Reference: KIP-101 scenario 1, in KRaft form: a follower whose HW
// lags by one fetch becomes follower of a new leader and, under the old rule, truncates to its
// HW; it is then elected before it fetches again, and the committed record is gone.
func TestKIP101HighWatermarkTruncationLosesCommitted(t *testing.T) {
	for _, mode := range []string{"high-watermark", "leader-epoch"} {
		t.Run(mode, func(t *testing.T) {
			c := newCluster(t, 3, 13, func(s *Spec) { _ = s.Broker.SetProtocol("truncation", mode) })
			mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "1"}, 1, 2, 3))
			mustProducer(t, c, "p1", "orders", 0, "acks", "all")
			_ = c.Send("p1", 1)
			await(t, c, "m1 acked", 10*time.Second, func() bool { return len(acked(c, p0)) == 1 })
			c.RunFor(time.Second)
			_ = c.Send("p1", 1)
			await(t, c, "m2 acked", 10*time.Second, func() bool { return len(acked(c, p0)) == 2 })
			// Followers 2 and 3 hold m2 but their HW is still 1.
			if hw := c.Replica(3, p0).HW(); hw != 1 {
				t.Fatalf("follower 3 HW = %d; want 1 (one fetch behind)", hw)
			}
			_ = c.World.Kill(1)
			c.World.Partition([]int32{2}, []int32{3})
			await(t, c, "2 elected", 30*time.Second, func() bool { return c.Leader(p0) == 2 })
			c.RunFor(time.Second)
			_ = c.World.Kill(2)
			await(t, c, "3 elected", 30*time.Second, func() bool { return c.Leader(p0) == 3 })
			c.Recover()
			c.RunFor(20 * time.Second)
			missing := missingAcked(c, 3, p0)
			if mode == "high-watermark" && len(missing) == 0 {
				t.Errorf("committed m2 survived; want it lost under truncation=high-watermark")
			}
			if mode == "leader-epoch" && len(missing) > 0 {
				t.Errorf("%d committed records lost with KIP-101 truncation, first %+v", len(missing), missing[0])
			}
		})
	}
}

// Reference: KIP-101 scenario 2: both replicas lose power; the one
// that lost its unflushed suffix comes back first and leads; the other returns and, truncating
// to its HW, keeps records the leader never had: the logs diverge.
func TestKIP101PowerLossDivergence(t *testing.T) {
	for _, mode := range []string{"high-watermark", "leader-epoch"} {
		t.Run(mode, func(t *testing.T) {
			c := newCluster(t, 2, 17, func(s *Spec) {
				_ = s.Broker.SetProtocol("truncation", mode)
				s.Sim.OSFlushInterval = 0
			})
			mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "1"}, 1, 2))
			mustProducer(t, c, "p1", "orders", 0, "acks", "all")
			_ = c.Send("p1", 2)
			await(t, c, "m1, m2 acked", 10*time.Second, func() bool { return len(acked(c, p0)) == 2 })
			c.RunFor(6 * time.Second) // the leader's HW checkpoint now says 2
			_ = c.World.Kill(1)       // A keeps its page cache
			_ = c.World.Crash(2)      // B loses its unflushed records
			c.RunFor(12 * time.Second)
			_ = c.World.Restart(2)
			await(t, c, "B leads", 30*time.Second, func() bool { return c.Leader(p0) == 2 && c.Online(p0) })
			_ = c.Send("p1", 1)
			await(t, c, "m3 acked", 10*time.Second, func() bool { return len(acked(c, p0)) == 3 })
			_ = c.World.Restart(1)
			c.RunFor(20 * time.Second)
			a, b := logValues(c, 1, p0), logValues(c, 2, p0)
			diverged := false
			for off, v := range b {
				if av, ok := a[off]; ok && av != v {
					diverged = true
				}
			}
			if mode == "high-watermark" && !diverged {
				t.Errorf("logs agree: A %v, B %v; want divergence under truncation=high-watermark", a, b)
			}
			if mode == "leader-epoch" && (diverged || len(a) != len(b)) {
				t.Errorf("logs differ: A %v, B %v; want identical with KIP-101 truncation", a, b)
			}
		})
	}
}

// Reference: KIP-966 "last replica standing".
func TestLastReplicaStanding(t *testing.T) {
	for _, elr := range []bool{false, true} {
		t.Run(fmt.Sprintf("eligible.leader.replicas=%v", elr), func(t *testing.T) {
			c := newCluster(t, 3, 19, func(s *Spec) {
				s.Broker.EligibleLeaderReplicas = elr
				s.Sim.OSFlushInterval = 0
			})
			mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
			mustProducer(t, c, "p1", "orders", 100, "acks", "all")
			c.RunFor(3 * time.Second)
			c.World.Isolate(3)
			await(t, c, "ISR {1,2}", 60*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1, 2}) })
			c.RunFor(3 * time.Second)
			committed := len(acked(c, p0))
			c.World.Isolate(2)
			await(t, c, "ISR {1}", 60*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1}) })
			c.RunFor(2 * time.Second)
			_ = c.World.Crash(1)
			c.RunFor(15 * time.Second)
			c.World.Heal()
			c.RunFor(5 * time.Second)
			_ = c.World.Restart(1)
			await(t, c, "leader after recovery", 60*time.Second, func() bool { return c.Online(p0) })
			c.RunFor(10 * time.Second)
			if committed == 0 {
				t.Fatal("nothing committed before the faults")
			}
			missing := missingAcked(c, c.Leader(p0), p0)
			if !elr && len(missing) == 0 {
				t.Errorf("no committed record lost without ELR; want loss")
			}
			if elr && len(missing) > 0 {
				t.Errorf("%d committed records lost with ELR, first %+v", len(missing), missing[0])
			}
		})
	}
}

// The active controller killed: a new one within twice the election timeout (the timeout that
// starts an election in KRaft is controller.quorum.fetch.timeout.ms); no metadata lost.
func TestControllerFailover(t *testing.T) {
	c := newCluster(t, 3, 23, nil)
	mustTopic(t, c, TopicSpec{Name: "a", Partitions: 3, Replication: 3})
	active := c.ActiveController()
	before := c.Committed()
	topics, brokers := len(before.Topics), len(before.Brokers)
	killed := c.Now()
	_ = c.World.Kill(active)
	limit := 2 * max(c.Spec.Broker.ControllerQuorumElectionTimeout, c.Spec.Broker.ControllerQuorumFetchTimeout)
	await(t, c, "new active controller", limit, func() bool { a := c.ActiveController(); return a >= 0 && a != active })
	t.Logf("new controller after %v", c.Now()-killed)
	after := c.Committed()
	if len(after.Topics) != topics || len(after.Brokers) != brokers {
		t.Errorf("after failover %d topics, %d brokers; want %d, %d", len(after.Topics), len(after.Brokers), topics, brokers)
	}
	mustTopic(t, c, TopicSpec{Name: "b", Partitions: 1, Replication: 3})
}

// A leader paused past its session and resumed (a zombie) neither acknowledges nor forks data.
func TestZombieLeader(t *testing.T) {
	c := newCluster(t, 3, 29, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 100, "acks", "all")
	c.RunFor(3 * time.Second)
	_ = c.World.Pause(1)
	await(t, c, "new leader", 30*time.Second, func() bool { l := c.Leader(p0); return l >= 0 && l != 1 })
	c.RunFor(3 * time.Second)
	// On resume the zombie handles the produce requests that waited for it, appends them in its
	// stale epoch, then learns the new epoch and truncates them away.
	var cut *broker.Truncated
	c.World.OnObserve(func(_ time.Duration, id int32, ev any) {
		if e, ok := ev.(*broker.Truncated); ok && id == 1 && cut == nil {
			cut = e
		}
	})
	_ = c.World.Resume(1)
	c.RunFor(20 * time.Second)
	if cut == nil || cut.From <= cut.To {
		t.Fatalf("zombie truncation = %+v; want the zombie's stale appends cut away", cut)
	}
	leader := c.Leader(p0)
	if missing := missingAcked(c, leader, p0); len(missing) > 0 {
		t.Errorf("%d acknowledged records not in leader %d's log, first %+v", len(missing), leader, missing[0])
	}
	ref := logValues(c, leader, p0)
	for _, id := range c.BrokerIDs {
		for off, v := range logValues(c, id, p0) {
			if rv, ok := ref[off]; ok && rv != v {
				t.Fatalf("broker %d has %d at offset %d, leader %d has %d: forked logs", id, v, off, leader, rv)
			}
		}
	}
}

// Producer retries after a lost response: with idempotence no duplicate, without it one appears.
func TestRetryAfterLostResponse(t *testing.T) {
	for _, idem := range []bool{true, false} {
		t.Run(fmt.Sprintf("enable.idempotence=%v", idem), func(t *testing.T) {
			c := newCluster(t, 3, 31, nil)
			mustTopic(t, c, orders(nil, 1, 2, 3))
			mustProducer(t, c, "p1", "orders", 0, "acks", "all", "enable.idempotence", fmt.Sprint(idem), "request.timeout.ms", "2s")
			_ = c.Send("p1", 3)
			await(t, c, "warm-up", 10*time.Second, func() bool { return len(acked(c, p0)) == 3 })
			id, _ := c.Client("p1")
			c.World.Cut(1, id) // the leader's answers to the producer are lost
			_ = c.Send("p1", 10)
			c.RunFor(1500 * time.Millisecond)
			c.World.Heal()
			c.RunFor(20 * time.Second)
			dups := 0
			for v, n := range valueCounts(c, 1, p0) {
				if n > 1 {
					dups++
					if idem {
						t.Errorf("value %d appears %d times with idempotence", v, n)
					}
				}
			}
			if !idem && dups == 0 {
				t.Errorf("no duplicate without idempotence; want the retry to append again")
			}
		})
	}
}

// crash loses unflushed writes; kill and stop do not.
func TestCrashKillStopDurability(t *testing.T) {
	for _, fault := range []string{"kill", "crash", "stop"} {
		t.Run(fault, func(t *testing.T) {
			c := newCluster(t, 1, 37, func(s *Spec) { s.Sim.OSFlushInterval = 0 })
			mustTopic(t, c, orders(nil, 1))
			mustProducer(t, c, "p1", "orders", 0, "acks", "1")
			_ = c.Send("p1", 50)
			await(t, c, "writes", 10*time.Second, func() bool { return len(acked(c, p0)) == 50 })
			apply := map[string]func(int32) error{"kill": c.World.Kill, "crash": c.World.Crash, "stop": c.World.Stop}[fault]
			if err := apply(1); err != nil {
				t.Fatal(err)
			}
			await(t, c, "down", 40*time.Second, func() bool { return !running(c, 1) && c.World.State(1) != sim.Stopping })
			_ = c.World.Restart(1)
			await(t, c, "back", 30*time.Second, func() bool { return c.Replica(1, p0) != nil })
			leo := c.Replica(1, p0).LEO()
			if fault == "crash" && leo != 0 {
				t.Errorf("LEO after crash = %d; want 0 (nothing was flushed)", leo)
			}
			if fault != "crash" && leo != 50 {
				t.Errorf("LEO after %s = %d; want 50", fault, leo)
			}
		})
	}
}

// Impossible configurations are errors that name the key.
func TestBadConfigurations(t *testing.T) {
	c, err := New(DefaultSpec())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		topic TopicSpec
		want  string
	}{
		{TopicSpec{Name: "x", Partitions: 1, Replication: 4}, "replication: 4 is above the broker count 3"},
		{TopicSpec{Name: "x", Partitions: 1, Replication: 1, Configs: map[string]string{"retention.mss": "1"}}, "retention.mss: unknown topic config key"},
		{TopicSpec{Name: "x", Partitions: 1, Replication: 1, Configs: map[string]string{"min.insync.replicas": "two"}}, `min.insync.replicas: "two" is not an integer`},
		{TopicSpec{Name: "x", Partitions: 0, Replication: 1}, "partitions: 0 is not a partition count (need at least 1)"},
		{TopicSpec{Name: "x", Partitions: 1, Assignment: [][]int32{{1, 7}}}, "replicas: partition 0 names broker 7, which does not exist (brokers are 1..3)"},
	}
	for _, tc := range cases {
		err := c.CreateTopic(tc.topic)
		if err == nil || err.Error() != tc.want {
			t.Errorf("CreateTopic(%+v) = %v; want %q", tc.topic, err, tc.want)
		}
	}
	// min.insync.replicas above the replication factor is allowed (Partition.effectiveMinIsr).
	if err := c.CreateTopic(TopicSpec{Name: "y", Partitions: 1, Replication: 2, Configs: map[string]string{"min.insync.replicas": "3"}}); err != nil {
		t.Errorf("CreateTopic with min.insync.replicas 3 and replication 2 = %v; want nil", err)
	}
	spec := DefaultSpec()
	spec.Brokers = 0
	if _, err := New(spec); err == nil {
		t.Error("New with 0 brokers: no error")
	}
	spec = DefaultSpec()
	if err := spec.Broker.Set("broker.session.timeout.ms", "soon"); err == nil || err.Error() != `broker.session.timeout.ms: "soon" is not a duration (use 250ms, 5s, 2m or milliseconds)` {
		t.Errorf("bad duration: %v", err)
	}
	if err := spec.Broker.Set("no.such.key", "1"); err == nil || err.Error() != "no.such.key: unknown config key" {
		t.Errorf("unknown key: %v", err)
	}
	p := producerConfig(t, "acks", "1", "enable.idempotence", "true")
	if err := p.Finish(); err == nil || err.Error() != "enable.idempotence: true requires that acks must be all" {
		t.Errorf("idempotence with acks=1: %v", err)
	}
}

// Ten simulated minutes of the classroom cluster with the full trace kept stay under 1 GiB.
func TestTenMinutesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ten simulated minutes")
	}
	c, err := Classroom(1)
	if err != nil {
		t.Fatal(err)
	}
	c.RunFor(10 * time.Minute)
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	t.Logf("heap %d MiB after 10 simulated minutes: %d events, %d operations", m.HeapAlloc>>20, c.World.Trace().Len(), c.Ops())
	if m.HeapAlloc > 1<<30 {
		t.Errorf("heap %d MiB; want under 1024 MiB", m.HeapAlloc>>20)
	}
	if c.Ops() < 500_000 {
		t.Errorf("%d operations in 10 minutes at 1,000 records/s; want the workload to have run", c.Ops())
	}
}
