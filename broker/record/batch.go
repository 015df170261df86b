package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
)

// Offsets into a v2 batch (DefaultRecordBatch's *_OFFSET constants).
const (
	lengthOffset         = 8
	magicOffset          = 16
	crcOffset            = 17
	attributesOffset     = 21
	firstTimestampOffset = 27
	maxTimestampOffset   = 35
	// LogOverhead is the offset and length fields before every batch (Records.LOG_OVERHEAD).
	LogOverhead = 12
	// BatchOverhead is the v2 batch header (DefaultRecordBatch.RECORD_BATCH_OVERHEAD).
	BatchOverhead = 61
	// Magic is the only batch format kafkasim writes or reads (RecordBatch.MAGIC_VALUE_V2).
	Magic = 2
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// Kafka's error codes for bad batches (Errors.java), as protocol names them.
const (
	CORRUPT_MESSAGE = protocol.CORRUPT_MESSAGE // CorruptRecordException
	INVALID_RECORD  = protocol.INVALID_RECORD  // InvalidRecordException
)

// Error is a batch that Kafka would refuse, with the error code it answers and a message in
// Kafka's words.
type Error struct {
	Code protocol.ErrorCode
	Msg  string
}

func (e *Error) Error() string {
	return e.Code.String() + ": " + e.Msg
}

// CodeOf is the error code a broker answers for err from Check, Decode or Recompress:
// the *Error's code, else CORRUPT_MESSAGE (bytes the model cannot hold are refused as corrupt).
func CodeOf(err error) protocol.ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CORRUPT_MESSAGE
}

func corrupt(format string, a ...any) error {
	return &Error{Code: CORRUPT_MESSAGE, Msg: fmt.Sprintf(format, a...)}
}

func invalid(format string, a ...any) error {
	return &Error{Code: INVALID_RECORD, Msg: fmt.Sprintf(format, a...)}
}

// Options says how the producer encodes a batch.
type Options struct {
	Codec      Codec // the producer's compression.type
	ValueBytes int   // value.bytes: each value is padded to this many bytes (0: the bare number)
}

// Encode returns the v2 bytes of b (see Append).
func Encode(b *protocol.RecordBatch, o Options) ([]byte, error) { return Append(nil, b, o) }

// Append appends the Kafka v2 bytes of b, compressed with o.Codec, to dst, as the producer's
// MemoryRecordsBuilder writes them:
//   - base offset, partition leader epoch, producer id, epoch and base sequence come from b;
//   - every record's timestamp is b.MaxTimestamp in milliseconds (records carry no timestamp
//     of their own in the model), so timestamp deltas are 0 and the base timestamp equals the
//     max timestamp;
//   - a record's key is its Key's bytes, null when empty; its value is its Data when set (a
//     coordinator's record), else the text of its Value
//     (AppendValue, padded to o.ValueBytes); no headers;
//   - in a control batch (a transaction marker) each record's key is a ControlRecordKey whose
//     type is named by the record's Key (protocol.MarkerAbort 0, protocol.MarkerCommit 1) and
//     its value an EndTxnMarker whose coordinator epoch is the record's Value.
//
// The CRC-32C covers the bytes from the attributes to the end (DefaultRecordBatch.computeChecksum).
func Append(dst []byte, b *protocol.RecordBatch, o Options) ([]byte, error) {
	if !o.Codec.Valid() {
		return dst, fmt.Errorf("compression codec %d unknown (valid: %s)", int8(o.Codec), codecNames())
	}
	raw := rawBufs.Get().(*rawBuf)
	defer rawBufs.Put(raw)
	raw.b = appendRecords(raw.b[:0], &raw.scratch, b, o.ValueBytes)

	ts := b.MaxTimestamp.Milliseconds()
	attrs := int16(o.Codec)
	if b.Transactional {
		attrs |= AttrTransactional
	}
	if b.Control {
		attrs |= AttrControl
	}
	h := kmsg.RecordBatch{
		FirstOffset:          b.BaseOffset,
		PartitionLeaderEpoch: b.PartitionLeaderEpoch,
		Magic:                Magic,
		Attributes:           attrs,
		LastOffsetDelta:      int32(b.Count()) - 1,
		FirstTimestamp:       ts,
		MaxTimestamp:         ts,
		ProducerID:           b.ProducerID,
		ProducerEpoch:        b.ProducerEpoch,
		FirstSequence:        b.BaseSequence,
		NumRecords:           int32(b.Len()),
	}
	start := len(dst)
	// One allocation for the whole batch when it is uncompressed (and a fair guess when not),
	// rather than growing through the header and then the records.
	want := BatchOverhead + len(raw.b)
	if o.Codec != None {
		want = BatchOverhead + len(raw.b)/2 + 64
	}
	if cap(dst)-len(dst) < want {
		dst = append(make([]byte, 0, len(dst)+want), dst...)
	}
	dst = h.AppendTo(dst) // the 61-byte header; Length and CRC are patched below
	var err error
	if dst, err = compress(dst, raw.b, o.Codec); err != nil {
		return dst[:start], err
	}
	finish(dst[start:])
	return dst, nil
}

