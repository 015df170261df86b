package client

import (
	"cmp"
	"slices"

	"kafkasim/broker/protocol"
)

// Assignor names (partition.assignment.strategy), as ConsumerPartitionAssignor.name() has them.
const (
	AssignRange             = "range"
	AssignRoundRobin        = "roundrobin"
	AssignCooperativeSticky = "cooperative-sticky"
)

// assignMember is one member's subscription as the leader's assignor sees it.
type assignMember struct {
	id, instance string
	topics       []string
	owned        []protocol.TopicPartition
}

// compareMembers: AbstractPartitionAssignor.MemberInfo.compareTo: static members first, by
// group.instance.id, then dynamic ones by member id.
func compareMembers(a, b assignMember) int {
	switch {
	case a.instance != "" && b.instance != "":
		return cmp.Compare(a.instance, b.instance)
	case a.instance != "":
		return -1
	case b.instance != "":
		return 1
	}
	return cmp.Compare(a.id, b.id)
}

// assign runs the named assignor over the members and the partition counts of their topics.
func assign(strategy string, members []assignMember, partitions map[string]int32) map[string][]protocol.TopicPartition {
	ms := slices.Clone(members)
	slices.SortFunc(ms, compareMembers)
	out := make(map[string][]protocol.TopicPartition, len(ms))
	for _, m := range ms {
		out[m.id] = nil
	}
	switch strategy {
	case AssignRoundRobin:
		roundRobin(ms, partitions, out)
	case AssignCooperativeSticky:
		cooperativeSticky(ms, partitions, out)
	default:
		rangeAssign(ms, partitions, out)
	}
	for id := range out {
		slices.SortFunc(out[id], compareTPs)
	}
	return out
}

func compareTPs(a, b protocol.TopicPartition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

func topicsOf(ms []assignMember, partitions map[string]int32) []string {
	var ts []string
	for _, m := range ms {
		for _, t := range m.topics {
			if _, ok := partitions[t]; ok && !slices.Contains(ts, t) {
				ts = append(ts, t)
			}
		}
	}
	slices.Sort(ts)
	return ts
}

// rangeAssign: RangeAssignor.assignPartitions, per topic: the sorted subscribers each get a
// contiguous range of P/C partitions, the first P%C one more.
func rangeAssign(ms []assignMember, partitions map[string]int32, out map[string][]protocol.TopicPartition) {
	for _, t := range topicsOf(ms, partitions) {
		var subs []assignMember
		for _, m := range ms {
			if slices.Contains(m.topics, t) {
				subs = append(subs, m)
			}
		}
		n := partitions[t]
		per, extra := n/int32(len(subs)), n%int32(len(subs))
		start := int32(0)
		for i, m := range subs {
			k := per
			if int32(i) < extra {
				k++
			}
			for p := start; p < start+k; p++ {
				out[m.id] = append(out[m.id], protocol.TopicPartition{Topic: t, Partition: p})
			}
			start += k
		}
	}
}

// roundRobin: RoundRobinAssignor.assign: every subscribed partition, sorted by topic and
// index, dealt in turn over the sorted members, skipping those not subscribed to its topic.
func roundRobin(ms []assignMember, partitions map[string]int32, out map[string][]protocol.TopicPartition) {
	next := 0
	for _, t := range topicsOf(ms, partitions) {
		for p := int32(0); p < partitions[t]; p++ {
			for !slices.Contains(ms[next%len(ms)].topics, t) {
				next++
			}
			m := ms[next%len(ms)]
			out[m.id] = append(out[m.id], protocol.TopicPartition{Topic: t, Partition: p})
			next++
		}
	}
}

// cooperativeSticky: CooperativeStickyAssignor (KIP-429) for members with equal subscriptions:
// each member keeps what it owns up to its balanced quota, the rest goes to the members with
// the fewest partitions; then adjustAssignment takes out every partition that would change
// owner, so that its owner revokes it first and a follow-up rebalance hands it over.
func cooperativeSticky(ms []assignMember, partitions map[string]int32, out map[string][]protocol.TopicPartition) {
	var all []protocol.TopicPartition
	for _, t := range topicsOf(ms, partitions) {
		for p := int32(0); p < partitions[t]; p++ {
			all = append(all, protocol.TopicPartition{Topic: t, Partition: p})
		}
	}
	n, c := len(all), len(ms)
	minQuota, maxCount := n/c, n%c // maxCount members may hold minQuota+1
	owner := map[protocol.TopicPartition]string{}
	taken := map[protocol.TopicPartition]bool{}
	for _, m := range ms {
		owned := slices.Clone(m.owned)
		slices.SortFunc(owned, compareTPs)
		for _, tp := range owned {
			if _, dup := owner[tp]; !dup && slices.Contains(all, tp) && slices.Contains(m.topics, tp.Topic) {
				owner[tp] = m.id
			}
		}
	}
	for _, m := range ms {
		quota := minQuota
		if maxCount > 0 && countOwned(owner, m.id) > minQuota {
			quota = minQuota + 1
			maxCount--
		}
		for _, tp := range all {
			if owner[tp] == m.id && len(out[m.id]) < quota {
				out[m.id] = append(out[m.id], tp)
				taken[tp] = true
			}
		}
	}
	for _, tp := range all {
		if taken[tp] {
			continue
		}
		best := ""
		for _, m := range ms {
			if !slices.Contains(m.topics, tp.Topic) {
				continue
			}
			if best == "" || len(out[m.id]) < len(out[best]) {
				best = m.id
			}
		}
		if best != "" {
			out[best] = append(out[best], tp)
		}
	}
	// adjustAssignment: no partition moves straight from one member to another.
	for id, tps := range out {
		out[id] = slices.DeleteFunc(tps, func(tp protocol.TopicPartition) bool {
			o, ok := owner[tp]
			return ok && o != id
		})
	}
}

func countOwned(owner map[protocol.TopicPartition]string, id string) int {
	n := 0
	for _, o := range owner {
		if o == id {
			n++
		}
	}
	return n
}
