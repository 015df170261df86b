package client

import (
	"math/bits"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// pbatch is one producer batch (Java's ProducerBatch).
type pbatch struct {
	id        uint64 // creation order
	part      int32
	created   []time.Duration // each record's creation time (op Invoke)
	size      int64
	createdAt time.Duration
	full      bool // takes no more records (full, followed by another batch, or drained)
	sent      bool // drained at least once
	inflight  bool
	done      bool
	landed    bool // some attempt may have been appended (an error after append, a timeout)
	attempts  int  // times sent
	retry     bool // reenqueued at least once (ProducerBatch.inRetry)
	retryAt   time.Duration
	lastErr   protocol.ErrorCode
	wire      *protocol.RecordBatch // built when drained; reused by retries
	pid       int64
	pepoch    int16
	seq       int32
	reopened  bool // its sequence was restarted after an epoch bump, not drained since (sequenceHasBeenReset)

	// The records: n of them, valued first, first+1, … while records is nil (the workload's
	// keyless records, sent in the compact form of protocol.RecordBatch); records holds them
	// once one does not fit that run (a key, a tombstone, a value out of turn).
	n       int
	first   int64
	records []protocol.Record

	// KIP-951: a retry to a new leader does not wait out the back-off
	// (ProducerBatch.maybeUpdateLeaderEpoch, hasLeaderChangedForTheOngoingRetry).
	leaderEpoch            int32
	attemptsAtLeaderChange int
}

// lastSeq is the sequence of b's last record.
func (b *pbatch) lastSeq() int32 { return b.seq + int32(b.n) - 1 }

// value is record i's value.
func (b *pbatch) value(i int) int64 {
	if b.records == nil {
		return b.first + int64(i)
	}
	return b.records[i].Value
}

// extendRun adds rec to b's run of values if b is still one and rec continues it.
func (b *pbatch) extendRun(rec protocol.Record) bool {
	if b.records != nil || !rec.Plain() || b.n > 0 && rec.Value != b.first+int64(b.n) {
		return false
	}
	if b.n == 0 {
		b.first = rec.Value
	}
	b.n++
	return true
}

// setRecords gives w b's records: the compact form while they run from b.first.
func (b *pbatch) setRecords(w *protocol.RecordBatch) {
	if b.records == nil {
		w.SetValues(b.first, b.n)
		return
	}
	w.Records = b.records
}

// resetProducerState is ProducerBatch.resetProducerState: new producer id, epoch and base
// sequence after an epoch bump; the wire form is rebuilt at the next drain.
func (b *pbatch) resetProducerState(pid int64, epoch int16, seq int32) {
	b.pid, b.pepoch, b.seq, b.reopened, b.wire = pid, epoch, seq, true, nil
}

// maybeUpdateLeaderEpoch notes the partition's leader epoch as metadata knows it when b is
// considered for draining; a newer one than b last saw marks a leader change for the retry.
func (b *pbatch) maybeUpdateLeaderEpoch(epoch int32) {
	if epoch >= 0 && epoch > b.leaderEpoch {
		b.attemptsAtLeaderChange = b.attempts
		b.leaderEpoch = epoch
	}
}

// leaderChangedForRetry is hasLeaderChangedForTheOngoingRetry.
func (b *pbatch) leaderChangedForRetry() bool {
	return b.attempts >= 1 && b.attempts == b.attemptsAtLeaderChange
}

// accumulator holds the batches waiting to be sent, per partition, oldest first (Java's
// RecordAccumulator): records join the last batch of their partition until batch.size; a new
// batch arms its delivery.timeout.ms; a batch to retry goes back in creation order.
type accumulator struct {
	env         node.Env
	cfg         *config.Producer
	recordBytes int64 // estimated bytes of a record without key
	batchID     uint64
	queues      [][]*pbatch // per partition, batches not in flight, oldest first (written through set)
	busy        []uint64    // bit p: queues[p] is not empty, so that a drain skips the idle partitions
	drainIndex  int         // the partition the next drain round starts after (RecordAccumulator's drainIndex)

	// Buffer reuse: the creation-time runs of completed batches, and each partition's last
	// batch length, the room a new batch's records start with.
	free    [][]time.Duration
	lastLen []int
	// slab is where the record slices of batches whose records are not one run of values (see
	// pbatch.n) are cut from, recordSlab at a time: a batch's
	// records outlive it in the leader's log (the stamped batch shares them), so they are never
	// reused, but cutting them from one array makes one allocation of many batches' worth.
	slab []protocol.Record
	// room is where new batches are taken from, batchSlab at a time: one allocation for many
	// batches (a batch is held by its delivery.timeout.ms timer long after it completes, so it
	// is never reused).
	room []pbatch
}

// recordSlab is the records a slab holds; batchSlab the batches room holds.
const (
	recordSlab = 1024
	batchSlab  = 16
)

func newAccumulator(env node.Env, cfg *config.Producer) accumulator {
	one := protocol.RecordBatch{Records: []protocol.Record{{}}}
	return accumulator{env: env, cfg: cfg, recordBytes: one.SizeBytes() - (&protocol.RecordBatch{}).SizeBytes()}
}

// sizeOf is the bytes rec adds to a batch.
func (a *accumulator) sizeOf(rec protocol.Record) int64 { return a.recordBytes + int64(len(rec.Key)) }

// grow adds queues for partitions metadata newly learnt of.
func (a *accumulator) grow(n int) {
	for len(a.queues) < n {
		a.queues = append(a.queues, nil)
		a.lastLen = append(a.lastLen, 0)
	}
	for len(a.busy)*64 < len(a.queues) {
		a.busy = append(a.busy, 0)
	}
}

// set makes q partition part's queue, keeping busy in step.
func (a *accumulator) set(part int32, q []*pbatch) {
	a.queues[part] = q
	if len(q) > 0 {
		a.busy[part>>6] |= 1 << (part & 63)
	} else {
		a.busy[part>>6] &^= 1 << (part & 63)
	}
}

// nextBusy returns the first partition from `from` on whose queue is not empty, -1 if none.
func (a *accumulator) nextBusy(from int) int {
	w := from >> 6
	if from < 0 || w >= len(a.busy) {
		return -1
	}
	word := a.busy[w] &^ (1<<(from&63) - 1)
	for word == 0 {
		if w++; w >= len(a.busy) {
			return -1
		}
		word = a.busy[w]
	}
	if p := w<<6 + bits.TrailingZeros64(word); p < len(a.queues) {
		return p
	}
	return -1
}

// append adds a record to its partition's last batch, or a new one (RecordAccumulator.append).
func (a *accumulator) append(now time.Duration, part int32, rec protocol.Record, created time.Duration) {
	sz := a.sizeOf(rec)
	q := a.queues[part]
	var b *pbatch
	if len(q) > 0 {
		last := q[len(q)-1]
		if !last.full && last.size+sz <= int64(a.cfg.BatchSize) {
			b = last
		} else {
			last.full = true
		}
	}
	if b == nil {
		a.batchID++
		if len(a.room) == 0 {
			a.room = make([]pbatch, batchSlab)
		}
		b, a.room = &a.room[0], a.room[1:]
		*b = pbatch{
			id: a.batchID, part: part, createdAt: now, size: (&protocol.RecordBatch{}).SizeBytes(),
			pid: protocol.NoProducerID, pepoch: -1, seq: protocol.NoSequence, leaderEpoch: protocol.UnknownEpoch,
		}
		if k := len(a.free); k > 0 {
			b.created, a.free[k-1] = a.free[k-1], nil
			a.free = a.free[:k-1]
		}
		a.set(part, append(q, b))
		if a.cfg.DeliveryTimeout < maxTimer {
			a.env.After(a.cfg.DeliveryTimeout, b)
		}
	}
	if !b.extendRun(rec) {
		if b.records == nil { // the run ends: its records become explicit
			b.records = a.recordRun(max(b.n+1, a.lastLen[part]))
			for i := range b.n {
				b.records = append(b.records, protocol.Record{Value: b.first + int64(i)})
			}
		}
		b.records = append(b.records, rec)
		b.n++
	}
	b.created = append(b.created, created)
	b.size += sz
	if b.size >= int64(a.cfg.BatchSize) {
		b.full = true
	}
}

// recordRun is an empty slice with room for n records (at least one), cut from the slab: its
// capacity ends where the next run starts, so a batch that outgrows it moves out by append.
func (a *accumulator) recordRun(n int) []protocol.Record {
	n = max(n, 1)
	if n > recordSlab/4 {
		return make([]protocol.Record, 0, n)
	}
	if cap(a.slab)-len(a.slab) < n {
		a.slab = make([]protocol.Record, 0, recordSlab)
	}
	k := len(a.slab)
	a.slab = a.slab[:k+n]
	return a.slab[k : k : k+n]
}

// recycle takes back a completed batch's creation times (a completed batch takes no more
// records; its records stay, the wire batch holds them) and notes its length.
func (a *accumulator) recycle(b *pbatch) {
	if int(b.part) < len(a.lastLen) {
		a.lastLen[b.part] = b.n
	}
	if cap(b.created) > 0 {
		a.free = append(a.free, b.created[:0])
	}
	b.created = nil
}

// head is the oldest batch of part, nil when none waits.
func (a *accumulator) head(part int32) *pbatch {
	if q := a.queues[part]; len(q) > 0 {
		return q[0]
	}
	return nil
}

// pop takes the oldest batch of part off its queue.
func (a *accumulator) pop(part int32) {
	q := a.queues[part]
	if len(q) == 1 {
		a.set(part, q[:0])
	} else {
		a.set(part, q[1:])
	}
}

// reenqueue puts b back in its partition's queue to be sent again after retryAt
// (RecordAccumulator.reenqueue): an idempotent producer's in sequence order ahead of batches
// never sent (insertInSequenceOrder); any other producer's at the head (deque.addFirst), so
// when a broken connection fails several batches, oldest first (InFlightRequests.clearAll),
// the newest goes out first and the retries reorder the partition.
func (a *accumulator) reenqueue(b *pbatch, retryAt time.Duration) {
	b.retryAt, b.retry = retryAt, true
	q := a.queues[b.part]
	i := 0
	for a.cfg.EnableIdempotence && i < len(q) && q[i].sent && q[i].id < b.id {
		i++
	}
	q = append(q, nil)
	copy(q[i+1:], q[i:])
	q[i] = b
	a.set(b.part, q)
}

// remove takes b off its partition's queue, if it is there.
func (a *accumulator) remove(b *pbatch) {
	q := a.queues[b.part]
	for i := range q {
		if q[i] == b {
			a.set(b.part, append(q[:i], q[i+1:]...))
			return
		}
	}
}
