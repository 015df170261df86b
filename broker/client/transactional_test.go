package client

import (
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// CompletedFetch.nextFetchedRecord consumes the aborted transactions up to each batch's last
// offset before it looks at the batch, markers included. An answer that starts at an aborted
// transaction's ABORT marker (the consumer stopped at the LSO just before it) lists that
// transaction; the marker closes it, and the next transaction of the same producer, committed,
// is read. Taking the marker first dropped that committed transaction (nemesis seed 9, TV2).
func TestReadCommittedAnswerStartingAtAbortMarker(t *testing.T) {
	txnBatch := func(base int64, n int) *protocol.RecordBatch {
		b := &protocol.RecordBatch{BaseOffset: base, ProducerID: 0, ProducerEpoch: 61, BaseSequence: 0, Transactional: true}
		for range n {
			b.Records = append(b.Records, protocol.Record{Value: base})
		}
		return b
	}
	marker := func(base int64, key string) *protocol.RecordBatch {
		return &protocol.RecordBatch{BaseOffset: base, ProducerID: 0, ProducerEpoch: 61, BaseSequence: protocol.NoSequence, Control: true, Transactional: true,
			Records: []protocol.Record{{Key: key}}}
	}
	pr := &protocol.FetchPartitionResponse{
		Batches:             []*protocol.RecordBatch{marker(263, protocol.MarkerAbort), txnBatch(264, 4), marker(268, protocol.MarkerCommit)},
		AbortedTransactions: []protocol.AbortedTransaction{{ProducerID: 0, FirstOffset: 260}},
	}
	if skip := abortedBatches(pr); skip[1] {
		t.Errorf("the committed transaction at 264 after the ABORT marker at 263 was dropped")
	}
	pr.Batches = []*protocol.RecordBatch{txnBatch(260, 3), marker(263, protocol.MarkerAbort), txnBatch(264, 4)}
	if skip := abortedBatches(pr); !skip[0] || skip[2] {
		t.Errorf("skip %v; want the aborted transaction at 260 dropped and 264 kept", skip)
	}
}

// fakeTxnCoordinator answers FindCoordinator (node 1), InitProducerId and EndTxn for a
// transactional producer, failing the first initErrors InitProducerIds with
// COORDINATOR_LOAD_IN_PROGRESS; the fake cluster answers the rest.
type fakeTxnCoordinator struct {
	c          *fakeCluster
	initErrors int
	ends       []bool // EndTxn's Committed, in order
	epoch      int16
}

func newFakeTxnCoordinator(c *fakeCluster, initErrors int) *fakeTxnCoordinator {
	f := &fakeTxnCoordinator{c: c, initErrors: initErrors}
	c.w.handle = f.handle
	return f
}

func (f *fakeTxnCoordinator) handle(to int32, msg any) {
	w := f.c.w
	switch m := msg.(type) {
	case *protocol.FindCoordinatorRequest:
		w.reply(to, &protocol.FindCoordinatorResponse{CorrelationID: m.CorrelationID, NodeID: 1})
	case *protocol.InitProducerIdRequest:
		if f.initErrors > 0 {
			f.initErrors--
			w.reply(to, &protocol.InitProducerIdResponse{CorrelationID: m.CorrelationID, Error: protocol.COORDINATOR_LOAD_IN_PROGRESS})
			return
		}
		w.reply(to, &protocol.InitProducerIdResponse{CorrelationID: m.CorrelationID, ProducerID: 7, ProducerEpoch: f.epoch})
	case *protocol.EndTxnRequest:
		f.ends = append(f.ends, m.Committed)
		f.epoch++
		w.reply(to, &protocol.EndTxnResponse{CorrelationID: m.CorrelationID, ProducerID: 7, ProducerEpoch: f.epoch})
	default:
		f.c.handle(to, msg)
	}
}

func txnProducer(t *testing.T, w *world) *Producer {
	t.Helper()
	p := NewProducer(ProducerOptions{Name: "p1", Topic: "t", Config: producerConfig(t, "transactional.id", "t1"), ValueBase: 100, Bootstrap: []int32{1}}, w.env(), w.now)
	w.node = p
	return p
}

// Reference: TransactionManager (InitProducerIdHandler retried after retry.backoff.ms on
// COORDINATOR_LOAD_IN_PROGRESS). A transactional producer with no rate retries by itself:
// its wake for the retry is asked again after an earlier wake (metadata's) fired. It used to
// wait for its next record, so a transaction begun by hand never started.
func TestTransactionalProducerRetriesWithoutARate(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 2, 1)
	f := newFakeTxnCoordinator(c, 1)
	p := txnProducer(t, w)
	w.input(&TxnControl{Op: TxnBegin})
	w.input(&SendRecords{Count: 4})
	// Another part of the client (metadata, say) wants a wake before the retry is due: the
	// waker keeps that one only.
	w.runUntil(ms + ms/2)
	p.net.w.at(p.net.env, w.now, 50*ms)
	w.runUntil(time.Second)
	if n := len(w.produces()); n != 2 || f.initErrors != 0 {
		t.Fatalf("%d produce requests a second after the begin (InitProducerId failed first); want 2, one per partition", n)
	}
	w.input(&TxnControl{Op: TxnCommit})
	w.runUntil(2 * time.Second)
	if len(f.ends) != 1 || !f.ends[0] || p.Stats().Committed != 1 {
		t.Fatalf("EndTxn %v, committed %d; want one commit", f.ends, p.Stats().Committed)
	}
}

