package log

import (
	"time"

	"kafkasim/broker/protocol"
)

// The log cleaner (cleanup.policy=compact): Kafka's LogCleaner and Cleaner.doClean, one log at a
// time, run by the broker on its retention tick.
//
// Modelled: the cleanable range ends at the first uncleanable offset (LogCleanerManager.
// cleanableOffsets: the active segment's base offset, the first unstable offset of an open
// transaction, the high watermark, and the first batch younger than min.compaction.lag.ms); a log
// is cleaned only when its dirty ratio (bytes from the cleaner's checkpoint to that end, over
// bytes from the log start to it) reaches min.cleanable.dirty.ratio; the offset map holds each
// key's latest offset in the dirty range; every batch below the end whose records all have a
// later record of their key is removed. Offsets stay: the log becomes sparse, its log start
// offset does not move. Control batches and each idempotent producer's last batch are kept (the
// producer state needs them, as Kafka keeps an empty batch for it).
//
// Simplified: a batch with one live record is kept whole, where Kafka rewrites it without its
// dead records (offset gaps inside a batch are not modelled); there are no tombstones (null
// values), no delete.retention.ms, and no cleaner checkpoint file (after a restart the first
// cleaning starts from the log start again, which only repeats work).

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

// Clean compacts the log if it is due (Cleaner.clean) and returns how many batches went.
// dropLatest plants a bug for the checker's test: batches holding a key's latest record go too.
func (l *Log) Clean(now time.Duration, highWatermark int64, dropLatest bool) int {
	l.now = now
	if !l.cfg.Compact || l.DirtyRatio(now, highWatermark) < l.cfg.MinCleanableDirtyRatio {
		return 0
	}
	end := l.cleanableEnd(now, highWatermark)
	first := max(l.cleanedTo, l.logStart)
	// The offset map (SkimpyOffsetMap): each key's latest offset in the dirty range.
	latest := map[string]int64{}
	for _, b := range l.batches[l.indexOf(first):] {
		if b.BaseOffset >= end {
			break
		}
		if b.Control {
			continue
		}
		for i := range b.Records {
			if off := b.BaseOffset + int64(i); off < end {
				latest[b.Records[i].Key] = off
			}
		}
	}
	lastOfProducer := map[int64]int{}
	for i, b := range l.batches {
		if b.ProducerID >= 0 {
			lastOfProducer[b.ProducerID] = i
		}
	}
	kept := make([]*protocol.RecordBatch, 0, len(l.batches))
	removed := 0
	for i, b := range l.batches {
		if last, ok := lastOfProducer[b.ProducerID]; ok && last == i {
			kept = append(kept, b)
			continue
		}
		if b.NextOffset() <= end && !b.Control && superseded(b, latest, dropLatest) {
			removed++
			continue
		}
		kept = append(kept, b)
	}
	l.cleanedTo = end
	if removed == 0 {
		return 0
	}
	l.rebuildSegments(kept)
	return removed
}

// superseded reports whether every record of b has a later record of its key in the offset map.
func superseded(b *protocol.RecordBatch, latest map[string]int64, dropLatest bool) bool {
	for i := range b.Records {
		off, ok := latest[b.Records[i].Key]
		if !ok || off < b.BaseOffset+int64(i) || (off == b.BaseOffset+int64(i) && !dropLatest) {
			return false
		}
	}
	return true
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
