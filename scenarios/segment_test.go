package scenarios

import (
	"strings"
	"testing"
)

// A segment.bytes below Kafka 4.x's 1 MB minimum (KIP-1030) is a parse error naming the file,
// line, column and key; internal.segment.bytes, the key Kafka's own tests use, takes it.
func TestSmallSegmentBytesIsAnError(t *testing.T) {
	_, err := Parse("t.scenario", []byte("topic t partitions=1 replication=1 segment.bytes=8KB\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "t.scenario:1:50: segment.bytes: 8192 is below the minimum 1048576") {
		t.Fatalf("got %v; want t.scenario:1:50: segment.bytes: 8192 is below the minimum 1048576 …", err)
	}
	if _, err := Parse("t.scenario", []byte("topic t partitions=1 replication=1 internal.segment.bytes=8KB\n")); err != nil {
		t.Fatalf("internal.segment.bytes=8KB: %v; want it accepted", err)
	}
}
