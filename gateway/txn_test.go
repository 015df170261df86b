package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kafkasim/broker/history"
)

// txnDemo is demo with a second topic for a processor's outputs.
const txnDemo = demo + `topic out partitions=3 replication=3 min.insync.replicas=2
`

// transact runs one transaction of n records value prefix-from.. on a transactional client and
// commits or aborts it.
func transact(t *testing.T, cl *kgo.Client, prefix string, from, n int, commit bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: "demo", Value: []byte(fmt.Sprintf("%s%d", prefix, i))}, func(_ *kgo.Record, err error) {
			if err != nil && commit {
				t.Errorf("a record of a committed transaction failed: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("EndTransaction(commit=%v): %v", commit, err)
	}
}

// franz-go's transactional producer commits and aborts transactions through the gateway; a
// read_committed consumer sees the committed records only (the last stable offset and the
// aborted transactions in the fetch answer), a read_uncommitted one sees them all; the
// history completes each record as its transaction ended, and the checker finds the run valid.
func TestTransactionsCommitAndAbort(t *testing.T) {
	srv, stop := serving(t, txnDemo, 10, nil)
	tx := newClient(t, srv, kgo.TransactionalID("tx-1"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ClientID("tx"))
	transact(t, tx, "c", 0, 10, true)
	transact(t, tx, "a", 0, 10, false)
	transact(t, tx, "c", 10, 10, true)
	transact(t, tx, "a", 10, 10, false)
	transact(t, tx, "c", 20, 10, true)
	tx.Close()

	rc := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := consume(t, rc, 30)
	for v, n := range seen {
		if !strings.HasPrefix(v, "c") || n != 1 {
			t.Errorf("read_committed read %s %d times; want committed records once each", v, n)
		}
	}
	ru := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if all := consume(t, ru, 50); len(all) != 50 {
		t.Errorf("read_uncommitted read %d distinct records; want 50, the aborted ones too", len(all))
	}
	rc.Close()
	ru.Close()
	res := stop()
	var committed, aborted int
	for _, op := range res.Cluster.History() {
		if op.Type != history.Send || !strings.HasPrefix(op.Client, "tx#") {
			continue
		}
		switch {
		case op.Outcome == history.OK && op.Txn == history.TxnCommitted && len(op.Offsets) == 1:
			committed++
		case op.Outcome == history.Fail && op.Txn == history.TxnAborted:
			aborted++
		default:
			t.Errorf("transactional send %+v; want committed or aborted", op)
		}
	}
	if committed != 30 || aborted != 20 {
		t.Errorf("the history holds %d committed and %d aborted sends; want 30 and 20", committed, aborted)
	}
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
}

// franz-go's GroupTransactSession reads demo in a group and writes each record to out in a
// transaction that also commits the group's offsets (AddOffsetsToTxn, TxnOffsetCommit): the
// group's commits are in the history once each transaction commits, and the run is valid.
func TestTransactionalOffsetsCommitWithTheTransaction(t *testing.T) {
	srv, stop := serving(t, txnDemo, 10, nil)
	p := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produce(t, p, 0, 60, 0, nil)
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(seeds(srv)...), kgo.TransactionalID("eos-1"), kgo.ConsumerGroup("eos"),
		kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.HeartbeatInterval(100*time.Millisecond), kgo.ClientID("eos"))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	copied := 0
	for copied < 60 && ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := sess.PollFetches(pctx)
		pcancel()
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			sess.Produce(ctx, &kgo.Record{Topic: "out", Value: r.Value}, nil)
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Fatal(err)
		}
		if committed {
			copied += n
		}
	}
	if copied < 60 {
		t.Fatalf("copied %d records in committed transactions; want 60", copied)
	}
	sess.Close()
	p.Close()
	res := stop()
	commits := map[int32]int64{}
	for _, op := range res.Cluster.History() {
		if op.Type == history.Commit && op.Group == "eos" && op.Outcome == history.OK {
			commits[op.Partition] = max(commits[op.Partition], op.Offsets[0])
		}
	}
	if len(commits) != 3 || commits[0]+commits[1]+commits[2] != 60 {
		t.Errorf("group eos's transactional commits %v; want demo's three partitions at their ends (60 records)", commits)
	}
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
}

// Transactions while the leader of demo/0 is killed and restarted: every transaction whose
// commit franz-go reports done is read by a read_committed consumer, none that aborted, and the
// checker finds the run valid.
func TestTransactionsThroughALeaderKill(t *testing.T) {
	srv, stop := serving(t, txnDemo, 10, nil)
	tx := newClient(t, srv, kgo.TransactionalID("tx-k"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ClientID("tx"))
	want := map[string]bool{}
	aborted := map[string]bool{}
	for i := range 20 {
		switch i {
		case 5:
			if err := srv.Exec("kill leader demo/0"); err != nil {
				t.Fatal(err)
			}
		case 12:
			if err := srv.Exec("restart 1"); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := tx.BeginTransaction(); err != nil {
			// franz-go gives up on its producer id when two metadata loads in a row miss the
			// coordinator FindCoordinator named (the brokers' metadata caches disagree for a
			// moment around the restart): the application starts a new producer with the same
			// transactional.id, as Kafka's documentation says to do after a fatal error.
			t.Logf("transaction %d: %v; a new producer takes over tx-k", i, err)
			tx.Close()
			tx = newClient(t, srv, kgo.TransactionalID("tx-k"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ClientID("tx"))
			if err := tx.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
		}
		var vals []string
		for j := range 10 {
			v := fmt.Sprintf("t%d-%d", i, j)
			vals = append(vals, v)
			tx.Produce(ctx, &kgo.Record{Topic: "demo", Value: []byte(v)}, nil)
		}
		commit := i%3 != 2
		ferr := tx.Flush(ctx)
		err := tx.EndTransaction(ctx, kgo.TransactionEndTry(commit && ferr == nil))
		if err != nil && commit {
			commit = false
			err = tx.EndTransaction(ctx, kgo.TryAbort)
		}
		cancel()
		if err != nil {
			t.Fatalf("transaction %d: %v", i, err)
		}
		for _, v := range vals {
			if commit && ferr == nil {
				want[v] = true
			} else {
				aborted[v] = true
			}
		}
	}
	tx.Close()
	rc := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := consume(t, rc, len(want))
	for v := range seen {
		if !want[v] {
			t.Errorf("read_committed read %s, of an aborted transaction", v)
		}
	}
	rc.Close()
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
		if res.Report != nil {
			t.Log(res.Report.Text())
		}
	}
	t.Logf("%d records committed, %d aborted; %s", len(want), len(aborted), Summary(res))
}