// Reference: KafkaProducer.beginTransaction, commitTransaction, abortTransaction. A
// transaction driven by hand holds every record sent between begin and its end: the records
// go out as they are sent (a second send in more batches, sequences continuing), it stays open
// while nothing is asked, and commit or abort ends it with one EndTxn; a transaction with no
// record ends with none.
func TestTransactionDrivenByHand(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 2, 1)
	f := newFakeTxnCoordinator(c, 0)
	p := txnProducer(t, w)
	w.input(&TxnControl{Op: TxnBegin})
	w.input(&SendRecords{Count: 4})
	w.runUntil(time.Second)
	w.input(&SendRecords{Count: 2})
	w.runUntil(2 * time.Second)
	if got := len(c.values(0)) + len(c.values(1)); got != 6 || len(f.ends) != 0 {
		t.Fatalf("%d records in the logs, EndTxn %v; want all 6 written, the transaction open", got, f.ends)
	}
	for part := range int32(2) {
		seq := int32(0)
		for _, b := range c.logs[part] {
			if b.BaseSequence != seq || !b.Transactional {
				t.Errorf("partition %d batch at sequence %d (transactional %v); want %d", part, b.BaseSequence, b.Transactional, seq)
			}
			seq += int32(b.Len())
		}
	}
	if !p.HandTransaction() {
		t.Error("the transaction is not open")
	}
	w.input(&TxnControl{Op: TxnAbort})
	w.runUntil(3 * time.Second)
	if len(f.ends) != 1 || f.ends[0] || p.Stats().Aborted != 1 || p.HandTransaction() {
		t.Fatalf("EndTxn %v, aborted %d, open %v; want one abort, closed", f.ends, p.Stats().Aborted, p.HandTransaction())
	}
	for _, op := range w.ops() {
		if op.Outcome != history.Fail || op.Txn != history.TxnAborted {
			t.Errorf("op %v: %s %v; want fail, aborted", op.Values, op.Outcome, op.Txn)
		}
	}
	// The next transaction: begun, committed with no record: no EndTxn.
	w.input(&TxnControl{Op: TxnBegin})
	w.input(&TxnControl{Op: TxnCommit})
	w.runUntil(4 * time.Second)
	if len(f.ends) != 1 || p.HandTransaction() {
		t.Errorf("EndTxn %v, open %v after an empty transaction; want no EndTxn, closed", f.ends, p.HandTransaction())
	}
	// Commit with none open is ignored.
	w.input(&TxnControl{Op: TxnCommit})
	w.input(&SendRecords{Count: 1})
	w.input(&TxnControl{Op: TxnBegin})
	w.runUntil(5 * time.Second)
	if len(f.ends) != 1 {
		t.Errorf("EndTxn %v; want none more", f.ends)
	}
}

