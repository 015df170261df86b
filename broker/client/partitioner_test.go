package client

import (
	"testing"

	"kafkasim/broker/protocol"
)

// A chosen partition skips the partitioner (KafkaProducer.partition returns
// record.partition()); one the metadata does not show yet answers -1, for the producer to wait.
func TestPartitionerChosenPartition(t *testing.T) {
	p := newPartitioner("partition:2", 16384)
	parts := make([]partMeta, 3)
	for _, k := range []string{"", "a", "b"} {
		if got := p.partition(nil, parts, protocol.Record{Key: k}, 10); got != 2 {
			t.Errorf("key %q: got partition %d; want 2", k, got)
		}
	}
	if got := p.partition(nil, parts[:2], protocol.Record{}, 10); got != -1 {
		t.Errorf("with two partitions: got %d; want -1 (not in metadata yet)", got)
	}
}

// A map sends each listed key to its partition, every other key where murmur2 puts it.
func TestPartitionerKeyMap(t *testing.T) {
	p := newPartitioner("map:k0=2,k1=2,k2=0", 16384)
	parts := make([]partMeta, 3)
	want := map[string]int32{"k0": 2, "k1": 2, "k2": 0, "k3": PartitionForKey("k3", 3), "other": PartitionForKey("other", 3)}
	for k, w := range want {
		if got := p.partition(nil, parts, protocol.Record{Key: k}, 10); got != w {
			t.Errorf("key %s: got partition %d; want %d", k, got, w)
		}
	}
	if got := p.partition(nil, parts[:2], protocol.Record{Key: "k0"}, 10); got != -1 {
		t.Errorf("k0 with two partitions: got %d; want -1", got)
	}
}

func TestParsePartitionerSpec(t *testing.T) {
	s, err := ParsePartitioner("map:k1=4,k0=1")
	if err != nil || s.Kind != "map" || s.MaxPartition() != 4 || len(s.MapKeys()) != 2 || s.MapKeys()[0] != "k0" {
		t.Fatalf("got %+v, %v; want map k0→1 k1→4", s, err)
	}
	for _, bad := range []string{"map:", "map:k0", "map:k0=x", "map:=1", "partition:-1", "sticky"} {
		if _, err := ParsePartitioner(bad); err == nil {
			t.Errorf("%q: parsed; want an error", bad)
		}
	}
}
