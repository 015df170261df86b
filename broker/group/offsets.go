package group

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Handle runs one group request; it reports whether msg was one.
func (c *Coordinator) Handle(now time.Duration, from int32, msg any) bool {
	if c.handle(now, from, msg) {
		c.touched = true
		return true
	}
	return false
}

func (c *Coordinator) handle(now time.Duration, from int32, msg any) bool {
	switch r := msg.(type) {
	case *protocol.ConsumerGroupHeartbeatRequest:
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, &protocol.ConsumerGroupHeartbeatResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: r.MemberID, MemberEpoch: r.MemberEpoch})
		} else {
			s.handleConsumerHeartbeat(now, from, r)
		}
	case *protocol.JoinGroupRequest:
		if r.GroupID == "" {
			c.host.Send(from, &protocol.JoinGroupResponse{CorrelationID: r.CorrelationID, Error: protocol.INVALID_GROUP_ID, GenerationID: -1})
			return true
		}
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, &protocol.JoinGroupResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: r.MemberID, GenerationID: -1})
		} else {
			s.handleJoin(now, from, r)
		}
	case *protocol.SyncGroupRequest:
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, &protocol.SyncGroupResponse{CorrelationID: r.CorrelationID, Error: err})
		} else {
			s.handleSync(now, from, r)
		}
	case *protocol.HeartbeatRequest:
		s, err := c.lookup(r.GroupID)
		switch err {
		case protocol.NONE:
			s.handleHeartbeat(now, from, r)
		case protocol.COORDINATOR_LOAD_IN_PROGRESS:
			// GroupCoordinatorService.heartbeat: "blindly respond" while loading.
			c.host.Send(from, &protocol.HeartbeatResponse{CorrelationID: r.CorrelationID})
		default:
			c.host.Send(from, &protocol.HeartbeatResponse{CorrelationID: r.CorrelationID, Error: err})
		}
	case *protocol.LeaveGroupRequest:
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, &protocol.LeaveGroupResponse{CorrelationID: r.CorrelationID, Error: err})
		} else {
			s.handleLeave(now, from, r)
		}
	case *protocol.OffsetCommitRequest:
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, commitAnswer(r, err))
		} else {
			s.handleOffsetCommit(now, from, r)
		}
	case *protocol.TxnOffsetCommitRequest:
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, txnCommitAnswer(r, err))
		} else {
			s.handleTxnOffsetCommit(now, from, r)
		}
	case *protocol.OffsetFetchRequest:
		if s, err := c.lookup(r.GroupID); err != protocol.NONE {
			c.host.Send(from, &protocol.OffsetFetchResponse{CorrelationID: r.CorrelationID, Error: err})
		} else {
			s.handleOffsetFetch(now, from, r)
		}
	default:
		return false
	}
	return true
}

func commitAnswer(r *protocol.OffsetCommitRequest, err protocol.ErrorCode) *protocol.OffsetCommitResponse {
	resp := &protocol.OffsetCommitResponse{CorrelationID: r.CorrelationID, Partitions: make([]protocol.OffsetCommitPartitionResponse, len(r.Partitions))}
	for i, p := range r.Partitions {
		resp.Partitions[i] = protocol.OffsetCommitPartitionResponse{TP: p.TP, Error: err}
	}
	return resp
}

// validateOffsetCommit: OffsetMetadataManager.validateOffsetCommit and
// ClassicGroup.validateOffsetCommit. A generation of -1 is a commit from outside the group
// (assign() or the admin client): allowed only while the group is empty.
func (s *shard) validateOffsetCommit(r *protocol.OffsetCommitRequest) (*Group, protocol.ErrorCode) {
	g := s.groups[r.GroupID]
	if g == nil {
		if r.GenerationID >= 0 {
			return nil, protocol.ILLEGAL_GENERATION
		}
		g = s.group(r.GroupID) // a simple group
		g.state = Empty
		return g, protocol.NONE
	}
	if g.state == Dead {
		return nil, protocol.COORDINATOR_NOT_AVAILABLE
	}
	if g.modern != nil {
		if err := validateConsumerOffsetCommit(g, r); err != protocol.NONE {
			return nil, err
		}
		return g, protocol.NONE
	}
	if r.GenerationID < 0 && g.state == Empty {
		return g, protocol.NONE
	}
	if r.GenerationID >= 0 || r.MemberID != "" || r.GroupInstanceID != "" {
		if err := g.validateMember(r.MemberID, r.GroupInstanceID); err != protocol.NONE {
			return nil, err
		}
		if r.GenerationID != g.Generation {
			return nil, protocol.ILLEGAL_GENERATION
		}
	} else if g.state != Empty {
		return nil, protocol.UNKNOWN_MEMBER_ID
	}
	if g.state == CompletingRebalance {
		return nil, protocol.REBALANCE_IN_PROGRESS
	}
	return g, protocol.NONE
}

