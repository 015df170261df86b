package record

import (
	"encoding/binary"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// NoDeleteHorizon asks Filter to leave a batch's delete horizon as it is (RecordBatch.NO_TIMESTAMP).
const NoDeleteHorizon time.Duration = -1

// Filter is the log cleaner's rewrite of one v2 batch (MemoryRecords.filterTo): keep[i] says
// whether the batch's i-th record stays. It returns
//   - src itself when every record stays and no delete horizon is to be set (Kafka writes the
//     original batch);
//   - when some records stay, the batch rebuilt as buildRetainedRecordsInto does: the same
//     base offset, partition leader epoch, producer id, epoch and base sequence, attributes and
//     codec, the kept records with their offset deltas and timestamps, the original last offset
//     delta (MemoryRecordsBuilder.overrideLastOffset, so the producer's last sequence survives),
//     recompressed with the batch's codec, the CRC recomputed; with horizon ≥ 0 the base
//     timestamp is the delete horizon and the attributes carry its flag (KIP-534);
//   - when no record stays: with retainEmpty, the empty header of DefaultRecordBatch.
//     writeEmptyHeader (no records, no codec, base timestamp NO_TIMESTAMP, the original max
//     timestamp and last offset delta), which keeps a producer's last sequence
//     (BatchRetention.RETAIN_EMPTY); else nil (the batch goes).
//
// src is checked first; len(keep) must be the batch's record count.
func Filter(src []byte, keep []bool, retainEmpty bool, horizon time.Duration) ([]byte, error) {
	size, err := Check(src)
	if err != nil {
		return nil, err
	}
	var h kmsg.RecordBatch
	if err := h.ReadFrom(src[:size]); err != nil {
		return nil, corrupt("Record batch header unreadable: %v", err)
	}
	if int(h.NumRecords) != len(keep) {
		return nil, invalid("Filter: %d records, %d decisions", h.NumRecords, len(keep))
	}
	kept := 0
	for _, k := range keep {
		if k {
			kept++
		}
	}
	switch {
	case kept == len(keep) && horizon < 0:
		return src[:size], nil
	case kept == 0 && !retainEmpty:
		return nil, nil
	case kept == 0:
		return emptyHeader(h), nil
	}
	codec := Codec(h.Attributes & AttrCodecMask)
	data, err := decompress(h.Records, codec)
	if err != nil {
		return nil, corrupt("Records could not be decompressed with %s: %v", codec, err)
	}
	raw, base, maxTS, err := retained(data, keep, h, horizon)
	if err != nil {
		return nil, err
	}
	if horizon >= 0 {
		h.Attributes |= AttrDeleteHorizonMs
	}
	h.FirstTimestamp, h.MaxTimestamp, h.NumRecords, h.Records = base, maxTS, int32(kept), nil
	out := h.AppendTo(make([]byte, 0, BatchOverhead+len(raw)))
	if out, err = compress(out, raw, codec); err != nil {
		return nil, err
	}
	finish(out)
	return out, nil
}

// retained re-encodes the kept records (uncompressed) against the new base timestamp: the delete
// horizon when one is set, else the first kept record's timestamp (MemoryRecordsBuilder's
// baseTimestamp), and returns them with that base and the largest kept timestamp.
func retained(data []byte, keep []bool, h kmsg.RecordBatch, horizon time.Duration) (raw []byte, base, maxTS int64, err error) {
	base, maxTS = -1, -1
	if horizon >= 0 {
		base = horizon.Milliseconds()
	} else if h.Attributes&AttrDeleteHorizonMs != 0 {
		base = h.FirstTimestamp // the horizon set by an earlier cleaning stays
	}
	oldBase := h.FirstTimestamp
	var r kmsg.Record
	for i := range keep {
		n, err := readRecord(&r, data)
		if err != nil {
			return nil, 0, 0, err
		}
		data = data[n:]
		if !keep[i] {
			continue
		}
		ts := oldBase + r.TimestampDelta64
		if base < 0 {
			base = ts
		}
		maxTS = max(maxTS, ts)
		r.TimestampDelta64 = ts - base
		r.TimestampDelta = int32(r.TimestampDelta64)
		r.Length = int32(bodySize(&r))
		raw = r.AppendTo(raw)
	}
	return raw, base, maxTS, nil
}

// emptyHeader is DefaultRecordBatch.writeEmptyHeader for the batch h.
func emptyHeader(h kmsg.RecordBatch) []byte {
	h.Attributes &^= AttrCodecMask | AttrDeleteHorizonMs
	h.FirstTimestamp = -1 // RecordBatch.NO_TIMESTAMP
	h.NumRecords = 0
	h.Records = nil
	out := h.AppendTo(make([]byte, 0, BatchOverhead))
	finish(out)
	return out
}

// DeleteHorizon is the delete horizon of the batch at the start of src (which must hold its
// header): KIP-534's base timestamp when the attributes flag it, else ok false.
func DeleteHorizon(src []byte) (time.Duration, bool) {
	if int16(binary.BigEndian.Uint16(src[attributesOffset:]))&AttrDeleteHorizonMs == 0 {
		return 0, false
	}
	ms := int64(binary.BigEndian.Uint64(src[firstTimestampOffset:]))
	return time.Duration(ms) * time.Millisecond, true
}
