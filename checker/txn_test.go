package checker

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/sim/cluster"
)

// txnHistory: p1 commits 1 (offset 0) and 2 (offset 1), then aborts 3 and 4 (offsets 3 and 4;
// markers at 2 and 5), then commits 5 (offset 6). dirty (read_uncommitted) reads everything.
// then reader's polls follow, read_committed when rc.
func txnHistory(rc bool, polls ...[]int64) history.History {
	b := &hist{}
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(1), Offsets: v(0), Outcome: history.OK, Txn: history.TxnCommitted})
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(2), Offsets: v(1), Outcome: history.OK, Txn: history.TxnCommitted})
	for _, x := range v(3, 4) {
		b.add(history.Op{Client: "p1", Type: history.Send, Values: v(x), Outcome: history.Fail, Error: "TRANSACTION_ABORTED", Txn: history.TxnAborted})
	}
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(5), Offsets: v(6), Outcome: history.OK, Txn: history.TxnCommitted})
	b.poll("dirty", 0, 1, 1, 2).poll("dirty", 3, 3, 4, 4).poll("dirty", 6, 5)
	for _, pairs := range polls {
		b.poll("reader", pairs...)
		if rc {
			b.h[len(b.h)-1].Isolation = history.ReadCommitted
		}
	}
	return b.h
}

// Kafka's read_committed fetch drops aborted transactions' records (and every control
// batch): a read_committed consumer that jumps over them skipped nothing it should have read.
// A read_uncommitted consumer making the same jump did skip them.
func TestReadCommittedPollsJumpOverAbortedRecords(t *testing.T) {
	for _, c := range []struct {
		rc    bool
		polls [][]int64
		want  []string
	}{
		{true, [][]int64{{0, 1, 1, 2}, {6, 5}}, nil},
		{true, [][]int64{{0, 1, 1, 2, 6, 5}}, nil},
		{false, [][]int64{{0, 1, 1, 2}, {6, 5}}, []string{PollSkip}},
		{false, [][]int64{{0, 1, 1, 2, 6, 5}}, []string{IntPollSkip}},
		// read_committed must not see an aborted record: G1a (Jepsen's aborted read).
		{true, [][]int64{{0, 1, 1, 2}, {3, 3}, {6, 5}}, []string{G1a}},
		// read_committed skipping a committed value is still a skip.
		{true, [][]int64{{0, 1}, {6, 5}}, []string{PollSkip}},
	} {
		r := Check(txnHistory(c.rc, c.polls...), Config{Idempotent: true})
		got := names(r)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("read_committed=%v polls %v: anomalies %v; want %v\n%s", c.rc, c.polls, got, c.want, r.Text())
		}
	}
}

// KIP-664's hanging transaction, on a real run: a leader that answers the coordinator's ABORT
// WriteTxnMarkers without writing the marker (the planted bug: a marker lost, as an unclean
// election can lose one) leaves every aborted transaction open on orders/0 while the coordinator
// has completed it. The LSO stays at the first one; past transaction.timeout.ms and the margin,
// hanging-transaction fires. The same run with the markers written stays quiet.
func TestHangingTransactionWhenAMarkerIsLost(t *testing.T) {
	for _, planted := range []bool{true, false} {
		t.Run(map[bool]string{true: "planted", false: "fixed"}[planted], func(t *testing.T) {
			r := newRun(t, 3, 61, func(s *cluster.Spec) { s.Broker.Bugs.DropTxnMarkers = planted })
			r.topic(orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
			r.producer("tx", "orders", 100, "acks", "all", "transactional.id", "payer", "transaction.abort", "1", "transaction.timeout.ms", "10s")
			r.c.RunFor(3 * time.Second)
			_ = r.c.SetRate("tx", 0)
			r.c.RunFor(50 * time.Second)
			vs := r.violations(HangingTransaction)
			if planted {
				if len(vs) == 0 {
					t.Fatalf("no %s with the ABORT markers dropped", HangingTransaction)
				}
				t.Logf("%s", vs[0].Detail)
				return
			}
			if len(vs) > 0 {
				t.Errorf("%s without the planted bug: %s", HangingTransaction, vs[0].Detail)
			}
			if l := r.c.Replica(r.c.Leader(p0), p0); l.LastStableOffset() != l.HW() {
				t.Errorf("LSO %d below the HW %d with every marker written", l.LastStableOffset(), l.HW())
			}
		})
	}
}

// benchClassroom runs the classroom cluster (6 partitions, 1000 records/s, one consumer) with
// the producer configured by kv, and reports simulated seconds per wall second and records
// committed per wall second.
func benchClassroom(b *testing.B, online bool, isolation string, kv ...string) {
	r := newRun(b, 3, 1, nil)
	if !online {
		spec := cluster.DefaultSpec()
		spec.Sim.Seed = 1
		c, err := cluster.New(spec)
		if err != nil {
			b.Fatal(err)
		}
		r = &run{t: b, c: c}
	}
	r.topic(cluster.TopicSpec{Name: "orders", Partitions: 6, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
	r.producer("p1", "orders", 1000, kv...)
	cc := config.DefaultConsumer()
	cc.AutoOffsetReset, cc.IsolationLevel = "earliest", isolation
	if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: "c1", Topic: "orders", Config: cc}); err != nil {
		b.Fatal(err)
	}
	r.c.RunFor(5 * time.Second)
	acked := r.c.Producer("p1").Stats().Acked
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.c.RunFor(time.Second)
	}
	b.StopTimer()
	wall := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/wall, "sim-s/s")
	b.ReportMetric(float64(r.c.Producer("p1").Stats().Acked-acked)/wall, "records/s")
	// The process's CPU time per simulated second: what the ratios are read from on a machine
	// whose other jobs make wall time swing (it counts the collector's work too).
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/sim-s")
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(max(r.c.Producer("p1").Stats().Acked-acked, 1)), "cpu-µs/record")
}