// Reference: NetworkClient (InFlightRequests.completeNext), as for the idempotent producer
// (TestAnswerOvertakingAnEarlierOneBreaksTheConnection_InFlightRequestsCompleteNext): the
// transaction's batch for partition 0 is appended but its answer lost, and the answer for
// partition 1's, sent after it to the same leader, comes. The producer takes the connection
// as broken: it closes it and sends both batches again under their sequences, deduplicated by
// the leader, and commits; it does not wait request.timeout.ms for the lost answer.
func TestTransactionalAnswerOvertakingAnEarlierOneBreaksTheConnection(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 2, 1)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		return produceAction{drop: n == 1} // appended; the answer is lost
	}
	f := newFakeTxnCoordinator(c, 0)
	p := txnProducer(t, w)
	w.input(&TxnControl{Op: TxnBegin})
	w.input(&SendRecords{Count: 2})
	w.input(&TxnControl{Op: TxnCommit})
	w.runUntil(time.Second) // request.timeout.ms is 30s
	if len(w.closed) != 1 || w.closed[0] != 1 {
		t.Errorf("connections closed: %v; want the one to broker 1, once", w.closed)
	}
	if n := len(w.produces()); n != 4 {
		t.Errorf("%d produce requests; want 4 (both batches sent twice)", n)
	}
	if len(f.ends) != 1 || !f.ends[0] || p.Stats().Committed != 1 {
		t.Fatalf("EndTxn %v, committed %d within a second; want one commit", f.ends, p.Stats().Committed)
	}
	for part := range int32(2) {
		if got := c.values(part); len(got) != 1 {
			t.Errorf("partition %d holds %v; want its record once", part, got)
		}
	}
	for _, op := range w.ops() {
		if op.Outcome != history.OK || op.Txn != history.TxnCommitted {
			t.Errorf("op %v: %s %v; want ok, committed", op.Values, op.Outcome, op.Txn)
		}
	}
}

// Reference: TransactionManager.EndTxnHandler and Sender.completeBatch. The answer to EndTxn
// (commit) is lost with its connection, and the retry is answered PRODUCER_FENCED: the
// coordinator may have committed the transaction before the fence (a new coordinator completes
// one it loaded in PrepareCommit; a newer instance's InitProducerId completes it too), so the
// records' outcome is unknown, not failed (Java's commitTransaction throws
// ProducerFencedException while the acknowledged sends' futures have completed). A first
// EndTxn answered PRODUCER_FENCED committed nothing: its records fail.
func TestFencedAfterUnansweredCommitIsIndeterminate(t *testing.T) {
	for _, lose := range []bool{true, false} {
		w := newWorld(t)
		c := newFakeCluster(w, 2, 1)
		f := newFakeTxnCoordinator(c, 0)
		ends := 0
		w.handle = func(to int32, msg any) {
			m, ok := msg.(*protocol.EndTxnRequest)
			if !ok {
				f.handle(to, msg)
				return
			}
			ends++
			if lose && ends == 1 {
				w.push(w.now+w.latency, to, &node.ConnectionReset{Peer: to}) // the coordinator died
				return
			}
			w.reply(to, &protocol.EndTxnResponse{CorrelationID: m.CorrelationID, Error: protocol.PRODUCER_FENCED, ProducerID: protocol.NoProducerID, ProducerEpoch: -1})
		}
		txnProducer(t, w)
		w.input(&TxnControl{Op: TxnBegin})
		w.input(&SendRecords{Count: 2})
		w.input(&TxnControl{Op: TxnCommit})
		w.runUntil(5 * time.Second)
		want, wantEnds := history.Fail, 1
		if lose {
			want, wantEnds = history.Unknown, 2
		}
		if ends != wantEnds {
			t.Fatalf("lost answer %v: %d EndTxn; want %d", lose, ends, wantEnds)
		}
		ops := w.ops()
		if len(ops) != 2 {
			t.Fatalf("lost answer %v: %d ops; want 2", lose, len(ops))
		}
		for _, op := range ops {
			if op.Outcome != want || op.Txn == history.TxnCommitted || (want == history.Unknown && op.Txn != "") {
				t.Errorf("lost answer %v: op %v: %s %q; want %s", lose, op.Values, op.Outcome, op.Txn, want)
			}
		}
	}
}

