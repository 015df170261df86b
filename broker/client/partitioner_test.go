package client

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// A chosen partition skips the partitioner (KafkaProducer.partition returns
// record.partition()); one the metadata does not show yet answers -1, for the producer to wait.
func TestPartitionerChosenPartition(t *testing.T) {
	p := newPartitioner("partition:2", 16384)
	parts := make([]partMeta, 3)
	for _, k := range []string{"", "a", "b"} {
		if got := p.partition(nil, &topicMeta{parts: parts}, protocol.Record{Key: k}, 10); got != 2 {
			t.Errorf("key %q: got partition %d; want 2", k, got)
		}
	}
	if got := p.partition(nil, &topicMeta{parts: parts[:2]}, protocol.Record{}, 10); got != -1 {
		t.Errorf("with two partitions: got %d; want -1 (not in metadata yet)", got)
	}
}

// A map sends each listed key to its partition, every other key where murmur2 puts it.
func TestPartitionerKeyMap(t *testing.T) {
	p := newPartitioner("map:k0=2,k1=2,k2=0", 16384)
	parts := make([]partMeta, 3)
	want := map[string]int32{"k0": 2, "k1": 2, "k2": 0, "k3": PartitionForKey("k3", 3), "other": PartitionForKey("other", 3)}
	for k, w := range want {
		if got := p.partition(nil, &topicMeta{parts: parts}, protocol.Record{Key: k}, 10); got != w {
			t.Errorf("key %s: got partition %d; want %d", k, got, w)
		}
	}
	if got := p.partition(nil, &topicMeta{parts: parts[:2]}, protocol.Record{Key: "k0"}, 10); got != -1 {
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

// Round-robin cycles over the partitions with a leader; the list is kept per metadata change
// (topicMeta.available), and a MetadataResponse that takes partition 1's leader away (or a
// leader hint that gives it back) changes it at once.
func TestPartitionerRoundRobinFollowsMetadata(t *testing.T) {
	w := &world{t: t}
	env := fakeEnv{w}
	p := newPartitioner("round-robin", 16384)
	m := newTopicMeta("t", []int32{1}, time.Millisecond, time.Second)
	answer := func(leaders ...int32) {
		m.corr++
		r := &protocol.MetadataResponse{CorrelationID: m.corr, Topics: []protocol.TopicMetadata{{Name: "t"}}}
		for i, l := range leaders {
			r.Topics[0].Partitions = append(r.Topics[0].Partitions, protocol.PartitionMetadata{Partition: int32(i), Leader: l, LeaderEpoch: int32(len(r.Topics[0].Partitions)) + int32(m.corr)})
		}
		if !m.handle(env, 0, 0, r) {
			t.Fatal("the response was not taken")
		}
	}
	next := func(n int) []int32 {
		var out []int32
		for range n {
			out = append(out, p.partition(env, &m, protocol.Record{}, 10))
		}
		return out
	}
	answer(1, 2, 3)
	if got := next(4); !slices.Equal(got, []int32{0, 1, 2, 0}) {
		t.Errorf("all led: got %v; want [0 1 2 0]", got)
	}
	answer(1, protocol.NoLeader, 3)
	if got := next(4); !slices.Equal(got, []int32{0, 2, 0, 2}) {
		t.Errorf("partition 1 leaderless: got %v; want [0 2 0 2]", got)
	}
	m.hint(1, 2, 100)
	if got := next(3); !slices.Equal(got, []int32{2, 0, 1}) {
		t.Errorf("partition 1 led again: got %v; want [2 0 1]", got)
	}
}
