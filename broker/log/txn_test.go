package log

import (
	"testing"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

func txnBatch(pid int64, seq int32, vals ...int64) *protocol.RecordBatch {
	b := &protocol.RecordBatch{ProducerID: pid, BaseSequence: seq, Transactional: true}
	for _, v := range vals {
		b.Records = append(b.Records, protocol.Record{Value: v})
	}
	return b
}

func txnMarker(pid int64, key string) *protocol.RecordBatch {
	return &protocol.RecordBatch{ProducerID: pid, BaseSequence: protocol.NoSequence, Control: true, Transactional: true,
		Records: []protocol.Record{{Key: key}}}
}

func appendTxn(t *testing.T, l *Log, b *protocol.RecordBatch) {
	t.Helper()
	if _, _, _, err := l.AppendAsLeader(b, 1, 0); err != protocol.NONE {
		t.Fatalf("append %+v: %v", b, err)
	}
}

// UnifiedLog.lastStableOffset: an open transaction's first offset holds the LSO back, whatever
// the high watermark and whatever comes after it, until its marker; then the LSO is the HW.
func TestLastStableOffsetStopsReadCommitted(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	appendTxn(t, l, &protocol.RecordBatch{ProducerID: protocol.NoProducerID, BaseSequence: protocol.NoSequence, Records: []protocol.Record{{Value: 1}}}) // 0
	appendTxn(t, l, txnBatch(7, 0, 2, 3))                                                                                                                // 1-2, open
	appendTxn(t, l, &protocol.RecordBatch{ProducerID: protocol.NoProducerID, BaseSequence: protocol.NoSequence, Records: []protocol.Record{{Value: 4}}}) // 3
	if got := l.LastStableOffset(4); got != 1 {
		t.Errorf("open transaction at 1, HW 4: LSO %d; want 1", got)
	}
	if got := l.LastStableOffset(1); got != 1 {
		t.Errorf("HW 1: LSO %d; want 1 (capped by the HW)", got)
	}
	appendTxn(t, l, txnMarker(7, protocol.MarkerCommit)) // 4
	if got := l.LastStableOffset(5); got != 5 {
		t.Errorf("transaction committed, HW 5: LSO %d; want 5", got)
	}
	if got := l.FirstUnstableOffset(); got != -1 {
		t.Errorf("FirstUnstableOffset %d; want -1 with no transaction open", got)
	}
}

// UnifiedLog.collectAbortedTransactions: the fetch of a read_committed consumer lists the
// aborted transactions overlapping its range, so the consumer can drop their records; a
// committed transaction is not listed, nor an aborted one wholly before the range.
func TestAbortedRecordsFilteredForReadCommitted(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	appendTxn(t, l, txnBatch(7, 0, 1, 2))                // 0-1
	appendTxn(t, l, txnMarker(7, protocol.MarkerAbort))  // 2
	appendTxn(t, l, txnBatch(8, 0, 3))                   // 3
	appendTxn(t, l, txnMarker(8, protocol.MarkerCommit)) // 4
	appendTxn(t, l, txnBatch(9, 0, 5, 6))                // 5-6
	appendTxn(t, l, txnMarker(9, protocol.MarkerAbort))  // 7
	got := l.AbortedTransactions(0, 8)
	want := []protocol.AbortedTransaction{{ProducerID: 7, FirstOffset: 0}, {ProducerID: 9, FirstOffset: 5}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("AbortedTransactions(0, 8) = %+v; want %+v", got, want)
	}
	if got := l.AbortedTransactions(3, 8); len(got) != 1 || got[0] != want[1] {
		t.Errorf("AbortedTransactions(3, 8) = %+v; want only %+v", got, want[1])
	}
}

// ProducerStateManager.firstUnstableOffset over producers opening and ending transactions in
// turn: the oldest open one's first offset, -1 with none open (the log counts the open ones, so
// that a fetch walks no producers while there are none).
func TestFirstUnstableOffsetFollowsOpenTransactions(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	check := func(want int64) {
		t.Helper()
		brute := int64(-1)
		open := 0
		for _, e := range l.producers.producers {
			if o := e.currentTxnFirstOffset; o >= 0 {
				open++
				if brute < 0 || o < brute {
					brute = o
				}
			}
		}
		if got := l.FirstUnstableOffset(); got != want || brute != want || l.producers.ongoing != open {
			t.Fatalf("FirstUnstableOffset %d (walking the producers %d, %d open, counted %d); want %d", got, brute, open, l.producers.ongoing, want)
		}
	}
	check(-1)
	appendTxn(t, l, txnBatch(7, 0, 1)) // 0
	check(0)
	appendTxn(t, l, txnBatch(8, 0, 2)) // 1
	appendTxn(t, l, txnBatch(7, 1, 3)) // 2: 7's transaction goes on
	check(0)
	appendTxn(t, l, txnMarker(7, protocol.MarkerCommit)) // 3
	check(1)
	appendTxn(t, l, txnMarker(7, protocol.MarkerAbort)) // 4: no transaction of 7 open
	check(1)
	appendTxn(t, l, txnBatch(7, 2, 4))                  // 5
	appendTxn(t, l, txnMarker(8, protocol.MarkerAbort)) // 6
	check(5)
	appendTxn(t, l, txnMarker(7, protocol.MarkerCommit)) // 7
	check(-1)
}
