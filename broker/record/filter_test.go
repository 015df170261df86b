package record

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
)

func filterSample() *protocol.RecordBatch {
	return &protocol.RecordBatch{BaseOffset: 40, PartitionLeaderEpoch: 3, ProducerID: 7, ProducerEpoch: 1,
		BaseSequence: 20, MaxTimestamp: 90 * time.Second, Records: []protocol.Record{
			{Key: "a", Value: 1}, {Key: "b", Value: 2}, {Key: "a", Value: 3}, {Key: "c", Value: 4}, {Key: "b", Value: 5, Tombstone: true}}}
}

// Reference: MemoryRecords.filterTo / buildRetainedRecordsInto: a batch the cleaner keeps partly
// keeps its header (base offset, producer id, epoch, base sequence, leader epoch, codec) and its
// last offset delta (overrideLastOffset), holds only the kept records at their own offsets,
// recompressed with its codec under a new CRC. franz-go reads it as a consumer would: the offsets
// skip the removed records.
func TestFilterKeepsRecordsAtTheirOffsets(t *testing.T) {
	for _, c := range Codecs {
		t.Run(c.String(), func(t *testing.T) {
			src, err := Encode(filterSample(), Options{Codec: c, ValueBytes: 100})
			if err != nil {
				t.Fatal(err)
			}
			out, err := Filter(src, []bool{false, false, true, true, false}, false, NoDeleteHorizon)
			if err != nil {
				t.Fatal(err)
			}
			var h kmsg.RecordBatch
			if err := h.ReadFrom(out); err != nil {
				t.Fatal(err)
			}
			if h.FirstOffset != 40 || h.LastOffsetDelta != 4 || h.NumRecords != 2 || h.FirstSequence != 20 ||
				h.ProducerID != 7 || h.PartitionLeaderEpoch != 3 || CodecOf(out) != c {
				t.Fatalf("header %+v codec %s; want base 40, last delta 4, 2 records, sequence 20, pid 7, leader epoch 3, %s", h, CodecOf(out), c)
			}
			fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t"},
				&kmsg.FetchResponseTopicPartition{RecordBatches: out, HighWatermark: 45, LastStableOffset: 45},
				kgo.DefaultDecompressor(), nil)
			if fp.Err != nil || len(fp.Records) != 2 || fp.Records[0].Offset != 42 || fp.Records[1].Offset != 43 {
				t.Fatalf("franz-go read %d records (err %v); want offsets 42 and 43", len(fp.Records), fp.Err)
			}
			if !fp.Records[0].Timestamp.Equal(time.UnixMilli(90_000)) {
				t.Fatalf("timestamp %v; want 90s", fp.Records[0].Timestamp)
			}
			b, _, _, err := Decode(out)
			if err != nil {
				t.Fatal(err)
			}
			if b.NextOffset() != 45 || b.LastSequence() != 24 || b.OffsetOf(0) != 42 || b.OffsetOf(1) != 43 ||
				b.IndexOf(41) != -1 || b.IndexOf(43) != 1 || b.Records[1].Value != 4 {
				t.Fatalf("decoded %+v (gaps %+v); want records 3 and 4 at 42 and 43, next offset 45, last sequence 24", b, b.Gaps)
			}
			again, err := Encode(b, Options{Codec: c, ValueBytes: 100})
			if err != nil || string(again) != string(out) {
				t.Fatalf("encoding the decoded batch gives other bytes (err %v)", err)
			}
		})
	}
}

// Reference: MemoryRecords.filterTo writes the original batch when it keeps every record and
// needs no delete horizon, and drops a batch that keeps none (BatchRetention.DELETE_EMPTY).
func TestFilterKeepsAllOrNothing(t *testing.T) {
	src, _ := Encode(filterSample(), Options{Codec: LZ4})
	out, err := Filter(src, []bool{true, true, true, true, true}, false, NoDeleteHorizon)
	if err != nil || &out[0] != &src[0] {
		t.Fatalf("a batch keeping every record was rewritten (err %v)", err)
	}
	out, err = Filter(src, make([]bool, 5), false, NoDeleteHorizon)
	if err != nil || out != nil {
		t.Fatalf("a batch keeping nothing gave %d bytes (err %v); want none", len(out), err)
	}
	if _, err := Filter(src, make([]bool, 4), false, NoDeleteHorizon); err == nil {
		t.Fatal("four decisions for five records: want an error")
	}
}

// Reference: LogCleanerTest's empty-batch cases (BatchRetention.RETAIN_EMPTY,
// DefaultRecordBatch.writeEmptyHeader): the last batch of a producer is kept with no records so
// that its producer id, epoch and last sequence survive compaction; the header has no codec, no
// base timestamp, the original max timestamp and last offset delta.
func TestFilterRetainsAnEmptyBatch(t *testing.T) {
	src, _ := Encode(filterSample(), Options{Codec: Zstd})
	out, err := Filter(src, make([]bool, 5), true, NoDeleteHorizon)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != BatchOverhead {
		t.Fatalf("%d bytes; want the %d-byte header alone", len(out), BatchOverhead)
	}
	var h kmsg.RecordBatch
	if err := h.ReadFrom(out); err != nil {
		t.Fatal(err)
	}
	if h.NumRecords != 0 || h.LastOffsetDelta != 4 || h.FirstTimestamp != -1 || h.MaxTimestamp != 90_000 || CodecOf(out) != None {
		t.Fatalf("header %+v; want 0 records, last delta 4, base timestamp -1, max 90000, no codec", h)
	}
	b, _, _, err := Decode(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 0 || b.NextOffset() != 45 || b.LastSequence() != 24 || b.ProducerID != 7 {
		t.Fatalf("decoded %+v; want no records, next offset 45, last sequence 24, pid 7", b)
	}
}

// Reference: KIP-534: a batch the cleaner rewrites with a tombstone in it gets the delete horizon
// as its base timestamp, flagged in the attributes; the records' own timestamps read back
// unchanged.
func TestFilterSetsTheDeleteHorizon(t *testing.T) {
	src, _ := Encode(filterSample(), Options{Codec: Gzip})
	horizon := 90*time.Second + 24*time.Hour
	out, err := Filter(src, []bool{false, false, true, true, true}, false, horizon)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := DeleteHorizon(out); !ok || got != horizon {
		t.Fatalf("delete horizon %v %v; want %v", got, ok, horizon)
	}
	if _, ok := DeleteHorizon(src); ok {
		t.Fatal("the producer's batch has a delete horizon")
	}
	fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: "t"},
		&kmsg.FetchResponseTopicPartition{RecordBatches: out, HighWatermark: 45, LastStableOffset: 45},
		kgo.DefaultDecompressor(), nil)
	if fp.Err != nil || len(fp.Records) != 3 || !fp.Records[2].Timestamp.Equal(time.UnixMilli(90_000)) || fp.Records[2].Value != nil {
		t.Fatalf("franz-go read %d records (err %v); want 3, the tombstone last, at 90s", len(fp.Records), fp.Err)
	}
	// A later cleaning keeps the horizon it finds.
	again, err := Filter(out, []bool{false, true, true}, false, NoDeleteHorizon)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := DeleteHorizon(again); !ok || got != horizon {
		t.Fatalf("after a second cleaning: delete horizon %v %v; want %v", got, ok, horizon)
	}
}
