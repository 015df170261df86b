package client

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// partitioner picks a record's partition (partitioner.class). "default" is Kafka's
// BuiltInPartitioner (KIP-794): murmur2 over all partitions for a keyed record; for an unkeyed
// one a sticky partition, redrawn uniformly (env.Rand()) among available partitions once
// batch.size bytes went to it. "round-robin" cycles over available partitions
// (RoundRobinPartitioner); "key-hash" always hashes the key (an unkeyed record hashes the
// empty key).
//
// Two more forms stand for an application that chooses (Spec): "partition:N" sends every
// record to partition N, as a ProducerRecord built with an explicit partition does (KafkaProducer
// then skips the partitioner); "map:K=P,K=P" is a custom Partitioner mapping each listed key
// to its partition, and every other record as "default" would. A chosen partition the metadata
// does not show yet (the topic has fewer partitions) is not an error at once: KafkaProducer's
// waitOnMetadata keeps asking for metadata until the partition appears or time runs out, and
// so does the producer here (partition answers -1).
type partitioner struct {
	kind        string
	fixed       int32            // "partition:N": N
	keyed       map[string]int32 // "map:…": key → partition
	batchSize   int64
	sticky      int32 // -1: none drawn yet
	stickyBytes int64
	rr          int
}

// PartitionerSpec is a parsed partitioner setting.
type PartitionerSpec struct {
	Kind  string           // default | round-robin | key-hash | partition | map
	Fixed int32            // Kind "partition": every record goes here
	Keys  map[string]int32 // Kind "map": key → partition
}

// MaxPartition is the highest partition the spec names, -1 if it names none.
func (s PartitionerSpec) MaxPartition() int32 {
	m := int32(-1)
	if s.Kind == "partition" {
		m = s.Fixed
	}
	for _, p := range s.Keys {
		m = max(m, p)
	}
	return m
}

// ParsePartitioner reads a partitioner setting: default, round-robin, key-hash,
// partition:N or map:K=P,K=P,….
func ParsePartitioner(s string) (PartitionerSpec, error) {
	switch s {
	case "default", "round-robin", "key-hash":
		return PartitionerSpec{Kind: s}, nil
	}
	if n, ok := strings.CutPrefix(s, "partition:"); ok {
		p, err := parsePartitionIndex(n)
		if err != nil {
			return PartitionerSpec{}, err
		}
		return PartitionerSpec{Kind: "partition", Fixed: p}, nil
	}
	body, ok := strings.CutPrefix(s, "map:")
	if !ok {
		return PartitionerSpec{}, fmt.Errorf("%q is not default, round-robin, key-hash or map:KEY=PARTITION,…", s)
	}
	if body == "" {
		return PartitionerSpec{}, fmt.Errorf("map: needs at least one KEY=PARTITION, e.g. map:k0=0,k1=1")
	}
	spec := PartitionerSpec{Kind: "map", Keys: map[string]int32{}}
	for _, pair := range strings.Split(body, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return PartitionerSpec{}, fmt.Errorf("map: %q is not KEY=PARTITION", pair)
		}
		if _, dup := spec.Keys[k]; dup {
			return PartitionerSpec{}, fmt.Errorf("map: key %s is mapped twice", k)
		}
		p, err := parsePartitionIndex(v)
		if err != nil {
			return PartitionerSpec{}, fmt.Errorf("map: key %s: %v", k, err)
		}
		spec.Keys[k] = p
	}
	return spec, nil
}

// MapKeys lists the keys a map spec names, in order.
func (s PartitionerSpec) MapKeys() []string {
	return slices.Sorted(maps.Keys(s.Keys))
}

func parsePartitionIndex(v string) (int32, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a partition number (0, 1, 2, …)", v)
	}
	return int32(n), nil
}

func newPartitioner(kind string, batchSize int) partitioner {
	p := partitioner{kind: kind, batchSize: int64(batchSize), sticky: -1}
	if kind == "default" || kind == "round-robin" || kind == "key-hash" {
		return p
	}
	spec, err := ParsePartitioner(kind)
	if err != nil { // the configuration was checked when it was read
		panic(fmt.Sprintf("producer: partitioner %q: %v", kind, err))
	}
	p.kind, p.fixed, p.keyed = spec.Kind, spec.Fixed, spec.Keys
	return p
}

// partition picks the partition of rec among meta's partitions; size is the bytes rec adds to
// a batch. It answers -1 when the application chose a partition the metadata does not show yet.
func (p *partitioner) partition(env node.Env, meta *topicMeta, rec protocol.Record, size int64) int32 {
	n := len(meta.parts)
	switch p.kind {
	case "key-hash":
		return PartitionForKey(rec.Key, n)
	case "round-robin":
		a := meta.available()
		part := a[p.rr%len(a)]
		p.rr++
		return part
	case "partition":
		return chosen(p.fixed, n)
	case "map":
		if part, ok := p.keyed[rec.Key]; ok && rec.Key != "" {
			return chosen(part, n)
		}
	}
	if rec.Key != "" {
		return PartitionForKey(rec.Key, n)
	}
	if p.sticky < 0 || int(p.sticky) >= n || p.stickyBytes >= p.batchSize {
		a := meta.available()
		p.sticky = a[env.Rand()%uint64(len(a))]
		p.stickyBytes = 0
	}
	p.stickyBytes += size
	return p.sticky
}

// chosen is an application's partition, or -1 while the metadata has fewer partitions.
func chosen(part int32, n int) int32 {
	if int(part) >= n {
		return -1
	}
	return part
}
