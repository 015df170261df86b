package log

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// idemKeyed is producer pid's idempotent batch at sequence seq, one record per key.
func idemKeyed(pid int64, seq int32, keys ...string) *protocol.RecordBatch {
	b := keyed(keys...)
	b.ProducerID, b.ProducerEpoch, b.BaseSequence = pid, 0, seq
	return encoded(b)
}

// lastOffsetsPerBatch, lastSequences: LogCleanerTest's lastOffsetsPerBatchInLog and
// lastSequencesInLog.
func lastOffsetsPerBatch(l *Log) []int64 {
	var out []int64
	for _, b := range l.Batches() {
		out = append(out, b.LastOffset())
	}
	return out
}

// rollAndClean rolls the active segment (a batch of key "z" appended after segment.ms) and cleans
// everything below it, as LogCleanerTest's log.roll() and cleaner.clean(LogToClean(…)) do.
func rollAndClean(t *testing.T, l *Log, at time.Duration) {
	t.Helper()
	mustAppend(t, l, keyed("z"), 0, at)
	l.Clean(at, l.LogEndOffset(), CleanerBugs{})
}

// Reference: LogCleanerTest.testDuplicateCheckAfterCleaning, with MemoryRecords.filterTo: the
// cleaner keeps the surviving records of a batch and drops the rest, the batch keeping its base
// offset, its last offset and so its producer's last sequence (overrideLastOffset); after a
// reload the producer state rebuilt from the cleaned batches still recognizes a duplicate.
func TestLogCleanerKeepsABatchPartly(t *testing.T) {
	d := newFakeDisk()
	cfg := compactedTopic()
	cfg.SegmentBytes, cfg.SegmentRoll = 1<<20, time.Hour
	l := openLog(t, d, cfg)
	mustAppend(t, l, idemKeyed(1, 0, "1", "2", "3"), 0, 0) // 0-2
	mustAppend(t, l, idemKeyed(2, 0, "3", "1", "4"), 0, 0) // 3-5
	mustAppend(t, l, idemKeyed(3, 0, "1", "4"), 0, 0)      // 6-7
	rollAndClean(t, l, time.Hour)                          // z at 8, in the new active segment

	if got, want := lastOffsetsPerBatch(l), []int64{2, 5, 7, 8}; !equalInts(got, want) {
		t.Fatalf("last offsets per batch %v; want %v", got, want)
	}
	if _, offs := latestByKey(l); !equalInts(offs, []int64{1, 3, 6, 7, 8}) {
		t.Fatalf("offsets held %v; want 1 3 6 7 8", offs)
	}
	for pid, want := range map[int64]int32{1: 2, 2: 2, 3: 1} {
		if _, seq, ok := l.ProducerLastSequence(pid); !ok || seq != want {
			t.Errorf("producer %d: last sequence %d (%v); want %d", pid, seq, ok, want)
		}
	}
	// The bytes are Kafka's: they decode to the same sparse batch.
	b := l.BatchAt(1)
	got, _, _, err := record.Decode(b.Bytes)
	if err != nil || got.Gaps == nil || len(got.Records) != 1 || got.OffsetOf(0) != 1 || got.LastOffset() != 2 {
		t.Fatalf("the cleaned batch's bytes decode to %+v (err %v); want one record at 1, last offset 2", got, err)
	}

	// A reload rebuilds producer state from the cleaned batches: producer 1's retry is a duplicate.
	l = openLog(t, d, cfg)
	if _, base, dup, code := l.AppendAsLeader(idemKeyed(1, 0, "1", "2", "3"), 0, 2*time.Hour); !dup || base != 0 || code != protocol.NONE {
		t.Fatalf("producer 1's retry after the reload: base %d dup %v %v; want the duplicate at 0", base, dup, code)
	}
	if _, base, dup, _ := l.AppendAsLeader(idemKeyed(2, 0, "3", "1", "4"), 0, 2*time.Hour); !dup || base != 3 {
		t.Fatalf("producer 2's retry: base %d dup %v; want the duplicate at 3", base, dup)
	}
}

