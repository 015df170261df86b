package client

import (
	"math"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// Producer id states.
const (
	pidNone = iota
	pidRequesting
	pidReady
)

// noLastAcked is TxnPartitionEntry.NO_LAST_ACKED_SEQUENCE_NUMBER.
const noLastAcked int32 = -1

// partitionSequences is Java's TxnPartitionEntry, with the partition's place in
// TransactionManager's partitionsWithUnresolvedSequences and partitionsToRewriteSequences: the
// producer id and epoch its sequences belong to, the base sequence of the next batch, the last
// acknowledged sequence and offset, and the batches holding a sequence that are not done (sent
// at least once, in flight or waiting to be retried), ordered by (producer id, epoch, sequence).
type partitionSequences struct {
	pid             int64
	epoch           int16
	nextSeq         int32
	lastAckedSeq    int32 // noLastAcked when none
	lastAckedOffset int64 // -1 when none
	inflight        []*pbatch

	unresolved     bool  // in partitionsWithUnresolvedSequences
	unresolvedNext int32 // its value there: the sequence expected after the unresolved batches
	rewrite        bool  // in partitionsToRewriteSequences
}

func newPartitionSequences() partitionSequences {
	return partitionSequences{pid: protocol.NoProducerID, epoch: -1, lastAckedSeq: noLastAcked, lastAckedOffset: -1}
}

// transactionManager is the idempotent producer's state: the idempotence part of Java's
// TransactionManager (KIP-98, KIP-360), which it follows method by method. The producer id and
// epoch come from InitProducerId; an OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID that
// shows a real gap in the partition's sequences makes the producer bump its epoch locally and
// restart the sequences of the partition's unfinished batches at 0, which are then retried, not
// failed (KIP-360: canRetry, requestEpochBumpForPartition,
// bumpIdempotentEpochAndResetIdIfNeeded). Without enable.idempotence it stays empty and never
// holds the sender back.
type transactionManager struct {
	enabled bool
	state   int
	pid     int64
	epoch   int16
	corr    int64         // InitProducerId in flight
	to      int32         // the broker it went to
	after   time.Duration // no new InitProducerId before (retry.backoff.ms after an error)

	epochBumpRequired bool
	parts             []partitionSequences
	unresolved        int // how many parts are unresolved: maybeResolveSequences walks none while 0
}

func newTransactionManager(cfg *config.Producer) transactionManager {
	return transactionManager{enabled: cfg.EnableIdempotence, pid: protocol.NoProducerID, epoch: -1}
}

// grow adds sequence state for partitions metadata newly learnt of.
func (t *transactionManager) grow(n int) {
	for len(t.parts) < n {
		t.parts = append(t.parts, newPartitionSequences())
	}
}

// ready reports whether batches may be sent: idempotence off, or a producer id in hand.
func (t *transactionManager) ready() bool { return !t.enabled || t.state == pidReady }

// maybeInit sends InitProducerId when idempotence wants a producer id and none is asked for.
func (t *transactionManager) maybeInit(now time.Duration, net *netClient, meta *topicMeta, timeout time.Duration) {
	if !t.enabled || t.state != pidNone {
		return
	}
	if now < t.after {
		net.w.at(net.env, now, t.after)
	} else if to := meta.pick(net.env, now, t.to); to >= 0 {
		net.corr++
		t.corr, t.to, t.state = net.corr, to, pidRequesting
		net.env.Send(to, &protocol.InitProducerIdRequest{CorrelationID: net.corr, ProducerID: t.pid, ProducerEpoch: t.epoch})
		net.tmo.add(net.env, now, timeout, net.corr)
	}
}

// requesting reports whether InitProducerId is in flight to peer.
func (t *transactionManager) requesting(peer int32) bool {
	return t.state == pidRequesting && t.to == peer
}

// timedOut handles the timeout of request corr; it reports whether corr was ours.
func (t *transactionManager) timedOut(corr int64) bool {
	if corr != t.corr || t.state != pidRequesting {
		return false
	}
	t.state, t.corr = pidNone, 0
	return true
}

// onInitProducerID takes the producer id and epoch (InitProducerIdHandler.handleResponse); each
// partition restarts its sequences at 0 when it next drains a batch with no batch of the old id
// unfinished (maybeUpdateProducerIdAndEpoch). It reports whether the error asks for fresh
// metadata.
func (t *transactionManager) onInitProducerID(now, backoff time.Duration, r *protocol.InitProducerIdResponse) (refresh bool) {
	if r.CorrelationID != t.corr || t.state != pidRequesting {
		return false
	}
	t.corr = 0
	if r.Error != protocol.NONE {
		t.state, t.after = pidNone, now+backoff
		return r.Error.RefreshesMetadata()
	}
	t.pid, t.epoch, t.state = r.ProducerID, r.ProducerEpoch, pidReady
	return false
}

// requestEpochBumpForPartition is TransactionManager.requestEpochBumpForPartition: the next
// run of the sender bumps the epoch and rewrites part's sequences.
func (t *transactionManager) requestEpochBumpForPartition(part int32) {
	t.epochBumpRequired = true
	t.parts[part].rewrite = true
}

// bumpIdempotentEpochAndResetIdIfNeeded is TransactionManager's method of that name, run at the
// start of every sender loop: a requested bump increments the epoch locally (KIP-360; no
// request to the broker) and restarts the sequences of the partitions that asked for it; a
// producer without an id asks for one.
func (t *transactionManager) bumpIdempotentEpochAndResetIdIfNeeded(now time.Duration, net *netClient, meta *topicMeta, timeout time.Duration) {
	if !t.enabled {
		return
	}
	if t.epochBumpRequired {
		t.bumpIdempotentProducerEpoch()
	}
	t.maybeInit(now, net, meta, timeout)
}

// bumpIdempotentProducerEpoch: epoch+1, or a new producer id once the epoch is exhausted
// (resetIdempotentProducerId); the sequences of every partition that asked for the bump restart
// at 0 under the new epoch, their unfinished batches first (startSequencesAtBeginning).
func (t *transactionManager) bumpIdempotentProducerEpoch() {
	if t.epoch == math.MaxInt16 {
		t.pid, t.epoch, t.state = protocol.NoProducerID, -1, pidNone
	} else {
		t.epoch++
	}
	for i := range t.parts {
		e := &t.parts[i]
		if e.rewrite {
			e.startSequencesAtBeginning(t.pid, t.epoch)
			t.resolved(e)
			e.rewrite = false
		}
	}
	t.epochBumpRequired = false
}

// startSequencesAtBeginning is TxnPartitionEntry.startSequencesAtBeginning: the unfinished
// batches get sequences from 0 in their order under the new id and epoch
// (ProducerBatch.resetProducerState), and the next batch follows them.
func (e *partitionSequences) startSequencesAtBeginning(pid int64, epoch int16) {
	var seq int32
	for _, b := range e.inflight {
		b.resetProducerState(pid, epoch, seq)
		seq += int32(b.n)
	}
	e.pid, e.epoch, e.nextSeq, e.lastAckedSeq = pid, epoch, seq, noLastAcked
}

// stale is hasStaleProducerIdAndEpoch: part's sequences belong to another id or epoch.
func (t *transactionManager) stale(part int32) bool {
	e := &t.parts[part]
	return e.pid != t.pid || e.epoch != t.epoch
}

// shouldStopDrain is the TransactionManager half of RecordAccumulator's
// shouldStopDrainBatchesForPartition: no batch without a producer id; no new batch while the
// partition has unfinished batches of an older epoch or unresolved sequences; and a retried
// batch only as the partition's lowest unfinished sequence (which keeps one request in flight
// while a partition retries).
func (t *transactionManager) shouldStopDrain(first *pbatch) bool {
	if !t.enabled {
		return false
	}
	if t.state != pidReady {
		return true
	}
	e := &t.parts[first.part]
	if first.seq < 0 {
		if len(e.inflight) > 0 && t.stale(first.part) {
			return true
		}
		if e.unresolved {
			return true
		}
	}
	return len(e.inflight) > 0 && first.seq >= 0 && first.seq != e.inflight[0].seq
}

// assignSequence gives b the producer id, epoch and next sequence of its partition when it is
// drained the first time (RecordAccumulator.drainBatchesForOneNode), restarting the partition's
// sequences first if the producer id or epoch changed and nothing of the old one is unfinished
// (maybeUpdateProducerIdAndEpoch). A batch that has a sequence keeps it: the earlier attempt may
// have been appended. It reports whether b got a new one.
func (t *transactionManager) assignSequence(b *pbatch) bool {
	if !t.enabled || b.seq >= 0 {
		return false
	}
	e := &t.parts[b.part]
	if t.stale(b.part) && len(e.inflight) == 0 {
		e.startSequencesAtBeginning(t.pid, t.epoch)
	}
	b.pid, b.pepoch, b.seq = t.pid, t.epoch, e.nextSeq
	e.nextSeq += int32(b.n)
	e.inflight = append(e.inflight, b) // sequences grow: the order holds
	return true
}

// handleCompletedBatch: b was acknowledged; the last acknowledged sequence and offset move up.
func (t *transactionManager) handleCompletedBatch(b *pbatch, base int64) {
	if !t.enabled || b.seq < 0 {
		return
	}
	e := &t.parts[b.part]
	if b.pid == e.pid && b.pepoch == e.epoch {
		e.lastAckedSeq = max(e.lastAckedSeq, b.lastSeq())
	}
	if base >= 0 {
		e.lastAckedOffset = max(e.lastAckedOffset, base+int64(b.n)-1)
	}
	t.removeInFlightBatch(b)
}

// handleFailedBatch: b ended in error. An OUT_OF_ORDER_SEQUENCE_NUMBER leaves a gap in the
// log: bump the epoch and restart the partition's sequences; UNKNOWN_PRODUCER_ID: forget the
// partition's sequences (resetSequenceForPartition); any other error bumps too when
// adjustSequenceNumbers says the batch's sequence may be reused (it did not exhaust its
// retries), since later batches would otherwise be out of order.
func (t *transactionManager) handleFailedBatch(b *pbatch, err protocol.ErrorCode, adjustSequenceNumbers bool) {
	if !t.enabled {
		return
	}
	t.removeInFlightBatch(b)
	switch {
	case err == protocol.OUT_OF_ORDER_SEQUENCE_NUMBER:
		t.requestEpochBumpForPartition(b.part)
	case err == protocol.UNKNOWN_PRODUCER_ID:
		rewrite := t.parts[b.part].rewrite
		t.parts[b.part] = newPartitionSequences()
		t.parts[b.part].rewrite = rewrite
	case adjustSequenceNumbers:
		t.requestEpochBumpForPartition(b.part)
	}
}

// canRetry is TransactionManager.canRetry for the idempotent producer (KIP-360).
// UNKNOWN_PRODUCER_ID is always retried, with an epoch bump unless the batch's sequence was
// already reset or the broker did not say its log start offset. OUT_OF_ORDER_SEQUENCE_NUMBER is
// retried as it is while an earlier batch may still fill the gap (the batch is not the next
// after the last acknowledged one, or its sequence was reset); when it is the next one (or the
// one right after the unresolved sequences), the gap is real: retried after an epoch bump.
// Otherwise a retriable error is retried.
func (t *transactionManager) canRetry(err protocol.ErrorCode, b *pbatch, logStartOffset int64) bool {
	e := &t.parts[b.part]
	switch err {
	case protocol.UNKNOWN_PRODUCER_ID:
		if logStartOffset == -1 || b.reopened {
			return true
		}
		// The head of the log was removed (retention: lastAckedOffset < logStartOffset) or the
		// state was lost: either way the idempotent producer bumps its epoch.
		t.requestEpochBumpForPartition(b.part)
		return true
	case protocol.OUT_OF_ORDER_SEQUENCE_NUMBER:
		if !e.unresolved && (b.reopened || !t.isNextSequence(b.part, b.seq)) {
			return true
		}
		if !e.unresolved || t.isNextSequenceForUnresolvedPartition(b.part, b.seq) {
			t.requestEpochBumpForPartition(b.part)
		}
		return true
	}
	return err.Retriable()
}

// markSequenceUnresolved: b expired after it was retried, so nobody knows whether its sequence
// is in the log; no new batch of the partition is drained until its unfinished batches are done
// (maybeResolveSequences).
func (t *transactionManager) markSequenceUnresolved(b *pbatch) {
	if !t.enabled || b.seq < 0 {
		return
	}
	e := &t.parts[b.part]
	next := b.lastSeq() + 1
	if !e.unresolved || next > e.unresolvedNext {
		e.unresolvedNext = next
	}
	if !e.unresolved {
		t.unresolved++
	}
	e.unresolved = true
}

// resolved clears e's unresolved mark.
func (t *transactionManager) resolved(e *partitionSequences) {
	if e.unresolved {
		t.unresolved--
	}
	e.unresolved = false
}

// maybeResolveSequences runs at the start of every sender loop: a partition with unresolved
// sequences and no unfinished batch is resolved if its last acknowledged sequence is right
// before the next one, else its epoch is bumped and its sequences restart.
func (t *transactionManager) maybeResolveSequences() {
	for i := 0; i < len(t.parts) && t.unresolved > 0; i++ {
		e := &t.parts[i]
		if !e.unresolved || len(e.inflight) > 0 {
			continue
		}
		if !t.isNextSequence(int32(i), e.nextSeq) {
			t.requestEpochBumpForPartition(int32(i))
		}
		t.resolved(e)
	}
}

// isNextSequence: seq comes right after the partition's last acknowledged sequence.
func (t *transactionManager) isNextSequence(part, seq int32) bool {
	return seq-t.parts[part].lastAckedSeq == 1
}

func (t *transactionManager) isNextSequenceForUnresolvedPartition(part, seq int32) bool {
	e := &t.parts[part]
	return e.unresolved && seq == e.unresolvedNext
}

// removeInFlightBatch forgets b's sequence (b is done).
func (t *transactionManager) removeInFlightBatch(b *pbatch) {
	if b.part < 0 || int(b.part) >= len(t.parts) {
		return
	}
	e := &t.parts[b.part]
	for i, o := range e.inflight {
		if o == b {
			e.inflight = append(e.inflight[:i], e.inflight[i+1:]...)
			return
		}
	}
}