// handleOffsetCommit: OffsetMetadataManager.commitOffset. The offsets apply at once and are
// answered once their records are committed; a commit by a member refreshes its session.
func (s *shard) handleOffsetCommit(now time.Duration, from int32, r *protocol.OffsetCommitRequest) {
	g, err := s.validateOffsetCommit(r)
	if err != protocol.NONE {
		s.c.host.Send(from, commitAnswer(r, err))
		return
	}
	if m := g.member(r.MemberID); m != nil && g.modern == nil && (g.state == Stable || g.state == PreparingRebalance) {
		s.rescheduleHeartbeat(g, m, m.Session)
	}
	if s.c.cfg.IgnoreOffsetCommits {
		s.c.host.Send(from, commitAnswer(r, protocol.NONE)) // planted bug
		return
	}
	recs := make([]protocol.Record, 0, len(r.Partitions))
	for _, p := range r.Partitions {
		o := Offset{Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, CommitTime: now}
		s.storeOffset(r.GroupID, p.TP, o)
		recs = append(recs, offsetCommitRecord(r.GroupID, p.TP, o))
	}
	s.append(now, recs, func(_ time.Duration, err protocol.ErrorCode) {
		s.c.host.Send(from, commitAnswer(r, err))
	})
}

// handleOffsetFetch answers with the latest committed offsets, once every earlier write has
// committed (requireStable, as the Java consumer asks).
func (s *shard) handleOffsetFetch(now time.Duration, from int32, r *protocol.OffsetFetchRequest) {
	if s.unstable(r) { // KIP-447 (txnoffsets.go)
		s.c.host.Send(from, &protocol.OffsetFetchResponse{CorrelationID: r.CorrelationID, Error: protocol.UNSTABLE_OFFSET_COMMIT})
		return
	}
	s.append(now, nil, func(_ time.Duration, err protocol.ErrorCode) {
		resp := &protocol.OffsetFetchResponse{CorrelationID: r.CorrelationID, Error: err}
		if err == protocol.NONE {
			for _, tp := range r.Partitions {
				o, ok := s.offsets[r.GroupID][tp]
				if !ok {
					o = Offset{Offset: -1, LeaderEpoch: protocol.UnknownEpoch}
				}
				resp.Partitions = append(resp.Partitions, protocol.OffsetFetchPartition{TP: tp, Offset: o.Offset, LeaderEpoch: o.LeaderEpoch})
			}
		}
		s.c.host.Send(from, resp)
	})
}

// CleanupGroupMetadata is GroupCoordinatorShard.cleanupGroupMetadata, run on every loaded shard
// offsets.retention.check.interval.ms after its last run: an offset expires
// offsets.retention.minutes after its commit when its group has no member (an Empty classic
// group, a simple group, a consumer group without members) and no transactional offset is
// pending for it (OffsetMetadataManager.cleanupExpiredOffsets); it gets a tombstone. A group
// left with no offset and no open transaction is deleted when it is empty
// (GroupMetadataManager.maybeDeleteGroup): tombstones for its records. The tombstones let
// compaction of __consumer_offsets forget the offsets and the group.
//
// Simplified: a group with members keeps all its offsets (Kafka also expires a Stable consumer
// group's offsets of topics it no longer subscribes to), and the retention of an Empty classic
// group counts from each offset's commit, not from when the group became Empty (the
// currentStateTimestamp of GroupMetadataValue, which kafkasim does not record).
func (c *Coordinator) CleanupGroupMetadata(now time.Duration) {
	interval := cmp.Or(c.cfg.OffsetsRetentionCheckInterval, 10*time.Minute)
	for _, part := range slices.Sorted(maps.Keys(c.shards)) {
		s := c.shards[part]
		if s.loading || now-s.cleaned < interval {
			continue
		}
		s.cleaned = now
		c.touched = true
		s.cleanupGroupMetadata(now)
	}
}

func (s *shard) cleanupGroupMetadata(now time.Duration) {
	retention := cmp.Or(s.c.cfg.OffsetsRetention, 7*24*time.Hour)
	var recs []protocol.Record
	for _, id := range slices.Clone(s.order) {
		g := s.groups[id]
		if g == nil || len(g.members) > 0 || g.modern == nil && g.state != Empty {
			continue
		}
		all := true
		offs := s.offsets[id]
		for _, tp := range slices.SortedFunc(maps.Keys(offs), compareTP) {
			if now-offs[tp].CommitTime >= retention && !s.txn.hasPending(id, tp) {
				recs = append(recs, offsetCommitTombstone(id, tp))
				s.deleteOffset(id, tp)
			} else {
				all = false
			}
		}
		if !all || s.txn.hasGroup(id) {
			continue
		}
		if g.modern != nil {
			recs = append(recs, tombstone(targetMetadataType, id, ""), tombstone(partitionMetadataType, id, ""), tombstone(groupEpochType, id, ""))
		} else {
			recs = append(recs, groupMetadataTombstone(id))
		}
		g.state = Dead
		s.removeGroup(id)
	}
	if len(recs) > 0 {
		s.append(now, recs, func(time.Duration, protocol.ErrorCode) {})
	}
}

func compareTP(a, b protocol.TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}
