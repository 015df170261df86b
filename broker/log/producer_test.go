package log

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

type appendResult struct {
	off int64
	dup bool
	err protocol.ErrorCode
}

func appendIdem(l *Log, pid int64, epoch int16, seq int32, n int) appendResult {
	_, off, dup, err := l.AppendAsLeader(idem(pid, epoch, seq, n), 1, 0)
	return appendResult{off, dup, err}
}

// Reference: KIP-98 (ProducerStateEntry.NUM_BATCHES_TO_RETAIN = 5,
// findDuplicateBatch): a retry of any of the last five batches returns its original offset and
// appends nothing; the sixth-oldest is no longer known and is out of order.
func TestIdempotentDuplicatesOfTheLastFiveBatches(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	for i := int32(0); i < 6; i++ { // batches of 2: seqs 0-1 … 10-11 at offsets 0 … 10
		if r := appendIdem(l, 1, 0, 2*i, 2); r != (appendResult{int64(2 * i), false, protocol.NONE}) {
			t.Fatalf("batch %d: got %+v; want offset %d appended", i, r, 2*i)
		}
	}
	for i := int32(1); i < 6; i++ {
		want := appendResult{int64(2 * i), true, protocol.NONE}
		if r := appendIdem(l, 1, 0, 2*i, 2); r != want {
			t.Errorf("retry of batch %d: got %+v; want %+v", i, r, want)
		}
	}
	if r := appendIdem(l, 1, 0, 0, 2); r.err != protocol.OUT_OF_ORDER_SEQUENCE_NUMBER {
		t.Errorf("retry of the 6th-oldest batch: got %+v; want OUT_OF_ORDER_SEQUENCE_NUMBER", r)
	}
	if got := l.LogEndOffset(); got != 12 {
		t.Errorf("LEO after retries: got %d; want 12 (nothing appended)", got)
	}
}

// Reference: KIP-98 (ProducerAppendInfo.checkProducerEpoch, checkSequence).
func TestIdempotentSequenceAndEpochChecks(t *testing.T) {
	tests := []struct {
		name   string
		pid    int64
		epoch  int16
		seq    int32
		want   protocol.ErrorCode
		wantOK bool
	}{
		{"next in sequence", 1, 3, 4, protocol.NONE, true},
		{"gap", 1, 3, 5, protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, false},
		{"behind, not a retained batch", 1, 3, 1, protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, false},
		{"epoch bump must start at 0", 1, 4, 4, protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, false},
		{"epoch bump at 0", 1, 4, 0, protocol.NONE, true},
		{"lower epoch", 1, 2, 4, protocol.INVALID_PRODUCER_EPOCH, false},
		{"unknown producer accepts any sequence", 2, 0, 42, protocol.NONE, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openLog(t, newFakeDisk(), config.DefaultTopic())
			appendIdem(l, 1, 3, 0, 2) // seqs 0-1
			appendIdem(l, 1, 3, 2, 2) // seqs 2-3
			r := appendIdem(l, tt.pid, tt.epoch, tt.seq, 1)
			if r.err != tt.want || (r.err == protocol.NONE) != tt.wantOK || r.dup {
				t.Fatalf("append (pid %d, epoch %d, seq %d): got %+v; want %v", tt.pid, tt.epoch, tt.seq, r, tt.want)
			}
			wantLEO := int64(4)
			if tt.wantOK {
				wantLEO = 5
			}
			if got := l.LogEndOffset(); got != wantLEO {
				t.Fatalf("LEO: got %d; want %d", got, wantLEO)
			}
		})
	}
}

// Reference: KAFKA-15591 (ProducerAppendInfo.checkSequence): a log that has never held a
// record takes only sequence 0 from a producer it has no state for. A producer's first batch to
// the partition refused by a stale leader (NOT_LEADER_OR_FOLLOWER) must not be overtaken by the
// batch behind it at the new leader: that one is out of order until the first is appended.
// A log that has held records still lets an unknown producer start anywhere (KIP-360), even
// once retention has emptied it.
func TestNeverWrittenLogTakesOnlySequenceZeroFromUnknownProducer_KAFKA15591(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	if r := appendIdem(l, 7, 0, 164, 49); r.err != protocol.OUT_OF_ORDER_SEQUENCE_NUMBER {
		t.Fatalf("sequence 164 first on a never-written log: got %+v; want OUT_OF_ORDER_SEQUENCE_NUMBER", r)
	}
	if got := l.LogEndOffset(); got != 0 {
		t.Fatalf("LEO after the refusal: got %d; want 0", got)
	}
	if r := appendIdem(l, 7, 0, 0, 164); r != (appendResult{0, false, protocol.NONE}) {
		t.Fatalf("sequence 0: got %+v; want appended at 0", r)
	}
	if r := appendIdem(l, 7, 0, 164, 49); r != (appendResult{164, false, protocol.NONE}) {
		t.Fatalf("sequence 164 after 0-163: got %+v; want appended at 164", r)
	}
	if r := appendIdem(l, 8, 0, 42, 1); r.err != protocol.NONE {
		t.Fatalf("unknown producer on a log with records: got %+v; want any sequence accepted", r)
	}

	// Emptied: no batch left, the log starting at its old end (as DeleteRecords up to the
	// end leaves it).
	emptied := openLog(t, newFakeDisk(), config.DefaultTopic())
	appendIdem(emptied, 7, 0, 0, 1)
	emptied.TruncateFullyAndStartAt(1)
	if len(emptied.Batches()) != 0 || emptied.LogEndOffset() != 1 {
		t.Fatalf("emptied log: %d batches, end %d; want 0, 1", len(emptied.Batches()), emptied.LogEndOffset())
	}
	if r := appendIdem(emptied, 7, 0, 42, 1); r.err != protocol.NONE {
		t.Fatalf("unknown producer on an emptied log: got %+v; want any sequence accepted", r)
	}
}