// The cost of transactions: the classroom's idempotent producer against a transactional one
// (transaction.version 2 and 1, 100 records a transaction) at the same record rate, each read
// by a consumer (read_committed for the transactional ones); the world alone, and with the
// online invariants attached (which then also walk __transaction_state's 50 partitions).
func BenchmarkClassroomIdempotent(b *testing.B) {
	benchClassroom(b, false, "read_uncommitted", "acks", "all")
}

func BenchmarkClassroomTransactionalV2(b *testing.B) {
	benchClassroom(b, false, "read_committed", "acks", "all", "transactional.id", "payer", "transaction.records", "100")
}

func BenchmarkClassroomTransactionalV1(b *testing.B) {
	benchClassroom(b, false, "read_committed", "acks", "all", "transactional.id", "payer", "transaction.records", "100", "transaction.version", "1")
}

func BenchmarkClassroomIdempotentOnline(b *testing.B) {
	benchClassroom(b, true, "read_uncommitted", "acks", "all")
}

func BenchmarkClassroomTransactionalV2Online(b *testing.B) {
	benchClassroom(b, true, "read_committed", "acks", "all", "transactional.id", "payer", "transaction.records", "100")
}

// txnNemesisRun: the nemesis run with a transactional producer (transaction.version v,
// transaction.timeout.ms 10s, a fifth of its transactions aborted) and a read_committed
// consumer.
func txnNemesisRun(t testing.TB, seed uint64, version string) (r *run, rep *Report, stuck bool) {
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
	r.producer("p", "t", 100, "acks", "all", "transactional.id", "tx", "transaction.abort", "0.2", "transaction.timeout.ms", "10s", "transaction.version", version)
	cc := config.DefaultConsumer()
	cc.AutoOffsetReset, cc.IsolationLevel = "earliest", "read_committed"
	if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: "c", Topic: "t", Config: cc}); err != nil {
		t.Fatal(err)
	}
	r.c.Nemesis(3*time.Second, 30*time.Second)
	rep = r.finish(Config{Idempotent: true}, []string{"p"}, "c")
	r.c.RunFor(hangingMargin + 15*time.Second) // long enough for a hanging transaction to show
	return r, rep, false
}

// No false alarm with transactions: the safe configuration under random broker faults keeps
// hanging-transaction and every other invariant, and shows no G1a, for both transaction
// versions (10 seeds each; CHECKER_SEEDS=N for the full figure).
func TestNoFalseAlarmWithTransactionsUnderNemesis(t *testing.T) {
	seeds := 10
	if testing.Short() {
		seeds = 3
	}
	if n, err := strconv.Atoi(os.Getenv("CHECKER_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	for _, version := range []string{"2", "1"} {
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			r, rep, stuck := txnNemesisRun(t, seed, version)
			if stuck {
				t.Errorf("transaction.version=%s seed %d: the run does not end (livelock)", version, seed)
				continue
			}
			if rep.Verdict != Valid {
				t.Errorf("transaction.version=%s seed %d: verdict %s; want valid\n%s", version, seed, rep.Verdict, rep.Text())
			}
			if vs := r.violations(HangingTransaction); len(vs) > 0 {
				t.Errorf("transaction.version=%s seed %d: %s", version, seed, vs[0].Detail)
			}
		}
	}
}

// The transaction's size at the same 1000 records/s, with the online invariants: 100 records
// (ten transactions a second, more than one producer keeps up with: each waits for the last
// one's markers, CONCURRENT_TRANSACTIONS retried by the leaders' verification), 200 and 500.
// The per-transaction work (coordinator round trips, markers, each partition's verification,
// __transaction_state's appends waking every follower's fetch session) is most of the cost.
func BenchmarkClassroomTransactionalV2Sizes(b *testing.B) {
	for _, n := range []string{"100", "200", "500"} {
		b.Run("records="+n, func(b *testing.B) {
			benchClassroom(b, true, "read_committed", "acks", "all", "transactional.id", "payer", "transaction.records", n)
		})
	}
}
