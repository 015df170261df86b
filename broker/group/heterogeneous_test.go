package group

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"kafkasim/broker/protocol"
)

// refs reads "topic1-0" style partitions.
func refs(rs ...string) []protocol.TopicPartition {
	out := []protocol.TopicPartition{}
	for _, r := range rs {
		t, p, _ := strings.Cut(r, "-")
		var n int32
		fmt.Sscan(p, &n)
		out = append(out, protocol.TopicPartition{Topic: t, Partition: n})
	}
	slices.SortFunc(out, compareTPs)
	return out
}

type heteroMember struct {
	id     string
	topics []string
	prev   []string
}

// Reference: Kafka's UniformHeterogeneousAssignmentBuilderTest (topic ids compared as the
// topics' names; the tests' members are taken in sorted order, as here).
func TestUniformHeterogeneousAssignmentBuilderMatchesKafka(t *testing.T) {
	cases := []struct {
		name    string
		topics  map[string]int32
		members []heteroMember
		want    map[string][]string
	}{
		{"testTwoMembersSubscribedToNonexistentTopics", map[string]int32{"topic1": 3},
			[]heteroMember{{"A", []string{"topic4"}, nil}, {"B", []string{"topic5"}, nil}},
			map[string][]string{"A": nil, "B": nil}},
		{"testFirstAssignmentTwoMembersTwoTopics", map[string]int32{"topic1": 3, "topic3": 6},
			[]heteroMember{{"A", []string{"topic1", "topic3"}, nil}, {"B", []string{"topic3"}, nil}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2", "topic3-4"}, "B": {"topic3-0", "topic3-1", "topic3-2", "topic3-3", "topic3-5"}}},
		{"testFirstAssignmentNumMembersGreaterThanTotalNumPartitions", map[string]int32{"topic3": 1, "topic1": 2},
			[]heteroMember{{"A", []string{"topic3"}, nil}, {"B", []string{"topic3"}, nil}, {"C", []string{"topic1"}, nil}},
			map[string][]string{"A": {"topic3-0"}, "B": nil, "C": {"topic1-0", "topic1-1"}}},
		{"testReassignmentForTwoMembersThreeTopicsGivenUnbalancedPrevAssignment", map[string]int32{"topic1": 6, "topic2": 4, "topic3": 4},
			[]heteroMember{
				{"A", []string{"topic1"}, []string{"topic1-0", "topic1-1", "topic1-2"}},
				{"B", []string{"topic1", "topic2"}, []string{"topic1-3", "topic2-0"}},
				{"C", []string{"topic1", "topic2", "topic3"}, []string{"topic1-4", "topic1-5", "topic2-1", "topic2-2", "topic2-3", "topic3-0", "topic3-1", "topic3-2", "topic3-3"}}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2", "topic1-5"}, "B": {"topic1-3", "topic2-0", "topic2-1", "topic2-2", "topic2-3"},
				"C": {"topic1-4", "topic3-0", "topic3-1", "topic3-2", "topic3-3"}}},
		{"testReassignmentWhenPartitionsAreAddedForTwoMembers", map[string]int32{"topic1": 6, "topic2": 5, "topic3": 3, "topic4": 3},
			[]heteroMember{
				{"A", []string{"topic1", "topic3"}, []string{"topic1-0", "topic1-1", "topic1-2", "topic1-3", "topic3-0", "topic3-1"}},
				{"B", []string{"topic1", "topic2", "topic3", "topic4"}, []string{"topic2-0", "topic2-1", "topic2-2", "topic4-0", "topic4-1", "topic4-2"}}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2", "topic1-3", "topic1-4", "topic1-5", "topic3-0", "topic3-1", "topic3-2"},
				"B": {"topic2-0", "topic2-1", "topic2-2", "topic2-3", "topic2-4", "topic4-0", "topic4-1", "topic4-2"}}},
		{"testReassignmentWhenOneMemberAddedAndPartitionsAddedTwoMembersTwoTopics", map[string]int32{"topic1": 6, "topic2": 7},
			[]heteroMember{
				{"A", []string{"topic1"}, []string{"topic1-0", "topic1-2", "topic2-0"}},
				{"B", []string{"topic1", "topic2"}, []string{"topic1-1", "topic2-1", "topic2-2"}},
				{"C", []string{"topic1", "topic2"}, nil}},
			map[string][]string{"A": {"topic1-0", "topic1-2", "topic1-3", "topic1-4", "topic1-5"}, "B": {"topic1-1", "topic2-1", "topic2-2", "topic2-6"},
				"C": {"topic2-0", "topic2-3", "topic2-4", "topic2-5"}}},
		{"testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithThreeMembersThreeTopics", map[string]int32{"topic1": 3, "topic2": 8, "topic3": 3},
			[]heteroMember{
				{"A", []string{"topic1", "topic3"}, []string{"topic1-0", "topic1-1", "topic1-2", "topic3-0", "topic3-1"}},
				{"B", []string{"topic2"}, []string{"topic2-3", "topic2-4", "topic2-5", "topic2-6"}}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2", "topic3-0", "topic3-1", "topic3-2"},
				"B": {"topic2-0", "topic2-1", "topic2-2", "topic2-3", "topic2-4", "topic2-5", "topic2-6", "topic2-7"}}},
		{"testReassignmentWhenOneSubscriptionRemovedAfterInitialAssignmentWithTwoMembersTwoTopics", map[string]int32{"topic1": 3, "topic2": 5},
			[]heteroMember{
				{"A", []string{"topic1"}, []string{"topic1-0", "topic1-2", "topic2-1", "topic2-3"}},
				{"B", []string{"topic1", "topic2"}, []string{"topic1-1", "topic2-0", "topic2-2", "topic2-4"}}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2"}, "B": {"topic2-0", "topic2-1", "topic2-2", "topic2-3", "topic2-4"}}},
		{"testReassignmentWhenTopicPartitionsRunOutAndMembersHaveNoPartitions", map[string]int32{"topic1": 2, "topic2": 2, "topic3": 2},
			[]heteroMember{
				{"A", []string{"topic1", "topic2", "topic3"}, []string{"topic1-0", "topic1-1", "topic2-0", "topic2-1", "topic3-0", "topic3-1"}},
				{"B", []string{"topic1", "topic2", "topic3"}, nil}},
			map[string][]string{"A": {"topic2-0", "topic3-0", "topic3-1"}, "B": {"topic1-0", "topic1-1", "topic2-1"}}},
		{"testFirstAssignmentWithTwoMembersIncludingOneWithoutSubscriptions", map[string]int32{"topic1": 3},
			[]heteroMember{{"A", []string{"topic1"}, nil}, {"B", nil, nil}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2"}, "B": nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ms []*Member
			prev := map[string][]protocol.TopicPartition{}
			for _, m := range tc.members {
				ms = append(ms, &Member{ID: m.id, Topics: m.topics})
				prev[m.id] = refs(m.prev...)
			}
			out := map[string][]protocol.TopicPartition{}
			uniformHeterogeneous(ms, prev, tc.topics, out)
			for _, id := range slices.Sorted(maps.Keys(tc.want)) {
				got := slices.SortedFunc(slices.Values(out[id]), compareTPs)
				if want := refs(tc.want[id]...); !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
					t.Errorf("%s: got %v; want %v", id, got, want)
				}
			}
		})
	}
}

// The coordinator's uniform assignor takes the heterogeneous builder when the members'
// subscriptions differ, and the homogeneous one when they are equal.
func TestUniformAssignorChoosesTheBuilderBySubscriptions(t *testing.T) {
	topics := map[string]int32{"orders": 3, "payments": 6}
	ms := []*Member{{ID: "A", Topics: []string{"orders", "payments"}}, {ID: "B", Topics: []string{"payments"}}}
	got := assignPartitions("uniform", ms, nil, topics)
	if want := refs("orders-0", "orders-1", "orders-2", "payments-4"); !slices.Equal(got["A"], want) {
		t.Errorf("heterogeneous A: got %v; want %v (testFirstAssignmentTwoMembersTwoTopics)", got["A"], want)
	}
	ms[1].Topics = []string{"orders", "payments"}
	got = assignPartitions("uniform", ms, nil, topics)
	if len(got["A"]) != 5 || len(got["B"]) != 4 {
		t.Errorf("homogeneous: got %v; want the 9 partitions shared 5 (A, the extra one) and 4", got)
	}
}

// Reference: Kafka's (group-coordinator) RangeAssignorTest, the first assignments over several
// topics: each topic's subscribers, in member order, get contiguous ranges.
func TestServerRangeAssignorSeveralTopicsMatchesKafka(t *testing.T) {
	cases := []struct {
		name    string
		topics  map[string]int32
		members []heteroMember
		want    map[string][]string
	}{
		{"testFirstAssignmentTwoMembersTwoTopicsSameSubscriptions", map[string]int32{"topic1": 3, "topic3": 2},
			[]heteroMember{{"A", []string{"topic1", "topic3"}, nil}, {"B", []string{"topic1", "topic3"}, nil}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic3-0"}, "B": {"topic1-2", "topic3-1"}}},
		{"testFirstAssignmentThreeMembersThreeTopicsDifferentSubscriptions", map[string]int32{"topic1": 3, "topic2": 3, "topic3": 2},
			[]heteroMember{{"A", []string{"topic1", "topic2"}, nil}, {"B", []string{"topic3"}, nil}, {"C", []string{"topic2", "topic3"}, nil}},
			map[string][]string{"A": {"topic1-0", "topic1-1", "topic1-2", "topic2-0", "topic2-1"}, "B": {"topic3-0"}, "C": {"topic2-2", "topic3-1"}}},
		{"testFirstAssignmentNumMembersGreaterThanNumPartitions", map[string]int32{"topic1": 3, "topic3": 2},
			[]heteroMember{{"A", []string{"topic1", "topic3"}, nil}, {"B", []string{"topic1", "topic3"}, nil}, {"C", []string{"topic1", "topic3"}, nil}},
			map[string][]string{"A": {"topic1-0", "topic3-0"}, "B": {"topic1-1", "topic3-1"}, "C": {"topic1-2"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ms []*Member
			for _, m := range tc.members {
				ms = append(ms, &Member{ID: m.id, Topics: m.topics})
			}
			out := assignPartitions("range", ms, nil, tc.topics)
			for _, id := range slices.Sorted(maps.Keys(tc.want)) {
				if want := refs(tc.want[id]...); !slices.Equal(out[id], want) && (len(out[id]) > 0 || len(want) > 0) {
					t.Errorf("%s: got %v; want %v", id, out[id], want)
				}
			}
		})
	}
}
