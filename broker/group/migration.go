package group

import (
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: KIP-848's online migration between the classic and the consumer protocols, as
// Kafka 4.x's GroupMetadataManager runs it. A ConsumerGroupHeartbeat that joins a classic
// group with members converts it (convertToConsumerGroup, ConsumerGroup.fromClassicGroup):
// every classic member becomes a member of the consumer group at the generation as its member
// epoch, with its last assignment as its current and target assignment, and keeps speaking the
// classic protocol: its JoinGroup, SyncGroup, Heartbeat and LeaveGroup are served by the
// consumer group (classicGroupJoinToConsumerGroup and its siblings). A JoinGroup is a
// heartbeat that updates the member and reconciles it (a revocation is the member rejoining
// without the partitions: an eager member owns nothing when it rejoins); the answer's
// generation is the member epoch, and no member is the leader: the broker assigns. A Heartbeat
// answers REBALANCE_IN_PROGRESS while the member is behind the group epoch, must revoke, or
// may now take partitions others released. When the last member that speaks the consumer
// protocol leaves or is fenced and classic members remain, the group is converted back
// (convertToClassicGroup, ClassicGroup.fromConsumerGroup): a classic group at the group epoch
// as its generation, with the target assignment, and a rebalance. group.consumer.migration.policy
// allows either way, both (bidirectional, the default) or none.
//
// Not modelled: a static member replacing another through JoinGroup in a consumer group (it
// is answered UNRELEASED_INSTANCE_ID), group.consumer.max.size and group.classic.max.size.

func (s *shard) upgradeEnabled() bool {
	p := s.c.cfg.MigrationPolicy
	return p == "" || p == "bidirectional" || p == "upgrade"
}

func (s *shard) downgradeEnabled() bool {
	p := s.c.cfg.MigrationPolicy
	return p == "" || p == "bidirectional" || p == "downgrade"
}

// UsesClassicProtocol reports whether a member of a consumer group speaks the classic protocol.
func (m *Member) UsesClassicProtocol() bool { return m.classic }

// classicSubscription is the member's ConsumerProtocolSubscription: the topics and owned
// partitions of its first protocol (every protocol carries the same subscription).
func classicSubscription(ps []protocol.GroupProtocol) (topics []string, owned []protocol.TopicPartition) {
	owned = []protocol.TopicPartition{}
	if len(ps) == 0 {
		return nil, owned
	}
	topics = slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(ps[0].Topics)))))
	if ps[0].Owned != nil {
		owned = slices.Clone(ps[0].Owned)
	}
	return topics, owned
}

// validateOnlineUpgrade: the policy allows it and the group speaks the consumer protocol
// type (its size is not bounded here).
func (s *shard) validateOnlineUpgrade(g *Group) bool {
	return s.upgradeEnabled() && g.ProtocolType == "consumer"
}

