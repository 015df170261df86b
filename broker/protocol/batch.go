package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
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
//
// The model view has two forms, read alike through Len, Record, Key and Value: the explicit
// one, a Record per record, and the compact one the producer's workload batches take (keyless
// records, no tombstone, no Data, values running FirstValue, FirstValue+1, …), which is two
// numbers however many records the batch holds. Kafka has no such form (its batches are bytes);
// it only spares the model a struct per record in every log for the whole run.

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
	// NumValues > 0 makes the batch compact: Records is nil and record i is keyless, not a
	// tombstone, without Data, and valued FirstValue+i (SetRecords picks the form). NumValues
	// sits beside the flags, where the struct had padding.
	NumValues  int32
	FirstValue int64
	// Records is the explicit form of the records, nil in the compact form: read them through
	// Len and Record (or Key and Value), which serve both.
	Records []Record
	// Gaps is nil for a batch whose records are dense (record i at BaseOffset+i), as every
	// producer writes them; the log cleaner's filtered batches (MemoryRecords.filterTo) set it,
	// and they are always explicit.
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

// Len is the number of records the batch holds (Count less a cleaned batch's gaps).
func (b *RecordBatch) Len() int {
	if b.NumValues > 0 {
		return int(b.NumValues)
	}
	return len(b.Records)
}

// Compact reports whether the batch is in the compact form (NumValues records valued from
// FirstValue, Records nil).
func (b *RecordBatch) Compact() bool { return b.NumValues > 0 }

// Record is record i (0 ≤ i < Len).
func (b *RecordBatch) Record(i int) Record {
	if b.NumValues > 0 {
		return Record{Value: b.Value(i)}
	}
	return b.Records[i]
}

// Value is record i's value.
func (b *RecordBatch) Value(i int) int64 {
	if b.NumValues > 0 {
		if uint(i) >= uint(b.NumValues) {
			panic(fmt.Sprintf("protocol: record %d of a compact batch of %d", i, b.NumValues))
		}
		return b.FirstValue + int64(i)
	}
	return b.Records[i].Value
}

// Key is record i's key ("" for none).
func (b *RecordBatch) Key(i int) string {
	if b.NumValues > 0 {
		if uint(i) >= uint(b.NumValues) {
			panic(fmt.Sprintf("protocol: record %d of a compact batch of %d", i, b.NumValues))
		}
		return ""
	}
	return b.Records[i].Key
}

// AppendRecords appends the batch's records, explicit, to dst.
func (b *RecordBatch) AppendRecords(dst []Record) []Record {
	if b.NumValues > 0 {
		for i := range int(b.NumValues) {
			dst = append(dst, Record{Value: b.FirstValue + int64(i)})
		}
		return dst
	}
	return append(dst, b.Records...)
}

// SetRecords gives b the records recs in the compact form when they qualify (see Compactable,
// and no Gaps), else recs itself (kept, not copied).
func (b *RecordBatch) SetRecords(recs []Record) {
	if b.Gaps == nil && Compactable(recs) {
		b.Records, b.FirstValue, b.NumValues = nil, recs[0].Value, int32(len(recs))
		return
	}
	b.Records, b.FirstValue, b.NumValues = recs, 0, 0
}

// SetValues gives b the compact form: n records (n > 0) valued first, first+1, …
func (b *RecordBatch) SetValues(first int64, n int) {
	if n <= 0 || n > math.MaxInt32 {
		panic(fmt.Sprintf("protocol: a compact batch of %d records", n))
	}
	b.Records, b.FirstValue, b.NumValues = nil, first, int32(n)
}

// Compactable reports whether recs can take the compact form: at least one record, every one
// keyless, not a tombstone, without Data, each value one more than the one before.
func Compactable(recs []Record) bool {
	if len(recs) == 0 || len(recs) > math.MaxInt32 {
		return false
	}
	first := recs[0].Value
	for i := range recs {
		if !recs[i].Plain() || recs[i].Value != first+int64(i) {
			return false
		}
	}
	return true
}

// Plain reports whether r is a workload record as the compact form holds it: keyless, not a
// tombstone, without Data.
func (r *Record) Plain() bool { return r.Key == "" && !r.Tombstone && r.Data == "" }

// Count is the number of offsets the batch spans (its records, and the gaps between them in a
// cleaned batch).
func (b *RecordBatch) Count() int64 { return int64(b.lastOffsetDelta()) + 1 }

func (b *RecordBatch) lastOffsetDelta() int32 {
	if b.Gaps != nil {
		return b.Gaps.LastOffsetDelta
	}
	return int32(b.Len()) - 1
}

// LastOffset is the batch's last offset (DefaultRecordBatch.lastOffset: base offset plus the
// last offset delta, whose record a cleaned batch may no longer hold).
func (b *RecordBatch) LastOffset() int64 { return b.BaseOffset + int64(b.lastOffsetDelta()) }

// NextOffset is the offset after the batch (DefaultRecordBatch.nextOffset).
func (b *RecordBatch) NextOffset() int64 { return b.LastOffset() + 1 }

// OffsetOf is the offset of record i.
func (b *RecordBatch) OffsetOf(i int) int64 {
	if b.Gaps != nil {
		return b.BaseOffset + int64(b.Gaps.Deltas[i])
	}
	return b.BaseOffset + int64(i)
}

// IndexOf is the index of the record at offset off, or -1 when the batch holds none
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
	if b.NumValues > 0 { // keyless records
		return n + int64(b.NumValues)*(recordOverhead+valueBytes)
	}
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
