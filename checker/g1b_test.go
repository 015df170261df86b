package checker

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/client"
	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/sim/cluster"
)

// g1bHistory: p1's transaction sends 1 at 1s and 2 at 3s to orders/0 and commits at 4s
// (offsets 0 and 1, the marker at 2); a reader's poll completes at pollAt and returns 1.
func g1bHistory(pollAt time.Duration, isolation string) history.History {
	b := &hist{}
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(1), Offsets: v(0), Invoke: time.Second, Complete: 4 * time.Second, Outcome: history.OK, Txn: history.TxnCommitted})
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(2), Offsets: v(1), Invoke: 3 * time.Second, Complete: 4 * time.Second, Outcome: history.OK, Txn: history.TxnCommitted})
	b.add(history.Op{Client: "reader", Type: history.Poll, Values: v(1), Offsets: v(0), Invoke: pollAt - time.Millisecond, Complete: pollAt, Outcome: history.OK, Isolation: isolation})
	b.add(history.Op{Client: "reader", Type: history.Poll, Values: v(2), Offsets: v(1), Invoke: 5 * time.Second, Complete: 5 * time.Second, Outcome: history.OK, Isolation: isolation})
	return b.h
}

// Reference: Elle's g1b-cases (G1b, intermediate read), for Kafka's transactions. A
// read_committed poll that returned a transaction's first record before the transaction's
// last record of the partition was sent read it half-way: G1b. The same poll after the last
// send (a poll that stops inside a committed transaction, as max.poll.records makes it) is
// none, and read_uncommitted reads open transactions by design.
func TestG1bIsAReadCommittedPollOfATransactionHalfWay(t *testing.T) {
	for _, c := range []struct {
		pollAt    time.Duration
		isolation string
		want      []string
	}{
		{2 * time.Second, history.ReadCommitted, []string{G1b}},
		{4500 * time.Millisecond, history.ReadCommitted, nil},
		{2 * time.Second, "", nil},
	} {
		r := Check(g1bHistory(c.pollAt, c.isolation), Config{Idempotent: true})
		if got := names(r); !slices.Equal(got, c.want) {
			t.Errorf("poll at %v %q: anomalies %v; want %v\n%s", c.pollAt, c.isolation, got, c.want, r.Text())
		}
	}
}

// G1b on a real run: a transactional producer driven by hand sends five records, waits a
// second, sends five more and commits, ten times; a read_committed consumer reads along. A
// leader that serves read_committed fetches up to the high watermark (the planted bug
// ReadCommittedToHW) lets it read each transaction's first five before the next five are
// sent: G1b. With the LSO, the consumer waits for the commit: valid.
func TestG1bWhenReadCommittedReadsPastTheLSO(t *testing.T) {
	for _, planted := range []bool{true, false} {
		t.Run(map[bool]string{true: "planted", false: "fixed"}[planted], func(t *testing.T) {
			r := newRun(t, 3, 5, func(s *cluster.Spec) { s.Broker.Bugs.ReadCommittedToHW = planted })
			r.topic(orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
			r.producer("tx", "orders", 0, "acks", "all", "transactional.id", "payer")
			cc := config.DefaultConsumer()
			cc.AutoOffsetReset, cc.IsolationLevel = "earliest", "read_committed"
			if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: "rc", Topic: "orders", Config: cc}); err != nil {
				t.Fatal(err)
			}
			r.c.RunFor(2 * time.Second)
			for range 10 {
				must(t, r.c.Transaction("tx", client.TxnBegin))
				must(t, r.c.Send("tx", 5))
				r.c.RunFor(time.Second)
				must(t, r.c.Send("tx", 5))
				r.c.RunFor(100 * time.Millisecond)
				must(t, r.c.Transaction("tx", client.TxnCommit))
				r.c.RunFor(time.Second)
			}
			if got := r.c.Producer("tx").Stats().Committed; got != 10 {
				t.Fatalf("%d transactions committed; want 10", got)
			}
			rep := r.finish(Config{Idempotent: true}, []string{"tx"}, "rc")
			n := rep.Counts[G1b]
			if planted {
				if n == 0 {
					t.Fatalf("no G1b with read_committed served up to the HW\n%s", rep.Text())
				}
				t.Logf("%d G1b: %s", n, rep.Text())
				return
			}
			if n > 0 || rep.Verdict != Valid {
				t.Errorf("verdict %s, %d G1b without the planted bug\n%s", rep.Verdict, n, rep.Text())
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
