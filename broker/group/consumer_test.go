package group

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// topicHost is a fake host that knows one topic, orders, of four partitions.
type topicHost struct{ *fakeHost }

func (topicHost) PartitionCount(topic string) int32 {
	if topic == "orders" {
		return 4
	}
	return 0
}

func newModernCoord(t *testing.T, log *offsetsLog, epoch int32) *coord {
	t.Helper()
	h := &fakeHost{log: log, lead: true}
	cfg := testConfig()
	cfg.ConsumerSessionTimeout, cfg.ConsumerHeartbeatInterval = 45*time.Second, 5*time.Second
	k := &coord{t: t, c: New(cfg, topicHost{h}), h: h}
	k.c.Leadership(h.now, 0, epoch)
	k.advance(time.Second)
	return k
}

func tps(ps ...int32) []protocol.TopicPartition {
	out := make([]protocol.TopicPartition, 0, len(ps))
	for _, p := range ps {
		out = append(out, protocol.TopicPartition{Topic: "orders", Partition: p})
	}
	return out
}

// hb sends a ConsumerGroupHeartbeat and returns its answer, once its records are committed.
func (k *coord) hb(member, instance string, epoch int32, owned []protocol.TopicPartition) *protocol.ConsumerGroupHeartbeatResponse {
	k.t.Helper()
	n := len(k.h.sent)
	k.c.Handle(k.h.now, 100, &protocol.ConsumerGroupHeartbeatRequest{CorrelationID: 1, GroupID: "g1", MemberID: member, MemberEpoch: epoch,
		InstanceID: instance, ClientID: member, RebalanceTimeoutMs: 10_000, SubscribedTopicNames: []string{"orders"}, TopicPartitions: owned})
	k.commitLog()
	a := k.answers(n)
	if len(a) != 1 {
		k.k(a)
	}
	return a[0].(*protocol.ConsumerGroupHeartbeatResponse)
}

func (k *coord) k(a []any) { k.t.Helper(); k.t.Fatalf("%d answers (%v); want one", len(a), a) }

func (k *coord) want(r *protocol.ConsumerGroupHeartbeatResponse, err protocol.ErrorCode, epoch int32, assigned []protocol.TopicPartition) {
	k.t.Helper()
	if r.Error != err || (err == protocol.NONE && (r.MemberEpoch != epoch || !slices.Equal(r.Assignment, assigned))) {
		k.t.Errorf("heartbeat: %v epoch %d assignment %v; want %v epoch %d assignment %v", r.Error, r.MemberEpoch, r.Assignment, err, epoch, assigned)
	}
}

// twoMembers: a joins alone (epoch 1, all four partitions), then b joins (group epoch 2).
func (k *coord) twoMembers() {
	k.t.Helper()
	k.want(k.hb("a", "", 0, nil), protocol.NONE, 1, tps(0, 1, 2, 3))
	k.want(k.hb("b", "", 0, nil), protocol.NONE, 2, tps())
}

// Reference: KIP-848, "revocation before assignment" (CurrentAssignmentBuilder,
// GroupMetadataManagerTest testReconciliationProcess): the new target gives b two of a's
// partitions; b waits (UNRELEASED_PARTITIONS) while a, still at epoch 1, is asked to revoke
// them; only when a reports them gone does a move to epoch 2 and b get them.
func TestConsumerGroupRevokesBeforeAssigning(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	k.twoMembers()
	g := k.c.Group("g1")
	if g.State() != Reconciling || g.Generation != 2 || g.AssignmentEpoch() != 2 {
		t.Fatalf("group %v epoch %d assignment %d; want reconciling at 2/2", g.State(), g.Generation, g.AssignmentEpoch())
	}
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.NONE, 1, tps(0, 1))
	k.want(k.hb("b", "", 2, nil), protocol.NONE, 2, tps())
	if m := g.member("b"); m.MemberState() != "unreleased-partitions" {
		t.Errorf("b is %s; want unreleased-partitions while a still owns its partitions", m.MemberState())
	}
	k.want(k.hb("a", "", 1, tps(0, 1)), protocol.NONE, 2, tps(0, 1))
	k.want(k.hb("b", "", 2, nil), protocol.NONE, 2, tps(2, 3))
	if g.State() != Stable {
		t.Errorf("group %v; want stable", g.State())
	}
}

