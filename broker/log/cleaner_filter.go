package log

import (
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// filterBatch is what a cleaning leaves of batch b, given which records stay
// (MemoryRecords.filterTo): b itself when every record stays and no delete horizon is to be set;
// nil when no record stays and retainEmpty is false; else a copy holding the kept records at
// their offsets (Gaps) with the original last offset, its bytes rewritten by record.Filter.
// retainEmpty (BatchRetention.RETAIN_EMPTY) keeps a batch emptied of records, as Kafka keeps a
// producer's last batch so that its epoch and last sequence survive compaction.
func (l *Log) filterBatch(b *protocol.RecordBatch, keep []bool, retainEmpty bool, now time.Duration) *protocol.RecordBatch {
	n := 0
	for _, k := range keep {
		if k {
			n++
		}
	}
	horizon := record.NoDeleteHorizon
	if needsHorizon(b, keep) {
		horizon = l.horizonOf(b, now)
	}
	if n == 0 && !retainEmpty { // an emptied batch, or one a cleaning kept empty and no longer needs
		return nil
	}
	if n == len(keep) && horizon < 0 {
		return b
	}
	c := *b
	if n < len(keep) {
		// A cleaned batch is always explicit: its records no longer run from one value.
		c.FirstValue, c.NumValues = 0, 0
		c.Records = make([]protocol.Record, 0, n)
		deltas := make([]int32, 0, n)
		for i, k := range keep {
			if k {
				c.Records = append(c.Records, b.Record(i))
				deltas = append(deltas, int32(b.OffsetOf(i)-b.BaseOffset))
			}
		}
		c.Gaps = &protocol.OffsetGaps{Deltas: deltas, LastOffsetDelta: int32(b.LastOffset() - b.BaseOffset)}
	}
	if b.Bytes != nil {
		bs, err := record.Filter(b.Bytes, keep, retainEmpty, horizon)
		if err != nil { // cannot happen: the bytes passed Check when appended or loaded
			return b
		}
		c.Bytes = bs
	}
	return &c
}

// needsHorizon reports whether the cleaner must set b's delete horizon (MemoryRecords.filterTo's
// needToSetDeleteHorizon): b keeps a tombstone and its bytes carry no horizon yet (KIP-534).
func needsHorizon(b *protocol.RecordBatch, keep []bool) bool {
	if b.Bytes == nil {
		return false
	}
	if _, ok := record.DeleteHorizon(b.Bytes); ok {
		return false
	}
	for i, k := range keep {
		if k && b.Record(i).Tombstone {
			return true
		}
	}
	return false
}

// horizonOf is the delete horizon of batch b: delete.retention.ms after the cleaner first passed
// it (this cleaning, now, unless an earlier one did).
func (l *Log) horizonOf(b *protocol.RecordBatch, now time.Duration) time.Duration {
	at, ok := l.firstCleaned(b.BaseOffset)
	if !ok {
		at = now
	}
	return at + l.cfg.DeleteRetention
}
