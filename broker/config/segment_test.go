package config

import (
	"strings"
	"testing"
)

// Reference: KIP-1030 (Kafka 4.0): segment.bytes / log.segment.bytes at least 1 MB; Kafka's tests
// use LogConfig.INTERNAL_SEGMENT_BYTES_CONFIG (internal.segment.bytes) for smaller segments, and
// it wins over segment.bytes when set.
func TestSegmentBytesMinimumIsOneMiB(t *testing.T) {
	for _, key := range []string{"segment.bytes", "log.segment.bytes"} {
		b := DefaultBroker()
		err := b.Set(key, "8KB")
		if err == nil || !strings.HasPrefix(err.Error(), key+": 8192 is below the minimum 1048576") || !strings.Contains(err.Error(), "internal.segment.bytes") {
			t.Errorf("Set(%s, 8KB) = %v; want an error naming the key, the 1 MiB minimum and internal.segment.bytes", key, err)
		}
		if err := b.Set(key, "1MB"); err != nil || b.Topic.SegmentBytes != 1<<20 {
			t.Errorf("Set(%s, 1MB) = %v, segment size %d; want 1 MiB", key, err, b.Topic.SegmentBytes)
		}
	}
	for _, order := range [][]string{{"segment.bytes", "internal.segment.bytes"}, {"internal.segment.bytes", "segment.bytes"}} {
		tc := DefaultTopic()
		for _, k := range order {
			v := "2MB"
			if k == "internal.segment.bytes" {
				v = "4KB"
			}
			if err := tc.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if tc.SegmentBytes != 4096 {
			t.Errorf("%v: segment size %d; want internal.segment.bytes' 4096 to win", order, tc.SegmentBytes)
		}
	}
	tc := DefaultTopic()
	if err := tc.Set("internal.segment.bytes", "13"); err == nil || err.Error() != "internal.segment.bytes: 13 is below the minimum 14" {
		t.Errorf("internal.segment.bytes=13: %v; want below the minimum 14 (LegacyRecord.RECORD_OVERHEAD_V0)", err)
	}
}
