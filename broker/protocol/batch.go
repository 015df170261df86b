package protocol

import "time"

// Behavior: a record batch as Kafka's v2 format has it (DefaultRecordBatch), minus the bytes:
// base offset, leader epoch stamped by the leader on append, producer id/epoch/base sequence
// for idempotence, and the records. Sizes are estimated from the v2 layout so that segment and
// retention limits in bytes behave as they would.

// Record is one record. Workload values are unique int64s so the checker can follow each one.
type Record struct {
	Key   string
	Value int64
}

// RecordBatch is an immutable batch of records. The producer builds one with BaseOffset 0;
// the leader assigns offsets and its epoch by making a stamped copy (Stamp).
type RecordBatch struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32 // the leader epoch at append (KIP-101)
	ProducerID           int64 // NoProducerID when not idempotent
	ProducerEpoch        int16
	BaseSequence         int32 // NoSequence when not idempotent
	MaxTimestamp         time.Duration
	Control              bool // a transaction marker (control batch)
	Transactional        bool
	Records              []Record
}

// batchOverhead is the fixed v2 batch header size; recordOverhead approximates the per-record
// varint headers (length, attributes, timestamp and offset deltas, key length, header count).
const (
	batchOverhead  = 61
	recordOverhead = 10
	valueBytes     = 8
)

// Count is the number of records (offsets) in the batch.
func (b *RecordBatch) Count() int64 { return int64(len(b.Records)) }

// LastOffset is the offset of the batch's last record.
func (b *RecordBatch) LastOffset() int64 { return b.BaseOffset + int64(len(b.Records)) - 1 }

// NextOffset is the offset after the batch.
func (b *RecordBatch) NextOffset() int64 { return b.BaseOffset + int64(len(b.Records)) }

// LastSequence is the sequence number of the batch's last record.
func (b *RecordBatch) LastSequence() int32 {
	if b.BaseSequence == NoSequence {
		return NoSequence
	}
	return b.BaseSequence + int32(len(b.Records)) - 1
}

// Idempotent reports whether the batch carries a producer id and sequence.
func (b *RecordBatch) Idempotent() bool { return b.ProducerID >= 0 && b.BaseSequence >= 0 }

// SizeBytes estimates the batch's size on disk in Kafka's v2 format.
func (b *RecordBatch) SizeBytes() int64 {
	n := int64(batchOverhead)
	for i := range b.Records {
		n += recordOverhead + int64(len(b.Records[i].Key)) + valueBytes
	}
	return n
}

// Stamp returns a copy placed at baseOffset in leader epoch epoch, as the leader does on append.
func (b *RecordBatch) Stamp(baseOffset int64, epoch int32, now time.Duration) *RecordBatch {
	c := *b
	c.BaseOffset = baseOffset
	c.PartitionLeaderEpoch = epoch
	if c.MaxTimestamp == 0 {
		c.MaxTimestamp = now
	}
	return &c
}