// SetTimestamps sets the base and max timestamps of the batch at the start of bs (which must
// hold a whole batch) to t in milliseconds, and its CRC, as LogValidator does when it assigns
// LogAppendTime; the records' timestamp deltas stay 0.
func SetTimestamps(bs []byte, t time.Duration) {
	ms := uint64(t.Milliseconds())
	binary.BigEndian.PutUint64(bs[firstTimestampOffset:], ms)
	binary.BigEndian.PutUint64(bs[maxTimestampOffset:], ms)
	size := LogOverhead + int(binary.BigEndian.Uint32(bs[lengthOffset:]))
	finish(bs[:size])
}

// finish writes the length and the CRC-32C of a batch whose other bytes are final.
func finish(batch []byte) {
	binary.BigEndian.PutUint32(batch[lengthOffset:], uint32(len(batch)-LogOverhead))
	binary.BigEndian.PutUint32(batch[crcOffset:], crc32.Checksum(batch[attributesOffset:], crc32c))
}

// rawBuf is the pooled scratch space of one encode: the uncompressed records, and one record's
// key and value.
type rawBuf struct {
	b       []byte
	scratch []byte
}

var rawBufs = sync.Pool{New: func() any { return new(rawBuf) }}

func appendRecords(dst []byte, scratch *[]byte, b *protocol.RecordBatch, valueBytes int) []byte {
	if b.Compact() && !b.Control {
		// The producer's workload batch: keyless records valued FirstValue+i at offset delta i.
		for i := range b.Len() {
			dst = appendPlain(dst, scratch, int64(i), "", b.FirstValue+int64(i), valueBytes)
		}
		return dst
	}
	var r kmsg.Record
	for i := range b.Records {
		rec := &b.Records[i]
		r.OffsetDelta = int32(b.OffsetOf(i) - b.BaseOffset)
		if !b.Control && !rec.Tombstone && rec.Data == "" {
			dst = appendPlain(dst, scratch, int64(r.OffsetDelta), rec.Key, rec.Value, valueBytes)
			continue
		}
		s := (*scratch)[:0]
		if b.Control {
			k := kmsg.ControlRecordKey{Version: 0, Type: markerType(rec.Key)}
			s = k.AppendTo(s)
			kl := len(s)
			m := kmsg.EndTxnMarker{Version: 0, CoordinatorEpoch: int32(rec.Value)}
			s = m.AppendTo(s)
			r.Key, r.Value = s[:kl], s[kl:]
		} else {
			s = append(s, rec.Key...)
			kl := len(s)
			r.Headers = r.Headers[:0]
			if rec.Tombstone {
				// A null value; the record's number travels in a header so the checker can
				// follow the record through consumers.
				s = AppendValue(s, rec.Value, 0)
				r.Key, r.Value = s[:kl], nil
				r.Headers = append(r.Headers, kmsg.Header{Key: TombstoneHeader, Value: s[kl:]})
			} else {
				if rec.Data != "" { // a coordinator's record: its value struct
					s = append(s, rec.Data...)
				} else {
					s = AppendValue(s, rec.Value, valueBytes)
				}
				r.Key, r.Value = s[:kl], s[kl:]
			}
			if rec.Key == "" {
				r.Key = nil
			}
		}
		*scratch = s
		r.Length = int32(bodySize(&r))
		dst = r.AppendTo(dst)
	}
	return dst
}

// appendPlain appends the common record (no tombstone, no Data, not a marker) directly: what
// kmsg's Record.AppendTo writes for it, byte for byte, without the copy of the key and the
// calls per field; a value that is its number alone (not padded) is written in place, not
// through scratch.
func appendPlain(dst []byte, scratch *[]byte, offsetDelta int64, key string, value int64, valueBytes int) []byte {
	if value >= 0 {
		if n := digits(uint64(value)); n >= valueBytes {
			dst = appendPlainHead(dst, offsetDelta, key, n)
			dst = appendDigits(dst, uint64(value), n)
			return append(dst, 0) // no headers
		}
	}
	s := AppendValue((*scratch)[:0], value, valueBytes)
	*scratch = s
	return appendPlainRecord(dst, offsetDelta, key, s)
}

