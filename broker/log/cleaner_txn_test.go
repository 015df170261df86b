package log

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// txnCleanerTopic is a compacted topic whose every batch rolls a segment (so only the last batch
// is in the active segment) and whose cleaner runs at every call, as LogCleanerTest calls
// Cleaner.doClean directly.
func txnCleanerTopic() config.Topic {
	cfg := config.DefaultTopic()
	cfg.Compact, cfg.Delete = true, false
	cfg.SegmentBytes = 1
	cfg.MinCleanableDirtyRatio = 0
	return cfg
}

// txnKeyed is a transactional batch of producer pid (epoch 0) from sequence seq, one record per key.
func txnKeyed(pid int64, seq int32, keys ...string) *protocol.RecordBatch {
	b := &protocol.RecordBatch{ProducerID: pid, BaseSequence: seq, Transactional: true}
	for _, k := range keys {
		nextValue++
		b.Records = append(b.Records, protocol.Record{Key: k, Value: nextValue})
	}
	return b
}

// recordOffsets are the offsets of the records left in the log, markers included (LogCleanerTest's
// offsetsInLog); keys are the data records' keys (keysInLog).
func recordOffsets(l *Log) (offs []int64, keys []string) {
	for _, b := range l.Batches() {
		for i, r := range b.Records {
			offs = append(offs, b.OffsetOf(i))
			if !b.Control {
				keys = append(keys, r.Key)
			}
		}
	}
	return offs, keys
}

func wantLog(t *testing.T, l *Log, when string, offs []int64, keys []string) {
	t.Helper()
	gotOffs, gotKeys := recordOffsets(l)
	if !slices.Equal(gotOffs, offs) || !slices.Equal(gotKeys, keys) {
		t.Fatalf("%s: offsets %v keys %v; want offsets %v keys %v", when, gotOffs, gotKeys, offs, keys)
	}
}

// Reference: LogCleanerTest.testAbortMarkerRemoval (CleanedTransactionMetadata, KAFKA-5049): an
// aborted transaction's records are removed; its ABORT marker stays while the pass still met the
// transaction's batches, then gets a delete horizon and goes delete.retention.ms later.
func TestLogCleanerAbortMarkerRemoval(t *testing.T) {
	l := openLog(t, newFakeDisk(), txnCleanerTopic())
	mustAppend(t, l, txnKeyed(1, 0, "1"), 0, 0)      // 0
	mustAppend(t, l, txnKeyed(1, 1, "2", "3"), 0, 0) // 1-2
	mustAppend(t, l, txnMarker(1, protocol.MarkerAbort), 0, 0)
	mustAppend(t, l, txnKeyed(1, 3, "3"), 0, 0) // 4
	mustAppend(t, l, txnMarker(1, protocol.MarkerCommit), 0, 0)
	mustAppend(t, l, keyed("f"), 0, 0) // 6, the active segment
	now := time.Minute
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "first cleaning", []int64{3, 4, 5, 6}, []string{"3", "f"})
	if a := l.AbortedTransactions(0, 100); len(a) != 0 {
		t.Errorf("aborted transactions %+v after their records went; want none", a)
	}
	// The first pass that finds the transaction empty sets the marker's horizon; it stays until then.
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "second cleaning, same time", []int64{3, 4, 5, 6}, []string{"3", "f"})
	if h, ok := markerHorizonAt(l, 3); !ok || h != now+l.cfg.DeleteRetention {
		t.Fatalf("ABORT marker's delete horizon %v (%v); want %v", h, ok, now+l.cfg.DeleteRetention)
	}
	l.Clean(now+l.cfg.DeleteRetention-time.Millisecond, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "before the horizon", []int64{3, 4, 5, 6}, []string{"3", "f"})
	l.Clean(now+l.cfg.DeleteRetention, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "at the horizon", []int64{4, 5, 6}, []string{"3", "f"})
}

func markerHorizonAt(l *Log, off int64) (time.Duration, bool) {
	if b := l.BatchAt(off); b != nil && b.Control {
		return l.markerHorizon(b)
	}
	return 0, false
}

