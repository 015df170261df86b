package group

import (
	"cmp"
	"maps"
	"slices"

	"kafkasim/broker/protocol"
)

// Read-only accessors for views of a group (the terminal UI's Groups view).

// CommittedPartitions lists the partitions group id has a committed offset for, sorted by
// topic then partition (nil if the group's shard is not loaded here).
func (c *Coordinator) CommittedPartitions(id string) []protocol.TopicPartition {
	s := c.shards[PartitionFor(id, c.cfg.Partitions)]
	if s == nil || s.loading {
		return nil
	}
	return slices.SortedFunc(maps.Keys(s.offsets[id]), func(a, b protocol.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}
