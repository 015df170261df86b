package protocol

import (
	"encoding/binary"
	"slices"
	"time"
)

// Behavior: a record batch as Kafka's v2 format has it (DefaultRecordBatch): Bytes, the batch as
// the producer encoded it (broker/record) and as the leader stores, replicates and serves it,
// plus the header fields parsed out of it (base offset, leader epoch stamped by the leader on
// append, producer id/epoch/base sequence for idempotence) and the records' model view, which
// is the decode of Bytes kept beside them (the producer has it when it encodes, so no replica
// or consumer decodes the same batch again). Sizes are the bytes' length; a batch built
// without bytes (tests) is estimated from the v2 layout.

// Record is one record. Workload values are unique int64s so the checker can follow each one.
type Record struct {
	Key   string
	Value int64
	// Tombstone: the record's value is null (a key's deletion on a compacted topic, producer
	// tombstones=); Value still names it, carried in a header (broker/record).
	Tombstone bool
	// Data is the value's bytes when they are not a number: a coordinator's record in
	// __consumer_offsets or __transaction_state (OffsetCommitValue, GroupMetadataValue,
	// TransactionLogValue), written as JSON after the key Kafka gives it. Empty for every
	// producer's record.
	Data string
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
	// Gaps is nil for a batch whose records are dense (Records[i] at BaseOffset+i), as every
	// producer writes them; the log cleaner's filtered batches (MemoryRecords.filterTo) set it.
	Gaps *OffsetGaps
	// Bytes is the batch in Kafka's v2 format (record.Encode), nil for a batch not encoded yet.
	// Immutable once set: every replica and fetch shares it; Stamp copies.
	Bytes []byte
}

// OffsetGaps places the records of a batch the cleaner filtered: each record's offset delta, and
// the original batch's last offset delta, which the v2 format keeps even when that record is
// gone (MemoryRecordsBuilder.overrideLastOffset) so that the producer's last sequence stays
// right; a batch emptied of records keeps its header for that reason (BatchRetention.RETAIN_EMPTY).
type OffsetGaps struct {
	Deltas          []int32 // Deltas[i] is Records[i]'s offset minus BaseOffset, increasing
	LastOffsetDelta int32
}

// batchOverhead is the fixed v2 batch header size; recordOverhead approximates the per-record
// varint headers (length, attributes, timestamp and offset deltas, key length, header count).
const (
	batchOverhead  = 61
	recordOverhead = 10
	valueBytes     = 8
)

// Count is the number of offsets the batch spans (its records, and the gaps between them in a
// cleaned batch).
func (b *RecordBatch) Count() int64 { return int64(b.lastOffsetDelta()) + 1 }

func (b *RecordBatch) lastOffsetDelta() int32 {
	if b.Gaps != nil {
		return b.Gaps.LastOffsetDelta
	}
	return int32(len(b.Records)) - 1
}

// LastOffset is the batch's last offset (DefaultRecordBatch.lastOffset: base offset plus the
// last offset delta, whose record a cleaned batch may no longer hold).
func (b *RecordBatch) LastOffset() int64 { return b.BaseOffset + int64(b.lastOffsetDelta()) }

// NextOffset is the offset after the batch (DefaultRecordBatch.nextOffset).
func (b *RecordBatch) NextOffset() int64 { return b.LastOffset() + 1 }

// OffsetOf is the offset of Records[i].
func (b *RecordBatch) OffsetOf(i int) int64 {
	if b.Gaps != nil {
		return b.BaseOffset + int64(b.Gaps.Deltas[i])
	}
	return b.BaseOffset + int64(i)
}

// IndexOf is the index in Records of the record at offset off, or -1 when the batch holds none
// there (outside the batch, or a record the cleaner removed).
func (b *RecordBatch) IndexOf(off int64) int {
	if off < b.BaseOffset || off > b.LastOffset() {
		return -1
	}
	if b.Gaps == nil {
		return int(off - b.BaseOffset)
	}
	d := int32(off - b.BaseOffset)
	i, ok := slices.BinarySearch(b.Gaps.Deltas, d)
	if !ok {
		return -1
	}
	return i
}

// LastSequence is the sequence number of the batch's last offset (DefaultRecordBatch.lastSequence:
// base sequence plus last offset delta).
func (b *RecordBatch) LastSequence() int32 {
	if b.BaseSequence == NoSequence {
		return NoSequence
	}
	return b.BaseSequence + b.lastOffsetDelta()
}

// Idempotent reports whether the batch carries a producer id and sequence.
func (b *RecordBatch) Idempotent() bool { return b.ProducerID >= 0 && b.BaseSequence >= 0 }

// SizeBytes is the batch's size on disk and on the wire (LOG_OVERHEAD plus its length field),
// estimated from the v2 layout for a batch not encoded.
func (b *RecordBatch) SizeBytes() int64 {
	if b.Bytes != nil {
		return int64(len(b.Bytes))
	}
	n := int64(batchOverhead)
	for i := range b.Records {
		n += recordOverhead + int64(len(b.Records[i].Key)) + valueBytes
	}
	return n
}

// Stamp returns a copy placed at baseOffset in leader epoch epoch, as the leader does on append.
// Encoded bytes are copied with the base offset (bytes 0-7) and the partition leader epoch
// (bytes 12-15) rewritten, both outside the CRC (LogValidator's in-place assignment).
func (b *RecordBatch) Stamp(baseOffset int64, epoch int32, now time.Duration) *RecordBatch {
	c := *b
	c.BaseOffset = baseOffset
	c.PartitionLeaderEpoch = epoch
	if c.MaxTimestamp == 0 {
		c.MaxTimestamp = now // the bytes' timestamps are the caller's to rewrite (record.SetTimestamps)
	}
	if b.Bytes != nil {
		c.Bytes = StampBytes(b.Bytes, baseOffset, epoch)
	}
	return &c
}

// StampBytes returns a copy of a v2 batch's bytes with its base offset and partition leader
// epoch set.
func StampBytes(src []byte, baseOffset int64, epoch int32) []byte {
	out := make([]byte, len(src))
	copy(out, src)
	binary.BigEndian.PutUint64(out[0:], uint64(baseOffset))
	binary.BigEndian.PutUint32(out[12:], uint32(epoch))
	return out
}