// Reference: TransactionManager.EndTxnHandler: INVALID_TXN_STATE is fatal, not retried (the
// coordinator refused the transition: a stale one, say, whose __transaction_state partition has
// a new leader holding the transaction Ongoing). The transaction's records fail, and the
// producer starts over as a new one would, with InitProducerId, whose bump aborts the
// transaction at the new coordinator. It used to send EndTxn again every retry.backoff.ms.
func TestEndTxnInvalidTxnStateIsFatal(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 2, 1)
	f := newFakeTxnCoordinator(c, 0)
	ends, inits := 0, 0
	w.handle = func(to int32, msg any) {
		switch m := msg.(type) {
		case *protocol.EndTxnRequest:
			ends++
			w.reply(to, &protocol.EndTxnResponse{CorrelationID: m.CorrelationID, Error: protocol.INVALID_TXN_STATE, ProducerID: protocol.NoProducerID, ProducerEpoch: -1})
		case *protocol.InitProducerIdRequest:
			inits++
			f.handle(to, msg)
		default:
			f.handle(to, msg)
		}
	}
	txnProducer(t, w)
	w.input(&TxnControl{Op: TxnBegin})
	w.input(&SendRecords{Count: 2})
	w.input(&TxnControl{Op: TxnCommit})
	w.runUntil(5 * time.Second)
	if ends != 1 || inits != 2 {
		t.Fatalf("%d EndTxn, %d InitProducerId; want one EndTxn, then a second InitProducerId", ends, inits)
	}
	ops := w.ops()
	if len(ops) != 2 {
		t.Fatalf("%d ops; want 2", len(ops))
	}
	for _, op := range ops {
		if op.Outcome != history.Fail || op.Error != "INVALID_TXN_STATE" {
			t.Errorf("op %v: %s %s; want fail INVALID_TXN_STATE", op.Values, op.Outcome, op.Error)
		}
	}
}

// A transaction's batch whose records run one after another (one partition, keyless) is sent
// in the compact form; over two partitions the round-robin spreads every other value to each,
// and the batches stay explicit.
func TestTransactionalBatchesCompactWhenTheyRun(t *testing.T) {
	for _, parts := range []int{1, 2} {
		w := newWorld(t)
		c := newFakeCluster(w, parts, 1)
		newFakeTxnCoordinator(c, 0)
		txnProducer(t, w)
		w.input(&TxnControl{Op: TxnBegin})
		w.input(&SendRecords{Count: 4})
		w.runUntil(time.Second)
		var got []int64
		for _, s := range w.produces() {
			for _, pp := range s.msg.(*protocol.ProduceRequest).Partitions {
				if pp.Batch.Compact() != (parts == 1) {
					t.Errorf("%d partitions: batch %v compact %v; want %v", parts, pp.Batch.AppendRecords(nil), pp.Batch.Compact(), parts == 1)
				}
				for i := range pp.Batch.Len() {
					got = append(got, pp.Batch.Value(i))
				}
			}
		}
		if len(got) != 4 {
			t.Errorf("%d partitions: sent values %v; want 4", parts, got)
		}
	}
}
