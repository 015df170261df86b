package client

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the consumer's side of KIP-848 (group.protocol=consumer), as
// ConsumerMembershipManager and AbstractMembershipManager run it. The consumer makes up its
// member id (KIP-1082) and joins with member epoch 0; then it heartbeats every
// group.consumer.heartbeat.interval.ms the broker gives it (ConsumerGroupHeartbeat, every field
// every time), each heartbeat reporting the partitions it owns. An answer whose assignment
// differs from what it owns starts a reconciliation: with auto-commit on, the consumed
// offsets are committed first (and the commit awaited, as commitSync before revocation); then
// the partitions taken away are revoked, the new ones fetch their committed offsets, and a
// heartbeat acknowledges at once. The application must be free to reconcile (its rebalance
// callbacks run in its poll): a consumer busy processing reconciles after, and past its
// rebalance timeout (max.poll.interval.ms) the coordinator fences it. FENCED_MEMBER_EPOCH and
// UNKNOWN_MEMBER_ID lose every partition (no commit) and rejoin with epoch 0;
// UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR and GROUP_ID_NOT_FOUND are
// fatal. Past max.poll.interval.ms the member leaves (epoch -1, or -2 for a static member) and
// rejoins when the application polls again. A clean close commits and then leaves the same way.
// Commits carry the member epoch; STALE_MEMBER_EPOCH fails them.

// modernHeartbeat sends a ConsumerGroupHeartbeat with epoch (0 to join, -1 or -2 to leave).
func (g *groupMember) modernHeartbeat(now time.Duration, kind uint8, epoch int32) {
	c := g.c
	if g.memberID == "" {
		g.memberID = fmt.Sprintf("%s-%016x", c.name, c.env.Rand())
	}
	corr := g.nextCorr()
	r := &protocol.ConsumerGroupHeartbeatRequest{CorrelationID: corr, GroupID: c.cfg.Group, MemberID: g.memberID, MemberEpoch: epoch,
		InstanceID: c.cfg.GroupInstanceID, ClientID: c.name, RebalanceTimeoutMs: int32(c.cfg.MaxPollInterval / time.Millisecond),
		SubscribedTopicNames: slices.Clone(c.topics), ServerAssignor: c.cfg.RemoteAssignor}
	if epoch > 0 {
		r.TopicPartitions = slices.Clone(g.Assignment)
	}
	g.send(kind, now, g.coord, r, corr, c.cfg.RequestTimeout, &greq{gen: epoch})
}

// leaveEpoch is the epoch a leaving member sends: -2 for a static member (it comes back
// within its session), -1 otherwise.
func (g *groupMember) leaveEpoch() int32 {
	if g.c.cfg.GroupInstanceID != "" {
		return protocol.LeaveGroupStaticMemberEpoch
	}
	return protocol.LeaveGroupMemberEpoch
}

// runModern does what is due in a KIP-848 membership: reconcile, join, heartbeat.
func (g *groupMember) runModern(now time.Duration) {
	c := g.c
	if g.target != nil && !g.busy(now) && g.revokeCommit == 0 {
		g.reconcile(now)
	}
	if g.inFlight[gHeartbeat] != 0 || g.inFlight[gLeave] != 0 {
		return
	}
	if g.needJoin {
		if g.busy(now) {
			return // the application joins at its next poll
		}
		g.needJoin = false
		g.generation = protocol.JoinGroupMemberEpoch
		g.modernHeartbeat(now, gHeartbeat, protocol.JoinGroupMemberEpoch)
		return
	}
	if g.generation < 0 {
		return
	}
	if g.ackDue || now >= g.nextHB {
		g.ackDue = false
		g.modernHeartbeat(now, gHeartbeat, g.generation)
		g.nextHB = now + g.hbInterval
		return
	}
	c.w.at(c.env, now, g.nextHB)
}

// reconcile takes up the assignment of the last answer (ConsumerMembershipManager's
// reconciliation): commit before revoking (auto-commit), revoke, assign, acknowledge.
func (g *groupMember) reconcile(now time.Duration) {
	c := g.c
	target := g.target
	var revoked []protocol.TopicPartition
	for _, tp := range g.Assignment {
		if !slices.Contains(target, tp) {
			revoked = append(revoked, tp)
		}
	}
	if len(revoked) > 0 && c.cfg.EnableAutoCommit && !g.committedBeforeRevoke {
		g.committedBeforeRevoke = true
		if parts := g.positions(); len(parts) > 0 && g.joined {
			// The partitions to revoke stop being read (SubscriptionState.markPendingRevocation:
			// what a fetch in flight brings is dropped); the heartbeat still reports them owned
			// until the commit is done and they are revoked.
			for _, tp := range revoked {
				if i := c.indexOf(tp); i >= 0 {
					if i < len(g.owned) {
						g.owned[i] = false
					}
					c.parts[i].gen++
				}
			}
			g.commit(now, parts)
			g.revokeCommit = g.c.corr
			return
		}
	}
	g.committedBeforeRevoke = false
	g.revoke(revoked)
	g.takeUp(target)
	g.target = nil
	g.ackDue = true
	g.announce()
}