// appendPlainRecord appends a record with no headers, a zero timestamp delta and the given key
// ("" is a null key) and value (DefaultRecord.writeTo).
func appendPlainRecord(dst []byte, offsetDelta int64, key string, value []byte) []byte {
	dst = appendPlainHead(dst, offsetDelta, key, len(value))
	dst = append(dst, value...)
	return append(dst, 0) // no headers
}

// appendPlainHead appends such a record up to its value, which is valueLen bytes long.
func appendPlainHead(dst []byte, offsetDelta int64, key string, valueLen int) []byte {
	keySize := 1
	if key != "" {
		keySize = varlongSize(int64(len(key))) + len(key)
	}
	// attributes, timestamp delta 0, offset delta, key, value, header count 0
	body := 1 + 1 + varlongSize(offsetDelta) + keySize + varlongSize(int64(valueLen)) + valueLen + 1
	dst = appendVarlong(dst, int64(body))
	dst = append(dst, 0, 0) // attributes, timestamp delta
	dst = appendVarlong(dst, offsetDelta)
	if key == "" {
		dst = append(dst, 1) // -1: a null key
	} else {
		dst = appendVarlong(dst, int64(len(key)))
		dst = append(dst, key...)
	}
	return appendVarlong(dst, int64(valueLen))
}

// appendVarlong appends v as a zigzag varint (ByteUtils.writeVarlong); for a value in int32's
// range the bytes are those of ByteUtils.writeVarint.
func appendVarlong(dst []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		dst = append(dst, byte(u)|0x80)
		u >>= 7
	}
	return append(dst, byte(u))
}

// TombstoneHeader names the header that carries a tombstone's number (its value is null).
const TombstoneHeader = "kafkasim.value"

// markerType is the control record type of a marker the model names by its key
// (protocol.MarkerCommit or protocol.MarkerAbort, ControlRecordType COMMIT 1, ABORT 0).
func markerType(key string) kmsg.ControlRecordKeyType {
	if key == protocol.MarkerCommit {
		return kmsg.ControlRecordKeyTypeCommit
	}
	return kmsg.ControlRecordKeyTypeAbort
}

// bodySize is the byte count of a record after its length field (DefaultRecord.sizeOfBodyInBytes),
// with the varints Kafka writes (the shortest).
func bodySize(r *kmsg.Record) int {
	n := 1 + varlongSize(r.TimestampDelta64) + varlongSize(int64(r.OffsetDelta))
	n += bytesSize(r.Key) + bytesSize(r.Value) + varlongSize(int64(len(r.Headers)))
	for i := range r.Headers {
		n += varlongSize(int64(len(r.Headers[i].Key))) + len(r.Headers[i].Key) + bytesSize(r.Headers[i].Value)
	}
	return n
}

func bytesSize(b []byte) int {
	if b == nil {
		return 1 // -1, a null
	}
	return varlongSize(int64(len(b))) + len(b)
}

