package client

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// The expiry of batches by delivery.timeout.ms, after Kafka's SenderTest: an expired batch is
// failed to the application (Sender.sendProducerData fails the accumulator's and the in-flight
// expired batches with failBatch, adjustSequenceNumbers false) and never sent again; one that
// had been retried leaves its partition's sequences unresolved
// (TransactionManager.markSequenceUnresolved), so no new batch of the partition is drained until
// the batches in flight are done; then maybeResolveSequences either finds the last acknowledged
// sequence right before the next one, or asks for an epoch bump, which
// bumpIdempotentEpochAndResetIdIfNeeded makes at the start of the next sender loop.

// sentBatches lists the ProduceRequests' first batches as epoch/sequence.
func sentBatches(w *world) string {
	var sent []string
	for _, s := range w.produces() {
		b := s.msg.(*protocol.ProduceRequest).Partitions[0].Batch
		sent = append(sent, fmt.Sprintf("e%d/s%d", b.ProducerEpoch, b.BaseSequence))
	}
	return strings.Join(sent, " ")
}

// expiryWorld is a fake cluster of one partition led by broker 1 whose answers come after 1ms
// unless onProduce says otherwise (w.latency).
func expiryWorld(t *testing.T) (*world, *fakeCluster) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	w.handle = func(to int32, msg any) {
		w.latency = ms
		c.handle(to, msg)
	}
	return w, c
}

// Reference: SenderTest.testExpiryOfUnsentBatchesShouldNotCauseUnresolvedSequences. The leader
// cannot be reached (its connection was reset: reconnect.backoff.ms), so the batch is never sent;
// it expires as a failure, with no sequence to resolve: the next batch starts at sequence 0 under
// the same epoch.
func TestExpiryOfUnsentBatchesShouldNotCauseUnresolvedSequences_SenderTest(t *testing.T) {
	w, c := expiryWorld(t)
	p := startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1000",
		"delivery.timeout.ms", "1500", "reconnect.backoff.ms", "5000", "reconnect.backoff.max.ms", "5000"), 0)
	p.Step(w.now, 1, &node.ConnectionReset{Peer: 1})
	w.input(&SendRecords{Count: 1})
	w.runUntil(2 * time.Second)
	if ops := w.ops(); len(ops) != 1 || ops[0].Outcome != history.Fail || ops[0].Error != "DELIVERY_TIMEOUT" {
		t.Fatalf("ops %v; want the record failed by delivery.timeout.ms", ops)
	}
	if e := p.txn.parts[0]; e.unresolved || len(w.produces()) != 0 {
		t.Errorf("unresolved %v after %d requests; want resolved, none sent", e.unresolved, len(w.produces()))
	}
	w.runUntil(7 * time.Second) // the reconnect back-off is over
	w.input(&SendRecords{Count: 1})
	w.runUntil(8 * time.Second)
	if got := sentBatches(w); got != "e0/s0" {
		t.Errorf("batches sent = %s; want e0/s0 (no epoch bump)", got)
	}
	if got := c.values(0); !equal(got, []int64{102}) {
		t.Errorf("log = %v; want [102]", got)
	}
}

// Reference: SenderTest.testExpiryOfFirstBatchShouldNotCauseUnresolvedSequencesIfFutureBatchesSucceed.
// Batch 1 is appended but answered REQUEST_TIMED_OUT (after batch 2 was sent), and expires
// waiting for its retry: its sequence is unresolved, so batch 3 is held back while batch 2 is in
// flight. Batch 2 is acknowledged: the last acknowledged sequence is right before the next, the
// sequences resolve without an epoch bump and batch 3 goes at sequence 2.
func TestExpiryOfFirstBatchShouldNotCauseUnresolvedSequencesIfFutureBatchesSucceed_SenderTest(t *testing.T) {
	w, c := expiryWorld(t)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		switch n {
		case 1:
			w.latency = 1050*ms - w.now // after batch 2 was sent
			return produceAction{err: protocol.REQUEST_TIMED_OUT, append: true}
		case 2:
			w.latency = time.Second
		}
		return produceAction{}
	}
	// The retry back-off (1.6s..2.4s with jitter) outlasts batch 1's delivery.timeout.ms.
	p := startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1400",
		"delivery.timeout.ms", "1500", "retry.backoff.ms", "2000", "retry.backoff.max.ms", "2000"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(1010 * ms)
	w.input(&SendRecords{Count: 1})
	w.runUntil(1600 * ms)
	e := &p.txn.parts[0]
	if ops := w.ops(); len(ops) != 1 || ops[0].Values[0] != 101 || ops[0].Outcome != history.Unknown {
		t.Fatalf("ops %v; want 101 expired (unknown: it may have been appended)", ops)
	}
	if !e.unresolved || len(e.inflight) != 1 {
		t.Errorf("unresolved %v, %d batches unfinished; want unresolved, batch 2 unfinished", e.unresolved, len(e.inflight))
	}
	w.input(&SendRecords{Count: 1})
	w.runUntil(1900 * ms)
	if got := sentBatches(w); got != "e0/s0 e0/s1" {
		t.Errorf("batches sent while unresolved = %s; want e0/s0 e0/s1 (batch 3 held)", got)
	}
	w.runUntil(3 * time.Second)
	if got := sentBatches(w); got != "e0/s0 e0/s1 e0/s2" {
		t.Errorf("batches sent = %s; want e0/s0 e0/s1 e0/s2 (no epoch bump)", got)
	}
	if e.unresolved || p.txn.epoch != 0 {
		t.Errorf("unresolved %v at epoch %d; want resolved at epoch 0", e.unresolved, p.txn.epoch)
	}
	for i, op := range w.ops()[1:] {
		if op.Outcome != history.OK || op.Offsets[0] != int64(i+1) {
			t.Errorf("op %v: %s at %v; want ok at offset %d", op.Values, op.Outcome, op.Offsets, i+1)
		}
	}
}

