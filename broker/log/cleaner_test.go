package log

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// keyed is a producer batch of one record per key, values counting up.
func keyed(keys ...string) *protocol.RecordBatch {
	b := unencoded(0)
	for _, k := range keys {
		nextValue++
		b.Records = append(b.Records, protocol.Record{Key: k, Value: nextValue})
	}
	return encoded(b)
}

func compactedTopic() config.Topic {
	cfg := config.DefaultTopic()
	cfg.Compact, cfg.Delete = true, false
	cfg.SegmentBytes = 2 * keyed("a").SizeBytes() // two one-record batches per segment
	return cfg
}

// latestByKey is the value of each key's last record in the log, and the offsets held.
func latestByKey(l *Log) (map[string]int64, []int64) {
	out := map[string]int64{}
	var offs []int64
	for _, b := range l.Batches() {
		for i, r := range b.Records {
			out[r.Key] = r.Value
			offs = append(offs, b.OffsetOf(i))
		}
	}
	return out, offs
}

// Reference: LogCleaner (Cleaner.cleanSegments) — compaction keeps each key's last record, removes
// the records a later one of their key supersedes, keeps offsets (the log becomes sparse) and
// never touches the active segment.
func TestLogCleanerKeepsTheLastRecordPerKey(t *testing.T) {
	d := newFakeDisk()
	l := openLog(t, d, compactedTopic())
	for _, k := range []string{"a", "b", "a", "c", "a", "b", "c", "a"} {
		mustAppend(t, l, keyed(k), 0, 0)
	}
	before, _ := latestByKey(l)
	removed := l.Clean(time.Minute, l.LogEndOffset(), CleanerBugs{})
	after, offs := latestByKey(l)
	// Offsets 0..7; the active segment holds offsets 6 and 7. Cleanable: 0..5, where a's last is
	// 4, b's 5, c's 3; a at 0 and 2 and b at 1 are superseded.
	if removed != 3 {
		t.Fatalf("removed %d batches; want 3", removed)
	}
	if want := []int64{3, 4, 5, 6, 7}; !equalInts(offs, want) {
		t.Fatalf("offsets after cleaning: got %v; want %v", offs, want)
	}
	for k, v := range before {
		if after[k] != v {
			t.Errorf("key %s: latest value %d after cleaning; want %d", k, after[k], v)
		}
	}
	if l.LogStartOffset() != 0 || l.LogEndOffset() != 8 {
		t.Errorf("log start %d, LEO %d; want 0, 8 (compaction moves neither)", l.LogStartOffset(), l.LogEndOffset())
	}
	// The cleaned segments were rewritten and fsynced: a power loss and a reopen keep the sparse log.
	d.Crash()
	r := openLog(t, d, compactedTopic())
	// (The active segment was never flushed; the emptied first segment is gone, so the log
	// start is the next segment's base, below every record kept.)
	if _, got := latestByKey(r); !equalInts(got, []int64{3, 4, 5}) || r.LogStartOffset() > 3 {
		t.Fatalf("after a crash and reopen: offsets %v, log start %d; want 3 4 5, log start at most 3", got, r.LogStartOffset())
	}
}

// Reference: LogCleanerManager.grabFilthiestCompactedLog — a log is cleaned only when its dirty
// ratio reaches min.cleanable.dirty.ratio, and a cleaned range is not dirty again.
func TestLogCleanerWaitsForTheDirtyRatio(t *testing.T) {
	cfg := compactedTopic()
	cfg.MinCleanableDirtyRatio = 0.9
	l := openLog(t, newFakeDisk(), cfg)
	for _, k := range []string{"a", "a", "a", "a", "a"} {
		mustAppend(t, l, keyed(k), 0, 0)
	}
	if got := l.DirtyRatio(0, 5); got != 1 {
		t.Fatalf("dirty ratio of a never-cleaned log: %v; want 1", got)
	}
	if got := l.Clean(0, 5, CleanerBugs{}); got != 3 {
		t.Fatalf("first cleaning removed %d; want 3 (a at 0..2; the active segment holds 4)", got)
	}
	for _, k := range []string{"a", "a"} {
		mustAppend(t, l, keyed(k), 0, 0)
	}
	if r := l.DirtyRatio(0, 7); r >= 0.9 {
		t.Fatalf("dirty ratio after cleaning and two appends: %v; want below 0.9", r)
	}
	if got := l.Clean(0, 7, CleanerBugs{}); got != 0 {
		t.Fatalf("cleaning below the ratio removed %d; want 0", got)
	}
}

