package client

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"kafkasim/broker/protocol"
)

func tps(refs ...string) []protocol.TopicPartition {
	var out []protocol.TopicPartition
	for _, r := range refs {
		t, p, _ := strings.Cut(r, "-")
		var n int32
		fmt.Sscan(p, &n)
		out = append(out, protocol.TopicPartition{Topic: t, Partition: n})
	}
	return out
}

func sub(id string, topics ...string) assignMember { return assignMember{id: id, topics: topics} }

func static(id, instance string, topics ...string) assignMember {
	return assignMember{id: id, instance: instance, topics: topics}
}

func owning(m assignMember, owned ...string) assignMember { m.owned = tps(owned...); return m }

type assignCase struct {
	name       string
	partitions map[string]int32
	members    []assignMember
	want       map[string][]string
}

func runAssignCases(t *testing.T, strategy string, cases []assignCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := assign(strategy, tc.members, tc.partitions)
			for _, id := range slices.Sorted(maps.Keys(tc.want)) {
				want := tps(tc.want[id]...)
				slices.SortFunc(want, compareTPs)
				if !slices.Equal(got[id], want) {
					t.Errorf("%s: got %v; want %v", id, got[id], want)
				}
			}
		})
	}
}

// Reference: Kafka's RangeAssignorTest (clients), the cases without racks.
func TestRangeAssignorMatchesKafka(t *testing.T) {
	two := map[string]int32{"topic1": 3, "topic2": 3}
	runAssignCases(t, AssignRange, []assignCase{
		{"testOneConsumerOneTopic", map[string]int32{"topic1": 3}, []assignMember{sub("consumer1", "topic1")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-1", "topic1-2"}}},
		{"testOnlyAssignsPartitionsFromSubscribedTopics", map[string]int32{"topic1": 3, "topic2": 3}, []assignMember{sub("consumer1", "topic1")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-1", "topic1-2"}}},
		{"testOneConsumerMultipleTopics", map[string]int32{"topic1": 1, "topic2": 2}, []assignMember{sub("consumer1", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic2-0", "topic2-1"}}},
		{"testTwoConsumersOneTopicOnePartition", map[string]int32{"topic1": 1}, []assignMember{sub("consumer1", "topic1"), sub("consumer2", "topic1")},
			map[string][]string{"consumer1": {"topic1-0"}, "consumer2": nil}},
		{"testTwoConsumersOneTopicTwoPartitions", map[string]int32{"topic1": 2}, []assignMember{sub("consumer1", "topic1"), sub("consumer2", "topic1")},
			map[string][]string{"consumer1": {"topic1-0"}, "consumer2": {"topic1-1"}}},
		{"testMultipleConsumersMixedTopics", map[string]int32{"topic1": 3, "topic2": 2},
			[]assignMember{sub("consumer1", "topic1"), sub("consumer2", "topic1", "topic2"), sub("consumer3", "topic1")},
			map[string][]string{"consumer1": {"topic1-0"}, "consumer2": {"topic1-1", "topic2-0", "topic2-1"}, "consumer3": {"topic1-2"}}},
		{"testTwoConsumersTwoTopicsSixPartitions", two, []assignMember{sub("consumer1", "topic1", "topic2"), sub("consumer2", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-1", "topic2-0", "topic2-1"}, "consumer2": {"topic1-2", "topic2-2"}}},
		// The comparison is on group.instance.id, not member id.
		{"testTwoStaticConsumersTwoTopicsSixPartitions", two,
			[]assignMember{static("consumer-b", "instance1", "topic1", "topic2"), static("consumer-a", "instance2", "topic1", "topic2")},
			map[string][]string{"consumer-b": {"topic1-0", "topic1-1", "topic2-0", "topic2-1"}, "consumer-a": {"topic1-2", "topic2-2"}}},
		// A static member sorts before a dynamic one.
		{"testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions", two,
			[]assignMember{static("consumer-b", "instance1", "topic1", "topic2"), sub("consumer-a", "topic1", "topic2")},
			map[string][]string{"consumer-b": {"topic1-0", "topic1-1", "topic2-0", "topic2-1"}, "consumer-a": {"topic1-2", "topic2-2"}}},
		{"testStaticMemberRangeAssignmentPersistent", map[string]int32{"topic1": 5, "topic2": 4},
			[]assignMember{static("consumer1", "instance1", "topic1", "topic2"), static("consumer2", "instance2", "topic1", "topic2"),
				static("consumer3", "instance3", "topic1", "topic2"), sub("consumer4", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-1", "topic2-0"}, "consumer2": {"topic1-2", "topic2-1"},
				"consumer3": {"topic1-3", "topic2-2"}, "consumer4": {"topic1-4", "topic2-3"}}},
		// The static members keep their partitions when their member ids change.
		{"testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges", map[string]int32{"topic1": 5, "topic2": 5},
			[]assignMember{static("consumer1", "instance1", "topic1", "topic2"), static("consumer5", "instance2", "topic1", "topic2"),
				static("consumer4", "instance3", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-1", "topic2-0", "topic2-1"}, "consumer5": {"topic1-2", "topic1-3", "topic2-2", "topic2-3"},
				"consumer4": {"topic1-4", "topic2-4"}}},
	})
}

// Reference: Kafka's RoundRobinAssignorTest.
func TestRoundRobinAssignorMatchesKafka(t *testing.T) {
	two := map[string]int32{"topic1": 3, "topic2": 3}
	runAssignCases(t, AssignRoundRobin, []assignCase{
		{"testOneConsumerOneTopic", map[string]int32{"topic": 3}, []assignMember{sub("consumer", "topic")},
			map[string][]string{"consumer": {"topic-0", "topic-1", "topic-2"}}},
		{"testTwoConsumersOneTopicOnePartition", map[string]int32{"topic": 1}, []assignMember{sub("consumer1", "topic"), sub("consumer2", "topic")},
			map[string][]string{"consumer1": {"topic-0"}, "consumer2": nil}},
		{"testTwoConsumersOneTopicTwoPartitions", map[string]int32{"topic": 2}, []assignMember{sub("consumer1", "topic"), sub("consumer2", "topic")},
			map[string][]string{"consumer1": {"topic-0"}, "consumer2": {"topic-1"}}},
		{"testMultipleConsumersMixedTopics", map[string]int32{"topic1": 3, "topic2": 2},
			[]assignMember{sub("consumer1", "topic1"), sub("consumer2", "topic1", "topic2"), sub("consumer3", "topic1")},
			map[string][]string{"consumer1": {"topic1-0"}, "consumer2": {"topic1-1", "topic2-0", "topic2-1"}, "consumer3": {"topic1-2"}}},
		{"testTwoDynamicConsumersTwoTopicsSixPartitions", two, []assignMember{sub("consumer1", "topic1", "topic2"), sub("consumer2", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-2", "topic2-1"}, "consumer2": {"topic1-1", "topic2-0", "topic2-2"}}},
		{"testTwoStaticConsumersTwoTopicsSixPartitions", two,
			[]assignMember{static("consumer-b", "instance1", "topic1", "topic2"), static("consumer-a", "instance2", "topic1", "topic2")},
			map[string][]string{"consumer-b": {"topic1-0", "topic1-2", "topic2-1"}, "consumer-a": {"topic1-1", "topic2-0", "topic2-2"}}},
		{"testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions", two,
			[]assignMember{static("consumer-b", "instance1", "topic1", "topic2"), sub("consumer-a", "topic1", "topic2")},
			map[string][]string{"consumer-b": {"topic1-0", "topic1-2", "topic2-1"}, "consumer-a": {"topic1-1", "topic2-0", "topic2-2"}}},
		{"testStaticMemberRoundRobinAssignmentPersistent", two,
			[]assignMember{static("consumer1", "instance1", "topic1", "topic2"), static("consumer2", "instance2", "topic1", "topic2"),
				static("consumer3", "instance3", "topic1", "topic2"), sub("consumer4", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic2-1"}, "consumer2": {"topic1-1", "topic2-2"}, "consumer3": {"topic1-2"}, "consumer4": {"topic2-0"}}},
	})
}

// Reference: Kafka's CooperativeStickyAssignorTest: a partition two members of one generation
// claim is taken from both and, being still owned, given to nobody in this rebalance.
func TestCooperativeStickyAssignorMatchesKafka(t *testing.T) {
	runAssignCases(t, AssignCooperativeSticky, []assignCase{
		{"testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer",
			map[string]int32{"topic": 3},
			[]assignMember{owning(sub("consumer1", "topic"), "topic-0", "topic-1"), owning(sub("consumer2", "topic"), "topic-0", "topic-2"), sub("consumer3", "topic")},
			map[string][]string{"consumer1": {"topic-1"}, "consumer2": {"topic-2"}, "consumer3": nil}},
		{"testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithUnequalPartitionsPerConsumer",
			map[string]int32{"topic": 4},
			[]assignMember{owning(sub("consumer1", "topic"), "topic-0", "topic-1"), owning(sub("consumer2", "topic"), "topic-0", "topic-2"), sub("consumer3", "topic")},
			map[string][]string{"consumer1": {"topic-1", "topic-3"}, "consumer2": {"topic-2"}, "consumer3": nil}},
		// AbstractStickyAssignorTest.testAddRemoveConsumerOneTopic, cooperative: the new member
		// gets nothing until consumer1 has revoked what moves; then it gets it.
		{"testAddRemoveConsumerOneTopic/first", map[string]int32{"topic": 3},
			[]assignMember{owning(sub("consumer1", "topic"), "topic-0", "topic-1", "topic-2"), sub("consumer2", "topic")},
			map[string][]string{"consumer1": {"topic-0", "topic-1"}, "consumer2": nil}},
		{"testAddRemoveConsumerOneTopic/follow-up", map[string]int32{"topic": 3},
			[]assignMember{owning(sub("consumer1", "topic"), "topic-0", "topic-1"), sub("consumer2", "topic")},
			map[string][]string{"consumer1": {"topic-0", "topic-1"}, "consumer2": {"topic-2"}}},
	})
}

// The cooperative protocol's promises (CooperativeStickyAssignorTest.verifyValidityAndBalance):
// no partition is revoked and assigned in one rebalance, members keep what they own when it
// fits their quota, and within a few follow-up rebalances every partition is assigned once and
// the assignment is balanced (sizes differ by at most one).
func TestCooperativeStickyAssignorConvergesWithoutMovingOwnedPartitions(t *testing.T) {
	parts := map[string]int32{"t0": 5, "t1": 4}
	cases := [][]assignMember{
		{sub("a", "t0", "t1")},
		{owning(sub("a", "t0", "t1"), "t0-0", "t0-1", "t0-2", "t0-3", "t0-4", "t1-0", "t1-1", "t1-2", "t1-3"), sub("b", "t0", "t1"), sub("c", "t0", "t1")},
		{owning(sub("a", "t0", "t1"), "t0-0", "t0-1", "t0-2"), owning(sub("b", "t0", "t1"), "t0-3", "t0-4", "t1-0"), owning(sub("c", "t0", "t1"), "t1-1", "t1-2", "t1-3"), sub("d", "t0", "t1")},
		{owning(sub("a", "t0", "t1"), "t0-0", "t1-1"), owning(sub("c", "t0", "t1"), "t0-0", "t0-4", "t1-3")}, // b left, t0-0 claimed twice
	}
	for n, ms := range cases {
		for round := 0; ; round++ {
			if round > 4 {
				t.Fatalf("case %d: no balanced assignment after 4 follow-up rebalances", n)
			}
			plan := assign(AssignCooperativeSticky, ms, parts)
			owner := map[protocol.TopicPartition]string{}
			revoked := false
			for _, m := range ms {
				for _, tp := range m.owned {
					if !slices.Contains(plan[m.id], tp) {
						revoked = true
					}
				}
				for _, tp := range plan[m.id] {
					if prev, dup := owner[tp]; dup {
						t.Fatalf("case %d: %v assigned to %s and %s", n, tp, prev, m.id)
					}
					owner[tp] = m.id
					for _, o := range ms {
						if o.id != m.id && slices.Contains(o.owned, tp) && !slices.Contains(m.owned, tp) {
							t.Fatalf("case %d round %d: %v goes to %s while %s still owns it", n, round, tp, m.id, o.id)
						}
					}
				}
			}
			if !revoked {
				lo, hi := 1<<30, 0
				for _, m := range ms {
					lo, hi = min(lo, len(plan[m.id])), max(hi, len(plan[m.id]))
				}
				if len(owner) != 9 || hi-lo > 1 {
					t.Fatalf("case %d: final plan %v: %d of 9 partitions, sizes %d..%d; want all, balanced", n, plan, len(owner), lo, hi)
				}
				break
			}
			for i := range ms {
				ms[i].owned = plan[ms[i].id]
			}
		}
	}
}

// Reference: Kafka's AbstractStickyAssignorTest, the cases with several topics and members of
// different subscriptions (GeneralAssignmentBuilder), run with the cooperative assignor.
func TestCooperativeStickyAssignorSeveralTopicsMatchesKafka(t *testing.T) {
	runAssignCases(t, AssignCooperativeSticky, []assignCase{
		{"testOneConsumerMultipleTopics", map[string]int32{"topic1": 1, "topic2": 2}, []assignMember{sub("consumer", "topic1", "topic2")},
			map[string][]string{"consumer": {"topic1-0", "topic2-0", "topic2-1"}}},
		{"testOnlyAssignsPartitionsFromSubscribedTopics", map[string]int32{"topic": 3, "other": 3}, []assignMember{sub("consumer", "topic")},
			map[string][]string{"consumer": {"topic-0", "topic-1", "topic-2"}}},
		{"testMultipleConsumersMixedTopicSubscriptions", map[string]int32{"topic1": 3, "topic2": 2},
			[]assignMember{sub("consumer1", "topic1"), sub("consumer2", "topic1", "topic2"), sub("consumer3", "topic1")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-2"}, "consumer2": {"topic2-0", "topic2-1"}, "consumer3": {"topic1-1"}}},
		{"testTwoConsumersTwoTopicsSixPartitions", map[string]int32{"topic1": 3, "topic2": 3},
			[]assignMember{sub("consumer1", "topic1", "topic2"), sub("consumer2", "topic1", "topic2")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-2", "topic2-1"}, "consumer2": {"topic1-1", "topic2-0", "topic2-2"}}},
		// A member that drops a topic from its subscription gives its partitions up; the balance
		// then moves topic1-1 to it. Cooperative: neither topic2-0 nor topic1-1 goes to its new
		// owner until the follow-up rebalance, after the old owners revoked them.
		{"droppedTopicRevokedFirst", map[string]int32{"topic1": 2, "topic2": 2},
			[]assignMember{owning(sub("consumer1", "topic1"), "topic1-0", "topic2-0"), owning(sub("consumer2", "topic1", "topic2"), "topic1-1", "topic2-1")},
			map[string][]string{"consumer1": {"topic1-0"}, "consumer2": {"topic2-1"}}},
		{"droppedTopicRevokedFirst/follow-up", map[string]int32{"topic1": 2, "topic2": 2},
			[]assignMember{owning(sub("consumer1", "topic1"), "topic1-0"), owning(sub("consumer2", "topic1", "topic2"), "topic2-1")},
			map[string][]string{"consumer1": {"topic1-0", "topic1-1"}, "consumer2": {"topic2-0", "topic2-1"}}},
	})
}

// verifyValidityAndBalance (AbstractStickyAssignorTest) over members of different
// subscriptions: each partition once, to a subscriber of its topic, and no member able to take
// a partition from one that holds two more.
func TestGeneralStickyAssignorIsValidAndBalanced(t *testing.T) {
	parts := map[string]int32{"t1": 5, "t2": 3, "t3": 7}
	subs := [][]string{{"t1"}, {"t1", "t2"}, {"t2", "t3"}, {"t1", "t2", "t3"}, {"t3"}}
	for n := 2; n <= len(subs); n++ {
		var ms []assignMember
		for i := range n {
			ms = append(ms, sub(fmt.Sprintf("c%d", i), subs[i]...))
		}
		var got map[string][]protocol.TopicPartition
		// Rebalance until nothing moves (cooperative: follow-ups hand over what was revoked).
		for range 5 {
			got = assign(AssignCooperativeSticky, ms, parts)
			for i := range ms {
				ms[i].owned = got[ms[i].id]
			}
		}
		owner := map[protocol.TopicPartition]string{}
		for _, m := range ms {
			for _, tp := range got[m.id] {
				if prev, dup := owner[tp]; dup {
					t.Fatalf("%d members: %v given to %s and %s", n, tp, prev, m.id)
				}
				if !slices.Contains(m.topics, tp.Topic) {
					t.Fatalf("%d members: %v given to %s, which does not subscribe to %s", n, tp, m.id, tp.Topic)
				}
				owner[tp] = m.id
			}
		}
		for _, m := range ms {
			for _, tp := range tps("t1-0", "t1-1", "t1-2", "t1-3", "t1-4", "t2-0", "t2-1", "t2-2", "t3-0", "t3-1", "t3-2", "t3-3", "t3-4", "t3-5", "t3-6") {
				o, ok := owner[tp]
				if !slices.Contains(m.topics, tp.Topic) {
					continue
				}
				if !ok {
					t.Fatalf("%d members: %v is not assigned, %s subscribes to it", n, tp, m.id)
				}
				if len(got[m.id])+1 < len(got[o]) {
					t.Errorf("%d members: %s (%d) could take %v from %s (%d)", n, m.id, len(got[m.id]), tp, o, len(got[o]))
				}
			}
		}
	}
}
