package group

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: KIP-848 consumer groups (group.protocol=consumer), as
// GroupMetadataManager.consumerGroupHeartbeat runs them. A heartbeat creates or updates its
// member; a new subscription (or a change of the subscribed topics' partition counts) bumps
// the group epoch; a group epoch ahead of the target assignment's recomputes the target with
// the server-side assignor (TargetAssignmentBuilder); then the member is reconciled towards the
// target (CurrentAssignmentBuilder): a partition still owned by another member, or pending its
// revocation, is not given until that member has released it, and a member that must revoke
// stays at its epoch until it reports the partitions gone. Sessions expire after
// group.consumer.session.timeout.ms without a heartbeat; a member that does not revoke within
// its rebalance timeout is fenced. Every change is a record of __consumer_offsets
// (ConsumerGroupMetadata, ConsumerGroupPartitionMetadata, ConsumerGroupMemberMetadata,
// ConsumerGroupTargetAssignmentMetadata, ConsumerGroupTargetAssignmentMember,
// ConsumerGroupCurrentMemberAssignment), replayed by a new coordinator.
//
// Not modelled: the metadata refresh interval (the subscribed topics' partition counts are
// compared at every heartbeat), regular expressions, racks, group.consumer.max.size. The
// online migration between classic and consumer groups is in migration.go.

// memberState is a KIP-848 member's reconciliation state (MemberState).
type memberState uint8

const (
	mStable     memberState = iota // STABLE
	mUnrevoked                     // UNREVOKED_PARTITIONS: waiting for the member to revoke
	mUnreleased                    // UNRELEASED_PARTITIONS: waiting for others to release
)

func (s memberState) String() string {
	switch s {
	case mUnrevoked:
		return "unrevoked-partitions"
	case mUnreleased:
		return "unreleased-partitions"
	}
	return "stable"
}

// consumerGroup is the KIP-848 part of a Group (ConsumerGroup): the group epoch is the
// Group's Generation, the assignor of the last target assignment its Protocol.
type consumerGroup struct {
	assignmentEpoch int32                                // the target assignment's epoch
	target          map[string][]protocol.TopicPartition // member id → target partitions
	topics          map[string]int32                     // subscription metadata: partitions per subscribed topic
}

// Assignors lists the server-side assignors (group.consumer.assignors); the first is the default.
var Assignors = []string{"uniform", "range"}

// Modern reports whether g is a KIP-848 consumer group.
func (g *Group) Modern() bool { return g.modern != nil }

// Kind is the group's protocol: "classic" or "consumer".
func (g *Group) Kind() string {
	if g.modern != nil {
		return "consumer"
	}
	return "classic"
}

// AssignmentEpoch is a consumer group's target assignment epoch (-1 for a classic group).
func (g *Group) AssignmentEpoch() int32 {
	if g.modern == nil {
		return -1
	}
	return g.modern.assignmentEpoch
}

// MemberState is a KIP-848 member's reconciliation state ("stable", "unrevoked-partitions",
// "unreleased-partitions").
func (m *Member) MemberState() string { return m.mstate.String() }

// isReconciledTo: ConsumerGroupMember.isReconciledTo.
func (m *Member) isReconciledTo(epoch int32) bool { return m.mstate == mStable && m.Epoch == epoch }

// updateModernState: ConsumerGroup.maybeUpdateGroupState.
func (g *Group) updateModernState() {
	st := Stable
	switch {
	case len(g.members) == 0:
		st = Empty
	case g.Generation > g.modern.assignmentEpoch:
		st = Assigning
	default:
		for _, m := range g.members {
			if !m.isReconciledTo(g.modern.assignmentEpoch) {
				st = Reconciling
				break
			}
		}
	}
	if st != g.state {
		g.transition(st)
	}
}

// staticMember is the member holding group.instance.id id, or nil.
func (g *Group) staticMember(id string) *Member {
	if mid, ok := g.static[id]; ok {
		return g.member(mid)
	}
	return nil
}

// partitionOwner: ConsumerGroup.currentPartitionEpoch: the member that has tp assigned or
// pending revocation, or nil.
func (g *Group) partitionOwner(tp protocol.TopicPartition) *Member {
	for _, m := range g.members {
		if slices.Contains(m.Assignment, tp) || slices.Contains(m.Revoking, tp) {
			return m
		}
	}
	return nil
}