// varlongSize is the length of v as a zigzag varint (ByteUtils.sizeOfVarlong).
func varlongSize(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// Size returns the length of the batch at the start of src, LOG_OVERHEAD plus its length field,
// or an error if src does not hold a whole batch header. It checks nothing else.
func Size(src []byte) (int, error) {
	if len(src) < BatchOverhead {
		return 0, corrupt("Record batch is corrupt (the size %d is smaller than the minimum allowed overhead %d)", len(src), BatchOverhead)
	}
	length := int32(binary.BigEndian.Uint32(src[lengthOffset:]))
	if length < BatchOverhead-LogOverhead {
		return 0, corrupt("Record batch is corrupt (the size %d is smaller than the minimum allowed overhead %d)", int64(length)+LogOverhead, BatchOverhead)
	}
	size := int(length) + LogOverhead
	if size > len(src) {
		return 0, corrupt("Record batch is truncated: %d bytes declared, %d present", size, len(src))
	}
	return size, nil
}

// Check validates the batch at the start of src as a follower does on a replicated append
// (DefaultRecordBatch.ensureValid): a whole header, magic 2, a known codec and a matching
// CRC-32C. It returns the batch's size without decompressing anything.
func Check(src []byte) (int, error) {
	size, err := Size(src)
	if err != nil {
		return 0, err
	}
	if m := src[magicOffset]; m != Magic {
		return 0, corrupt("Invalid magic %d: kafkasim reads only record batch v%d", int8(m), Magic)
	}
	stored := binary.BigEndian.Uint32(src[crcOffset:])
	if computed := crc32.Checksum(src[attributesOffset:size], crc32c); stored != computed {
		return 0, corrupt("Record is corrupt (stored crc = %d, computed crc = %d)", stored, computed)
	}
	if c := CodecOf(src); !c.Valid() {
		return 0, corrupt("Unknown compression type id %d (valid: %s)", int8(c), codecNames())
	}
	return size, nil
}

// CodecOf is the codec of the batch at the start of src (which must hold its header).
func CodecOf(src []byte) Codec {
	return Codec(int16(binary.BigEndian.Uint16(src[attributesOffset:])) & AttrCodecMask)
}

// Decode reads the batch at the start of src back into the model, checking it as Check does and
// then every record (DefaultRecordBatch's record iterator, DefaultRecord.readFrom). It returns
// the batch, its codec and its size in bytes, so a fetch response's concatenated batches are
// read by advancing src by the size. Bytes Kafka would refuse give an *Error (CORRUPT_MESSAGE or
// INVALID_RECORD); valid bytes the model cannot hold (a value that is not a kafkasim value) give
// a plain error. A batch the cleaner filtered (offset deltas with gaps, a last offset delta past
// the last record, or no record at all) comes back with Gaps set.
func Decode(src []byte) (*protocol.RecordBatch, Codec, int, error) {
	size, err := Check(src)
	if err != nil {
		return nil, None, 0, err
	}
	var h kmsg.RecordBatch
	if err := h.ReadFrom(src[:size]); err != nil {
		return nil, None, 0, corrupt("Record batch header unreadable: %v", err)
	}
	codec := Codec(h.Attributes & AttrCodecMask)
	if h.NumRecords < 0 {
		return nil, None, 0, invalid("Found invalid record count %d in magic v%d batch", h.NumRecords, Magic)
	}
	data, err := decompress(h.Records, codec)
	if err != nil {
		return nil, None, 0, corrupt("Records could not be decompressed with %s: %v", codec, err)
	}
	b := &protocol.RecordBatch{
		BaseOffset:           h.FirstOffset,
		PartitionLeaderEpoch: h.PartitionLeaderEpoch,
		ProducerID:           h.ProducerID,
		ProducerEpoch:        h.ProducerEpoch,
		BaseSequence:         h.FirstSequence,
		MaxTimestamp:         time.Duration(h.MaxTimestamp) * time.Millisecond,
		Control:              h.Attributes&AttrControl != 0,
		Transactional:        h.Attributes&AttrTransactional != 0,
	}
	// Every record takes at least 7 bytes, so the count cannot claim more records than the
	// data could hold: no allocation beyond the input's size.
	b.Records = make([]protocol.Record, 0, min(int(h.NumRecords), len(data)/7))
	var r kmsg.Record
	var deltas []int32 // set at the first record out of place: a cleaned batch
	for i := int32(0); i < h.NumRecords; i++ {
		if len(data) == 0 {
			return nil, None, 0, invalid("Incorrect declared batch size, premature EOF reached after %d of %d records", i, h.NumRecords)
		}
		n, err := readRecord(&r, data)
		if err != nil {
			return nil, None, 0, err
		}
		data = data[n:]
		if deltas, err = placeRecord(deltas, r.OffsetDelta, i, h.LastOffsetDelta); err != nil {
			return nil, None, 0, err
		}
		rec, err := toModel(&r, b.Control)
		if err != nil {
			return nil, None, 0, fmt.Errorf("record %d of the batch at offset %d: %w", i, h.FirstOffset, err)
		}
		b.Records = append(b.Records, rec)
	}
	if len(data) > 0 {
		return nil, None, 0, invalid("Incorrect declared batch size, records still remaining in file (%d bytes after %d records)", len(data), h.NumRecords)
	}
	if h.LastOffsetDelta < h.NumRecords-1 {
		return nil, None, 0, invalid("Invalid last offset delta %d for a batch of %d records", h.LastOffsetDelta, h.NumRecords)
	}
	if deltas != nil || h.LastOffsetDelta != h.NumRecords-1 {
		if deltas == nil { // dense so far: the gap is after the last record (or there is none)
			deltas = denseDeltas(int(h.NumRecords))
		}
		b.Gaps = &protocol.OffsetGaps{Deltas: deltas, LastOffsetDelta: h.LastOffsetDelta}
	}
	return b, codec, size, nil
}

// placeRecord checks the offset delta of record i, which must increase and stay within the last
// offset delta (a cleaned batch's records keep their offsets, MemoryRecords.filterTo). deltas
// stays nil while the records are dense; at the first gap it is filled with the records before.
func placeRecord(deltas []int32, delta, i, last int32) ([]int32, error) {
	prev := i - 1
	if deltas != nil {
		prev = deltas[len(deltas)-1]
	}
	if delta <= prev || delta > last {
		return nil, invalid("Invalid offset delta %d for record %d of a batch whose last offset delta is %d", delta, i, last)
	}
	if deltas == nil && delta == i {
		return nil, nil
	}
	if deltas == nil {
		deltas = denseDeltas(int(i))
	}
	return append(deltas, delta), nil
}

func denseDeltas(n int) []int32 {
	d := make([]int32, n, n+1)
	for i := range d {
		d[i] = int32(i)
	}
	return d
}

// readRecord parses one record from the start of data with kmsg and returns its size. The record
// must use exactly the bytes its length field declares (DefaultRecord.readFrom: "Invalid record
// size").
func readRecord(r *kmsg.Record, data []byte) (int, error) {
	length, hdr := binary.Varint(data)
	if hdr <= 0 || length < 0 || length > int64(len(data)-hdr) {
		return 0, invalid("Invalid record size: declared %d, %d bytes remain", length, len(data)-max(hdr, 0))
	}
	size := hdr + int(length)
	rec := data[:size]
	if err := r.ReadFrom(rec); err != nil {
		return 0, invalid("Record is unreadable: %v", err)
	}
	// kmsg reads fields in order and ignores what is left, so check what it consumed. Kafka's
	// writers use the shortest varints, making the arithmetic exact; a longer (valid) varint
	// takes the slower proof: the record must not parse from one byte less.
	if bodySize(r) != int(length) {
		var probe kmsg.Record
		if probe.ReadFrom(rec[:size-1]) == nil {
			return 0, invalid("Invalid record size: expected to read %d bytes in record payload, but its fields end sooner", length)
		}
	}
	return size, nil
}

// toModel converts a parsed record into the model's Record.
func toModel(r *kmsg.Record, control bool) (protocol.Record, error) {
	if control {
		if len(r.Key) < 4 {
			return protocol.Record{}, invalid("Invalid control record key of %d bytes (ControlRecordType.parse needs 4)", len(r.Key))
		}
		var k kmsg.ControlRecordKey
		if err := k.ReadFrom(r.Key); err != nil {
			return protocol.Record{}, invalid("Invalid control record key: %v", err)
		}
		var m kmsg.EndTxnMarker
		if err := m.ReadFrom(r.Value); err != nil {
			return protocol.Record{}, invalid("Invalid end transaction marker: %v", err)
		}
		rec := protocol.Record{Key: protocol.MarkerAbort, Value: int64(m.CoordinatorEpoch)}
		if k.Type == kmsg.ControlRecordKeyTypeCommit {
			rec.Key = protocol.MarkerCommit
		}
		return rec, nil
	}
	if r.Value == nil {
		// A tombstone: its number is in the TombstoneHeader header (a real client's tombstone
		// has none: -1).
		rec := protocol.Record{Key: string(r.Key), Value: -1, Tombstone: true}
		for _, h := range r.Headers {
			if h.Key == TombstoneHeader {
				v, err := ParseValue(h.Value)
				if err != nil {
					return protocol.Record{}, err
				}
				rec.Value = v
			}
		}
		return rec, nil
	}
	v, err := ParseValue(r.Value)
	if err != nil {
		return protocol.Record{}, err
	}
	return protocol.Record{Key: string(r.Key), Value: v}, nil
}

// Recompress returns the batch at the start of src stored in codec target, as the leader's
// LogValidator does when the topic's compression.type differs from the batch's codec
// (buildRecordsAndAssignOffsets): the records are the same bytes, only their compression, the
// codec bits, the length and the CRC change. A batch already in target is returned as is (the
// in-place path). src is checked first.
func Recompress(src []byte, target Codec) ([]byte, error) {
	size, err := Check(src)
	if err != nil {
		return nil, err
	}
	if !target.Valid() {
		return nil, fmt.Errorf("compression codec %d unknown (valid: %s)", int8(target), codecNames())
	}
	source := CodecOf(src)
	if source == target {
		return src[:size], nil
	}
	data, err := decompress(src[BatchOverhead:size], source)
	if err != nil {
		return nil, corrupt("Records could not be decompressed with %s: %v", source, err)
	}
	out := make([]byte, BatchOverhead, BatchOverhead+len(data)/2)
	copy(out, src[:BatchOverhead])
	attrs := int16(binary.BigEndian.Uint16(out[attributesOffset:]))&^AttrCodecMask | int16(target)
	binary.BigEndian.PutUint16(out[attributesOffset:], uint16(attrs))
	if out, err = compress(out, data, target); err != nil {
		return nil, err
	}
	finish(out)
	return out, nil
}
