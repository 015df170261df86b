package controller

import (
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Behavior: AlterPartition (KIP-497; ReplicationControlManager.alterPartition). The requesting broker's epoch must be
// current. Per partition the requester must be the leader in the same leader epoch and partition
// epoch, the new ISR must hold the leader and only eligible replicas (registered, unfenced, not
// in controlled shutdown, same broker epoch when one is given: KIP-841, KIP-903). The leader
// recovery state it reports (KIP-704) may go from RECOVERING to RECOVERED, never back, and a
// RECOVERING leader may not name other replicas in the ISR. An ISR change that completes a
// reassignment (KIP-455) which removes the leader elects a new one, and the requester is
// answered NEW_LEADER_ELECTED. The change is built by
// PartitionChangeBuilder (an ISR change bumps the partition epoch only; the reported recovery
// state is its target) and the answer, the committed state, is sent once the entry commits.
//
// Not modelled: NOT_CONTROLLER for epochs ahead of ours (they cannot be ahead here).

func (c *Controller) handleAlterPartition(now time.Duration, from int32, req *protocol.AlterPartitionRequest) {
	notController := &protocol.AlterPartitionResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER}
	if c.working == nil {
		c.env.Send(from, notController)
		return
	}
	if b := c.working.Brokers[req.BrokerID]; b == nil || b.Epoch != req.BrokerEpoch {
		c.env.Send(from, &protocol.AlterPartitionResponse{CorrelationID: req.CorrelationID, Error: protocol.STALE_BROKER_EPOCH})
		return
	}
	resp := &protocol.AlterPartitionResponse{CorrelationID: req.CorrelationID, Partitions: make([]protocol.AlterPartitionResult, 0, len(req.Partitions))}
	var records []any
	for i := range req.Partitions {
		item := &req.Partitions[i]
		res := protocol.AlterPartitionResult{TP: item.TP}
		p := c.working.Partition(item.TP.Topic, item.TP.Partition)
		if code := c.validateAlterPartition(req.BrokerID, p, item); code != protocol.NONE {
			res.Error = code
			resp.Partitions = append(resp.Partitions, res)
			continue
		}
		isr := make([]int32, len(item.NewISR))
		for j, s := range item.NewISR {
			isr[j] = s.BrokerID
		}
		lrs := metadata.LeaderRecoveryState(item.LeaderRecoveryState)
		if rec := c.builder(p).SetTargetISR(isr).SetTargetLeaderRecoveryState(lrs).Build(); rec != nil {
			records = c.applyChange(records, rec)
			p = c.working.Partition(item.TP.Topic, item.TP.Partition)
			if rec.Leader != req.BrokerID {
				// The ISR change completed a reassignment that removed the requester: it
				// learns its new role from the metadata log (NEW_LEADER_ELECTED).
				res.Error = protocol.NEW_LEADER_ELECTED
				resp.Partitions = append(resp.Partitions, res)
				continue
			}
		}
		res.LeaderID, res.LeaderEpoch, res.ISR, res.PartitionEpoch = p.Leader, p.LeaderEpoch, p.ISR, p.PartitionEpoch
		res.LeaderRecoveryState = int8(p.LeaderRecoveryState)
		resp.Partitions = append(resp.Partitions, res)
	}
	if len(records) == 0 {
		c.env.Send(from, resp)
		return
	}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, notController)
		return
	}
	c.reply(from, off, resp, notController)
}

// validateAlterPartition checks one proposal against the working image.
func (c *Controller) validateAlterPartition(requester int32, p *metadata.Partition, item *protocol.AlterPartitionItem) protocol.ErrorCode {
	switch {
	case p == nil:
		return protocol.UNKNOWN_TOPIC_OR_PARTITION
	case item.LeaderEpoch != p.LeaderEpoch:
		return protocol.FENCED_LEADER_EPOCH
	case p.Leader != requester:
		return protocol.NOT_LEADER_OR_FOLLOWER
	case item.PartitionEpoch != p.PartitionEpoch:
		return protocol.INVALID_UPDATE_VERSION
	}
	hasLeader := false
	for j, s := range item.NewISR {
		if s.BrokerID == p.Leader {
			hasLeader = true
		}
		if !metadata.Contains(p.Replicas, s.BrokerID) {
			return protocol.INVALID_REQUEST
		}
		for _, o := range item.NewISR[:j] {
			if o.BrokerID == s.BrokerID {
				return protocol.INVALID_REQUEST
			}
		}
	}
	if !hasLeader {
		return protocol.INVALID_REQUEST // the leader must stay in the ISR
	}
	switch lrs := metadata.LeaderRecoveryState(item.LeaderRecoveryState); {
	case lrs != metadata.LeaderRecovered && lrs != metadata.LeaderRecovering:
		return protocol.INVALID_REQUEST
	case lrs == metadata.LeaderRecovering && len(item.NewISR) > 1:
		return protocol.INVALID_REQUEST // a recovering leader is the whole ISR
	case lrs == metadata.LeaderRecovering && p.LeaderRecoveryState == metadata.LeaderRecovered:
		return protocol.INVALID_REQUEST // RECOVERED never goes back to RECOVERING
	}
	for _, s := range item.NewISR {
		b := c.working.Brokers[s.BrokerID]
		if b == nil || b.Fenced || b.InControlledShutdown || (s.BrokerEpoch != -1 && s.BrokerEpoch != b.Epoch) {
			return protocol.INELIGIBLE_REPLICA
		}
	}
	return protocol.NONE
}