// Reference: GroupMetadataManager.throwIfConsumerGroupMemberEpochIsInvalid: an epoch ahead of
// the coordinator's, or behind it by more than the previous epoch, is FENCED_MEMBER_EPOCH; the
// previous epoch with a subset of the assignment is accepted (the answer that bumped it may
// have been lost); an unknown member is UNKNOWN_MEMBER_ID.
func TestConsumerGroupHeartbeatFencedMemberEpoch(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	k.twoMembers()
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.NONE, 1, tps(0, 1))
	k.want(k.hb("a", "", 1, tps(0, 1)), protocol.NONE, 2, tps(0, 1))
	k.want(k.hb("a", "", 5, tps(0, 1)), protocol.FENCED_MEMBER_EPOCH, 0, nil)
	k.want(k.hb("a", "", 1, tps(0)), protocol.NONE, 2, tps(0, 1))
	k.want(k.hb("a", "", 1, tps(2)), protocol.FENCED_MEMBER_EPOCH, 0, nil)
	k.want(k.hb("stranger", "", 1, nil), protocol.UNKNOWN_MEMBER_ID, 0, nil)
}

// Reference: GroupMetadataManager.scheduleConsumerGroupSessionTimeout: a member that does not
// heartbeat within group.consumer.session.timeout.ms is fenced; the group epoch is bumped and
// the next heartbeat hands its partitions to the others.
func TestConsumerGroupSessionTimeoutFencesTheMember(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	k.twoMembers()
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.NONE, 1, tps(0, 1))
	k.want(k.hb("a", "", 1, tps(0, 1)), protocol.NONE, 2, tps(0, 1))
	for range 9 { // b goes silent; a heartbeats every 5s
		k.advance(5 * time.Second)
		k.hb("a", "", 2, tps(0, 1))
	}
	k.commitLog()
	g := k.c.Group("g1")
	if g.member("b") != nil || g.Generation != 3 {
		t.Fatalf("members %d, epoch %d; want b fenced at its session timeout and the group epoch bumped to 3", len(g.members), g.Generation)
	}
	k.want(k.hb("a", "", 2, tps(0, 1)), protocol.NONE, 3, tps(0, 1, 2, 3))
	k.want(k.hb("b", "", 2, nil), protocol.UNKNOWN_MEMBER_ID, 0, nil)
}

// Reference: GroupMetadataManager.scheduleConsumerGroupRebalanceTimeout: a member asked to
// revoke that has not done so within its rebalance timeout is fenced, and the partitions go on.
func TestConsumerGroupRebalanceTimeoutFencesAMemberThatDoesNotRevoke(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	k.twoMembers()
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.NONE, 1, tps(0, 1))
	for range 3 { // a keeps heartbeating, still owning all four
		k.advance(4 * time.Second)
		k.hb("a", "", 1, tps(0, 1, 2, 3))
		k.hb("b", "", 2, nil)
	}
	k.commitLog()
	if m := k.c.Group("g1").member("a"); m != nil {
		t.Fatalf("a is still a member (%s); want it fenced after its 10s rebalance timeout", m.MemberState())
	}
	k.want(k.hb("b", "", 2, nil), protocol.NONE, 3, tps(0, 1, 2, 3))
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.UNKNOWN_MEMBER_ID, 0, nil)
}

// Reference: GroupMetadataManager.consumerGroupLeave: epoch -1 removes the member at once
// (LEAVE_GROUP_MEMBER_EPOCH); a static member's -2 (LEAVE_GROUP_STATIC_MEMBER_EPOCH) keeps its
// assignment, and the same group.instance.id rejoining with a new member id takes it over
// without a new group epoch; before the -2, the instance id is UNRELEASED_INSTANCE_ID.
func TestConsumerGroupLeaveAndStaticMembers(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	k.want(k.hb("s1", "app", 0, nil), protocol.NONE, 1, tps(0, 1, 2, 3))
	k.want(k.hb("s2", "app", 0, nil), protocol.UNRELEASED_INSTANCE_ID, 0, nil)
	k.want(k.hb("s1", "app", protocol.LeaveGroupStaticMemberEpoch, nil), protocol.NONE, protocol.LeaveGroupStaticMemberEpoch, nil)
	if m := k.c.Group("g1").member("s1"); m == nil || m.Epoch != protocol.LeaveGroupStaticMemberEpoch {
		t.Fatalf("s1 after -2: %+v; want kept with epoch -2", m)
	}
	k.want(k.hb("s2", "app", 0, nil), protocol.NONE, 1, tps(0, 1, 2, 3))
	g := k.c.Group("g1")
	if g.member("s1") != nil || g.Generation != 1 {
		t.Errorf("after the restart: s1 kept %v, epoch %d; want s1 replaced by s2 at group epoch 1", g.member("s1") != nil, g.Generation)
	}
	k.want(k.hb("d", "", 0, nil), protocol.NONE, 2, tps())
	k.want(k.hb("d", "", protocol.LeaveGroupMemberEpoch, nil), protocol.NONE, protocol.LeaveGroupMemberEpoch, nil)
	if g.member("d") != nil || g.Generation != 3 {
		t.Errorf("after d's -1: member kept %v, epoch %d; want d removed and the group epoch bumped to 3", g.member("d") != nil, g.Generation)
	}
}