// convertToConsumerGroup: GroupMetadataManager.convertToConsumerGroup. Parked joins and syncs
// are told REBALANCE_IN_PROGRESS (they rejoin into the consumer group); the classic group's
// record is deleted and the consumer group's written.
func (s *shard) convertToConsumerGroup(g *Group) []protocol.Record {
	for _, m := range g.members {
		if m.join != nil {
			s.c.host.Send(m.join.node, &protocol.JoinGroupResponse{CorrelationID: m.join.corr, Error: protocol.REBALANCE_IN_PROGRESS, MemberID: m.ID, GenerationID: -1})
			m.join = nil
		}
		if m.sync != nil {
			s.c.host.Send(m.sync.node, &protocol.SyncGroupResponse{CorrelationID: m.sync.corr, Error: protocol.REBALANCE_IN_PROGRESS})
			m.sync = nil
		}
	}
	s.dropClassicPending(g)
	recs := []protocol.Record{groupMetadataTombstone(g.ID)} // ClassicGroup.createGroupTombstoneRecords
	// ConsumerGroup.fromClassicGroup.
	gen := g.Generation
	g.modern = &consumerGroup{assignmentEpoch: gen, target: map[string][]protocol.TopicPartition{}, topics: map[string]int32{}}
	g.ProtocolType, g.Leader = "consumer", ""
	for _, m := range g.members {
		var meta protocol.GroupProtocol
		for _, p := range m.Protocols {
			if p.Name == g.Protocol {
				meta = p
			}
		}
		m.Topics, _ = classicSubscription([]protocol.GroupProtocol{meta})
		m.classic, m.isNew, m.Assignor = true, false, ""
		m.Epoch, m.PrevEpoch, m.mstate, m.Revoking = gen, gen, mStable, nil
		m.Assignment = slices.Clone(m.Assignment)
		slices.SortFunc(m.Assignment, compareTPs)
		g.modern.target[m.ID] = slices.Clone(m.Assignment)
	}
	g.modern.topics = s.subscriptionMetadata(g)
	g.Protocol = ""
	// ConsumerGroup.createConsumerGroupRecords.
	for _, m := range g.members {
		recs = append(recs, memberMetadataRecord(g.ID, m))
	}
	recs = append(recs, groupEpochRecord(g.ID, gen), partitionMetadataRecord(g.ID, g.modern.topics))
	for _, m := range g.members {
		recs = append(recs, targetMemberRecord(g.ID, m.ID, g.modern.target[m.ID]))
	}
	recs = append(recs, targetMetadataRecord(g.ID, gen))
	for _, m := range g.members {
		recs = append(recs, currentAssignmentRecord(g.ID, m))
		s.schedule(timerHeartbeat, heartbeatKey(g.ID, m.ID), m.Session, 0)
	}
	g.updateModernState()
	return recs
}

// dropClassicPending forgets what only a classic group has: the rebalance's timers, and the
// members given an id that have not joined with it yet (they are unknown to the consumer
// group: their JoinGroup creates them there).
func (s *shard) dropClassicPending(g *Group) {
	s.cancel(joinKey(g.ID))
	s.cancel(syncKey(g.ID))
	for _, id := range g.pendingJoin {
		s.cancel(heartbeatKey(g.ID, id))
	}
	g.pendingJoin, g.pendingSync, g.newMember = nil, nil, false
}

// validateOnlineDowngrade: validateOnlineDowngradeWithFencedMember: every member but the one
// leaving speaks the classic protocol, one at least remains, and the policy allows it.
func (s *shard) validateOnlineDowngrade(g *Group, leaving *Member) bool {
	if len(g.members) <= 1 || !s.downgradeEnabled() {
		return false
	}
	for _, m := range g.members {
		if m != leaving && !m.classic {
			return false
		}
	}
	return true
}

// convertToClassicGroup: GroupMetadataManager.convertToClassicGroup with
// ClassicGroup.fromConsumerGroup: the consumer group's records are deleted; a classic group at
// the group epoch as its generation, Stable, with each member's target assignment, is written;
// then a rebalance begins (its members are told at their next heartbeat).
func (s *shard) convertToClassicGroup(now time.Duration, g *Group, leaving *Member) []protocol.Record {
	var recs []protocol.Record
	for _, m := range g.members {
		recs = append(recs, s.removeMemberRecords(g, m)...)
		s.cancel(heartbeatKey(g.ID, m.ID))
		s.cancel(revocationKey(g.ID, m.ID))
		s.cancel(classicJoinKey(g.ID, m.ID))
		s.cancel(classicSyncKey(g.ID, m.ID))
	}
	recs = append(recs, tombstone(targetMetadataType, g.ID, ""), tombstone(partitionMetadataType, g.ID, ""), tombstone(groupEpochType, g.ID, ""))
	target := g.modern.target
	g.members = slices.DeleteFunc(g.members, func(m *Member) bool { return m == leaving })
	if leaving.InstanceID != "" && g.static[leaving.InstanceID] == leaving.ID {
		delete(g.static, leaving.InstanceID)
	}
	g.modern = nil
	assignment := map[string][]protocol.TopicPartition{}
	for _, m := range g.members {
		m.Assignment = slices.Clone(target[m.ID])
		assignment[m.ID] = m.Assignment
		m.classic, m.Epoch, m.PrevEpoch, m.mstate, m.Revoking, m.Assignor = false, 0, 0, mStable, nil, ""
	}
	g.ProtocolType = "consumer"
	g.Protocol = g.selectProtocol()
	g.Leader = g.members[0].ID
	g.state, g.prevState = Stable, Stable
	recs = append(recs, groupMetadataRecord(g, assignment))
	for _, m := range g.members {
		s.rescheduleHeartbeat(g, m, m.Session)
	}
	s.prepareRebalance(now, g)
	return recs
}