// Reference: LogCleanerTest.testLogCleanerRetainsProducerLastSequence (LogCleaner's
// checkBatchRetention: BatchRetention.RETAIN_EMPTY for the batch holding a producer's last
// sequence): a producer's last batch stays, emptied of its superseded record, so that its
// sequence survives; other producers' superseded batches go.
func TestLogCleanerRetainsProducerLastSequence(t *testing.T) {
	cfg := compactedTopic()
	cfg.SegmentBytes, cfg.SegmentRoll = 1<<20, time.Hour
	l := openLog(t, newFakeDisk(), cfg)
	mustAppend(t, l, keyed("0"), 0, 0)           // 0
	mustAppend(t, l, idemKeyed(1, 0, "0"), 0, 0) // 1
	mustAppend(t, l, idemKeyed(2, 0, "0"), 0, 0) // 2
	mustAppend(t, l, idemKeyed(3, 0, "0"), 0, 0) // 3
	mustAppend(t, l, idemKeyed(2, 1, "1"), 0, 0) // 4
	rollAndClean(t, l, time.Hour)                // z at 5

	if got, want := lastOffsetsPerBatch(l), []int64{1, 3, 4, 5}; !equalInts(got, want) {
		t.Fatalf("last offsets per batch %v; want %v (producer 1's emptied batch at 1 stays)", got, want)
	}
	if _, offs := latestByKey(l); !equalInts(offs, []int64{3, 4, 5}) {
		t.Fatalf("offsets held %v; want 3 4 5", offs)
	}
	for pid, want := range map[int64]int32{1: 0, 2: 1, 3: 0} {
		if _, seq, ok := l.ProducerLastSequence(pid); !ok || seq != want {
			t.Errorf("producer %d: last sequence %d (%v); want %d", pid, seq, ok, want)
		}
	}
	if b := l.BatchAt(1); b == nil || len(b.Records) != 0 || len(b.Bytes) != record.BatchOverhead {
		t.Fatalf("batch at 1: %+v; want producer 1's batch as an empty %d-byte header", b, record.BatchOverhead)
	}
}

// Reference: LogCleanerTest.testCleanSegmentsRetainingLastEmptyBatch (checkBatchRetention: the
// batch whose next offset is the cleaning round's upper bound stays, even empty, "so that last
// offset information is not lost after cleaning").
func TestLogCleanerRetainsTheLastBatchOfTheRound(t *testing.T) {
	cfg := compactedTopic()
	cfg.SegmentBytes, cfg.SegmentRoll, cfg.DeleteRetention = 1<<20, time.Hour, time.Minute
	l := openLog(t, newFakeDisk(), cfg)
	mustAppend(t, l, keyed("a"), 0, 0)     // 0
	mustAppend(t, l, tombstone("a"), 0, 0) // 1: a's deletion
	rollAndClean(t, l, time.Hour)          // z at 2; a at 0 goes, the tombstone stays a minute
	if _, offs := latestByKey(l); !equalInts(offs, []int64{1, 2}) {
		t.Fatalf("offsets held %v; want 1 2", offs)
	}
	// The cleaning wrote the tombstone's batch anew with its delete horizon (KIP-534).
	if h, ok := record.DeleteHorizon(l.BatchAt(1).Bytes); !ok || h != time.Hour+time.Minute {
		t.Fatalf("the tombstone's batch: delete horizon %v (%v); want 1h1m", h, ok)
	}
	// Past the tombstone's horizon it goes; its batch ends the round (next offset 2, the active
	// segment's base): the batch stays with no record.
	l.Clean(time.Hour+time.Minute, l.LogEndOffset(), CleanerBugs{})
	if got, want := lastOffsetsPerBatch(l), []int64{1, 2}; !equalInts(got, want) {
		t.Fatalf("last offsets per batch %v; want %v", got, want)
	}
	if b := l.BatchAt(1); b == nil || len(b.Records) != 0 {
		t.Fatalf("batch at 1: %+v; want it kept with no record", b)
	}
}

// Reference: Kafka's consumers (Fetcher's CompletedFetch, the next fetch offset is the batch's
// last offset + 1): a fetch from an offset the cleaner removed from inside a batch answers that
// batch, whose records at or after the offset the consumer takes, and the next fetch starts after
// the batch's last offset even when its last record is gone.
func TestReadFromAnOffsetInsideACleanedBatch(t *testing.T) {
	cfg := compactedTopic()
	cfg.SegmentBytes, cfg.SegmentRoll = 1<<20, time.Hour
	l := openLog(t, newFakeDisk(), cfg)
	mustAppend(t, l, keyed("a", "b", "c", "d"), 0, 0) // 0-3
	mustAppend(t, l, keyed("a", "d"), 0, 0)           // 4-5
	rollAndClean(t, l, time.Hour)                     // z at 6
	bs := l.Read(0, l.LogEndOffset(), 1<<20)
	if len(bs) != 3 || bs[0].BaseOffset != 0 || bs[0].NextOffset() != 4 || len(bs[0].Records) != 2 {
		t.Fatalf("read from 0: %d batches, the first %+v; want b and c at 1 and 2 in the batch 0-3", len(bs), bs[0])
	}
	if got := l.Read(3, l.LogEndOffset(), 1<<20); len(got) == 0 || got[0] != bs[0] {
		t.Fatalf("read from 3 (removed): %v; want the batch 0-3", got)
	}
	var offs []int64
	pos := int64(3)
	for _, b := range l.Read(pos, l.LogEndOffset(), 1<<20) {
		for i := range b.Records {
			if off := b.OffsetOf(i); off >= pos {
				offs = append(offs, off)
			}
		}
		pos = b.NextOffset()
	}
	if !equalInts(offs, []int64{4, 5, 6}) || pos != 7 {
		t.Fatalf("a consumer at 3 takes %v and moves to %d; want 4 5 6, then 7", offs, pos)
	}
}