// Reference: SenderTest.testExpiryOfFirstBatchShouldCauseEpochBumpIfFutureBatchesFail. Batch 1
// is refused (the answer comes after batch 2 was sent) and expires waiting for its retry; batch 2,
// behind it, is answered OUT_OF_ORDER_SEQUENCE_NUMBER (batch 1 never landed). It is the batch
// right after the unresolved sequences, so the gap is real: the epoch is bumped, batch 2 restarts
// at sequence 0 and batch 3, held back meanwhile, follows it.
func TestExpiryOfFirstBatchShouldCauseEpochBumpIfFutureBatchesFail_SenderTest(t *testing.T) {
	w, c := expiryWorld(t)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		switch {
		case n == 1:
			w.latency = 1050*ms - w.now // after batch 2 was sent
			return produceAction{err: protocol.NOT_ENOUGH_REPLICAS}
		case n == 2:
			w.latency = time.Second
			return produceAction{err: protocol.OUT_OF_ORDER_SEQUENCE_NUMBER}
		}
		return produceAction{}
	}
	p := startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1400",
		"delivery.timeout.ms", "1500", "retry.backoff.ms", "2000", "retry.backoff.max.ms", "2000"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(1010 * ms)
	w.input(&SendRecords{Count: 1})
	w.runUntil(1600 * ms)
	e := &p.txn.parts[0]
	if ops := w.ops(); len(ops) != 1 || ops[0].Values[0] != 101 || ops[0].Outcome != history.Fail {
		t.Fatalf("ops %v; want 101 expired (fail: refused before append)", ops)
	}
	if !e.unresolved {
		t.Error("sequences resolved after batch 1 expired; want unresolved")
	}
	w.input(&SendRecords{Count: 1})
	w.runUntil(2020 * ms) // batch 2's answer came at 2.01s
	if p.txn.epoch != 1 || e.nextSeq != 1 || e.unresolved || len(p.acc.queues[0]) != 2 {
		t.Errorf("epoch %d, next sequence %d, unresolved %v, %d batches queued; want epoch 1, next sequence 1 (batch 2 at 0), resolved, 2 queued",
			p.txn.epoch, e.nextSeq, e.unresolved, len(p.acc.queues[0]))
	}
	if got := sentBatches(w); got != "e0/s0 e0/s1" {
		t.Errorf("batches sent = %s; want e0/s0 e0/s1 (batch 3 held while unresolved)", got)
	}
}

