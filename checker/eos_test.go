package checker

import (
	"os"
	"strconv"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

var eosProcessors = []string{"copy1", "copy2"}

// eosPlant is what an eos run changes: the broker (planted bugs), the processors.
type eosPlant struct {
	broker    func(*cluster.Spec)
	processor func(*cluster.ProcessorSpec)
	abort     string // transaction.abort of the processors
	killCopy1 bool   // copy1 is killed mid-run and restarted
	// brokerMinISR1 keeps the broker's min.insync.replicas at 1 under the nemesis: the
	// coordinators' topics then run with 1 (Kafka's default for __consumer_offsets).
	brokerMinISR1 bool
	nemesis       bool
	noTxnalIDs    bool // at-least-once processors
}

// eosRun: three brokers, orders (2 partitions) written by an idempotent acks=all producer, and
// two processors in group g1 copying orders to receipts (transactional, read_committed, unless
// noTxnalIDs); then everything heals, the input stops and the processors settle.
func eosRun(t testing.TB, seed uint64, pl eosPlant) (*run, *Report, []cluster.Fault) {
	r := newRun(t, 3, seed, func(s *cluster.Spec) {
		_ = s.Broker.Set("offsets.topic.num.partitions", "5")
		_ = s.Broker.Set("transaction.state.log.num.partitions", "5")
		if pl.nemesis && !pl.brokerMinISR1 {
			// The safe configuration extends to __consumer_offsets, which takes the broker's
			// min.insync.replicas (1 by default): with 1, the last in-sync replica's crash and
			// KIP-966's last-known-leader election lose committed offsets.
			if err := s.Broker.Set("min.insync.replicas", "2"); err != nil {
				t.Fatal(err)
			}
		}
		if pl.broker != nil {
			pl.broker(s)
		}
	})
	guardLivelock(r.c)
	for _, name := range []string{"orders", "receipts"} {
		r.topic(cluster.TopicSpec{Name: name, Partitions: 2, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
	}
	r.producer("shop", "orders", 50, "acks", "all")
	for i, name := range eosProcessors {
		cc := config.DefaultConsumer()
		for _, kv := range [][2]string{{"group", "g1"}, {"processing", "50ms"}, {"session.timeout.ms", "10s"}, {"auto.offset.reset", "earliest"}} {
			if err := cc.Set(kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		pc := config.DefaultProducer()
		if !pl.noTxnalIDs {
			if err := pc.Set("transactional.id", "copier-"+strconv.Itoa(i)); err != nil {
				t.Fatal(err)
			}
		}
		if pl.abort != "" {
			if err := pc.Set("transaction.abort", pl.abort); err != nil {
				t.Fatal(err)
			}
		}
		ps := cluster.ProcessorSpec{Name: name, From: "orders", To: "receipts", Consumer: cc, Producer: pc}
		if pl.processor != nil {
			pl.processor(&ps)
		}
		if _, err := r.c.AddProcessor(ps); err != nil {
			t.Fatal(err)
		}
	}
	// audit reads the output: the outputs of a processor killed as its transaction commits
	// have no outcome in the history, but audit sees them.
	ac := config.DefaultConsumer()
	ac.AutoOffsetReset, ac.IsolationLevel = "earliest", "read_committed"
	if pl.noTxnalIDs {
		ac.IsolationLevel = "read_uncommitted"
	}
	if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: "audit", Topic: "receipts", Config: ac}); err != nil {
		t.Fatal(err)
	}
	var faults []cluster.Fault
	switch {
	case pl.nemesis:
		faults = r.c.NemesisWithConsumers(3*time.Second, 30*time.Second, eosProcessors...)
	case pl.killCopy1:
		r.c.RunFor(20 * time.Second)
		id, _ := r.c.Client("copy1")
		if err := r.c.World.Kill(id); err != nil {
			t.Fatal(err)
		}
		r.c.RunFor(3 * time.Second)
		if err := r.c.World.Restart(id); err != nil {
			t.Fatal(err)
		}
		r.c.RunFor(20 * time.Second)
	default:
		r.c.RunFor(30 * time.Second)
	}
	r.c.Recover()
	_ = r.c.SetRate("shop", 0)
	r.c.RunFor(5 * time.Second)
	r.c.RunUntil(func() bool {
		for _, name := range eosProcessors {
			if pr := r.c.Processor(name); pr == nil || !pr.Settled() {
				return false
			}
		}
		a := r.c.Consumer("audit")
		if a == nil {
			return false
		}
		for i := 0; i < 2; i++ {
			tp := cluster.TP("receipts", i)
			l := r.c.Replica(r.c.Leader(tp), tp)
			if l == nil || !l.IsLeader() || l.LastStableOffset() < l.HW() || a.Positions()[tp] < l.HW() {
				return false
			}
		}
		for i := 0; i < 2; i++ {
			tp := cluster.TP("orders", i)
			b := r.c.Broker(r.c.GroupCoordinator("g1"))
			if b == nil {
				return false // no coordinator up yet
			}
			o, ok := b.Coordinator().Committed("g1", tp)
			l := r.c.Replica(r.c.Leader(tp), tp)
			if !ok || l == nil || o.Offset < l.HW() {
				return false
			}
		}
		return true
	}, 120*time.Second)
	r.c.Close()
	return r, Check(r.c.History(), Config{Idempotent: true, Online: r.online, UncleanElections: r.online.UncleanElections()}), faults
}

// KIP-447's exactly-once processor, with the offsets committed outside the transaction (the
// planted CommitOutsideTransaction: a plain OffsetCommit every commit.interval.ms after the
// transactions commit): copy1 killed between its transactions and its offset commit leaves
// committed outputs whose inputs the group reads again, and their outputs commit twice:
// eos-duplicate. With the offsets in the transaction, the same run is quiet.
func TestEosDuplicateWhenOffsetsCommitOutsideTheTransaction(t *testing.T) {
	for _, planted := range []bool{true, false} {
		t.Run(map[bool]string{true: "planted", false: "fixed"}[planted], func(t *testing.T) {
			_, rep, _ := eosRun(t, 7, eosPlant{killCopy1: true, processor: func(s *cluster.ProcessorSpec) { s.CommitOutsideTransaction = planted }})
			n := rep.Findings()[EosDuplicate]
			if planted && n == 0 {
				t.Fatalf("no %s with the offsets committed outside the transaction\n%s", EosDuplicate, rep.Text())
			}
			if !planted && (n > 0 || rep.Findings()[EosLoss] > 0 || rep.Verdict != Valid) {
				t.Fatalf("exactly-once run: verdict %s\n%s", rep.Verdict, rep.Text())
			}
			if planted {
				t.Logf("%d %s, e.g. %s", n, EosDuplicate, first(rep, EosDuplicate))
			}
		})
	}
}

// GroupMetadata.completePendingTxnOffsetCommit keeps a transaction's offsets pending until its
// marker and drops them on ABORT. The planted ExposePendingTxnOffsets commits them at once:
// the processors abort one transaction in five after sending their offsets
// (transaction.abort=0.2), the offsets of the aborted ones stay, and the group moves past inputs
// whose outputs aborted: eos-loss. Without the bug the same run is quiet.
func TestEosLossWhenTheCoordinatorExposesPendingOffsets(t *testing.T) {
	for _, planted := range []bool{true, false} {
		t.Run(map[bool]string{true: "planted", false: "fixed"}[planted], func(t *testing.T) {
			_, rep, _ := eosRun(t, 3, eosPlant{abort: "0.2", broker: func(s *cluster.Spec) { s.Broker.Bugs.ExposePendingTxnOffsets = planted }})
			n := rep.Findings()[EosLoss]
			if planted && n == 0 {
				t.Fatalf("no %s with pending offsets exposed\n%s", EosLoss, rep.Text())
			}
			if !planted && (n > 0 || rep.Findings()[EosDuplicate] > 0 || rep.Verdict != Valid) {
				t.Fatalf("exactly-once run with aborts: verdict %s\n%s", rep.Verdict, rep.Text())
			}
			if planted {
				t.Logf("%d %s, e.g. %s", n, EosLoss, first(rep, EosLoss))
			}
		})
	}
}

// The at-least-once twin: processors without a transactional.id, copy1 killed between its
// outputs and its periodic offset commit: eos-duplicate, and no eos-loss.
func TestEosDuplicateWithAtLeastOnceProcessors(t *testing.T) {
	_, rep, _ := eosRun(t, 7, eosPlant{killCopy1: true, noTxnalIDs: true})
	if rep.Findings()[EosDuplicate] == 0 || rep.Findings()[EosLoss] > 0 {
		t.Fatalf("at-least-once processors: %v; want eos-duplicate and no eos-loss\n%s", rep.Findings(), rep.Text())
	}
}

// No false alarm from exactly-once processors under random broker and processor faults (kill,
// pause, stop, restart, partitions) over 10 seeds (CHECKER_SEEDS for more): no eos-duplicate,
// no eos-loss, a valid verdict.
func TestNoFalseAlarmWithExactlyOnceProcessorsUnderNemesis(t *testing.T) {
	seeds := 10
	if testing.Short() {
		seeds = 3
	}
	if n, err := strconv.Atoi(os.Getenv("CHECKER_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	txns := int64(0)
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r, rep, faults := eosRun(t, seed, eosPlant{nemesis: true})
		for _, name := range eosProcessors {
			if pr := r.c.Processor(name); pr != nil {
				txns += pr.Stats().Committed
			}
		}
		if rep.Verdict != Valid {
			t.Errorf("seed %d: verdict %s; want valid\nfaults: %v\n%s", seed, rep.Verdict, faults, rep.Text())
		}
	}
	t.Logf("%d exactly-once processor nemesis runs: %d transactions committed by the last processor instances", seeds, txns)
}

// Seed 164 of the processors' nemesis with the broker's min.insync.replicas at 1, which
// __consumer_offsets takes: broker 3 is the last of the ISR of partitions of
// __consumer_offsets when it crashes (an unclean shutdown); KIP-966
// elects it again as the last known leader, and offsets the processors' transactions committed
// are gone with what it had not flushed. The input is processed and written again: the report
// says these repeats come from the unclean coordinator election, which a run without one
// cannot say (TestEosDuplicateWhenOffsetsCommitOutsideTheTransaction is invalid with no
// permission).
func TestEosRepeatsAfterAnUncleanCoordinatorElectionArePermitted(t *testing.T) {
	r, rep, _ := eosRun(t, 164, eosPlant{nemesis: true, brokerMinISR1: true})
	if !r.online.UncleanCoordinatorElections() {
		t.Fatal("seed 164: no unclean election of __consumer_offsets or __transaction_state; the test needs one")
	}
	if rep.Counts[EosDuplicate] == 0 {
		t.Fatalf("seed 164: no eos-duplicate; want the input processed again\n%s", rep.Text())
	}
	for _, a := range rep.Anomalies {
		if a.Permitted == "" {
			t.Errorf("%s not permitted: %s", a.Name, a.Explanation)
		}
		if a.Name == EosDuplicate && a.Permitted != uncleanCoordinatorElection {
			t.Fatalf("eos-duplicate permitted by %q; want %q", a.Permitted, uncleanCoordinatorElection)
		}
	}
	if rep.Verdict != Invalid {
		t.Errorf("seed 164: verdict %s; want invalid (permitted anomalies still count)", rep.Verdict)
	}
	// The same history judged without the coordinator's election: the repeats are unexplained.
	again := Check(r.c.History(), Config{Idempotent: true, UncleanElections: true})
	for _, a := range again.Anomalies {
		if a.Name == EosDuplicate && a.Permitted != "" {
			t.Errorf("without the unclean coordinator election, eos-duplicate permitted by %q; want none", a.Permitted)
		}
	}
	if again.Counts[EosDuplicate] == 0 {
		t.Error("without the unclean coordinator election: no eos-duplicate")
	}
}

func first(rep *Report, name string) string {
	for _, a := range rep.Anomalies {
		if a.Name == name {
			return a.Explanation
		}
	}
	return ""
}
