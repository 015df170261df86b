package log

import (
	"math"

	"kafkasim/broker/protocol"
)

// numBatchesToRetain is ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the broker remembers the
// last five batches of each producer, which is why an idempotent producer may have at most
// five requests in flight (max.in.flight.requests.per.connection ≤ 5).
const numBatchesToRetain = 5

// noProducerEpoch is RecordBatch.NO_PRODUCER_EPOCH.
const noProducerEpoch int16 = -1

// batchMeta is Kafka's BatchMetadata: the sequence range of an appended batch and where it went.
type batchMeta struct {
	firstSeq, lastSeq      int32
	baseOffset, lastOffset int64
}

// producerEntry is Kafka's ProducerStateEntry.
type producerEntry struct {
	epoch int16
	// currentTxnFirstOffset is ProducerStateEntry.currentTxnFirstOffset: the offset of the
	// first record of the producer's ongoing transaction, -1 with none.
	currentTxnFirstOffset int64
	// coordinatorEpoch is ProducerStateEntry.coordinatorEpoch: the coordinator epoch of the
	// producer's last transaction marker, -1 with none.
	coordinatorEpoch int32
	n                int // retained batches, oldest first in batches[:n]
	batches          [numBatchesToRetain]batchMeta
}

// lastOffset is the offset of the producer's last appended record, -1 with no batch retained.
func (e *producerEntry) lastOffset() int64 {
	if e.n == 0 {
		return -1
	}
	return e.batches[e.n-1].lastOffset
}

func (e *producerEntry) lastSeq() int32 {
	if e.n == 0 {
		return protocol.NoSequence
	}
	return e.batches[e.n-1].lastSeq
}

// maybeUpdateEpoch is ProducerStateEntry.maybeUpdateProducerEpoch: a new epoch forgets the
// batches of the old one.
func (e *producerEntry) maybeUpdateEpoch(epoch int16) {
	if e.epoch != epoch {
		e.epoch = epoch
		e.n = 0
	}
}

func (e *producerEntry) push(m batchMeta) {
	if e.n == numBatchesToRetain {
		copy(e.batches[:], e.batches[1:])
		e.n--
	}
	e.batches[e.n] = m
	e.n++
}

// findDuplicate is ProducerStateEntry.findDuplicateBatch: a batch of the same epoch with the
// same sequence range as a retained one.
func (e *producerEntry) findDuplicate(b *protocol.RecordBatch) (batchMeta, bool) {
	if b.ProducerEpoch != e.epoch {
		return batchMeta{}, false
	}
	first, last := b.BaseSequence, b.LastSequence()
	for i := 0; i < e.n; i++ {
		if e.batches[i].firstSeq == first && e.batches[i].lastSeq == last {
			return e.batches[i], true
		}
	}
	return batchMeta{}, false
}

// inSequence is ProducerStateManager's rule: the next sequence follows the last, wrapping at
// Int32.MaxValue.
func inSequence(lastSeq, nextSeq int32) bool {
	return int64(nextSeq) == int64(lastSeq)+1 || (nextSeq == 0 && lastSeq == math.MaxInt32)
}

// producerState is the ProducerStateManager of one partition, with the partition's
// aborted-transaction index (Kafka keeps it per segment in TransactionIndex).
type producerState struct {
	producers map[int64]*producerEntry
	aborted   []abortedTxn // in the order of their markers
	ongoing   int          // producers with a transaction ongoing: firstUnstableOffset walks none while 0
}

// abortedTxn is Kafka's AbortedTxn: a producer's aborted transaction from firstOffset to its
// ABORT marker at lastOffset.
type abortedTxn struct {
	pid                     int64
	firstOffset, lastOffset int64
}

func (p *producerState) reset() {
	clear(p.producers)
	p.aborted = p.aborted[:0]
	p.ongoing = 0
}

func (p *producerState) entry(pid int64) *producerEntry {
	e := p.producers[pid]
	if e == nil {
		e = &producerEntry{epoch: noProducerEpoch, currentTxnFirstOffset: -1, coordinatorEpoch: -1}
		p.producers[pid] = e
	}
	return e
}