func revocationKey(g, member string) string { return "rev\x00" + g + "\x00" + member }

// Topics is what a coordinator's host may also be: it knows the partition counts of topics.
type Topics interface {
	PartitionCount(topic string) int32 // 0: no such topic
}

func (s *shard) partitionCount(topic string) int32 {
	if t, ok := s.c.host.(Topics); ok {
		return t.PartitionCount(topic)
	}
	return 0
}

// handleConsumerHeartbeat: GroupMetadataManager.consumerGroupHeartbeat.
func (s *shard) handleConsumerHeartbeat(now time.Duration, from int32, r *protocol.ConsumerGroupHeartbeatRequest) {
	fail := func(err protocol.ErrorCode) {
		s.c.host.Send(from, &protocol.ConsumerGroupHeartbeatResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: r.MemberID, MemberEpoch: r.MemberEpoch})
	}
	if err := validateConsumerHeartbeat(r); err != protocol.NONE {
		fail(err)
		return
	}
	if r.MemberEpoch == protocol.LeaveGroupMemberEpoch || r.MemberEpoch == protocol.LeaveGroupStaticMemberEpoch {
		s.consumerGroupLeave(now, from, r)
		return
	}
	g := s.groups[r.GroupID]
	var recs []protocol.Record
	if g == nil || g.modern == nil {
		// getOrMaybeCreateConsumerGroup: only a joining member creates the group; an empty
		// classic group (one with committed offsets only) becomes a consumer group, and one
		// with members is converted, its members kept (convertToConsumerGroup, migration.go).
		upgrade := g != nil && len(g.members) > 0 && g.state != Dead
		if r.MemberEpoch != protocol.JoinGroupMemberEpoch || (upgrade && !s.validateOnlineUpgrade(g)) {
			fail(protocol.GROUP_ID_NOT_FOUND)
			return
		}
		if upgrade {
			recs = s.convertToConsumerGroup(g)
		} else {
			if g != nil {
				s.dropClassicPending(g) // maybeDeleteEmptyClassicGroup: a new group
			}
			g = s.group(r.GroupID)
			g.modern = &consumerGroup{target: map[string][]protocol.TopicPartition{}, topics: map[string]int32{}}
			g.ProtocolType, g.Protocol, g.Leader, g.Generation, g.state = "consumer", "", "", 0, Empty
		}
	}
	// The member: getOrMaybeSubscribeDynamicConsumerGroupMember / ...StaticConsumerGroupMember.
	var m, replaced *Member
	if r.InstanceID == "" {
		m = g.member(r.MemberID)
		if m == nil && r.MemberEpoch != protocol.JoinGroupMemberEpoch {
			fail(protocol.UNKNOWN_MEMBER_ID)
			return
		}
		if m != nil {
			if err := m.checkEpoch(r); err != protocol.NONE {
				fail(err)
				return
			}
		}
	} else {
		old := g.staticMember(r.InstanceID)
		switch {
		case r.MemberEpoch == protocol.JoinGroupMemberEpoch && old != nil && old.Epoch != protocol.LeaveGroupStaticMemberEpoch:
			fail(protocol.UNRELEASED_INSTANCE_ID) // throwIfInstanceIdIsUnreleased
			return
		case r.MemberEpoch == protocol.JoinGroupMemberEpoch && old != nil:
			replaced = old // a static member rejoins: the new member id takes over its assignment
		case r.MemberEpoch == protocol.JoinGroupMemberEpoch:
		case old == nil:
			fail(protocol.UNKNOWN_MEMBER_ID)
			return
		case old.ID != r.MemberID:
			fail(protocol.FENCED_INSTANCE_ID)
			return
		default:
			if err := old.checkEpoch(r); err != protocol.NONE {
				fail(err)
				return
			}
			m = old
		}
	}
	isNew := m == nil
	if isNew {
		m = &Member{ID: r.MemberID, mstate: mStable}
		if replaced != nil {
			// A copy of the old member with the new id, at epoch 0.
			cp := *replaced
			cp.ID, cp.Epoch, cp.PrevEpoch = r.MemberID, 0, 0
			cp.Assignment, cp.Revoking = slices.Clone(replaced.Assignment), slices.Clone(replaced.Revoking)
			m = &cp
		}
	}
	// 1. Update the member; a new subscription bumps the group epoch.
	upd := *m
	upd.InstanceID, upd.ClientID, upd.node = r.InstanceID, r.ClientID, from
	upd.Rebalance = time.Duration(r.RebalanceTimeoutMs) * time.Millisecond
	upd.Assignor = r.ServerAssignor
	upd.Topics = slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(r.SubscribedTopicNames)))))
	upd.Protocols = []protocol.GroupProtocol{{Name: upd.Assignor, Topics: upd.Topics}}
	if replaced != nil {
		recs = append(recs, s.replaceMember(g, replaced, &upd)...)
	}
	if isNew || upd.ClientID != m.ClientID || upd.Rebalance != m.Rebalance || upd.Assignor != m.Assignor || !slices.Equal(upd.Topics, m.Topics) || upd.InstanceID != m.InstanceID {
		recs = append(recs, memberMetadataRecord(g.ID, &upd))
	}
	bump := (isNew && replaced == nil) || !slices.Equal(upd.Topics, m.Topics)
	// 2. A group epoch ahead of the target assignment's: a new target assignment.
	recs = s.storeMember(g, m, upd, isNew, bump, recs)
	// 3. Reconcile the member towards the target.
	// The client sends every field every time: what it owns is never "unchanged".
	owned := r.TopicPartitions
	if owned == nil {
		owned = []protocol.TopicPartition{}
	}
	recs = append(recs, s.maybeReconcile(g, m, owned)...)
	s.schedule(timerHeartbeat, heartbeatKey(g.ID, m.ID), s.c.cfg.ConsumerSessionTimeout, 0)
	g.updateModernState()
	resp := &protocol.ConsumerGroupHeartbeatResponse{CorrelationID: r.CorrelationID, MemberID: m.ID, MemberEpoch: m.Epoch,
		HeartbeatIntervalMs: int32(s.c.cfg.ConsumerHeartbeatInterval / time.Millisecond), HasAssignment: true, Assignment: slices.Clone(m.Assignment)}
	s.append(now, recs, func(_ time.Duration, err protocol.ErrorCode) {
		if err != protocol.NONE {
			resp = &protocol.ConsumerGroupHeartbeatResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: r.MemberID, MemberEpoch: r.MemberEpoch}
		}
		s.c.host.Send(from, resp)
	})
}