// Reference: ConsumerGroup.validateOffsetCommit: a commit carries the member epoch; any other
// is STALE_MEMBER_EPOCH, an unknown member UNKNOWN_MEMBER_ID. A member asked to revoke still
// commits at its unchanged epoch (what the consumer does before it lets go).
func TestConsumerGroupOffsetCommitWithStaleMemberEpoch(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	k.twoMembers()
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.NONE, 1, tps(0, 1))
	if err := commitError(t, k.request(commitReq("a", 2, 42))); err != protocol.STALE_MEMBER_EPOCH {
		t.Errorf("commit at epoch 2 by a member at epoch 1: %v; want STALE_MEMBER_EPOCH", err)
	}
	if err := commitError(t, k.request(commitReq("x", 1, 42))); err != protocol.UNKNOWN_MEMBER_ID {
		t.Errorf("commit by an unknown member: %v; want UNKNOWN_MEMBER_ID", err)
	}
	k.request(commitReq("a", 1, 42))
	n := len(k.h.sent)
	k.commitLog()
	if err := commitError(t, k.answers(n)); err != protocol.NONE {
		t.Errorf("commit at the member's epoch while revoking: %v; want NONE", err)
	}
}

// Reference: CoordinatorLoaderImpl and GroupMetadataManager.replay of the ConsumerGroup*
// records: a new coordinator replays the group epoch, the target assignment and every member's
// epoch, state and partitions, so the reconciliation goes on where it was.
func TestConsumerGroupReplayedByANewCoordinator(t *testing.T) {
	log := &offsetsLog{}
	k := newModernCoord(t, log, 0)
	k.twoMembers()
	k.want(k.hb("a", "", 1, tps(0, 1, 2, 3)), protocol.NONE, 1, tps(0, 1))
	k2 := newModernCoord(t, log, 1)
	g := k2.c.Group("g1")
	if g == nil || !g.Modern() || g.Generation != 2 || g.AssignmentEpoch() != 2 || g.State() != Reconciling {
		t.Fatalf("replayed group: %+v; want a consumer group reconciling at epoch 2/2", g)
	}
	a := g.member("a")
	if a.Epoch != 1 || a.MemberState() != "unrevoked-partitions" || !slices.Equal(a.Revoking, tps(2, 3)) {
		t.Errorf("replayed a: epoch %d %s revoking %v; want epoch 1 revoking orders/2, orders/3", a.Epoch, a.MemberState(), a.Revoking)
	}
	k2.want(k2.hb("b", "", 2, nil), protocol.NONE, 2, tps())
	k2.want(k2.hb("a", "", 1, tps(0, 1)), protocol.NONE, 2, tps(0, 1))
	k2.want(k2.hb("b", "", 2, nil), protocol.NONE, 2, tps(2, 3))
}

// Reference: the range and uniform assignors (RangeAssignor, UniformHomogeneousAssignmentBuilder):
// range gives contiguous ranges in member order; uniform keeps what a member had up to its quota.
func TestConsumerGroupAssignors(t *testing.T) {
	ms := []*Member{{ID: "a", Topics: []string{"orders"}}, {ID: "b", Topics: []string{"orders"}}, {ID: "c", Topics: []string{"orders"}}}
	topics := map[string]int32{"orders": 4}
	r := assignPartitions("range", ms, nil, topics)
	if !slices.Equal(r["a"], tps(0, 1)) || !slices.Equal(r["b"], tps(2)) || !slices.Equal(r["c"], tps(3)) {
		t.Errorf("range: %v; want a {0,1}, b {2}, c {3}", r)
	}
	prev := map[string][]protocol.TopicPartition{"a": tps(3), "b": tps(0, 1, 2)}
	u := assignPartitions("uniform", ms, prev, topics)
	if !slices.Equal(u["a"], tps(3)) || !slices.Equal(u["b"], tps(0, 1)) || !slices.Equal(u["c"], tps(2)) {
		t.Errorf("uniform: %v; want a keeps {3}, b keeps {0,1} (its quota with the extra one), c gets {2}", u)
	}
}
