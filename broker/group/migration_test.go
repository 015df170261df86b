package group

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// classicPair builds a classic group of two members, a (leader: orders/0 and orders/1) and b
// (orders/2 and orders/3), at generation 1, and returns their member ids.
func (k *coord) classicPair() (a, b string) {
	k.t.Helper()
	ids := make([]string, 2)
	for i, corr := range []int64{1, 2} {
		r := k.request(join("", "", 10*time.Second, corr))
		ids[i] = r[0].(*protocol.JoinGroupResponse).MemberID
		k.request(join(ids[i], "", 10*time.Second, corr+10))
	}
	n := len(k.h.sent)
	k.advance(7 * time.Second) // the initial rebalance delay, twice: b joined during the first
	if got := len(k.answers(n)); got != 2 {
		k.t.Fatalf("%d join answers; want 2", got)
	}
	a, b = ids[0], ids[1]
	k.request(&protocol.SyncGroupRequest{CorrelationID: 3, GroupID: "g1", GenerationID: 1, MemberID: b, ProtocolName: "range"})
	k.request(&protocol.SyncGroupRequest{CorrelationID: 4, GroupID: "g1", GenerationID: 1, MemberID: a, ProtocolName: "range",
		Assignments: []protocol.SyncGroupAssignment{{MemberID: a, Partitions: tps(0, 1)}, {MemberID: b, Partitions: tps(2, 3)}}})
	k.commitLog()
	if g := k.c.Group("g1"); g == nil || g.Kind() != "classic" || g.State() != Stable || g.Generation != 1 {
		k.t.Fatalf("group %+v; want a Stable classic group at generation 1", g)
	}
	return a, b
}

// classicHeartbeat sends a classic Heartbeat and returns its error.
func (k *coord) classicHeartbeat(member string, gen int32) protocol.ErrorCode {
	k.t.Helper()
	r := k.request(&protocol.HeartbeatRequest{CorrelationID: 5, GroupID: "g1", GenerationID: gen, MemberID: member})
	return r[0].(*protocol.HeartbeatResponse).Error
}

// rejoin runs a classic member's JoinGroup and SyncGroup (eager: it owns nothing when it
// rejoins) and returns its generation and assignment.
func (k *coord) rejoin(member string) (int32, []protocol.TopicPartition) {
	k.t.Helper()
	n := len(k.h.sent)
	k.c.Handle(k.h.now, 100, join(member, "", 10*time.Second, 6))
	k.commitLog()
	jr := k.answers(n)[0].(*protocol.JoinGroupResponse)
	if jr.Error != protocol.NONE {
		k.t.Fatalf("rejoin of %s: %v", member, jr.Error)
	}
	if jr.Leader == member {
		k.t.Errorf("%s was made leader of a consumer group's classic members; the broker assigns", member)
	}
	n = len(k.h.sent)
	k.c.Handle(k.h.now, 100, &protocol.SyncGroupRequest{CorrelationID: 7, GroupID: "g1", GenerationID: jr.GenerationID, MemberID: member, ProtocolName: jr.ProtocolName})
	k.commitLog()
	sr := k.answers(n)[0].(*protocol.SyncGroupResponse)
	if sr.Error != protocol.NONE {
		k.t.Fatalf("sync of %s: %v", member, sr.Error)
	}
	return jr.GenerationID, sr.Assignment
}

// owners checks that no partition of orders has two owners among the group's members.
func owners(t *testing.T, g *Group) {
	t.Helper()
	seen := map[protocol.TopicPartition]string{}
	for _, m := range g.Members() {
		for _, tp := range append(slices.Clone(m.Assignment), m.Revoking...) {
			if o, ok := seen[tp]; ok {
				t.Fatalf("%s owned by both %s and %s", tp, o, m.ID)
			}
			seen[tp] = m.ID
		}
	}
}