// validateConsumerHeartbeat: throwIfConsumerGroupHeartbeatRequestIsInvalid.
func validateConsumerHeartbeat(r *protocol.ConsumerGroupHeartbeatRequest) protocol.ErrorCode {
	if r.GroupID == "" {
		return protocol.INVALID_REQUEST
	}
	switch e := r.MemberEpoch; {
	case e > 0 || e == protocol.LeaveGroupMemberEpoch:
		if r.MemberID == "" {
			return protocol.INVALID_REQUEST
		}
	case e == protocol.JoinGroupMemberEpoch:
		if r.MemberID == "" || r.RebalanceTimeoutMs < 0 || len(r.TopicPartitions) > 0 || len(r.SubscribedTopicNames) == 0 {
			return protocol.INVALID_REQUEST
		}
	case e == protocol.LeaveGroupStaticMemberEpoch:
		if r.MemberID == "" || r.InstanceID == "" {
			return protocol.INVALID_REQUEST
		}
	default:
		return protocol.INVALID_REQUEST
	}
	if r.ServerAssignor != "" && !slices.Contains(Assignors, r.ServerAssignor) {
		return protocol.UNSUPPORTED_ASSIGNOR
	}
	return protocol.NONE
}

// checkEpoch: throwIfConsumerGroupMemberEpochIsInvalid. An epoch behind by one is accepted
// when the member owns a subset of its assignment: the answer that bumped it may have been
// lost.
func (m *Member) checkEpoch(r *protocol.ConsumerGroupHeartbeatRequest) protocol.ErrorCode {
	switch {
	case r.MemberEpoch > m.Epoch:
		return protocol.FENCED_MEMBER_EPOCH
	case r.MemberEpoch < m.Epoch:
		if r.MemberEpoch != m.PrevEpoch || !isSubset(r.TopicPartitions, m.Assignment) {
			return protocol.FENCED_MEMBER_EPOCH
		}
	}
	return protocol.NONE
}

