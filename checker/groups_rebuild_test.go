package checker

import (
	"testing"

	"kafkasim/broker/client"
	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
)

// classicAssigned is a classic member's SyncGroup outcome as the consumer observes it.
func classicAssigned(clientName, member string, gen int32, parts ...int32) *client.GroupAssigned {
	e := &client.GroupAssigned{Client: clientName, Group: "g1", Member: member, Generation: gen}
	for _, p := range parts {
		e.Partitions = append(e.Partitions, protocol.TopicPartition{Topic: "t", Partition: p})
	}
	return e
}

// Reference: GroupMetadataManager's replay of __consumer_offsets. A coordinator whose
// partition of __consumer_offsets lost the group's records (the only in-sync replica lost its
// page cache to a power loss, nemesis seed 526 of the classic group runs) knows the group no
// more: the next member to join starts it again, and its generation 1 is not the generation 1
// the old members still hold (their heartbeats and commits are refused with
// UNKNOWN_MEMBER_ID). one-owner-per-generation judges the new generation 1 on its own; within
// one incarnation of the group, two owners of a partition in a generation are still caught.
func TestOneOwnerPerGenerationAcrossRebuiltGroup(t *testing.T) {
	t.Run("rebuilt", func(t *testing.T) {
		_, o := newFake()
		o.observe(classicAssigned("a1", "a1-old", 1, 0, 1))
		o.observe(classicAssigned("a3", "a3-old", 1, 3))
		o.observe(classicAssigned("a1", "a1-old", 2, 0, 1))
		// The restarted coordinator starts the group from nothing: generation 0, Empty.
		o.observe(&group.StateChanged{Broker: 1, Group: "g1", From: group.Empty, To: group.PreparingRebalance, Generation: 0})
		o.observe(classicAssigned("a2", "a2-new", 1, 0, 1, 2, 3))
		wantNone(t, o)
	})
	t.Run("same group", func(t *testing.T) {
		_, o := newFake()
		o.observe(classicAssigned("a1", "a1-old", 1, 0, 1))
		// A coordinator that shows the group at a generation already claimed did not rebuild it.
		o.observe(&group.Loaded{Broker: 2, Group: "g1", Kind: "classic", State: group.Stable, Generation: 1, Members: 2})
		o.observe(classicAssigned("a2", "a2-old", 1, 1, 2))
		wantOnly(t, o, OneOwnerPerGeneration, 0, "t/1 is assigned to both a1 and a2")
	})
}
