package broker

import (
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: Metadata, ListOffsets and OffsetForLeaderEpoch as a broker answers them from its
// replayed metadata image and its local replicas. The image may be stale (a zombie broker
// answers with what it last replayed), as in Kafka.

func (b *Broker) handleMetadata(now time.Duration, from int32, m *protocol.MetadataRequest) {
	resp := &protocol.MetadataResponse{CorrelationID: m.CorrelationID, ControllerID: b.activeController()}
	for _, id := range b.image.BrokerIDs() {
		if reg := b.image.Brokers[id]; !reg.Fenced {
			resp.Brokers = append(resp.Brokers, id)
		}
	}
	names := m.Topics
	if names == nil {
		names = b.image.TopicNames()
	}
	for _, name := range names {
		t := b.image.Topics[name]
		tm := protocol.TopicMetadata{Name: name}
		if t == nil {
			tm.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
			resp.Topics = append(resp.Topics, tm)
			continue
		}
		tm.Partitions = make([]protocol.PartitionMetadata, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			if p == nil {
				continue
			}
			pm := protocol.PartitionMetadata{Partition: p.Index, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch, Replicas: p.Replicas, ISR: p.ISR}
			if p.Leader < 0 {
				pm.Error = protocol.LEADER_NOT_AVAILABLE
			}
			tm.Partitions = append(tm.Partitions, pm)
		}
		resp.Topics = append(resp.Topics, tm)
	}
	b.env.Send(from, resp)
}

// handleListOffsets answers the log start or the end visible to the isolation level. While a
// new leader's HW is still below the start of its epoch, the latest offset is not known yet:
// OFFSET_NOT_AVAILABLE (KIP-207).
func (b *Broker) handleListOffsets(now time.Duration, from int32, m *protocol.ListOffsetsRequest) {
	resp := &protocol.ListOffsetsResponse{CorrelationID: m.CorrelationID, Partitions: make([]protocol.ListOffsetsPartitionResponse, len(m.Partitions))}
	for i, lp := range m.Partitions {
		r := &resp.Partitions[i]
		r.TP, r.Offset, r.LeaderEpoch = lp.TP, -1, protocol.UnknownEpoch
		p := b.parts[lp.TP]
		if code := b.fetchError(p, protocol.ConsumerID, lp.CurrentLeaderEpoch); code != protocol.NONE {
			r.Error = code
			continue
		}
		r.LeaderEpoch = p.leaderEpoch
		switch lp.Timestamp {
		case protocol.EarliestOffset:
			r.Offset = p.log.LogStartOffset()
		case protocol.LatestOffset:
			if p.leaderEpochStartOffset > p.hw {
				r.Error = protocol.OFFSET_NOT_AVAILABLE
				continue
			}
			r.Offset = consumerLimit(p, m.IsolationLevel) // the LSO for read_committed
		default:
			r.Error = protocol.INVALID_REQUEST
		}
	}
	b.env.Send(from, resp)
}

// handleOffsetForLeaderEpoch answers from the leader-epoch cache
// (LeaderEpochFileCache.endOffsetFor); consumers use it to validate their position after a leader
// change (KIP-320).
func (b *Broker) handleOffsetForLeaderEpoch(now time.Duration, from int32, m *protocol.OffsetForLeaderEpochRequest) {
	resp := &protocol.OffsetForLeaderEpochResponse{CorrelationID: m.CorrelationID, Partitions: make([]protocol.OffsetForLeaderEpochPartitionResponse, len(m.Partitions))}
	for i, op := range m.Partitions {
		r := &resp.Partitions[i]
		r.TP, r.LeaderEpoch, r.EndOffset = op.TP, protocol.UnknownEpoch, protocol.UnknownOffset
		p := b.parts[op.TP]
		if code := b.fetchError(p, protocol.ConsumerID, op.CurrentLeaderEpoch); code != protocol.NONE {
			r.Error = code
			continue
		}
		r.LeaderEpoch, r.EndOffset = p.log.EndOffsetForEpoch(op.LeaderEpoch)
	}
	b.env.Send(from, resp)
}