func isSubset(owned, of []protocol.TopicPartition) bool {
	for _, tp := range owned {
		if !slices.Contains(of, tp) {
			return false
		}
	}
	return true
}

// subscriptionMetadata: ConsumerGroup.computeSubscriptionMetadata: the partition count of every
// topic a member subscribes to (topics that do not exist are left out).
func (s *shard) subscriptionMetadata(g *Group) map[string]int32 {
	out := map[string]int32{}
	for _, m := range g.members {
		for _, t := range m.Topics {
			if _, ok := out[t]; ok {
				continue
			}
			if n := s.partitionCount(t); n > 0 {
				out[t] = n
			}
		}
	}
	return out
}

// assignorOf: the assignor most members asked for (ConsumerGroup.preferredServerAssignor;
// ties go to the first in group.consumer.assignors), else the default.
func (g *Group) assignorOf() string {
	best, votes := Assignors[0], 0
	for _, name := range Assignors {
		n := 0
		for _, m := range g.members {
			if m.Assignor == name {
				n++
			}
		}
		if n > votes {
			best, votes = name, n
		}
	}
	return best
}

// updateTargetAssignment: TargetAssignmentBuilder: the assignor's answer for every member, a
// record per member whose target changed, and the new target assignment epoch.
func (s *shard) updateTargetAssignment(g *Group) []protocol.Record {
	name := g.assignorOf()
	target := assignPartitions(name, g.members, g.modern.target, g.modern.topics)
	var recs []protocol.Record
	for _, m := range g.members {
		if !slices.Equal(target[m.ID], g.modern.target[m.ID]) {
			recs = append(recs, targetMemberRecord(g.ID, m.ID, target[m.ID]))
		}
	}
	g.modern.target = target
	g.modern.assignmentEpoch = g.Generation
	g.Protocol = name
	return append(recs, targetMetadataRecord(g.ID, g.Generation))
}

// maybeReconcile: GroupMetadataManager.maybeReconcile with CurrentAssignmentBuilder.build;
// owned is what the member reports it owns (nil: it did not say). A changed member is
// recorded; a member that must revoke gets its rebalance timeout.
func (s *shard) maybeReconcile(g *Group, m *Member, owned []protocol.TopicPartition) []protocol.Record {
	epoch := g.modern.assignmentEpoch
	if m.isReconciledTo(epoch) {
		return nil
	}
	before := *m
	target := g.modern.target[m.ID]
	switch m.mstate {
	case mStable:
		if m.Epoch != epoch {
			s.computeNextAssignment(g, m, m.Epoch, target, owned)
		}
	case mUnrevoked:
		if owned == nil || anyOf(owned, m.Revoking) {
			return nil
		}
		s.computeNextAssignment(g, m, m.Epoch+1, target, owned)
	case mUnreleased:
		s.computeNextAssignment(g, m, m.Epoch, target, owned)
	}
	if m.Epoch == before.Epoch && m.mstate == before.mstate && slices.Equal(m.Assignment, before.Assignment) && slices.Equal(m.Revoking, before.Revoking) {
		return nil
	}
	if m.mstate == mUnrevoked {
		s.schedule(timerRevocation, revocationKey(g.ID, m.ID), m.Rebalance, int64(m.Epoch))
	} else {
		s.cancel(revocationKey(g.ID, m.ID))
	}
	return []protocol.Record{currentAssignmentRecord(g.ID, m)}
}

func anyOf(owned, set []protocol.TopicPartition) bool {
	return slices.ContainsFunc(owned, func(tp protocol.TopicPartition) bool { return slices.Contains(set, tp) })
}

