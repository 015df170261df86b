package client

import (
	"reflect"
	"testing"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// Reference: ProducerBatch.close / MemoryRecordsBuilder — the producer encodes each batch once in
// its compression.type, values padded to value.bytes, and a retry sends the same bytes.
func TestProducerEncodesBatchesInItsCodec(t *testing.T) {
	w := newWorld(t)
	newFakeCluster(w, 1, 1)
	startProducer(t, w, producerConfig(t, "compression.type", "zstd", "value.bytes", "300", "linger.ms", "0"), 0)
	for i := 0; i < 5; i++ {
		w.input(&SendRecords{Count: 3})
		w.runUntil(w.now + 5*ms)
	}
	sent := w.produces()
	if len(sent) == 0 {
		t.Fatal("no ProduceRequest sent")
	}
	for _, s := range sent {
		for _, pp := range s.msg.(*protocol.ProduceRequest).Partitions {
			b := pp.Batch
			if got := record.CodecOf(b.Bytes); got != record.Zstd {
				t.Fatalf("batch in %s; want zstd", got)
			}
			d, _, _, err := record.Decode(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.AppendRecords(nil), b.AppendRecords(nil)) || d.ProducerID != b.ProducerID || d.BaseSequence != b.BaseSequence {
				t.Fatalf("bytes decode to %+v; want the batch's records %+v, pid %d, seq %d", d, b.AppendRecords(nil), b.ProducerID, b.BaseSequence)
			}
			if raw := int64(b.Len()) * 300; b.SizeBytes() >= raw {
				t.Errorf("zstd batch of %d padded records: %d bytes; want fewer than the %d value bytes", b.Len(), b.SizeBytes(), raw)
			}
		}
	}
}

// The workload's keyless records go out in the compact form of protocol.RecordBatch (a first
// value and a count), keyed ones explicit; both carry the values the producer made, in order.
func TestProducerSendsWorkloadBatchesCompact(t *testing.T) {
	for _, keys := range []int{0, 3} {
		w := newWorld(t)
		newFakeCluster(w, 2, 1)
		startProducer(t, w, producerConfig(t, "linger.ms", "5"), keys)
		for range 6 {
			w.input(&SendRecords{Count: 4})
			w.runUntil(w.now + 7*ms)
		}
		var values []int64
		batches := 0
		for _, s := range w.produces() {
			for _, pp := range s.msg.(*protocol.ProduceRequest).Partitions {
				b := pp.Batch
				batches++
				if b.Compact() != (keys == 0) {
					t.Errorf("keys=%d: batch of %d records compact %v; want %v", keys, b.Len(), b.Compact(), keys == 0)
				}
				if b.Compact() && b.Records != nil {
					t.Errorf("keys=%d: compact batch holds %d explicit records", keys, len(b.Records))
				}
				for i := range b.Len() {
					values = append(values, b.Value(i))
				}
			}
		}
		if batches == 0 || len(values) != 24 {
			t.Fatalf("keys=%d: %d batches carry %d values; want 24", keys, batches, len(values))
		}
		if keys == 0 {
			for i, v := range values {
				if v != 101+int64(i) {
					t.Fatalf("keys=%d: values %v; want 101…124 in order", keys, values)
				}
			}
		}
	}
}

// A batch whose records stop running one after another (a value out of turn, a key) becomes
// explicit at that record, keeping the values before it; its wire form is explicit too.
func TestAccumulatorRunBreaks(t *testing.T) {
	cfg := config.DefaultProducer()
	a := newAccumulator(fakeEnv{w: &world{}}, &cfg)
	a.grow(1)
	for _, v := range []int64{7, 8, 9} {
		a.append(0, 0, protocol.Record{Value: v}, 0)
	}
	b := a.head(0)
	if b.records != nil || b.n != 3 || b.first != 7 {
		t.Fatalf("after 7, 8, 9: records %v, n %d, first %d; want a run of 3 from 7", b.records, b.n, b.first)
	}
	a.append(0, 0, protocol.Record{Value: 11}, 0)
	a.append(0, 0, protocol.Record{Key: "k", Value: 12}, 0)
	want := []protocol.Record{{Value: 7}, {Value: 8}, {Value: 9}, {Value: 11}, {Key: "k", Value: 12}}
	if !reflect.DeepEqual(b.records, want) || b.n != 5 || b.lastSeq()-b.seq != 4 {
		t.Fatalf("records %v, n %d; want %v", b.records, b.n, want)
	}
	var w protocol.RecordBatch
	b.setRecords(&w)
	if w.Compact() || !reflect.DeepEqual(w.AppendRecords(nil), want) {
		t.Fatalf("wire batch compact %v, records %v; want explicit %v", w.Compact(), w.AppendRecords(nil), want)
	}
}