// Reference: LogCleanerTest.testCommitMarkerRemoval: a COMMIT marker stays while its
// transaction's records are in the log, and while the pass that removed the last of them read
// them; the next pass sets its horizon and it goes delete.retention.ms later.
func TestLogCleanerCommitMarkerRemoval(t *testing.T) {
	l := openLog(t, newFakeDisk(), txnCleanerTopic())
	mustAppend(t, l, txnKeyed(1, 0, "1"), 0, 0)      // 0
	mustAppend(t, l, txnKeyed(1, 1, "2", "3"), 0, 0) // 1-2
	mustAppend(t, l, txnMarker(1, protocol.MarkerCommit), 0, 0)
	mustAppend(t, l, txnKeyed(1, 3, "2"), 0, 0) // 4
	mustAppend(t, l, txnMarker(1, protocol.MarkerCommit), 0, 0)
	mustAppend(t, l, keyed("f"), 0, 0) // 6
	now := time.Minute
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	// Cannot remove the marker at 3: records 0 and 2 of its transaction are still valid.
	wantLog(t, l, "first cleaning", []int64{0, 2, 3, 4, 5, 6}, []string{"1", "3", "2", "f"})

	mustAppend(t, l, txnKeyed(1, 4, "1", "3"), 0, now) // 7-8
	mustAppend(t, l, txnMarker(1, protocol.MarkerCommit), 0, now)
	mustAppend(t, l, keyed("g"), 0, now) // 10
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	// The transaction's records went in this pass, which read them: the marker stays.
	wantLog(t, l, "second cleaning", []int64{3, 4, 5, 6, 7, 8, 9, 10}, []string{"2", "f", "1", "3", "g"})
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "third cleaning, same time: not removed early", []int64{3, 4, 5, 6, 7, 8, 9, 10}, []string{"2", "f", "1", "3", "g"})
	l.Clean(now+l.cfg.DeleteRetention, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "after delete.retention.ms", []int64{4, 5, 6, 7, 8, 9, 10}, []string{"2", "f", "1", "3", "g"})
}

// Reference: LogCleanerTest.testAbortMarkerRetentionWithEmptyBatch: an aborted batch that is its
// producer's last is kept empty (its sequence), so its ABORT marker and the aborted-transaction
// index stay; once the producer writes again the empty batch goes, and then the marker.
func TestLogCleanerAbortMarkerRetentionWithEmptyBatch(t *testing.T) {
	l := openLog(t, newFakeDisk(), txnCleanerTopic())
	mustAppend(t, l, txnKeyed(1, 0, "2", "3"), 0, 0) // 0-1
	mustAppend(t, l, txnMarker(1, protocol.MarkerAbort), 0, 0)
	mustAppend(t, l, keyed("f"), 0, 0) // 3
	indexed := func(when string) {
		t.Helper()
		a := l.AbortedTransactions(0, 100)
		if len(a) != 1 || a[0].ProducerID != 1 || a[0].FirstOffset != 0 {
			t.Fatalf("%s: aborted transactions %+v; want producer 1's from offset 0", when, a)
		}
	}
	indexed("before cleaning")
	now := time.Minute
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	indexed("first cleaning")
	wantLog(t, l, "first cleaning", []int64{2, 3}, []string{"f"})
	if b := l.BatchAt(1); b == nil || b.LastOffset() != 1 || len(b.Records) != 0 {
		t.Fatalf("batch at 0-1: %+v; want it kept empty (the producer's last sequence)", b)
	}
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	l.Clean(now+l.cfg.DeleteRetention, l.LogEndOffset(), CleanerBugs{})
	indexed("cleaned twice more")
	wantLog(t, l, "cleaned twice more", []int64{2, 3}, []string{"f"})

	mustAppend(t, l, txnKeyed(1, 2, "1"), 0, now) // 4: a new last sequence
	mustAppend(t, l, txnMarker(1, protocol.MarkerCommit), 0, now)
	mustAppend(t, l, keyed("g"), 0, now) // 6
	now += l.cfg.DeleteRetention
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	// The empty batch goes; the marker stays: this pass read the empty batch.
	wantLog(t, l, "after the producer wrote again", []int64{2, 3, 4, 5, 6}, []string{"f", "1", "g"})
	if b := l.BatchAt(1); b != nil && b.BaseOffset == 0 {
		t.Fatalf("the empty batch at 0-1 is still there; want it gone")
	}
	l.Clean(now, l.LogEndOffset(), CleanerBugs{})
	l.Clean(now+l.cfg.DeleteRetention, l.LogEndOffset(), CleanerBugs{})
	wantLog(t, l, "two more passes", []int64{3, 4, 5, 6}, []string{"f", "1", "g"})
	if a := l.AbortedTransactions(0, 100); len(a) != 0 {
		t.Errorf("aborted transactions %+v after the marker went; want none", a)
	}
}

// Reference: Cleaner.buildOffsetMapForSegment: an aborted transaction's records are not in the
// offset map, so they never supersede a committed record of their key.
func TestLogCleanerAbortedRecordsDoNotSupersede(t *testing.T) {
	l := openLog(t, newFakeDisk(), txnCleanerTopic())
	mustAppend(t, l, keyed("k"), 0, 0)          // 0
	mustAppend(t, l, txnKeyed(1, 0, "k"), 0, 0) // 1, aborted
	mustAppend(t, l, txnMarker(1, protocol.MarkerAbort), 0, 0)
	mustAppend(t, l, keyed("f"), 0, 0) // 3
	l.Clean(time.Minute, l.LogEndOffset(), CleanerBugs{})
	offs, keys := recordOffsets(l)
	if len(offs) == 0 || offs[0] != 0 || keys[0] != "k" {
		t.Fatalf("offsets %v keys %v; want k at 0 kept (the aborted k at 1 does not supersede it)", offs, keys)
	}
}