// computeNextAssignment: CurrentAssignmentBuilder.computeNextAssignment. Kept = assigned ∩
// target; the rest of the assigned partitions are revoked first (the member stays at its
// epoch); only then are target partitions that no other member holds added, and the member
// moves to the target epoch.
func (s *shard) computeNextAssignment(g *Group, m *Member, memberEpoch int32, target, owned []protocol.TopicPartition) {
	epoch := g.modern.assignmentEpoch
	var kept, revoke, add []protocol.TopicPartition
	for _, tp := range m.Assignment {
		if slices.Contains(target, tp) {
			kept = append(kept, tp)
		} else {
			revoke = append(revoke, tp)
		}
	}
	unreleased := false
	for _, tp := range target {
		if slices.Contains(kept, tp) {
			continue
		}
		if o := g.partitionOwner(tp); o != nil && o != m && !s.c.cfg.AssignBeforeRevoke {
			unreleased = true
			continue
		}
		add = append(add, tp)
	}
	setEpoch := func(e int32) {
		if e != m.Epoch {
			m.PrevEpoch, m.Epoch = m.Epoch, e
		}
	}
	switch {
	case len(revoke) > 0 && (owned == nil || anyOf(owned, revoke)):
		m.mstate, m.Assignment, m.Revoking = mUnrevoked, kept, revoke
		setEpoch(memberEpoch)
	default:
		m.mstate = mStable
		if unreleased {
			m.mstate = mUnreleased
		}
		m.Assignment = append(kept, add...)
		slices.SortFunc(m.Assignment, compareTPs)
		m.Revoking = nil
		setEpoch(epoch)
	}
}

func compareTPs(a, b protocol.TopicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// replaceMember: GroupMetadataManager.replaceMember: a static member's new member id takes
// the old one's place (its current and target assignment move to the new id).
func (s *shard) replaceMember(g *Group, old, m *Member) []protocol.Record {
	recs := s.removeMemberRecords(g, old)
	g.modern.target[m.ID] = g.modern.target[old.ID]
	delete(g.modern.target, old.ID)
	g.members = slices.DeleteFunc(g.members, func(x *Member) bool { return x == old })
	delete(g.static, old.InstanceID)
	s.cancel(heartbeatKey(g.ID, old.ID))
	s.cancel(revocationKey(g.ID, old.ID))
	return append(recs, currentAssignmentRecord(g.ID, m), targetMemberRecord(g.ID, m.ID, g.modern.target[m.ID]))
}

func (s *shard) removeMemberRecords(g *Group, m *Member) []protocol.Record {
	return []protocol.Record{tombstone(currentAssignmentType, g.ID, m.ID), tombstone(targetMemberType, g.ID, m.ID), tombstone(memberMetadataType, g.ID, m.ID)}
}

// fenceMember: GroupMetadataManager.consumerGroupFenceMember: the member's records are
// deleted and the group epoch is bumped, so that the next heartbeat computes a target
// assignment without it.
func (s *shard) fenceMember(now time.Duration, g *Group, m *Member) []protocol.Record {
	if s.validateOnlineDowngrade(g, m) {
		return s.convertToClassicGroup(now, g, m)
	}
	return s.removeMember(g, m)
}

// removeMember takes m out of consumer group g: its records' tombstones, its target
// assignment, its static id and timers, the subscription metadata when it changed, and a new
// group epoch (GroupMetadataManager.removeMember and its epoch bump).
func (s *shard) removeMember(g *Group, m *Member) []protocol.Record {
	recs := s.removeMemberRecords(g, m)
	g.members = slices.DeleteFunc(g.members, func(x *Member) bool { return x == m })
	delete(g.modern.target, m.ID)
	if m.InstanceID != "" && g.static[m.InstanceID] == m.ID {
		delete(g.static, m.InstanceID)
	}
	s.cancelMemberTimers(g, m)
	if meta := s.subscriptionMetadata(g); !maps.Equal(meta, g.modern.topics) {
		g.modern.topics = meta
		recs = append(recs, partitionMetadataRecord(g.ID, meta))
	}
	g.Generation++
	recs = append(recs, groupEpochRecord(g.ID, g.Generation))
	g.updateModernState()
	return recs
}

// consumerGroupLeave: GroupMetadataManager.consumerGroupLeave: epoch -1 removes the member;
// -2 marks a static member as gone for now (it keeps its assignment until its session
// expires, so a restart within the session takes it back).
func (s *shard) consumerGroupLeave(now time.Duration, from int32, r *protocol.ConsumerGroupHeartbeatRequest) {
	answer := func(err protocol.ErrorCode, epoch int32) {
		s.c.host.Send(from, &protocol.ConsumerGroupHeartbeatResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: r.MemberID, MemberEpoch: epoch})
	}
	g := s.groups[r.GroupID]
	if g == nil || g.modern == nil {
		answer(protocol.GROUP_ID_NOT_FOUND, r.MemberEpoch)
		return
	}
	var m *Member
	if r.InstanceID == "" {
		m = g.member(r.MemberID)
	} else {
		m = g.staticMember(r.InstanceID)
		if m != nil && m.ID != r.MemberID {
			answer(protocol.FENCED_INSTANCE_ID, r.MemberEpoch)
			return
		}
	}
	if m == nil {
		answer(protocol.UNKNOWN_MEMBER_ID, r.MemberEpoch)
		return
	}
	var recs []protocol.Record
	if r.MemberEpoch == protocol.LeaveGroupStaticMemberEpoch {
		m.PrevEpoch, m.Epoch, m.Revoking = m.Epoch, protocol.LeaveGroupStaticMemberEpoch, nil
		s.cancel(revocationKey(g.ID, m.ID))
		recs = append(recs, currentAssignmentRecord(g.ID, m))
		g.updateModernState()
	} else {
		recs = s.fenceMember(now, g, m)
	}
	s.append(now, recs, func(_ time.Duration, err protocol.ErrorCode) { answer(err, r.MemberEpoch) })
}