func classicJoinKey(g, member string) string { return "cjoin\x00" + g + "\x00" + member }
func classicSyncKey(g, member string) string { return "csync\x00" + g + "\x00" + member }

// classicJoinToConsumerGroup: GroupMetadataManager.classicGroupJoinToConsumerGroup.
func (s *shard) classicJoinToConsumerGroup(now time.Duration, from int32, g *Group, r *protocol.JoinGroupRequest) {
	fail := func(err protocol.ErrorCode, member string) {
		s.c.host.Send(from, &protocol.JoinGroupResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: member, GenerationID: -1})
	}
	// throwIfClassicProtocolIsNotSupported
	if r.ProtocolType != "consumer" || len(r.Protocols) == 0 {
		fail(protocol.INCONSISTENT_GROUP_PROTOCOL, r.MemberID)
		return
	}
	id := r.MemberID
	if id == "" {
		id = s.newMemberID(r.ClientID, r.GroupInstanceID)
		if r.GroupInstanceID == "" {
			// JoinGroupRequest.requiresKnownMemberId: a dynamic member asks again with its id.
			fail(protocol.MEMBER_ID_REQUIRED, id)
			return
		}
	}
	m := g.member(id)
	if r.GroupInstanceID != "" {
		old := g.staticMember(r.GroupInstanceID)
		switch {
		case old != nil && old.ID != id:
			if r.MemberID == "" {
				fail(protocol.UNRELEASED_INSTANCE_ID, r.MemberID) // a replacement: not modelled
			} else {
				fail(protocol.FENCED_INSTANCE_ID, r.MemberID)
			}
			return
		case old == nil && r.MemberID != "":
			fail(protocol.UNKNOWN_MEMBER_ID, r.MemberID)
			return
		}
	}
	isNew := m == nil
	if isNew {
		m = &Member{ID: id, mstate: mStable}
	}
	var recs []protocol.Record
	upd := *m
	topics, owned := classicSubscription(r.Protocols)
	upd.InstanceID, upd.ClientID, upd.node = r.GroupInstanceID, r.ClientID, from
	upd.Rebalance = time.Duration(r.RebalanceTimeoutMs) * time.Millisecond
	upd.Session = time.Duration(r.SessionTimeoutMs) * time.Millisecond
	upd.Assignor, upd.Topics, upd.Protocols, upd.classic = "", topics, slices.Clone(r.Protocols), true
	if isNew || upd.ClientID != m.ClientID || upd.Rebalance != m.Rebalance || upd.Session != m.Session || !m.classic ||
		!matches(upd.Protocols, m.Protocols) || !slices.Equal(upd.Topics, m.Topics) || upd.InstanceID != m.InstanceID {
		recs = append(recs, memberMetadataRecord(g.ID, &upd))
	}
	bump := isNew || !slices.Equal(upd.Topics, m.Topics)
	recs = s.storeMember(g, m, upd, isNew, bump, recs)
	recs = append(recs, s.maybeReconcile(g, m, owned)...)
	g.updateModernState()
	resp := &protocol.JoinGroupResponse{CorrelationID: r.CorrelationID, MemberID: m.ID, GenerationID: m.Epoch, ProtocolName: r.Protocols[0].Name}
	rebalance := upd.Rebalance
	// The session runs from now, as a ConsumerGroupHeartbeat's does (Kafka arms it once the
	// write commits, and rolls the member back if it fails; here a write that times out keeps
	// its effect, so the member must still expire).
	s.schedule(timerHeartbeat, heartbeatKey(g.ID, id), upd.Session, 0)
	s.append(now, recs, func(_ time.Duration, err protocol.ErrorCode) {
		if err != protocol.NONE {
			fail(err, id)
			return
		}
		s.cancel(classicJoinKey(g.ID, id))
		if g.modern != nil && g.member(id) != nil {
			s.schedule(timerHeartbeat, heartbeatKey(g.ID, id), upd.Session, 0)
			s.schedule(timerClassicSync, classicSyncKey(g.ID, id), rebalance, 0)
		}
		s.c.host.Send(from, resp)
	})
}

