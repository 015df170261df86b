package config

import (
	"testing"
	"time"
)

// The coordinators' expiry and segment keys, under Kafka's names and units:
// offsets.retention.minutes counts minutes (GroupCoordinatorConfig), the *.ms keys milliseconds,
// the segment sizes bytes; their defaults are Kafka's (7 days, 10 minutes, 1 hour, 100 MiB).
func TestCoordinatorExpiryAndSegmentKeys(t *testing.T) {
	b := DefaultBroker()
	if b.OffsetsRetention != 7*24*time.Hour || b.TransactionalIDExpiration != 7*24*time.Hour ||
		b.OffsetsRetentionCheckInterval != 10*time.Minute || b.TransactionRemoveExpiredInterval != time.Hour ||
		b.OffsetsTopicSegmentBytes != 100<<20 || b.TransactionStateLogSegmentBytes != 100<<20 {
		t.Errorf("defaults %+v; want Kafka's", b)
	}
	for key, v := range map[string]string{
		"offsets.retention.minutes":           "10",
		"transactional.id.expiration.ms":      "60000",
		"offsets.retention.check.interval.ms": "1s",
		"offsets.topic.segment.bytes":         "4KB",
	} {
		if err := b.Set(key, v); err != nil {
			t.Fatalf("%s=%s: %v", key, v, err)
		}
	}
	if b.OffsetsRetention != 10*time.Minute || b.TransactionalIDExpiration != time.Minute ||
		b.OffsetsRetentionCheckInterval != time.Second || b.OffsetsTopicSegmentBytes != 4<<10 {
		t.Errorf("after setting: retention %v, expiration %v, check %v, segment %d; want 10m, 1m, 1s, 4096",
			b.OffsetsRetention, b.TransactionalIDExpiration, b.OffsetsRetentionCheckInterval, b.OffsetsTopicSegmentBytes)
	}
	if err := b.Set("offsets.topic.segment.bytes", "0"); err == nil {
		t.Errorf("offsets.topic.segment.bytes=0 accepted; want an error (atLeast(1))")
	}
}
