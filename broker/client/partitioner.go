package client

import (
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// partitioner picks a record's partition (partitioner.class). "default" is Kafka's
// BuiltInPartitioner (KIP-794): murmur2 over all partitions for a keyed record; for an unkeyed
// one a sticky partition, redrawn uniformly (env.Rand()) among available partitions once
// batch.size bytes went to it. "round-robin" cycles over available partitions
// (RoundRobinPartitioner); "key-hash" always hashes the key (an unkeyed record hashes the
// empty key).
type partitioner struct {
	kind        string
	batchSize   int64
	sticky      int32 // -1: none drawn yet
	stickyBytes int64
	rr          int
	avail       []int32
}

func newPartitioner(kind string, batchSize int) partitioner {
	return partitioner{kind: kind, batchSize: int64(batchSize), sticky: -1}
}

// partition picks the partition of rec among parts; size is the bytes rec adds to a batch.
func (p *partitioner) partition(env node.Env, parts []partMeta, rec protocol.Record, size int64) int32 {
	n := len(parts)
	switch p.kind {
	case "key-hash":
		return PartitionForKey(rec.Key, n)
	case "round-robin":
		a := p.available(parts)
		part := a[p.rr%len(a)]
		p.rr++
		return part
	}
	if rec.Key != "" {
		return PartitionForKey(rec.Key, n)
	}
	if p.sticky < 0 || int(p.sticky) >= n || p.stickyBytes >= p.batchSize {
		a := p.available(parts)
		p.sticky = a[env.Rand()%uint64(len(a))]
		p.stickyBytes = 0
	}
	p.stickyBytes += size
	return p.sticky
}

// available lists the partitions with a leader (all partitions when none has one).
func (p *partitioner) available(parts []partMeta) []int32 {
	a := p.avail[:0]
	for i := range parts {
		if parts[i].leader >= 0 {
			a = append(a, int32(i))
		}
	}
	if len(a) == 0 {
		for i := range parts {
			a = append(a, int32(i))
		}
	}
	p.avail = a
	return a
}