// Reference: LogCleanerManager.cleanableOffsets — nothing at or above the high watermark or the
// first unstable offset, nor younger than min.compaction.lag.ms, is cleaned.
func TestLogCleanerStopsAtTheFirstUncleanableOffset(t *testing.T) {
	cfg := compactedTopic()
	cfg.SegmentBytes = keyed("a").SizeBytes() // a segment per batch
	l := openLog(t, newFakeDisk(), cfg)
	for i := 0; i < 6; i++ {
		mustAppend(t, l, keyed("a"), 0, time.Duration(i)*time.Second)
	}
	if got := l.Clean(10*time.Second, 2, CleanerBugs{}); got != 1 {
		t.Fatalf("below HW 2: removed %d; want 1 (offset 0; 1 is the latest below the HW)", got)
	}
	cfg.MinCompactionLag = 7 * time.Second
	l.SetConfig(cfg)
	// At 10s only batches of 3s or older (offsets 1..3) are cleanable: a's latest there is 3,
	// which supersedes 1 and 2; 4 and 5 are too young to count.
	if got := l.Clean(10*time.Second, 6, CleanerBugs{}); got != 2 {
		t.Fatalf("with min.compaction.lag.ms=7s at 10s: removed %d; want 2 (offsets 1 and 2)", got)
	}
	if _, offs := latestByKey(l); !equalInts(offs, []int64{3, 4, 5}) {
		t.Fatalf("offsets left: %v; want 3 4 5", offs)
	}
}

// A follower of a compacted topic appends the leader's sparse batches (gaps between batches).
func TestAppendAsFollowerAcceptsCompactionGaps(t *testing.T) {
	leader := openLog(t, newFakeDisk(), compactedTopic())
	for _, k := range []string{"a", "a", "b", "a", "b"} {
		mustAppend(t, leader, keyed(k), 0, 0)
	}
	leader.Clean(0, leader.LogEndOffset(), CleanerBugs{})
	f := openLog(t, newFakeDisk(), compactedTopic())
	if err := f.AppendAsFollower(leader.Batches(), 0); err != nil || f.LogEndOffset() != 5 {
		t.Fatalf("follower of a cleaned log: err %v, LEO %d; want nil, 5", err, f.LogEndOffset())
	}
	plainFollower := openLog(t, newFakeDisk(), config.DefaultTopic())
	if err := plainFollower.AppendAsFollower(leader.Batches(), 0); err == nil {
		t.Fatalf("a follower of a topic that is not compacted accepted a gap")
	}
}

