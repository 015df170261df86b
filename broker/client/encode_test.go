package client

import (
	"reflect"
	"testing"

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
