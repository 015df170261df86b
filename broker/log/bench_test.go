package log

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// BenchmarkAppendAsLeaderAndRead is the leader's hot path: an idempotent produce, then a
// follower fetch from the previous LEO and a consumer fetch from a fixed offset.
func BenchmarkAppendAsLeaderAndRead(b *testing.B) {
	cfg := config.DefaultTopic()
	cfg.SegmentBytes = 1 << 20
	cfg.RetentionBytes = 4 << 20
	l := Open(newFakeDisk(), "bench-0", cfg, 0)
	batches := make([]*protocol.RecordBatch, 64)
	for i := range batches {
		batches[i] = idem(1, 0, 0, 10)
	}
	b.ReportAllocs()
	b.ResetTimer()
	seq := int32(0)
	for i := 0; i < b.N; i++ {
		in := batches[i%len(batches)]
		c := *in
		c.BaseSequence = seq
		seq += int32(len(c.Records))
		leo := l.LogEndOffset()
		if _, _, _, err := l.AppendAsLeader(&c, 1, time.Duration(i)*time.Millisecond); err != protocol.NONE {
			b.Fatalf("append %d: %v", i, err)
		}
		if got := l.Read(leo, leo+10, 1<<20); len(got) != 1 {
			b.Fatalf("follower read: got %d batches; want 1", len(got))
		}
		l.Read(max(l.LogStartOffset(), leo-100), leo, 4096)
		if i%1024 == 0 {
			l.DeleteOldSegments(time.Duration(i)*time.Millisecond, l.LogEndOffset())
		}
	}
}