// Reference: SenderTest.testExpiryOfAllSentBatchesShouldCauseUnresolvedSequences. The only batch
// is refused, retried, and expires: nobody knows whether its sequence is in the log, and no
// batch is left to tell. The producer bumps its epoch (locally, KIP-360: no InitProducerId) and
// the next batch starts at sequence 0 of the new epoch.
func TestExpiryOfAllSentBatchesShouldCauseUnresolvedSequences_SenderTest(t *testing.T) {
	w, c := expiryWorld(t)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		if n == 1 {
			return produceAction{err: protocol.NOT_ENOUGH_REPLICAS}
		}
		return produceAction{}
	}
	p := startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1000",
		"delivery.timeout.ms", "1500", "retry.backoff.ms", "2000", "retry.backoff.max.ms", "2000"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(1600 * ms)
	if ops := w.ops(); len(ops) != 1 || ops[0].Outcome != history.Fail {
		t.Fatalf("ops %v; want the record expired", ops)
	}
	if e := p.txn.parts[0]; p.txn.epoch != 1 || e.unresolved || p.txn.pid != 1001 || c.pidReqs != 1 {
		t.Errorf("producer %d epoch %d, unresolved %v, %d InitProducerId; want 1001 at epoch 1, resolved, 1", p.txn.pid, p.txn.epoch, e.unresolved, c.pidReqs)
	}
	w.input(&SendRecords{Count: 1})
	w.runUntil(2 * time.Second)
	if got := sentBatches(w); got != "e0/s0 e1/s0" {
		t.Errorf("batches sent = %s; want e0/s0 e1/s0 (the expired batch never again)", got)
	}
}

// Reference: SenderTest.testExpiredBatchDoesNotRetry. A retried batch expires while its request
// is in flight; the request's retriable answer, after that, neither retries nor completes it:
// the record failed to the application once, and nothing more is sent for it.
func TestExpiredBatchDoesNotRetry_SenderTest(t *testing.T) {
	w, c := expiryWorld(t)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		if n == 2 {
			w.latency = 1550*ms - w.now // after the expiry at 1.51s, within request.timeout.ms
		}
		return produceAction{err: protocol.NOT_ENOUGH_REPLICAS}
	}
	// The retry goes at 0.65s..0.97s (retry.backoff.ms with jitter): its request times out after
	// 1.65s, so its answer comes first.
	p := startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1000",
		"delivery.timeout.ms", "1500", "retry.backoff.ms", "800", "retry.backoff.max.ms", "800"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(5 * time.Second)
	if got := sentBatches(w); got != "e0/s0 e0/s0" {
		t.Errorf("batches sent = %s; want e0/s0 e0/s0 (the attempt and one retry)", got)
	}
	ops := w.ops()
	if len(ops) != 1 || ops[0].Outcome != history.Unknown || ops[0].Complete != 1510*ms {
		t.Fatalf("ops %v; want one, unknown (the retry was in flight), at the expiry 1.51s", ops)
	}
	if len(w.closed) != 0 || len(p.sender.inflight) != 0 || len(p.acc.queues[0]) != 0 {
		t.Errorf("closed %v, %d requests in flight, %d batches queued; want none", w.closed, len(p.sender.inflight), len(p.acc.queues[0]))
	}
}

// Reference: SenderTest.testInflightBatchesExpireOnDeliveryTimeout. The answer to a batch in
// flight comes after its delivery.timeout.ms: the application was told of the timeout when it
// passed (the record's outcome is unknown), and the late acknowledgment still moves the
// partition's last acknowledged sequence (Sender.completeBatch, handleCompletedBatch), so the
// next batch follows at the next sequence under the same epoch. Batch 2 waits for batch 1's
// answer (max.in.flight.requests.per.connection=1), so its request times out after it expires.
func TestInflightBatchesExpireOnDeliveryTimeout_SenderTest(t *testing.T) {
	w, c := expiryWorld(t)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		switch n {
		case 1:
			w.latency = 490 * ms
		case 2:
			w.latency = 1600*ms - w.now // after the expiry at 1.51s, within request.timeout.ms
		}
		return produceAction{}
	}
	p := startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1500",
		"delivery.timeout.ms", "1500", "max.in.flight.requests.per.connection", "1"), 0)
	w.input(&SendRecords{Count: 2})
	w.runUntil(1700 * ms)
	ops := w.ops()
	if len(ops) != 2 || ops[1].Values[0] != 102 || ops[1].Outcome != history.Unknown || ops[1].Complete != 1510*ms {
		t.Fatalf("ops %v; want 102 expired at 1.51s, unknown", ops)
	}
	if e := p.txn.parts[0]; e.lastAckedSeq != 1 || e.unresolved {
		t.Errorf("last acknowledged sequence %d, unresolved %v; want 1 (the late acknowledgment), resolved", e.lastAckedSeq, e.unresolved)
	}
	w.input(&SendRecords{Count: 1})
	w.runUntil(2 * time.Second)
	if got := sentBatches(w); got != "e0/s0 e0/s1 e0/s2" {
		t.Errorf("batches sent = %s; want e0/s0 e0/s1 e0/s2", got)
	}
	if len(w.closed) != 0 {
		t.Errorf("connections closed to %v; want none", w.closed)
	}
}
