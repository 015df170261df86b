package log

import (
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// The log cleaner (cleanup.policy=compact): Kafka's LogCleaner and Cleaner.doClean, one log at a
// time, run by the broker on its retention tick.
//
// Modelled: the cleanable range ends at the first uncleanable offset (LogCleanerManager.
// cleanableOffsets: the active segment's base offset, the first unstable offset of an open
// transaction, the high watermark, and the first batch younger than min.compaction.lag.ms); a log
// is cleaned only when its dirty ratio (bytes from the cleaner's checkpoint to that end, over
// bytes from the log start to it) reaches min.cleanable.dirty.ratio; the offset map holds each
// key's latest offset in the dirty range; every record below the end that a later record of its
// key supersedes is removed, inside batches too (MemoryRecords.filterTo: a batch keeps its
// surviving records at their offsets and its last offset, its bytes rewritten, cleaner_filter.go).
// Offsets stay: the log becomes sparse, its log start offset does not move. Control batches are
// kept; a batch with no record left goes, unless it is an idempotent producer's last data batch
// (the producer state needs its sequence) or ends the cleaning round (its last offset), which
// stay empty (BatchRetention.RETAIN_EMPTY).
//
// Tombstones (null values, the deletion of a key): a tombstone that is its key's latest record
// stays for delete.retention.ms after the cleaner first passed it, so that a consumer reading
// the log from its start sees the deletion; a later cleaning removes it (KIP-534's delete
// horizon: the first cleaning sets it to now + delete.retention.ms, a cleaning after it drops
// the tombstone). A log whose tombstones are due is cleaned even if it is not dirty enough
// (KIP-534 makes such logs cleanable).
//
// Simplified: the delete horizon a cleaning writes into a batch's bytes (KIP-534) is decided by
// the log's record of its cleanings, not read back from the bytes, and there is no cleaner
// checkpoint file (after a restart the first cleaning starts from the log start again, which only
// repeats work, and sets the horizons of the tombstones it passes anew, which only keeps them
// longer).
//
// Transactions (KIP-98; LogCleaner's CleanedTransactionMetadata, KAFKA-5049): the records of an
// aborted transaction are removed (they are neither in the offset map nor kept); a transaction
// marker stays while any batch of its transaction is left below the cleaned end, and once none
// is, it is kept delete.retention.ms more like a tombstone (its batch's delete horizon, set by
// the first cleaning that finds the transaction empty) and then removed, unless it is its
// producer's last batch.

// cleaning is one pass of the cleaner: up to which offset, and when.
type cleaning struct {
	to int64
	at time.Duration
}

// firstCleaned is when the cleaner first passed offset off (ok false: not yet).
func (l *Log) firstCleaned(off int64) (time.Duration, bool) {
	for _, c := range l.cleanings {
		if off < c.to {
			return c.at, true
		}
	}
	return 0, false
}

// cleanableEnd is the first offset the cleaner may not touch.
func (l *Log) cleanableEnd(now time.Duration, highWatermark int64) int64 {
	end := min(l.segs[len(l.segs)-1].base, highWatermark)
	if f := l.producers.firstUnstableOffset(); f >= 0 {
		end = min(end, f)
	}
	if lag := l.cfg.MinCompactionLag; lag > 0 {
		for _, b := range l.batches {
			if b.BaseOffset >= end {
				break
			}
			if now-b.MaxTimestamp < lag {
				end = b.BaseOffset
				break
			}
		}
	}
	return end
}

// DirtyRatio is the part of the cleanable bytes not cleaned yet (LogToClean.cleanableRatio),
// 0 for a log that is not compacted or has nothing to clean.
func (l *Log) DirtyRatio(now time.Duration, highWatermark int64) float64 {
	if !l.cfg.Compact {
		return 0
	}
	end := l.cleanableEnd(now, highWatermark)
	first := max(l.cleanedTo, l.logStart)
	if end <= first {
		return 0
	}
	total := l.bytesBetween(l.logStart, end)
	if total == 0 {
		return 0
	}
	return float64(l.bytesBetween(first, end)) / float64(total)
}

// bytesBetween is the size of the batches that end after from and start before to.
func (l *Log) bytesBetween(from, to int64) int64 {
	i, j := l.indexOf(from), l.indexOf(to)
	if j < len(l.batches) && l.batches[j].BaseOffset < to {
		j++
	}
	return l.posAt(j) - l.posAt(i)
}

// CleanerBugs are bugs planted in the cleaner for the checker's tests (config.Bugs).
type CleanerBugs struct {
	DropLatest     bool // batches holding a key's latest record go too
	DropTombstones bool // tombstones go at the first cleaning, whatever delete.retention.ms says
}

// Clean compacts the log if it is due (Cleaner.clean) and returns how many batches went.
func (l *Log) Clean(now time.Duration, highWatermark int64, bugs CleanerBugs) int {
	dropLatest := bugs.DropLatest
	l.now = now
	if !l.cfg.Compact {
		return 0
	}
	due := l.tombstonesDue >= 0 && now >= l.tombstonesDue
	if !due && l.DirtyRatio(now, highWatermark) < l.cfg.MinCleanableDirtyRatio {
		return 0
	}
	end := l.cleanableEnd(now, highWatermark)
	first := max(l.cleanedTo, l.logStart)
	// The offset map (SkimpyOffsetMap): each key's latest offset in the dirty range, aborted
	// transactions' records left out (buildOffsetMapForSegment).
	latest := map[string]int64{}
	for _, b := range l.batches[l.indexOf(first):] {
		if b.BaseOffset >= end {
			break
		}
		if b.Control || l.AbortedBatch(b) {
			continue
		}
		for i := range b.Len() {
			if off := b.OffsetOf(i); off < end {
				latest[b.Key(i)] = off
			}
		}
	}
	// Each producer's last data batch, or its last marker when no data batch is left
	// (LogCleaner's lastRecordsOfActiveProducers, isBatchLastRecordOfProducer).
	lastOfProducer := map[int64]int{}
	for i, b := range l.batches {
		if b.ProducerID >= 0 && !b.Control {
			lastOfProducer[b.ProducerID] = i
		}
	}
	for i, b := range l.batches {
		if b.ProducerID >= 0 && b.Control {
			if j, ok := lastOfProducer[b.ProducerID]; !ok || l.batches[j].Control {
				lastOfProducer[b.ProducerID] = i
			}
		}
	}
	// Tombstones the cleaner passed delete.retention.ms ago or more may go (their horizon).
	l.tombstonesDue = -1
	learn := func(h time.Duration) {
		if l.tombstonesDue < 0 || h < l.tombstonesDue {
			l.tombstonesDue = h
		}
	}
	expired := func(off int64) bool {
		at, ok := l.firstCleaned(off)
		if bugs.DropTombstones {
			return true
		}
		if ok && now-at >= l.cfg.DeleteRetention {
			return true
		}
		if !ok {
			at = now // passed for the first time now
		}
		learn(at + l.cfg.DeleteRetention)
		return false
	}
	var txns cleanedTxns
	kept := make([]*protocol.RecordBatch, 0, len(l.batches))
	removed, changed := 0, false
	for i, b := range l.batches {
		if b.NextOffset() > end {
			kept = append(kept, b)
			continue
		}
		// checkBatchRetention: RETAIN_EMPTY for a producer's last batch (its sequence, or its
		// epoch for a marker) and for the batch that ends the cleaned range (its last offset),
		// else DELETE_EMPTY.
		last, ok := lastOfProducer[b.ProducerID]
		retainEmpty := ok && last == i || b.NextOffset() == end
		var c *protocol.RecordBatch
		if b.Control {
			c = l.cleanMarker(b, txns.onControlBatchRead(b), retainEmpty, now, learn)
		} else {
			keep := make([]bool, b.Len()) // an aborted transaction's batch loses every record
			if !txns.onBatchRead(b, l.AbortedBatch(b)) {
				keep = retainedRecords(b, latest, dropLatest, expired)
			}
			c = l.filterBatch(b, keep, retainEmpty, now)
		}
		if c == nil {
			removed++
			continue
		}
		changed = changed || c != b
		kept = append(kept, c)
	}
	if end > l.cleanedTo {
		l.cleanings = append(l.cleanings, cleaning{end, now})
	}
	l.cleanedTo = end
	if removed == 0 && !changed {
		return 0
	}
	records, size := l.recordCount(), l.SizeBytes()
	l.rebuildSegments(kept)
	if n := records - l.recordCount(); n > 0 || l.SizeBytes() < size {
		l.done.CleanerRuns++
		l.done.RecordsCleaned += n
		l.done.BytesCleaned += size - l.SizeBytes()
	}
	return removed
}

// retainedRecords decides each record of b (Cleaner.shouldRetainRecord): it goes when a later
// record of its key in the offset map supersedes it, or when it is a tombstone past its delete
// horizon (expired). expired is asked about every tombstone that is its key's latest record, so
// that it learns the next horizon.
func retainedRecords(b *protocol.RecordBatch, latest map[string]int64, dropLatest bool, expired func(int64) bool) []bool {
	keep := make([]bool, b.Len())
	for i := range keep {
		r := b.Record(i)
		at := b.OffsetOf(i)
		off, ok := latest[r.Key]
		if ok && (off > at || off == at && dropLatest) {
			continue
		}
		if r.Tombstone && (!ok || off == at) && expired(at) {
			continue
		}
		keep[i] = true
	}
	return keep
}

// rebuildSegments replaces the batches with kept (a subsequence), rewriting every segment that
// lost a batch and fsyncing it, as the cleaner swaps in a cleaned segment (LogSegment's .cleaned
// file replacing the original). Segments keep their base offsets; an emptied one stays until
// retention or the next roll takes it.
func (l *Log) rebuildSegments(kept []*protocol.RecordBatch) {
	var pos []int64
	var end int64
	k := 0
	for si := range l.segs {
		seg := &l.segs[si]
		var segEnd int64 = -1
		if si+1 < len(l.segs) {
			segEnd = l.segs[si+1].base
		}
		first, n, size := len(pos), 0, int64(0)
		var maxTime time.Duration
		entries := make([]any, 0, seg.n)
		for k < len(kept) && (segEnd < 0 || kept[k].BaseOffset < segEnd) {
			b := kept[k]
			pos = append(pos, end)
			end += b.SizeBytes()
			size += b.SizeBytes()
			maxTime = max(maxTime, b.MaxTimestamp)
			entries = append(entries, b)
			n++
			k++
		}
		if n != seg.n {
			l.disk.Write(seg.file, entries)
			l.disk.Flush(seg.file)
			seg.dirty = false
			seg.maxTime = maxTime
		}
		seg.first, seg.n, seg.size = first, n, size
	}
	l.batches, l.pos, l.endPos = kept, pos, end
	l.rebuildProducerState()
}

// AbortedBatch reports whether b holds records of an aborted transaction: a transactional data
// batch inside one of its producer's aborted transactions (the transaction index,
// UnifiedLog.collectAbortedTransactions). The cleaner removes such records.
func (l *Log) AbortedBatch(b *protocol.RecordBatch) bool {
	if !b.Transactional || b.Control || b.ProducerID < 0 {
		return false
	}
	for _, a := range l.producers.aborted {
		if a.pid == b.ProducerID && a.firstOffset <= b.BaseOffset && b.BaseOffset < a.lastOffset {
			return true
		}
	}
	return false
}

// cleanedTxns is CleanedTransactionMetadata: the transactions whose batches the cleaner has
// passed and whose marker it has not reached yet, as it walks the log from its start.
type cleanedTxns struct {
	committed map[int64]bool // producers with a batch of a transaction still open here
	aborted   map[int64]bool // producers with a batch of an aborted transaction left
}

// onBatchRead notes a data batch; it reports whether the batch belongs to an aborted transaction
// (and may go).
func (t *cleanedTxns) onBatchRead(b *protocol.RecordBatch, aborted bool) bool {
	if !b.Transactional {
		return false
	}
	if aborted {
		if t.aborted == nil {
			t.aborted = map[int64]bool{}
		}
		t.aborted[b.ProducerID] = true
		return true
	}
	if t.committed == nil {
		t.committed = map[int64]bool{}
	}
	t.committed[b.ProducerID] = true
	return false
}

// onControlBatchRead notes a marker; it reports whether the marker may go: no batch of its
// transaction was left below it (an empty marker batch, cleaned already, may always go).
func (t *cleanedTxns) onControlBatchRead(b *protocol.RecordBatch) bool {
	if b.Len() == 0 {
		return true
	}
	pid := b.ProducerID
	if b.Key(0) == protocol.MarkerAbort {
		seen := t.aborted[pid]
		delete(t.aborted, pid)
		return !seen
	}
	seen := t.committed[pid]
	delete(t.committed, pid)
	return !seen
}

// cleanMarker is what a cleaning leaves of marker b. A marker that must stay (its transaction
// still has batches) stays; one that may go gets a delete horizon of now + delete.retention.ms
// the first time (filterTo's containsMarkerForEmptyTxn), and goes once its horizon has passed
// (BatchRetention.DELETE), or is kept as an empty batch when it is its producer's last
// (RETAIN_EMPTY). due learns the horizon of a marker still waiting.
func (l *Log) cleanMarker(b *protocol.RecordBatch, discardable, retainEmpty bool, now time.Duration, due func(time.Duration)) *protocol.RecordBatch {
	if !discardable {
		return b
	}
	h, ok := l.markerHorizon(b)
	if !ok {
		h = now + l.cfg.DeleteRetention
		due(h)
		return l.withHorizon(b, h)
	}
	if now < h {
		due(h)
		return b
	}
	if b.Len() == 0 {
		if retainEmpty {
			return b
		}
		return nil
	}
	return l.filterBatch(b, make([]bool, b.Len()), retainEmpty, now)
}

// markerHorizon is the delete horizon a cleaning set on marker b (KIP-534: in its bytes).
func (l *Log) markerHorizon(b *protocol.RecordBatch) (time.Duration, bool) {
	if b.Bytes != nil {
		return record.DeleteHorizon(b.Bytes)
	}
	h, ok := l.horizons[b.BaseOffset]
	return h, ok
}

// withHorizon is marker b with delete horizon h written into its bytes (a batch without bytes,
// built by a test, keeps it beside the log).
func (l *Log) withHorizon(b *protocol.RecordBatch, h time.Duration) *protocol.RecordBatch {
	if b.Bytes == nil {
		if l.horizons == nil {
			l.horizons = map[int64]time.Duration{}
		}
		l.horizons[b.BaseOffset] = h
		return b
	}
	keep := make([]bool, b.Len())
	for i := range keep {
		keep[i] = true
	}
	bs, err := record.Filter(b.Bytes, keep, false, h)
	if err != nil || bs == nil { // cannot happen: the bytes passed Check when appended or loaded
		return b
	}
	c := *b
	c.Bytes = bs
	return &c
}

// recordCount is the number of records the log holds.
func (l *Log) recordCount() int64 {
	var n int64
	for _, b := range l.batches {
		n += int64(b.Len())
	}
	return n
}
