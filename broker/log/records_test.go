package log

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// corrupted is a copy of b whose bytes have one bit flipped inside the CRC's range.
func corrupted(b *protocol.RecordBatch) *protocol.RecordBatch {
	c := *b
	c.Bytes = append([]byte(nil), b.Bytes...)
	c.Bytes[len(c.Bytes)-1] ^= 0x01
	return &c
}

// Reference: LogValidator / DefaultRecordBatch.ensureValid — the leader refuses a batch whose
// CRC does not match with CORRUPT_MESSAGE and appends nothing.
func TestAppendAsLeaderRefusesCorruptBatch(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	_, _, _, code := l.AppendAsLeader(corrupted(plain(3)), 0, time.Second)
	if code != protocol.CORRUPT_MESSAGE {
		t.Fatalf("corrupt batch: got %v; want CORRUPT_MESSAGE", code)
	}
	if l.LogEndOffset() != 0 || len(l.Batches()) != 0 {
		t.Fatalf("after a refused batch: LEO %d, %d batches; want 0, 0", l.LogEndOffset(), len(l.Batches()))
	}
	if !protocol.CORRUPT_MESSAGE.Retriable() {
		t.Errorf("CORRUPT_MESSAGE: not retriable; want retriable (CorruptRecordException extends RetriableException)")
	}
}

// Reference: LogValidator.validateMessagesAndAssignOffsets — a topic whose compression.type is a
// codec stores every batch in it (the rebuild path); `producer` keeps the batch's own codec. The
// stored bytes carry the leader's offset and epoch and decode to the producer's records.
func TestAppendAsLeaderRecompressesToTheTopicCodec(t *testing.T) {
	for _, c := range []struct {
		topic    string
		producer record.Codec
		want     record.Codec
	}{
		{"producer", record.Gzip, record.Gzip},
		{"lz4", record.None, record.LZ4},
		{"uncompressed", record.Zstd, record.None},
		{"snappy", record.Snappy, record.Snappy},
	} {
		cfg := config.DefaultTopic()
		if err := cfg.Set("compression.type", c.topic); err != nil {
			t.Fatal(err)
		}
		l := openLog(t, newFakeDisk(), cfg)
		first := mustAppend(t, l, plain(1), 2, time.Second)
		in := unencoded(5)
		bs, err := record.Encode(in, record.Options{Codec: c.producer, ValueBytes: 100})
		if err != nil {
			t.Fatal(err)
		}
		in.Bytes = bs
		s := mustAppend(t, l, in, 2, time.Second)
		if got := record.CodecOf(s.Bytes); got != c.want {
			t.Errorf("topic %s, producer %s: stored in %s; want %s", c.topic, c.producer, got, c.want)
		}
		d, _, _, err := record.Decode(s.Bytes)
		if err != nil {
			t.Fatalf("topic %s: decoding the stored batch: %v", c.topic, err)
		}
		if d.BaseOffset != 1 || d.PartitionLeaderEpoch != 2 || !reflect.DeepEqual(d.Records, in.Records) {
			t.Errorf("topic %s: stored batch decodes to base %d epoch %d records %v; want 1, 2, %v", c.topic, d.BaseOffset, d.PartitionLeaderEpoch, d.Records, in.Records)
		}
		if s.SizeBytes() != int64(len(s.Bytes)) || l.SizeBytes() != int64(len(first.Bytes)+len(s.Bytes)) {
			t.Errorf("topic %s: log size %d; want the stored bytes, %d + %d", c.topic, l.SizeBytes(), len(first.Bytes), len(s.Bytes))
		}
	}
}

// A batch built on the broker (a transaction marker, a coordinator's records) is encoded by the
// leader, and its bytes decode to it.
func TestAppendAsLeaderEncodesBrokerBatches(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	marker := &protocol.RecordBatch{ProducerID: 7, ProducerEpoch: 1, BaseSequence: protocol.NoSequence, Control: true, Transactional: true,
		Records: []protocol.Record{{Key: protocol.MarkerCommit, Value: 3}}}
	s := mustAppend(t, l, marker, 1, 5*time.Second)
	d, _, _, err := record.Decode(s.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Control || d.Records[0] != marker.Records[0] || d.MaxTimestamp != 5*time.Second {
		t.Fatalf("marker decodes to control %v %v at %v; want a control batch %v at 5s", d.Control, d.Records, d.MaxTimestamp, marker.Records)
	}
}

// Reference: UnifiedLog.appendAsFollower → analyzeAndValidateRecords — a follower checks the
// CRC of replicated batches and appends none of a fetch that holds a corrupt one.
func TestAppendAsFollowerRefusesCorruptBatch(t *testing.T) {
	leader := openLog(t, newFakeDisk(), config.DefaultTopic())
	a := mustAppend(t, leader, plain(2), 0, 0)
	b := mustAppend(t, leader, plain(2), 0, 0)
	f := openLog(t, newFakeDisk(), config.DefaultTopic())
	err := f.AppendAsFollower([]*protocol.RecordBatch{a, corrupted(b)}, 0)
	if !errors.Is(err, ErrInvalidBatch) || f.LogEndOffset() != 0 {
		t.Fatalf("corrupt replicated batch: err %v, LEO %d; want ErrInvalidBatch, 0", err, f.LogEndOffset())
	}
	if err := f.AppendAsFollower([]*protocol.RecordBatch{a, b}, 0); err != nil || f.LogEndOffset() != 4 {
		t.Fatalf("intact batches: err %v, LEO %d; want nil, 4", err, f.LogEndOffset())
	}
}

// Reference: LogSegment.recover — on reopen, the log ends before the first batch whose CRC does
// not match (a torn write after a crash); the rest of the segment is truncated.
func TestRecoveryTruncatesAtCorruptBatch(t *testing.T) {
	d := newFakeDisk()
	l := openLog(t, d, config.DefaultTopic())
	for i := 0; i < 3; i++ {
		mustAppend(t, l, plain(2), 0, 0)
	}
	l.Flush()
	file := segmentFile("orders-0", 0)
	f := d.files[file]
	f.cache[1] = corrupted(f.cache[1].(*protocol.RecordBatch))
	r := openLog(t, d, config.DefaultTopic())
	if r.LogEndOffset() != 2 || len(r.Batches()) != 1 || d.Len(file) != 1 {
		t.Fatalf("after recovery: LEO %d, %d batches, %d entries on disk; want 2, 1, 1", r.LogEndOffset(), len(r.Batches()), d.Len(file))
	}
}