// LogValidator.validateKey: a compacted topic refuses a record without a key.
func TestCompactedTopicRefusesRecordsWithoutKey(t *testing.T) {
	l := openLog(t, newFakeDisk(), compactedTopic())
	b := unencoded(1)
	b.Records[0].Key = ""
	if _, _, _, code := l.AppendAsLeader(encoded(b), 0, 0); code != protocol.INVALID_RECORD {
		t.Fatalf("keyless record on a compacted topic: %v; want INVALID_RECORD", code)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Reference: LogCleanerManager.cleanableOffsets (KIP-98) — the cleaner stays below the first
// unstable offset: an open transaction's records, and everything after them, wait for its marker.
func TestLogCleanerStaysBelowTheLastStableOffset(t *testing.T) {
	cfg := compactedTopic()
	cfg.SegmentBytes = keyed("a").SizeBytes() // a segment per batch
	l := openLog(t, newFakeDisk(), cfg)
	mustAppend(t, l, keyed("a"), 0, 0) // 0
	open := unencoded(0)
	open.ProducerID, open.ProducerEpoch, open.BaseSequence, open.Transactional = 9, 0, 0, true
	nextValue++
	open.Records = append(open.Records, protocol.Record{Key: "a", Value: nextValue})
	mustAppend(t, l, encoded(open), 0, 0) // 1, an open transaction's record of a
	for i := 0; i < 3; i++ {
		mustAppend(t, l, keyed("a"), 0, 0) // 2, 3, 4
	}
	if got := l.Clean(0, 5, CleanerBugs{}); got != 0 {
		t.Fatalf("with a transaction open at 1: removed %d; want 0 (only offset 0 is cleanable, and it is a's latest there)", got)
	}
	mustAppend(t, l, txnMarker(9, protocol.MarkerCommit), 0, 0) // 5
	mustAppend(t, l, keyed("b"), 0, 0)                          // 6, active
	// a at 0 to 3 go; 4 is a's latest, the marker stays. The batch at 1 is producer 9's last
	// data batch: it stays with no record, its sequence kept (BatchRetention.RETAIN_EMPTY).
	if got := l.Clean(0, 7, CleanerBugs{}); got != 3 {
		t.Fatalf("after the commit marker: removed %d batches; want 3 (a at 0, 2, 3)", got)
	}
	if b := l.BatchAt(1); b == nil || len(b.Records) != 0 || b.LastSequence() != 0 {
		t.Fatalf("batch at 1: %+v; want producer 9's batch kept empty, its last sequence 0", b)
	}
	if _, offs := latestByKey(l); !equalInts(offs, []int64{4, 5, 6}) {
		t.Fatalf("offsets held: %v; want 4 5 6", offs)
	}
}

// tombstone is a producer batch deleting key k (a null value).
func tombstone(k string) *protocol.RecordBatch {
	b := unencoded(0)
	nextValue++
	b.Records = append(b.Records, protocol.Record{Key: k, Value: nextValue, Tombstone: true})
	return encoded(b)
}

// Reference: LogCleaner with KIP-534's delete horizon — a tombstone that is its key's latest
// record survives the cleaning that first passes it and every cleaning for delete.retention.ms
// after that (a consumer reading from the start still sees the deletion); the first cleaning
// after the horizon removes it, even when the log is not dirty enough otherwise. The records
// it superseded go at the first cleaning, like any superseded record.
func TestLogCleanerRemovesTombstonesAfterDeleteRetention(t *testing.T) {
	d := newFakeDisk()
	cfg := compactedTopic()
	cfg.DeleteRetention = 10 * time.Second
	l := openLog(t, d, cfg)
	// Offsets: 0 a, 1 b, 2 a (tombstone), 3 c, 4 b, 5 c; the active segment holds 5.
	mustAppend(t, l, keyed("a"), 0, 0)
	mustAppend(t, l, keyed("b"), 0, 0)
	mustAppend(t, l, tombstone("a"), 0, 0)
	for _, k := range []string{"c", "b", "c"} {
		mustAppend(t, l, keyed(k), 0, 0)
	}
	offsets := func() []int64 { _, o := latestByKey(l); return o }
	if segs := l.Segments(); segs[len(segs)-1].BaseOffset != 5 {
		t.Fatalf("segments %+v; want the active one at offset 5 (the tombstone's batch is smaller)", segs)
	}
	if n := l.Clean(time.Minute, l.LogEndOffset(), CleanerBugs{}); n != 2 || !equalInts(offsets(), []int64{2, 3, 4, 5}) {
		t.Fatalf("first cleaning removed %d, kept %v; want a's record and b's superseded one gone, the tombstone kept: 2, [2 3 4 5]", n, offsets())
	}
	if n := l.Clean(time.Minute+9*time.Second, l.LogEndOffset(), CleanerBugs{}); n != 0 {
		t.Fatalf("a cleaning before the delete horizon removed %d batches; want 0 (offsets %v)", n, offsets())
	}
	if n := l.Clean(time.Minute+10*time.Second, l.LogEndOffset(), CleanerBugs{}); n != 1 || !equalInts(offsets(), []int64{3, 4, 5}) {
		t.Fatalf("the cleaning at the delete horizon removed %d, kept %v; want the tombstone gone: 1, [3 4 5]", n, offsets())
	}
	if l.LogStartOffset() != 0 || l.LogEndOffset() != 6 {
		t.Errorf("log start %d, LEO %d; want 0, 6", l.LogStartOffset(), l.LogEndOffset())
	}
}