// Reference: KIP-848, online upgrade (GroupMetadataManager.convertToConsumerGroup,
// classicGroupJoinToConsumerGroup, classicGroupHeartbeatToConsumerGroup,
// GroupMetadataManagerTest testOnlineMigration...). A member speaking the consumer protocol
// joins a Stable classic group of two: the group becomes a consumer group at the generation as
// its epoch, the classic members keep their partitions at member epoch 1; the new member waits
// for what they hold; they are told REBALANCE_IN_PROGRESS at their next heartbeat, rejoin
// (JoinGroup answered with their member epoch, no leader: the broker assigns) and sync; then
// the new member takes what they released. No partition ever has two owners. When the last
// member speaking the consumer protocol leaves, the group goes back to classic
// (convertToClassicGroup) at the group epoch, and rebalances.
func TestClassicGroupUpgradesToConsumerGroupAndBack(t *testing.T) {
	log := &offsetsLog{}
	k := newModernCoord(t, log, 0)
	a, b := k.classicPair()

	r := k.hb("c", "", 0, nil)
	g := k.c.Group("g1")
	if r.Error != protocol.NONE || g.Kind() != "consumer" || g.Generation != 2 || r.MemberEpoch != 2 {
		t.Fatalf("heartbeat %v epoch %d; group %s at %d; want the group converted, epoch 2", r.Error, r.MemberEpoch, g.Kind(), g.Generation)
	}
	if len(r.Assignment) != 0 {
		t.Errorf("c given %v while a and b still hold every partition; want nothing yet", r.Assignment)
	}
	for _, id := range []string{a, b} {
		m := g.member(id)
		if m == nil || !m.UsesClassicProtocol() || m.Epoch != 1 {
			t.Fatalf("member %s: %+v; want kept, classic, at member epoch 1", id, m)
		}
	}
	owners(t, g)

	// The classic members learn of the rebalance by heartbeat and rejoin.
	for _, id := range []string{a, b} {
		if err := k.classicHeartbeat(id, 1); err != protocol.REBALANCE_IN_PROGRESS {
			t.Fatalf("heartbeat of %s: %v; want REBALANCE_IN_PROGRESS", id, err)
		}
		gen, asg := k.rejoin(id)
		if gen != 2 {
			t.Errorf("%s rejoined at generation %d; want its member epoch 2", id, gen)
		}
		if got := g.member(id).Assignment; !slices.Equal(asg, got) {
			t.Errorf("%s synced %v; the group has %v", id, asg, got)
		}
		owners(t, g)
		if err := k.classicHeartbeat(id, gen); err != protocol.NONE {
			t.Errorf("heartbeat of %s after its sync: %v; want NONE", id, err)
		}
	}
	r = k.hb("c", "", r.MemberEpoch, []protocol.TopicPartition{})
	if r.Error != protocol.NONE || len(r.Assignment) == 0 {
		t.Fatalf("c after the classic members released: %v %v; want some partitions", r.Error, r.Assignment)
	}
	owners(t, g)
	all := 0
	for _, m := range g.Members() {
		all += len(m.Assignment)
	}
	if all != 4 || g.State() != Stable {
		t.Errorf("%d partitions owned, group %v; want all four, stable", all, g.State())
	}

	// A replay rebuilds the consumer group with its classic members.
	k2 := newModernCoord(t, log, 1)
	if g2 := k2.c.Group("g1"); g2 == nil || g2.Kind() != "consumer" || g2.member(a) == nil || !g2.member(a).UsesClassicProtocol() || g2.member("c").UsesClassicProtocol() {
		t.Errorf("replayed group %+v; want a consumer group with classic member %s and consumer member c", g2, a)
	}

	// Downgrade: c, the last member speaking the consumer protocol, leaves.
	epoch := g.Generation
	k.hb("c", "", protocol.LeaveGroupMemberEpoch, nil)
	if g.Kind() != "classic" || g.State() != PreparingRebalance || g.Generation != epoch || len(g.Members()) != 2 {
		t.Fatalf("after c left: %s group %v at %d with %d members; want classic, preparing-rebalance at %d with a and b",
			g.Kind(), g.State(), g.Generation, len(g.Members()), epoch)
	}
	if k3 := newModernCoord(t, log, 2); k3.c.Group("g1") == nil || k3.c.Group("g1").Kind() != "classic" {
		t.Errorf("replayed after the downgrade: %+v; want a classic group", k3.c.Group("g1"))
	}
}

// Reference: ConsumerGroupMigrationPolicy. With group.consumer.migration.policy=disabled (or
// downgrade), a member speaking the consumer protocol cannot join a classic group with members:
// GROUP_ID_NOT_FOUND, and the group stays classic.
func TestOnlineUpgradeDisabledByPolicy(t *testing.T) {
	for _, policy := range []string{"disabled", "downgrade"} {
		h := &fakeHost{log: &offsetsLog{}, lead: true}
		cfg := testConfig()
		cfg.ConsumerSessionTimeout, cfg.ConsumerHeartbeatInterval, cfg.MigrationPolicy = 45*time.Second, 5*time.Second, policy
		k := &coord{t: t, c: New(cfg, topicHost{h}), h: h}
		k.c.Leadership(h.now, 0, 0)
		k.advance(time.Second)
		k.classicPair()
		if r := k.hb("c", "", 0, nil); r.Error != protocol.GROUP_ID_NOT_FOUND {
			t.Errorf("policy %s: heartbeat %v; want GROUP_ID_NOT_FOUND", policy, r.Error)
		}
		if g := k.c.Group("g1"); g.Kind() != "classic" || len(g.Members()) != 2 {
			t.Errorf("policy %s: group %s with %d members; want classic with 2", policy, g.Kind(), len(g.Members()))
		}
	}
}

// Reference: GroupMetadataManager.maybeDeleteEmptyClassicGroup. A classic group whose only
// member was given an id (MEMBER_ID_REQUIRED) but has not joined with it yet is empty: a
// ConsumerGroupHeartbeat replaces it with a consumer group, and the pending id is forgotten
// (nemesis seed 342 of the mixed group runs: kept, it let the member join twice once the group
// had gone back to classic, and the second copy held a partition no one read). That member's
// JoinGroup then creates it in the consumer group; after the downgrade it is one member.
func TestPendingClassicMemberForgottenByUpgrade(t *testing.T) {
	k := newModernCoord(t, &offsetsLog{}, 0)
	id := k.request(join("", "", 10*time.Second, 1))[0].(*protocol.JoinGroupResponse).MemberID
	k.hb("c", "", 0, nil)
	g := k.c.Group("g1")
	if g.Kind() != "consumer" || len(g.pendingJoin) != 0 {
		t.Fatalf("group %s with pending %v; want a consumer group and no pending classic member", g.Kind(), g.pendingJoin)
	}
	if gen, _ := k.rejoin(id); gen <= 0 {
		t.Fatalf("%s joined the consumer group at generation %d", id, gen)
	}
	k.hb("c", "", protocol.LeaveGroupMemberEpoch, nil)
	if g.Kind() != "classic" {
		t.Fatalf("after c left: %s; want classic", g.Kind())
	}
	k.request(join(id, "", 10*time.Second, 8))
	n := 0
	for _, m := range g.Members() {
		if m.ID == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("member %s is in the group %d times; want once", id, n)
	}
}
