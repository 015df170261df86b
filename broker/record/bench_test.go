package record

import (
	"fmt"
	"testing"

	"kafkasim/broker/protocol"
)

// benchBatch is a producer batch as the classroom workload makes them: keyed records with
// unique values.
func benchBatch(n int) *protocol.RecordBatch {
	recs := make([]protocol.Record, n)
	for i := range recs {
		recs[i] = protocol.Record{Key: fmt.Sprintf("key-%d", i%8), Value: int64(10_000 + i)}
	}
	return &protocol.RecordBatch{ProducerID: 1, ProducerEpoch: 0, BaseSequence: 0, PartitionLeaderEpoch: -1, Records: recs}
}

// Run with: go test -run X -bench . -benchmem ./broker/record
// The ns/record metric is the cost per record; bytes/record the stored size.
func BenchmarkEncode(b *testing.B) {
	for _, vb := range []int{0, 100, 1000} {
		for _, c := range Codecs {
			for _, n := range []int{1, 100} {
				batch := benchBatch(n)
				b.Run(fmt.Sprintf("%s/value.bytes=%d/records=%d", c, vb, n), func(b *testing.B) {
					var dst []byte
					for b.Loop() {
						dst, _ = Append(dst[:0], batch, Options{Codec: c, ValueBytes: vb})
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
					b.ReportMetric(float64(len(dst))/float64(n), "bytes/record")
				})
			}
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, vb := range []int{0, 100, 1000} {
		for _, c := range Codecs {
			for _, n := range []int{1, 100} {
				enc, _ := Encode(benchBatch(n), Options{Codec: c, ValueBytes: vb})
				b.Run(fmt.Sprintf("%s/value.bytes=%d/records=%d", c, vb, n), func(b *testing.B) {
					for b.Loop() {
						if _, _, _, err := Decode(enc); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
				})
			}
		}
	}
}

// BenchmarkCheck is what a follower pays per batch: the CRC, no decompression.
func BenchmarkCheck(b *testing.B) {
	enc, _ := Encode(benchBatch(100), Options{Codec: LZ4, ValueBytes: 100})
	for b.Loop() {
		if _, err := Check(enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*100), "ns/record")
}
