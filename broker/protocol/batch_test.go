package protocol_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// run is n keyless records valued first, first+1, …: what the producer's workload makes.
func run(first int64, n int) []protocol.Record {
	recs := make([]protocol.Record, n)
	for i := range recs {
		recs[i].Value = first + int64(i)
	}
	return recs
}

// pair is the same records in the explicit and the compact form, with the same header.
func pair(t *testing.T, first int64, n int) (explicit, compact *protocol.RecordBatch) {
	t.Helper()
	h := protocol.RecordBatch{BaseOffset: 40, PartitionLeaderEpoch: 3, ProducerID: 1001, ProducerEpoch: 2,
		BaseSequence: 17, MaxTimestamp: 1234 * time.Millisecond}
	e, c := h, h
	e.Records = run(first, n)
	c.SetValues(first, n)
	if e.Compact() || !c.Compact() || c.Records != nil {
		t.Fatalf("forms: explicit compact=%v, compact compact=%v records %v", e.Compact(), c.Compact(), c.Records)
	}
	return &e, &c
}

// sameView fails unless a and b agree on every accessor.
func sameView(t *testing.T, what string, a, b *protocol.RecordBatch) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%s: Len %d; want %d", what, b.Len(), a.Len())
	}
	for i := range a.Len() {
		if a.Record(i) != b.Record(i) || a.Value(i) != b.Value(i) || a.Key(i) != b.Key(i) || a.OffsetOf(i) != b.OffsetOf(i) {
			t.Fatalf("%s: record %d: got %+v value %d key %q at %d; want %+v value %d key %q at %d", what, i,
				b.Record(i), b.Value(i), b.Key(i), b.OffsetOf(i), a.Record(i), a.Value(i), a.Key(i), a.OffsetOf(i))
		}
	}
	if !reflect.DeepEqual(a.AppendRecords(nil), b.AppendRecords(nil)) {
		t.Fatalf("%s: AppendRecords %v; want %v", what, b.AppendRecords(nil), a.AppendRecords(nil))
	}
	type header struct {
		count, last, next int64
		lastSeq           int32
		size              int64
		idem              bool
	}
	hdr := func(x *protocol.RecordBatch) header {
		return header{x.Count(), x.LastOffset(), x.NextOffset(), x.LastSequence(), x.SizeBytes(), x.Idempotent()}
	}
	if hdr(a) != hdr(b) {
		t.Fatalf("%s: got %+v; want %+v", what, hdr(b), hdr(a))
	}
	for off := a.BaseOffset - 2; off <= a.NextOffset()+2; off++ {
		if a.IndexOf(off) != b.IndexOf(off) {
			t.Fatalf("%s: IndexOf(%d) = %d; want %d", what, off, b.IndexOf(off), a.IndexOf(off))
		}
	}
}

// The compact form of a run of records answers every accessor, the size estimate and the v2
// encoding exactly as the explicit form does, before and after the leader stamps it.
func TestCompactBatchAgreesWithExplicit(t *testing.T) {
	for _, tc := range []struct {
		first int64
		n     int
	}{{0, 1}, {1, 3}, {7, 5}, {95, 10}, {999_990, 20}, {1 << 40, 64}, {-3, 6}} {
		e, c := pair(t, tc.first, tc.n)
		what := fmt.Sprintf("%d records from %d", tc.n, tc.first)
		sameView(t, what, e, c)
		sameView(t, what+" stamped", e.Stamp(500, 7, time.Second), c.Stamp(500, 7, time.Second))
		for _, o := range []record.Options{{}, {ValueBytes: 12}, {Codec: record.Gzip}, {Codec: record.Zstd, ValueBytes: 300}} {
			eb, err := record.Encode(e, o)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := record.Encode(c, o)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(eb, cb) {
				t.Fatalf("%s, %+v: compact encodes to %x; want %x", what, o, cb, eb)
			}
			e.Bytes, c.Bytes = eb, cb
			sameView(t, fmt.Sprintf("%s, %+v, encoded", what, o), e, c)
			d, _, _, err := record.Decode(cb)
			if err != nil {
				t.Fatal(err)
			}
			d.Bytes = cb
			sameView(t, fmt.Sprintf("%s, %+v, decoded", what, o), e, d)
			e.Bytes, c.Bytes = nil, nil
		}
	}
}

// SetRecords takes the compact form exactly when the records are a run of keyless values with
// no tombstone and no Data, and the batch has no gaps; otherwise it keeps the records given.
func TestSetRecordsPicksTheForm(t *testing.T) {
	keyed := run(10, 3)
	keyed[1].Key = "k"
	tomb := run(10, 3)
	tomb[2].Tombstone = true
	data := run(10, 3)
	data[0].Data = `{"group":"g"}`
	gap := run(10, 3)
	gap[2].Value = 13
	down := []protocol.Record{{Value: 5}, {Value: 4}}
	for _, tc := range []struct {
		name    string
		recs    []protocol.Record
		gaps    bool
		compact bool
	}{
		{"a run", run(10, 3), false, true},
		{"one record", run(0, 1), false, true},
		{"no record", nil, false, false},
		{"a key", keyed, false, false},
		{"a tombstone", tomb, false, false},
		{"Data", data, false, false},
		{"a value out of turn", gap, false, false},
		{"values going down", down, false, false},
		{"a cleaned batch", run(10, 3), true, false},
	} {
		var b protocol.RecordBatch
		if tc.gaps {
			b.Gaps = &protocol.OffsetGaps{Deltas: []int32{0, 2, 3}, LastOffsetDelta: 4}
		}
		b.SetRecords(tc.recs)
		if b.Compact() != tc.compact || protocol.Compactable(tc.recs) != (tc.compact || tc.gaps) {
			t.Errorf("%s: compact %v (Compactable %v); want %v", tc.name, b.Compact(), protocol.Compactable(tc.recs), tc.compact)
		}
		if !tc.compact && len(b.Records) != len(tc.recs) {
			t.Errorf("%s: explicit form holds %d records; want the %d given", tc.name, len(b.Records), len(tc.recs))
		}
		if got := b.AppendRecords(nil); !reflect.DeepEqual(got, tc.recs) && len(tc.recs) > 0 {
			t.Errorf("%s: records %v; want %v", tc.name, got, tc.recs)
		}
	}
	// Giving explicit records to a compact batch leaves the compact form.
	var b protocol.RecordBatch
	b.SetValues(1, 4)
	b.SetRecords(keyed)
	if b.Compact() || b.Len() != 3 || b.Key(1) != "k" {
		t.Errorf("compact batch given keyed records: compact %v, %d records, key %q; want explicit, 3, k", b.Compact(), b.Len(), b.Key(1))
	}
}

// A compact batch has no record past its count.
func TestCompactBatchIndexOutOfRange(t *testing.T) {
	var b protocol.RecordBatch
	b.SetValues(100, 2)
	defer func() {
		if recover() == nil {
			t.Error("Value(2) of a batch of 2 did not panic")
		}
	}()
	b.Value(2)
}