func TestIdempotentSequenceWrapsAtMaxInt32(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	appendIdem(l, 1, 0, 0, 1)
	// Force the last sequence to Int32.MaxValue: an unknown producer may start anywhere.
	appendIdem(l, 5, 0, 1<<31-1, 1)
	if r := appendIdem(l, 5, 0, 0, 1); r.err != protocol.NONE || r.dup {
		t.Fatalf("sequence after MaxInt32: got %+v; want appended", r)
	}
}

// Reference: ProducerAppendInfo (AppendOrigin.REPLICATION): followers rebuild producer state from
// replicated batches (origin REPLICATION skips the checks), so after a clean failover a retry
// of a replicated batch is deduplicated by the new leader, and a retry of a batch that never
// reached it is appended fresh.
func TestFollowerRebuildsProducerStateSoRetryToNewLeaderIsDeduplicated(t *testing.T) {
	leader := openLog(t, newFakeDisk(), config.DefaultTopic())
	leader.AssignEpochStartOffset(1, 0)
	for i := int32(0); i < 3; i++ {
		appendIdem(leader, 7, 0, 3*i, 3) // seqs 0-2, 3-5, 6-8 at offsets 0, 3, 6
	}
	follower := openLog(t, newFakeDisk(), config.DefaultTopic())
	if err := follower.AppendAsFollower(leader.Read(0, 6, 1<<20), time.Second); err != nil { // the last batch never arrives
		t.Fatalf("AppendAsFollower: %v", err)
	}
	if ep, seq, ok := follower.ProducerLastSequence(7); !ok || ep != 0 || seq != 5 {
		t.Fatalf("follower producer state: got (%d, %d, %v); want (0, 5, true)", ep, seq, ok)
	}
	follower.AssignEpochStartOffset(2, follower.LogEndOffset()) // becomes leader in epoch 2
	if _, off, dup, err := follower.AppendAsLeader(idem(7, 0, 3, 3), 2, 0); !dup || off != 3 || err != protocol.NONE {
		t.Fatalf("retry of a replicated batch: got (off %d, dup %v, %v); want (3, true, NONE)", off, dup, err)
	}
	if _, off, dup, err := follower.AppendAsLeader(idem(7, 0, 6, 3), 2, 0); dup || off != 6 || err != protocol.NONE {
		t.Fatalf("retry of an unreplicated batch: got (off %d, dup %v, %v); want (6, false, NONE)", off, dup, err)
	}
}

func TestTruncationRebuildsProducerState(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	appendIdem(l, 7, 0, 0, 2) // [0,2)
	appendIdem(l, 7, 0, 2, 2) // [2,4)
	l.TruncateTo(2)
	if ep, seq, ok := l.ProducerLastSequence(7); !ok || ep != 0 || seq != 1 {
		t.Fatalf("after truncation: got (%d, %d, %v); want (0, 1, true)", ep, seq, ok)
	}
	if r := appendIdem(l, 7, 0, 2, 2); r != (appendResult{2, false, protocol.NONE}) {
		t.Fatalf("retry of the truncated batch: got %+v; want appended at 2", r)
	}
}

func TestRetentionForgetsProducersWithNoBatchLeft(t *testing.T) {
	cfg := config.DefaultTopic()
	cfg.SegmentBytes = idem(1, 0, 0, 1).SizeBytes()
	cfg.Retention = time.Minute
	l := openLog(t, newFakeDisk(), cfg)
	appendIdem(l, 7, 0, 0, 1) // segment 0
	appendIdem(l, 8, 0, 0, 1) // segment 1 (active)
	if got := l.DeleteOldSegments(time.Hour, 2); got != 1 {
		t.Fatalf("deleted: got %d; want 1", got)
	}
	if _, _, ok := l.ProducerLastSequence(7); ok {
		t.Fatalf("producer 7 still known after its only batch was deleted")
	}
	if r := appendIdem(l, 7, 0, 10, 1); r.err != protocol.NONE {
		t.Fatalf("producer 7 after retention: got %+v; want any sequence accepted", r)
	}
	if _, _, ok := l.ProducerLastSequence(8); !ok {
		t.Fatalf("producer 8 forgotten; want kept")
	}
}

func TestControlBatchBumpsProducerEpoch(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	appendIdem(l, 7, 0, 0, 1)
	marker := &protocol.RecordBatch{ProducerID: 7, ProducerEpoch: 1, BaseSequence: protocol.NoSequence, Control: true, Records: []protocol.Record{{}}}
	if _, _, _, err := l.AppendAsLeader(marker, 1, 0); err != protocol.NONE {
		t.Fatalf("marker: got %v; want NONE", err)
	}
	if ep, seq, ok := l.ProducerLastSequence(7); !ok || ep != 1 || seq != protocol.NoSequence {
		t.Fatalf("after marker: got (%d, %d, %v); want (1, -1, true)", ep, seq, ok)
	}
	if r := appendIdem(l, 7, 0, 1, 1); r.err != protocol.INVALID_PRODUCER_EPOCH {
		t.Fatalf("old epoch after marker: got %+v; want INVALID_PRODUCER_EPOCH", r)
	}
	if r := appendIdem(l, 7, 1, 0, 1); r.err != protocol.NONE {
		t.Fatalf("new epoch at seq 0: got %+v; want NONE", r)
	}
}
