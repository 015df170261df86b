package client

import (
	"cmp"
	"maps"
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
		if allSubscriptionsEqual(ms) {
			cooperativeSticky(ms, partitions, out)
		} else {
			generalSticky(ms, partitions, out, true)
		}
	default:
		rangeAssign(ms, partitions, out)
	}
	for id := range out {
		slices.SortFunc(out[id], compareTPs)
	}
	return out
}

// allSubscriptionsEqual: AbstractStickyAssignor.allSubscriptionsEqual: every member subscribes
// to the same topics (the constrained builder); else the general one (assignor_general.go).
func allSubscriptionsEqual(ms []assignMember) bool {
	norm := func(ts []string) []string { return slices.Compact(slices.Sorted(slices.Values(ts))) }
	for _, m := range ms[min(1, len(ms)):] {
		if !slices.Equal(norm(m.topics), norm(ms[0].topics)) {
			return false
		}
	}
	return true
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
		for i, m := range subs {
			start, k := protocol.RangeShare(partitions[t], len(subs), i)
			for p := start; p < start+k; p++ {
				out[m.id] = append(out[m.id], protocol.TopicPartition{Topic: t, Partition: p})
			}
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

// cooperativeSticky: CooperativeStickyAssignor (KIP-429) for members with equal subscriptions
// (generalSticky for different ones),
// AbstractStickyAssignor's ConstrainedAssignmentBuilder without racks. A partition two members
// claim is owned by neither (partitionsWithMultiplePreviousOwners). Each member keeps what it
// owns up to its quota (assignOwnedPartitions); the rest is dealt round-robin to the members
// under their quota, then to those at the minimum (assignRoundRobin). Then adjustAssignment
// takes out every partition that would change owner, so that its owner revokes it first and a
// follow-up rebalance hands it over.
func cooperativeSticky(ms []assignMember, partitions map[string]int32, out map[string][]protocol.TopicPartition) {
	var all []protocol.TopicPartition
	for _, t := range topicsOf(ms, partitions) {
		for p := int32(0); p < partitions[t]; p++ {
			all = append(all, protocol.TopicPartition{Topic: t, Partition: p})
		}
	}
	if len(ms) == 0 {
		return
	}
	// allSubscriptionsEqual: the owned partitions, a partition claimed twice by nobody.
	owned := map[string][]protocol.TopicPartition{}
	claimer := map[protocol.TopicPartition]string{}
	multi := map[protocol.TopicPartition]bool{}
	for _, m := range ms {
		for _, tp := range m.owned {
			if !slices.Contains(all, tp) || slices.Contains(owned[m.id], tp) {
				continue
			}
			if other, ok := claimer[tp]; ok {
				multi[tp] = true
				owned[other] = slices.DeleteFunc(owned[other], func(x protocol.TopicPartition) bool { return x == tp })
				claimer[tp] = m.id
				continue
			}
			claimer[tp] = m.id
			owned[m.id] = append(owned[m.id], tp)
		}
	}
	total, n := len(all), len(ms)
	minQuota, maxQuota := total/n, (total+n-1)/n
	expectedOver, currentOver := total%n, 0
	var underMin, exactlyMin []string
	assigned := map[protocol.TopicPartition]bool{}
	maybeRevoked := map[protocol.TopicPartition]string{}
	keep := func(id string, tps []protocol.TopicPartition) {
		out[id] = append(out[id], tps...)
		for _, tp := range tps {
			assigned[tp] = true
		}
	}
	// assignOwnedPartitions
	for _, m := range ms {
		own := slices.DeleteFunc(slices.Clone(owned[m.id]), func(tp protocol.TopicPartition) bool { return multi[tp] })
		slices.SortFunc(own, func(a, b protocol.TopicPartition) int {
			return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Topic, b.Topic))
		})
		switch {
		case len(own) < minQuota:
			keep(m.id, own)
			underMin = append(underMin, m.id)
		case len(own) >= maxQuota && currentOver < expectedOver:
			currentOver++
			if currentOver == expectedOver {
				exactlyMin = nil
			}
			keep(m.id, own[:maxQuota])
			for _, tp := range own[maxQuota:] {
				maybeRevoked[tp] = m.id
			}
		default:
			keep(m.id, own[:minQuota])
			for _, tp := range own[minQuota:] {
				maybeRevoked[tp] = m.id
			}
			if currentOver < expectedOver {
				exactlyMin = append(exactlyMin, m.id)
			}
		}
	}
	slices.Sort(underMin)
	slices.Sort(exactlyMin)
	// assignRoundRobin over the unassigned partitions in (topic, partition) order.
	transferring := map[protocol.TopicPartition]string{}
	next := 0 // the iterator over underMin
	for _, tp := range all {
		if assigned[tp] {
			continue
		}
		var id string
		fromUnder := true
		switch {
		case next < len(underMin):
			id = underMin[next]
			next++
		case len(underMin) == 0 && len(exactlyMin) == 0:
			continue // cannot happen: the quotas add up to the partitions
		case len(underMin) == 0:
			id, exactlyMin, fromUnder = exactlyMin[0], exactlyMin[1:], false
		default:
			id, next = underMin[0], 1
		}
		out[id] = append(out[id], tp)
		if prev, ok := maybeRevoked[tp]; (ok && prev != id) || multi[tp] {
			transferring[tp] = id
		}
		switch len(out[id]) {
		case minQuota:
			if fromUnder {
				underMin = slices.Delete(underMin, next-1, next)
				next--
			}
			exactlyMin = append(exactlyMin, id)
		case maxQuota:
			currentOver++
		}
	}
	// adjustAssignment: no partition moves straight from one member to another.
	for _, tp := range slices.SortedFunc(maps.Keys(transferring), compareTPs) {
		id := transferring[tp]
		out[id] = slices.DeleteFunc(out[id], func(x protocol.TopicPartition) bool { return x == tp })
	}
}
