package checker

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// nemesisRun: three brokers, a topic of 3 partitions with RF 3 and min.insync.replicas=2, an
// idempotent acks=all producer, unclean election off, random broker faults for 30s.
func nemesisRun(t testing.TB, seed uint64) (r *run, rep *Report, stuck bool) {
	defer func() {
		if e := recover(); e != nil {
			if e != errStuck {
				panic(e)
			}
			stuck = true
		}
	}()
	r = newRun(t, 3, seed, nil)
	guardLivelock(r.c)
	r.topic(cluster.TopicSpec{Name: "t", Partitions: 3, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
	r.producer("p", "t", 100, "acks", "all")
	r.consumer("c", "t")
	r.c.Nemesis(3*time.Second, 30*time.Second)
	rep = r.finish(Config{Idempotent: true}, []string{"p"}, "c")
	return r, rep, false
}

var errStuck = errors.New("livelock: the run does not end")

// guardLivelock panics with errStuck when a run passes two million events (these runs take
// under 100,000), so that a livelock in the simulated cluster (one was found this way: clients
// re-sending on every connection reset) fails the test instead of hanging it.
func guardLivelock(c *cluster.Cluster) {
	c.World.OnEvent(func(e *sim.Event) {
		if c.World.Trace().Len() > 2_000_000 {
			panic(errStuck)
		}
	})
}

// No false alarm: the fixed protocol (acks=all, min.insync.replicas=2, unclean election off,
// idempotence) under random faults keeps every invariant and shows no anomaly, over 50 seeds.
func TestNoFalseAlarmUnderNemesis(t *testing.T) {
	seeds := 50
	if testing.Short() {
		seeds = 10
	}
	if n, err := strconv.Atoi(os.Getenv("CHECKER_SEEDS")); err == nil && n > 0 {
		seeds = n // the full figure: CHECKER_SEEDS=1000 go test ./checker -run NoFalseAlarm
	}
	ops, events := 0, 0
	run := make([]uint64, 0, seeds+len(nemesisRegressions))
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		run = append(run, seed)
	}
	for _, seed := range nemesisRegressions {
		if seed > uint64(seeds) {
			run = append(run, seed)
		}
	}
	for _, seed := range run {
		r, rep, stuck := nemesisRun(t, seed)
		if stuck {
			t.Errorf("seed %d: the run does not end (livelock)", seed)
			continue
		}
		ops += len(r.c.History())
		events += r.c.World.Trace().Len()
		if rep.Verdict != Valid {
			t.Errorf("seed %d: verdict %s; want valid\n%s", seed, rep.Verdict, rep.Text())
		}
	}
	t.Logf("%d nemesis runs: %d operations checked, %d events checked online", len(run), ops, events)
}

// nemesisRegressions are seeds that once failed, run every time. 59: the old leader had
// appended five pipelined batches of the producer at once while the first waited in purgatory;
// after the leader change the producer sent two new batches to the new leader, so seven were
// unanswered and the retry of the second fell out of the five the new leader remembers
// (ProducerStateEntry.NUM_BATCHES_TO_RETAIN). Its OUT_OF_ORDER_SEQUENCE_NUMBER, answered before
// the two new batches' successes, looked like a real gap, and the KIP-360 epoch bump appended 23
// records twice. Kafka's broker handles one request per connection at a time and answers in
// order (SocketServer mutes the connection), as the simulated broker now does.
var nemesisRegressions = []uint64{59}

// No false alarm under chaos: controllers fail too (a minority at a time), links lose
// messages between brokers and between clients and brokers, and one broker may lose power
// (min.insync.replicas − 1 unclean shutdowns: KIP-966's promise; two can lose committed
// records, as the checker then rightly says).
func TestNoFalseAlarmUnderChaos(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 5
	}
	if n, err := strconv.Atoi(os.Getenv("CHECKER_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	ops, permitted := 0, 0
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r := newRun(t, 3, seed, nil)
		guardLivelock(r.c)
		r.topic(cluster.TopicSpec{Name: "t", Partitions: 3, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
		r.producer("p", "t", 100, "acks", "all")
		r.consumer("c", "t")
		faults := r.c.Chaos(2*time.Second, 40*time.Second, 1)
		rep := r.finish(Config{Idempotent: true}, []string{"p"}, "c")
		ops += len(r.c.History())
		if rep.Verdict == Valid {
			continue
		}
		if lossAfterUncleanElection(rep) {
			// A power loss and a killed broker are two unclean shutdowns (KAFKA-15586): with
			// the ISR and ELR empty, KIP-966 falls back on the last known leader, marked
			// unclean, whose log the power loss may have cut. Real Kafka loses the same records;
			// the checker names the cause.
			permitted++
			t.Logf("seed %d: loss after an unclean (last known leader) election, permitted", seed)
			continue
		}
		t.Errorf("seed %d: verdict %s; want valid\nfaults: %v\n%s", seed, rep.Verdict, faults, rep.Text())
	}
	t.Logf("%d chaos runs: %d operations checked; %d lost records after an unclean election, as Kafka does", seeds, ops, permitted)
}

// lossAfterUncleanElection: every finding is a loss the checker attributes to an unclean leader
// election, and no online invariant broke.
func lossAfterUncleanElection(rep *Report) bool {
	if len(rep.Invariants) > 0 || len(rep.Anomalies) == 0 {
		return false
	}
	for _, a := range rep.Anomalies {
		if a.Permitted != uncleanElection {
			return false
		}
	}
	for _, res := range rep.Linearizable {
		if res == "unknown" {
			return false
		}
	}
	return true
}