// checkClient validates an append from a client (origin CLIENT) in ProducerAppendInfo's order:
// duplicate (ProducerStateEntry.findDuplicateBatch: return the original offsets, append nothing),
// then checkProducerEpoch, then checkSequence. neverWritten says the log has never held a
// record. It changes nothing.
func (p *producerState) checkClient(b *protocol.RecordBatch, neverWritten bool) (dup batchMeta, isDup bool, err protocol.ErrorCode) {
	e := p.producers[b.ProducerID]
	if e == nil || e.epoch == noProducerEpoch {
		// Unknown producer (never seen, or every batch deleted by retention): any sequence
		// (KIP-360), except on a log that has never held a record, which takes only sequence
		// 0 (KAFKA-15591). Otherwise a batch that overtook an earlier one refused by a
		// previous leader (NOT_LEADER_OR_FOLLOWER) would be appended first, and the earlier
		// one, out of order from then on, would be lost or, after the producer's epoch bump,
		// appended after it.
		if neverWritten && b.BaseSequence != 0 {
			return batchMeta{}, false, protocol.OUT_OF_ORDER_SEQUENCE_NUMBER
		}
		return batchMeta{}, false, protocol.NONE
	}
	if d, ok := e.findDuplicate(b); ok {
		return d, true, protocol.NONE
	}
	if b.ProducerEpoch < e.epoch {
		return batchMeta{}, false, protocol.INVALID_PRODUCER_EPOCH
	}
	if b.ProducerEpoch != e.epoch {
		if b.BaseSequence != 0 {
			return batchMeta{}, false, protocol.OUT_OF_ORDER_SEQUENCE_NUMBER // "Invalid sequence number for new epoch"
		}
		return batchMeta{}, false, protocol.NONE
	}
	if !inSequence(e.lastSeq(), b.BaseSequence) {
		return batchMeta{}, false, protocol.OUT_OF_ORDER_SEQUENCE_NUMBER
	}
	return batchMeta{}, false, protocol.NONE
}

// update records an appended (stamped) batch without checks, as an append of origin
// REPLICATION does, and as replay on load does. Control batches (transaction markers) only
// move the producer epoch.
func (p *producerState) update(b *protocol.RecordBatch) {
	if b.ProducerID < 0 {
		return
	}
	if b.Control {
		e := p.entry(b.ProducerID)
		e.maybeUpdateEpoch(b.ProducerEpoch)
		p.completeTxn(e, b)
		return
	}
	if b.BaseSequence < 0 {
		return
	}
	e := p.entry(b.ProducerID)
	e.maybeUpdateEpoch(b.ProducerEpoch)
	if b.Transactional && e.currentTxnFirstOffset < 0 {
		e.currentTxnFirstOffset = b.BaseOffset // ProducerAppendInfo.updateCurrentTxnFirstOffset
		p.ongoing++
	}
	e.push(batchMeta{firstSeq: b.BaseSequence, lastSeq: b.LastSequence(), baseOffset: b.BaseOffset, lastOffset: b.LastOffset()})
}

// removeBefore forgets producers whose last record lies below the log start offset (their
// batches were deleted by retention).
func (p *producerState) removeBefore(logStartOffset int64) {
	for pid, e := range p.producers { // order does not matter: only deletions
		if e.lastOffset() < logStartOffset {
			if e.currentTxnFirstOffset >= 0 {
				p.ongoing--
			}
			delete(p.producers, pid)
		}
	}
}

// completeTxn is ProducerAppendInfo.appendEndTxnMarker and ProducerStateManager.completeTxn: a
// marker ends the producer's ongoing transaction; an ABORT marker adds it to the
// aborted-transaction index.
func (p *producerState) completeTxn(e *producerEntry, marker *protocol.RecordBatch) {
	if marker.Len() > 0 {
		e.coordinatorEpoch = int32(marker.Value(0))
	}
	if e.currentTxnFirstOffset < 0 {
		return
	}
	if marker.Len() > 0 && marker.Key(0) == protocol.MarkerAbort {
		p.aborted = append(p.aborted, abortedTxn{pid: marker.ProducerID, firstOffset: e.currentTxnFirstOffset, lastOffset: marker.BaseOffset})
	}
	e.currentTxnFirstOffset = -1
	p.ongoing--
}

// firstUnstableOffset is ProducerStateManager.firstUnstableOffset: the first offset of the
// oldest ongoing transaction, -1 with none.
func (p *producerState) firstUnstableOffset() int64 {
	first := int64(-1)
	if p.ongoing == 0 {
		return first // read on every consumer's fetch of every partition: no walk when no transaction
	}
	for _, e := range p.producers { // a minimum: the order does not matter
		if o := e.currentTxnFirstOffset; o >= 0 && (first < 0 || o < first) {
			first = o
		}
	}
	return first
}