// expireConsumerMember: the session (timerHeartbeat) or the rebalance timeout
// (timerRevocation, for the epoch in arg) of a member ran out: it is fenced
// (consumerGroupFenceMemberOperation).
func (s *shard) expireConsumerMember(now time.Duration, g *Group, id string, kind timerKind, arg int64) {
	m := g.member(id)
	if m == nil || (kind == timerRevocation && int64(m.Epoch) != arg) {
		return
	}
	s.append(now, s.fenceMember(now, g, m), func(time.Duration, protocol.ErrorCode) {})
}

// validateConsumerOffsetCommit: ConsumerGroup.validateOffsetCommit: a commit from outside the
// group (epoch -1) only while it has no member; else the member's epoch must be current.
func validateConsumerOffsetCommit(g *Group, r *protocol.OffsetCommitRequest) protocol.ErrorCode {
	if r.GenerationID < 0 && len(g.members) == 0 {
		return protocol.NONE
	}
	m := g.member(r.MemberID)
	if m == nil {
		return protocol.UNKNOWN_MEMBER_ID
	}
	if r.GenerationID != m.Epoch {
		if m.classic { // validateMemberEpoch: a classic member's generation
			return protocol.ILLEGAL_GENERATION
		}
		return protocol.STALE_MEMBER_EPOCH
	}
	return protocol.NONE
}

// afterLoad: a replayed consumer group's members get a fresh session, and those revoking a
// fresh rebalance timeout (GroupMetadataManager.onLoaded).
func (s *shard) afterLoadConsumer(g *Group) {
	for _, m := range g.members {
		session := s.c.cfg.ConsumerSessionTimeout
		if m.classic {
			session = m.Session
		}
		s.schedule(timerHeartbeat, heartbeatKey(g.ID, m.ID), session, 0)
		if m.mstate == mUnrevoked {
			s.schedule(timerRevocation, revocationKey(g.ID, m.ID), m.Rebalance, int64(m.Epoch))
		}
	}
	g.updateModernState()
}

// storeMember stores upd as member m (added to the group when new), writes the subscription
// metadata when it changed, bumps the group epoch when the member is new, its subscription
// changed (bump) or the metadata did, and computes a new target assignment when the group
// epoch is ahead of it: the steps GroupMetadataManager's consumerGroupHeartbeat and
// classicGroupJoinToConsumerGroup share.
func (s *shard) storeMember(g *Group, m *Member, upd Member, isNew, bump bool, recs []protocol.Record) []protocol.Record {
	*m = upd
	if isNew {
		g.members = append(g.members, m)
		if m.InstanceID != "" {
			g.static[m.InstanceID] = m.ID
		}
	}
	if meta := s.subscriptionMetadata(g); !maps.Equal(meta, g.modern.topics) {
		g.modern.topics = meta
		recs = append(recs, partitionMetadataRecord(g.ID, meta))
		bump = true
	}
	if bump {
		g.Generation++
		recs = append(recs, groupEpochRecord(g.ID, g.Generation))
	}
	if g.Generation > g.modern.assignmentEpoch {
		recs = append(recs, s.updateTargetAssignment(g)...)
	}
	return recs
}