// classicMemberOf: validateConsumerGroupMember and throwIfMemberDoesNotUseClassicProtocol.
func classicMemberOf(g *Group, memberID, instanceID string) (*Member, protocol.ErrorCode) {
	var m *Member
	if instanceID == "" {
		m = g.member(memberID)
	} else {
		m = g.staticMember(instanceID)
		if m != nil && m.ID != memberID {
			return nil, protocol.FENCED_INSTANCE_ID
		}
	}
	if m == nil || !m.classic {
		return nil, protocol.UNKNOWN_MEMBER_ID
	}
	return m, protocol.NONE
}

// classicSyncToConsumerGroup: GroupMetadataManager.classicGroupSyncToConsumerGroup: the
// member's current assignment, once every earlier write is committed.
func (s *shard) classicSyncToConsumerGroup(now time.Duration, from int32, g *Group, r *protocol.SyncGroupRequest) {
	answer := func(err protocol.ErrorCode, a []protocol.TopicPartition, name string) {
		s.c.host.Send(from, &protocol.SyncGroupResponse{CorrelationID: r.CorrelationID, Error: err, Assignment: a, ProtocolName: name})
	}
	m, err := classicMemberOf(g, r.MemberID, r.GroupInstanceID)
	switch {
	case err != protocol.NONE:
	case r.GenerationID != m.Epoch:
		err = protocol.ILLEGAL_GENERATION
	case r.ProtocolName != "" && (len(m.Protocols) == 0 || r.ProtocolName != m.Protocols[0].Name):
		err = protocol.INCONSISTENT_GROUP_PROTOCOL
	case g.Generation > m.Epoch && m.mstate != mUnrevoked: // throwIfRebalanceInProgress
		s.scheduleIfAbsent(timerClassicJoin, classicJoinKey(g.ID, m.ID), m.Rebalance)
		err = protocol.REBALANCE_IN_PROGRESS
	}
	if err != protocol.NONE {
		answer(err, nil, "")
		return
	}
	id, name := m.ID, r.ProtocolName
	s.append(now, nil, func(_ time.Duration, err protocol.ErrorCode) {
		if err != protocol.NONE {
			answer(err, nil, "")
			return
		}
		m := g.member(id)
		if g.modern == nil || m == nil {
			answer(protocol.UNKNOWN_MEMBER_ID, nil, "")
			return
		}
		s.cancel(classicSyncKey(g.ID, id))
		s.schedule(timerHeartbeat, heartbeatKey(g.ID, id), m.Session, 0)
		answer(protocol.NONE, slices.Clone(m.Assignment), name)
	})
}

