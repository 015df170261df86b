package config

// Segment sizes. Kafka 4.0 raised segment.bytes' minimum from 14 bytes to 1 MiB (KIP-1030:
// LogConfig defines segment.bytes with atLeast(1024 * 1024)); its own tests, which need small
// segments, set the internal topic key internal.segment.bytes instead
// (LogConfig.INTERNAL_SEGMENT_BYTES_CONFIG, atLeast(LegacyRecord.RECORD_OVERHEAD_V0)), which wins
// over segment.bytes when set. kafkasim does the same: its teaching scenarios roll kilobyte
// segments through internal.segment.bytes, and segment.bytes below 1 MiB is an error naming
// the key.

// Segment size bounds, in bytes.
const (
	MinSegmentBytes         = 1 << 20 // segment.bytes since Kafka 4.0 (KIP-1030)
	MinInternalSegmentBytes = 14      // internal.segment.bytes: LegacyRecord.RECORD_OVERHEAD_V0
)

func init() {
	topicKeys["segment.bytes"] = setSegmentBytes
	topicKeys["internal.segment.bytes"] = setInternalSegmentBytes
}

func setSegmentBytes(t *Topic, key, v string) error {
	n, err := ParseSize(key, v, 0)
	if err != nil {
		return err
	}
	if n < MinSegmentBytes {
		return errf(key, "%d is below the minimum %d (1MB) since Kafka 4.0 (KIP-1030); internal.segment.bytes sets smaller segments, as Kafka's own tests do", n, MinSegmentBytes)
	}
	if t.InternalSegmentBytes == 0 { // internal.segment.bytes wins when set
		t.SegmentBytes = n
	}
	return nil
}

func setInternalSegmentBytes(t *Topic, key, v string) error {
	n, err := ParseSize(key, v, MinInternalSegmentBytes)
	if err == nil {
		t.InternalSegmentBytes, t.SegmentBytes = n, n
	}
	return err
}
