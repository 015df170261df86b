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