// takeUp owns the partitions of assignment (after SyncGroup, or a KIP-848 reconciliation):
// new ones wait for their committed offset (ConsumerCoordinator.onJoinComplete, then
// refreshCommittedOffsetsIfNeeded), and a new reading session begins. The generation alone
// does not tell sessions apart: a member that rejoins a Stable group with unchanged metadata
// is given the current generation again (GroupMetadataManager.classicGroupJoinExistingMember),
// as it is by a new coordinator that loaded the group; and a generation whose record never
// reached __consumer_offsets is lost with its coordinator, so the next one repeats its number.
// An eager member revoked everything before it rejoined (onJoinPrepare), so it reads the
// partitions again from the committed offsets, behind where it was. A partition metadata has
// not described yet is owned once it is (described).
func (g *groupMember) takeUp(assignment []protocol.TopicPartition) {
	c := g.c
	fresh := false
	for _, tp := range assignment {
		i := c.indexOf(tp)
		if i < 0 {
			if !slices.Contains(g.ahead, tp) {
				g.ahead = append(g.ahead, tp)
			}
			continue
		}
		for i >= len(g.owned) {
			g.owned = append(g.owned, false)
		}
		if !g.owned[i] {
			g.owned[i] = true
			fresh = true
			p := &c.parts[i]
			p.state, p.position, p.gen, p.fetchOK = cpCommitted, -1, p.gen+1, false
		}
	}
	if fresh {
		g.seeks++
	}
	g.Assignment = slices.Clone(assignment)
	slices.SortFunc(g.Assignment, compareTPs)
}

// announce records the member's epoch and partitions in the trace.
func (g *groupMember) announce() {
	c := g.c
	c.env.Observe(&GroupAssigned{Client: c.name, Group: c.cfg.Group, Member: g.memberID, Generation: g.generation,
		Partitions: slices.Clone(g.Assignment), Protocol: "consumer"})
}

// releaseAll gives up every partition, those paused for a revocation included.
func (g *groupMember) releaseAll() {
	all := slices.Clone(g.Assignment)
	for _, tp := range g.ownedList() {
		if !slices.Contains(all, tp) {
			all = append(all, tp)
		}
	}
	g.revoke(all)
	g.Assignment = nil
	g.target, g.ackDue, g.committedBeforeRevoke = nil, false, false
}

// fenced: AbstractMembershipManager.transitionToFenced: every partition is lost (no commit)
// and the member rejoins with epoch 0, keeping its member id.
func (g *groupMember) fenced() {
	g.releaseAll()
	g.generation, g.joined, g.needJoin = -1, false, true
	g.announce()
}

// onModernHeartbeat: AbstractHeartbeatRequestManager.onResponse and
// AbstractMembershipManager.onHeartbeatSuccess.
func (g *groupMember) onModernHeartbeat(now time.Duration, r *protocol.ConsumerGroupHeartbeatResponse) {
	if req := g.take(r.CorrelationID, gLeave); req != nil {
		return // the leave's answer: nothing more to do
	}
	req := g.take(r.CorrelationID, gHeartbeat)
	if req == nil || g.left {
		return
	}
	switch r.Error {
	case protocol.NONE:
	case protocol.FENCED_MEMBER_EPOCH, protocol.UNKNOWN_MEMBER_ID:
		if req.gen == g.generation || g.generation == protocol.JoinGroupMemberEpoch {
			g.fenced()
		}
		return
	case protocol.UNRELEASED_INSTANCE_ID, protocol.FENCED_INSTANCE_ID, protocol.UNSUPPORTED_ASSIGNOR, protocol.GROUP_ID_NOT_FOUND,
		protocol.INVALID_REQUEST, protocol.GROUP_MAX_SIZE_REACHED:
		g.fail(r.Error)
		return
	default:
		if !g.coordinatorError(now, r.Error) {
			g.notBefore = now + g.c.cfg.RetryBackoff
		}
		if req.gen == protocol.JoinGroupMemberEpoch {
			g.needJoin = true
		}
		return
	}
	g.lastHBOK = now
	if r.HeartbeatIntervalMs > 0 {
		g.hbInterval = time.Duration(r.HeartbeatIntervalMs) * time.Millisecond
	}
	g.nextHB = now + g.hbInterval
	changed := r.MemberEpoch != g.generation
	g.memberID, g.generation = r.MemberID, r.MemberEpoch
	g.joined = g.generation > 0
	if r.HasAssignment {
		if !slices.Equal(r.Assignment, g.Assignment) {
			g.target = append([]protocol.TopicPartition{}, r.Assignment...) // non-nil even when empty: revoke everything
		} else {
			g.target = nil
		}
	}
	if changed && g.target == nil {
		g.announce()
	}
}

// modernPollTimeout: the poll timer expired (AbstractMembershipManager.transitionToSendingLeaveGroup
// with dueToExpiredPollTimer): the member leaves and releases its partitions; it rejoins when the
// application polls again.
func (g *groupMember) modernPollTimeout(now time.Duration) {
	if g.coord >= 0 {
		g.modernHeartbeat(now, gLeave, g.leaveEpoch())
	}
	g.releaseAll()
	g.generation, g.joined, g.needJoin = -1, false, true
	g.announce()
}