// classicHeartbeatToConsumerGroup: GroupMetadataManager.classicGroupHeartbeatToConsumerGroup.
func (s *shard) classicHeartbeatToConsumerGroup(from int32, g *Group, r *protocol.HeartbeatRequest) {
	answer := func(err protocol.ErrorCode) {
		s.c.host.Send(from, &protocol.HeartbeatResponse{CorrelationID: r.CorrelationID, Error: err})
	}
	m, err := classicMemberOf(g, r.MemberID, r.GroupInstanceID)
	if err != protocol.NONE {
		answer(err)
		return
	}
	if r.GenerationID != m.Epoch {
		answer(protocol.ILLEGAL_GENERATION)
		return
	}
	s.schedule(timerHeartbeat, heartbeatKey(g.ID, m.ID), m.Session, 0)
	if m.Epoch < g.Generation || m.mstate == mUnrevoked || (m.mstate == mUnreleased && !g.waitingOnUnreleasedPartition(m)) {
		s.scheduleIfAbsent(timerClassicJoin, classicJoinKey(g.ID, m.ID), m.Rebalance)
		answer(protocol.REBALANCE_IN_PROGRESS)
		return
	}
	answer(protocol.NONE)
}

// waitingOnUnreleasedPartition: ConsumerGroup.waitingOnUnreleasedPartition: a partition of the
// member's target that it does not have is still held by another member.
func (g *Group) waitingOnUnreleasedPartition(m *Member) bool {
	if m.mstate != mUnreleased {
		return false
	}
	for _, tp := range g.modern.target[m.ID] {
		if !slices.Contains(m.Assignment, tp) && g.partitionOwner(tp) != nil {
			return true
		}
	}
	return false
}

// classicLeaveToConsumerGroup: GroupMetadataManager.classicGroupLeaveToConsumerGroup: the
// member is removed and the group epoch bumped.
func (s *shard) classicLeaveToConsumerGroup(now time.Duration, from int32, g *Group, r *protocol.LeaveGroupRequest) {
	answer := func(err protocol.ErrorCode) {
		s.c.host.Send(from, &protocol.LeaveGroupResponse{CorrelationID: r.CorrelationID, Error: err})
	}
	var m *Member
	var err protocol.ErrorCode
	if r.MemberID == "" && r.GroupInstanceID != "" {
		m = g.staticMember(r.GroupInstanceID)
		if m == nil || !m.classic {
			err = protocol.UNKNOWN_MEMBER_ID
		}
	} else {
		m, err = classicMemberOf(g, r.MemberID, r.GroupInstanceID)
	}
	if err != protocol.NONE {
		answer(err)
		return
	}
	recs := s.removeMember(g, m)
	s.append(now, recs, func(_ time.Duration, err protocol.ErrorCode) { answer(err) })
}

func (s *shard) cancelMemberTimers(g *Group, m *Member) {
	s.cancel(heartbeatKey(g.ID, m.ID))
	s.cancel(revocationKey(g.ID, m.ID))
	s.cancel(classicJoinKey(g.ID, m.ID))
	s.cancel(classicSyncKey(g.ID, m.ID))
}

// scheduleIfAbsent arms key's timer unless one is armed (scheduleConsumerGroupJoinTimeoutIfAbsent).
func (s *shard) scheduleIfAbsent(kind timerKind, key string, d time.Duration) {
	if _, ok := s.timers[key]; !ok {
		s.schedule(kind, key, d, 0)
	}
}

// convertEmptyConsumerGroup: a JoinGroup to a consumer group without members deletes it and
// starts a classic group (GroupMetadataManager.maybeDeleteEmptyConsumerGroup).
func (s *shard) convertEmptyConsumerGroup(now time.Duration, g *Group) {
	recs := []protocol.Record{tombstone(targetMetadataType, g.ID, ""), tombstone(partitionMetadataType, g.ID, ""), tombstone(groupEpochType, g.ID, "")}
	g.modern = nil
	g.ProtocolType, g.Protocol, g.Leader, g.Generation, g.state, g.prevState = "", "", "", 0, Empty, Empty
	g.static = map[string]string{}
	s.append(now, recs, func(time.Duration, protocol.ErrorCode) {})
}
