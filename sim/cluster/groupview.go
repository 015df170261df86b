package cluster

import (
	"cmp"
	"slices"

	"kafkasim/broker/protocol"
)

// GroupView is a consumer group as its coordinator has it, with the committed offset and the
// lag of every partition the group reads: what the terminal UI's Groups view shows. It is
// built from read-only getters and shares nothing with the coordinator.
type GroupView struct {
	ID          string
	Coordinator int32  // the leader of the group's __consumer_offsets partition (-1: none)
	Loaded      bool   // that broker runs and has the group loaded
	Protocol    string // group.protocol: "classic" or "consumer"
	Assignor    string // the assignor the group chose ("range"; "" before a generation)
	State       string // the classic state (empty, preparing-rebalance, …; "" when not loaded)
	Generation  int32  // the generation, or the group epoch of a consumer group
	Assignment  int32  // a consumer group's target assignment epoch (-1 for a classic group)
	Leader      string // the leader's client.id
	Members     []GroupMemberView
	Partitions  []GroupPartitionView
}

// GroupMemberView is one member and the partitions it was assigned in the current generation.
type GroupMemberView struct {
	Client     string // client.id: the consumer's name
	ID         string // member id
	InstanceID string // group.instance.id ("" for a dynamic member)
	Partitions []protocol.TopicPartition
	Epoch      int32                     // a consumer group member's epoch (KIP-848)
	State      string                    // a consumer group member's reconciliation state ("stable", "unrevoked-partitions", …)
	Revoking   []protocol.TopicPartition // partitions it is asked to revoke
}

// GroupPartitionView is one partition the group reads.
type GroupPartitionView struct {
	TP        protocol.TopicPartition
	Owner     string // the member's client.id that owns it in the current generation ("" none)
	Committed int64  // the group's committed offset (-1: none)
	End       int64  // the partition's high watermark at its leader (-1: no running leader)
	Lag       int64  // End minus Committed (from 0 with no commit); 0 when End is unknown
}

// GroupView describes group id. The partitions are those of the topics its members subscribe
// to, its running consumers read, or it has committed offsets for.
func (c *Cluster) GroupView(id string) GroupView {
	v := GroupView{ID: id, Protocol: "classic", Coordinator: c.GroupCoordinator(id)}
	topics := map[string]bool{}
	owner := map[protocol.TopicPartition]string{}
	var committed []protocol.TopicPartition
	if b := c.Broker(v.Coordinator); b != nil {
		committed = b.Coordinator().CommittedPartitions(id)
		if g := b.Coordinator().Group(id); g != nil {
			v.Loaded = true
			v.Protocol, v.Assignment = g.Kind(), g.AssignmentEpoch()
			v.Assignor, v.State, v.Generation = g.Protocol, g.State().String(), g.Generation
			for _, m := range g.Members() {
				if m.ID == g.Leader {
					v.Leader = m.ClientID
				}
				mv := GroupMemberView{Client: m.ClientID, ID: m.ID, InstanceID: m.InstanceID, Partitions: slices.Clone(m.Assignment)}
				if g.Modern() {
					mv.Epoch, mv.State, mv.Revoking = m.Epoch, m.MemberState(), slices.Clone(m.Revoking)
				}
				v.Members = append(v.Members, mv)
				for _, tp := range m.Assignment {
					owner[tp] = m.ClientID
				}
				for _, p := range m.Protocols {
					for _, t := range p.Topics {
						topics[t] = true
					}
				}
			}
		}
	}
	for _, name := range c.ClientNames() {
		if cs := c.Consumer(name); cs != nil && cs.Group() == id {
			for _, t := range cs.Topics() {
				topics[t] = true
			}
		}
	}
	for _, tp := range committed {
		topics[tp.Topic] = true
	}
	var tps []protocol.TopicPartition
	for t := range topics {
		for i := 0; i < c.PartitionCount(t); i++ {
			tps = append(tps, TP(t, i))
		}
	}
	for _, tp := range committed {
		if !slices.Contains(tps, tp) {
			tps = append(tps, tp)
		}
	}
	slices.SortFunc(tps, func(a, b protocol.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	for _, tp := range tps {
		p := GroupPartitionView{TP: tp, Owner: owner[tp], Committed: c.GroupCommitted(id, tp), End: -1}
		if r := c.Replica(c.Leader(tp), tp); r != nil {
			p.End = r.HW()
			p.Lag = max(0, p.End-max(p.Committed, 0))
		}
		v.Partitions = append(v.Partitions, p)
	}
	return v
}
