package cluster

import (
	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
)

// GroupCoordinator is the broker coordinating group id: the leader of its partition of
// __consumer_offsets as the committed metadata has it (-1 when the topic or a leader is
// missing).
func (c *Cluster) GroupCoordinator(id string) int32 {
	n := int32(c.Spec.Broker.OffsetsTopicNumPartitions)
	return c.Leader(protocol.TopicPartition{Topic: protocol.OffsetsTopic, Partition: group.PartitionFor(id, n)})
}

// Group is group id as its coordinator has it, nil if no running coordinator has it loaded.
func (c *Cluster) Group(id string) *group.Group {
	if b := c.Broker(c.GroupCoordinator(id)); b != nil {
		return b.Coordinator().Group(id)
	}
	return nil
}

// GroupCommitted is the group's committed offset of tp as its coordinator has it (-1: none
// or no coordinator).
func (c *Cluster) GroupCommitted(id string, tp protocol.TopicPartition) int64 {
	if b := c.Broker(c.GroupCoordinator(id)); b != nil {
		if o, ok := b.Coordinator().Committed(id, tp); ok {
			return o.Offset
		}
	}
	return -1
}
