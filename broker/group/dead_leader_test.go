package group

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// slowJoin is a JoinGroup with a 10 s session and a 5-minute rebalance timeout
// (max.poll.interval.ms's default), so that only the session can end a wait.
func slowJoin(member string, corr int64) *protocol.JoinGroupRequest {
	r := join(member, "", 10*time.Second, corr)
	r.RebalanceTimeoutMs = 300_000
	return r
}

func (k *coord) newMember(corr int64) string {
	k.t.Helper()
	jr := k.request(slowJoin("", corr))[0].(*protocol.JoinGroupResponse)
	if jr.Error != protocol.MEMBER_ID_REQUIRED {
		k.t.Fatalf("first join: %v; want MEMBER_ID_REQUIRED", jr.Error)
	}
	return jr.MemberID
}

func syncReq(member string, gen int32, corr int64, assign ...string) *protocol.SyncGroupRequest {
	r := &protocol.SyncGroupRequest{CorrelationID: corr, GroupID: "g1", GenerationID: gen, MemberID: member, ProtocolName: "range"}
	for _, m := range assign {
		r.Assignments = append(r.Assignments, protocol.SyncGroupAssignment{MemberID: m})
	}
	return r
}

// syncAnswer is the SyncGroupResponse among msgs answering corr, nil if none.
func syncAnswer(msgs []any, corr int64) *protocol.SyncGroupResponse {
	for _, m := range msgs {
		if r, ok := m.(*protocol.SyncGroupResponse); ok && r.CorrelationID == corr {
			return r
		}
	}
	return nil
}

// Reference: GroupMetadataManager.completeClassicGroupJoin and
// ClassicGroupMember.hasSatisfiedHeartbeat. A member that dies while its JoinGroup is parked
// still counts as joined: it is in the next generation, and stays its leader
// (ClassicGroup.maybeElectNewJoinedLeader). Its JoinGroup answer goes nowhere and it never
// sends the SyncGroup with the assignment, so the other members' SyncGroups wait in
// CompletingRebalance (a rejoin with the same metadata is answered with the same generation,
// and its SyncGroup waits again) until the heartbeat timer completeClassicGroupJoin armed
// expires the dead leader one session.timeout.ms later; then the parked SyncGroups are
// answered REBALANCE_IN_PROGRESS and the group rebalances without it. With a second member
// that died without rejoining, whose session the join phase waits out first, that is two
// sessions after the faults: what the scenario runner's finish window allows for.
func TestDeadMemberElectedLeaderHoldsTheGroupUntilItsSessionExpires(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	// Generation 1: a (the leader) and c.
	a := k.newMember(1)
	k.request(slowJoin(a, 2))
	c := k.newMember(3)
	k.request(slowJoin(c, 4))
	k.advance(10 * time.Second) // the initial rebalance delays
	if g := k.c.Group("g1"); g.State() != CompletingRebalance || g.Generation != 1 || g.Leader != a {
		t.Fatalf("group %v generation %d leader %s; want completing-rebalance, 1, %s", g.State(), g.Generation, g.Leader, a)
	}
	k.request(syncReq(a, 1, 5, a, c))
	k.request(syncReq(c, 1, 6))
	k.commitLog()
	if g := k.c.Group("g1"); g.State() != Stable {
		t.Fatalf("group %v; want stable", g.State())
	}
	// b joins; a rejoins and dies with its JoinGroup parked; c dies without rejoining.
	b := k.newMember(7)
	k.request(slowJoin(b, 8))
	k.request(slowJoin(a, 9))
	k.advance(10 * time.Second) // c's session, armed when generation 1 synced
	g := k.c.Group("g1")
	if g.State() != CompletingRebalance || g.Generation != 2 || g.Leader != a || len(g.Members()) != 2 {
		t.Fatalf("after c's session: group %v generation %d leader %s, %d members; want completing-rebalance, 2, the dead %s, 2",
			g.State(), g.Generation, g.Leader, len(g.Members()), a)
	}
	joinDone := k.h.now
	n := len(k.h.sent)
	k.request(syncReq(b, 2, 10))
	k.advance(5 * time.Second)
	// b's SyncGroup times out at the client; it rejoins and is answered with generation 2.
	r := k.request(slowJoin(b, 11))
	if len(r) != 1 || r[0].(*protocol.JoinGroupResponse).GenerationID != 2 {
		t.Fatalf("b's rejoin answered %v; want generation 2 at once", r)
	}
	k.request(syncReq(b, 2, 12))
	k.advance(joinDone + 10*time.Second - time.Millisecond - k.h.now)
	if s := syncAnswer(k.answers(n), 10); s != nil {
		t.Fatalf("b's SyncGroup answered %v before the dead leader's session expired", s.Error)
	}
	if s := syncAnswer(k.answers(n), 12); s != nil {
		t.Fatalf("b's second SyncGroup answered %v before the dead leader's session expired", s.Error)
	}
	k.advance(2 * time.Millisecond)
	if s := syncAnswer(k.answers(n), 12); s == nil || s.Error != protocol.REBALANCE_IN_PROGRESS {
		t.Fatalf("b's SyncGroup at the dead leader's session expiry: %v; want REBALANCE_IN_PROGRESS", s)
	}
	if g.member(a) != nil || g.State() != PreparingRebalance {
		t.Fatalf("group %v with the dead leader a a member: %v; want preparing-rebalance without it", g.State(), g.member(a) != nil)
	}
	// b rejoins alone and leads generation 3.
	n = len(k.h.sent)
	r = k.request(slowJoin(b, 13))
	if len(r) != 1 || r[0].(*protocol.JoinGroupResponse).GenerationID != 3 || r[0].(*protocol.JoinGroupResponse).Leader != b {
		t.Fatalf("b's join: %v; want generation 3 led by b", r)
	}
	k.request(syncReq(b, 3, 14, b))
	k.commitLog()
	if s := syncAnswer(k.answers(n), 14); s == nil || s.Error != protocol.NONE || g.State() != Stable {
		t.Fatalf("b's SyncGroup in generation 3: %v, group %v; want NONE and stable", s, g.State())
	}
}
