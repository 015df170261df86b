package client

import (
	"cmp"
	"maps"
	"slices"

	"kafkasim/broker/protocol"
)

// generalSticky: AbstractStickyAssignor.GeneralAssignmentBuilder, the sticky assignor when the
// members subscribe to different topics, without racks. Topics are taken in TopicComparator's
// order (fewest potential consumers first, then by name) and members in SubscriptionComparator's
// (fewest partitions first, then by member id). Each member keeps the partitions it owns of the
// topics it still subscribes to (assignOwnedPartitions; a partition two members claim is owned
// by neither); every unassigned partition goes to the first member in that order that
// subscribes to its topic (maybeAssign); then performReassignments moves partitions to the least
// loaded subscriber until isBalanced holds, and a balance that scores no better than before is
// undone (getBalanceScore). Not modelled: the previous generations' owners in the members'
// user data (prevAssignment) and PartitionMovements' choice of another partition of the same
// topic to move when a move would undo an earlier one. cooperative-sticky then takes out every
// partition that would change owner (adjustAssignment), as for equal subscriptions.
func generalSticky(ms []assignMember, partitions map[string]int32, out map[string][]protocol.TopicPartition, cooperative bool) {
	topicConsumers := map[string][]string{}
	memberTopics := map[string][]string{}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.id)
		for _, t := range m.topics {
			if _, ok := partitions[t]; ok && !slices.Contains(memberTopics[m.id], t) {
				memberTopics[m.id] = append(memberTopics[m.id], t)
				topicConsumers[t] = append(topicConsumers[t], m.id)
			}
		}
	}
	slices.Sort(ids)
	sortedTopics := slices.SortedFunc(maps.Keys(partitions), func(a, b string) int {
		return cmp.Or(cmp.Compare(len(topicConsumers[a]), len(topicConsumers[b])), cmp.Compare(a, b))
	})
	var sortedAll []protocol.TopicPartition
	for _, t := range sortedTopics {
		for p := int32(0); p < partitions[t]; p++ {
			sortedAll = append(sortedAll, protocol.TopicPartition{Topic: t, Partition: p})
		}
	}
	// The owned partitions: claimed twice, by nobody.
	claimer := map[protocol.TopicPartition]string{}
	multi := map[protocol.TopicPartition]bool{}
	for _, m := range ms {
		for _, tp := range m.owned {
			if prev, ok := claimer[tp]; ok && prev != m.id {
				multi[tp] = true
			}
			claimer[tp] = m.id
		}
	}
	cur := map[string][]protocol.TopicPartition{}
	owner := map[protocol.TopicPartition]string{}
	revocationRequired := false
	for _, m := range ms {
		cur[m.id] = []protocol.TopicPartition{}
		for _, tp := range m.owned {
			if multi[tp] || slices.Contains(cur[m.id], tp) {
				continue
			}
			if _, ok := partitions[tp.Topic]; !ok || tp.Partition >= partitions[tp.Topic] {
				continue
			}
			if !slices.Contains(memberTopics[m.id], tp.Topic) {
				revocationRequired = true
				continue
			}
			cur[m.id] = append(cur[m.id], tp)
			owner[tp] = m.id
		}
	}
	var unassigned []protocol.TopicPartition
	for _, tp := range sortedAll {
		if _, ok := owner[tp]; !ok {
			unassigned = append(unassigned, tp)
		}
	}
	b := &stickyBalance{cur: cur, owner: owner, topicConsumers: topicConsumers, memberTopics: memberTopics, partitions: partitions}
	b.sorted = slices.Clone(ids)
	b.resort()
	initializing := len(b.sorted) == 0 || len(cur[b.sorted[len(b.sorted)-1]]) == 0
	// maybeAssign
	for _, tp := range unassigned {
		for _, id := range b.sorted {
			if slices.Contains(memberTopics[id], tp.Topic) {
				b.move(tp, id)
				break
			}
		}
	}
	// Topics with one potential consumer and members that cannot take part stay as they are.
	fixedTopic := func(tp protocol.TopicPartition) bool { return len(topicConsumers[tp.Topic]) < 2 }
	reassignable := slices.DeleteFunc(slices.Clone(sortedAll), fixedTopic)
	unassigned = slices.DeleteFunc(unassigned, fixedTopic)
	fixed := map[string][]protocol.TopicPartition{}
	for _, id := range ids {
		if !b.canParticipate(id) {
			fixed[id] = b.cur[id]
			delete(b.cur, id)
			b.sorted = slices.DeleteFunc(b.sorted, func(x string) bool { return x == id })
		}
	}
	pre := map[string][]protocol.TopicPartition{}
	for id, tps := range b.cur {
		pre[id] = slices.Clone(tps)
	}
	preOwner := map[protocol.TopicPartition]string{}
	for tp, id := range b.owner {
		preOwner[tp] = id
	}
	if !revocationRequired {
		b.performReassignments(unassigned)
	}
	performed := b.performReassignments(reassignable)
	if !initializing && performed && balanceScore(b.cur) >= balanceScore(pre) {
		b.cur, b.owner = pre, preOwner
	}
	for id, tps := range fixed {
		b.cur[id] = tps
	}
	for _, id := range ids {
		out[id] = append(out[id], b.cur[id]...)
	}
	if !cooperative {
		return
	}
	// adjustAssignment: a partition whose owner changes is given to nobody in this rebalance.
	for _, id := range ids {
		out[id] = slices.DeleteFunc(out[id], func(tp protocol.TopicPartition) bool {
			prev, ok := claimer[tp]
			return multi[tp] || ok && prev != id
		})
	}
}

// stickyBalance is GeneralAssignmentBuilder's state: the current assignment, each partition's
// consumer, and the members sorted by SubscriptionComparator.
type stickyBalance struct {
	cur            map[string][]protocol.TopicPartition
	owner          map[protocol.TopicPartition]string
	sorted         []string
	topicConsumers map[string][]string
	memberTopics   map[string][]string
	partitions     map[string]int32
}

func (b *stickyBalance) resort() {
	slices.SortFunc(b.sorted, func(x, y string) int { return cmp.Or(cmp.Compare(len(b.cur[x]), len(b.cur[y])), cmp.Compare(x, y)) })
}

// move gives tp to id (processPartitionMovement).
func (b *stickyBalance) move(tp protocol.TopicPartition, id string) {
	if old, ok := b.owner[tp]; ok {
		b.cur[old] = slices.DeleteFunc(b.cur[old], func(x protocol.TopicPartition) bool { return x == tp })
	}
	b.cur[id] = append(b.cur[id], tp)
	b.owner[tp] = id
	b.resort()
}

// maxSize: getMaxAssignmentSize.
func (b *stickyBalance) maxSize(id string) int {
	n := 0
	for _, t := range b.memberTopics[id] {
		n += int(b.partitions[t])
	}
	return n
}

// canParticipate: canConsumerParticipateInReassignment.
func (b *stickyBalance) canParticipate(id string) bool {
	size, max := len(b.cur[id]), b.maxSize(id)
	if size < max {
		return true
	}
	for _, tp := range b.cur[id] {
		if len(b.topicConsumers[tp.Topic]) >= 2 {
			return true
		}
	}
	return false
}

// isBalanced: GeneralAssignmentBuilder.isBalanced.
func (b *stickyBalance) isBalanced() bool {
	if len(b.sorted) == 0 {
		return true
	}
	lo, hi := len(b.cur[b.sorted[0]]), len(b.cur[b.sorted[len(b.sorted)-1]])
	if lo >= hi-1 {
		return true
	}
	for _, id := range b.sorted {
		n := len(b.cur[id])
		if n == b.maxSize(id) {
			continue
		}
		for _, t := range b.memberTopics[id] {
			for p := int32(0); p < b.partitions[t]; p++ {
				tp := protocol.TopicPartition{Topic: t, Partition: p}
				other, ok := b.owner[tp]
				if !ok || other == id {
					continue
				}
				if o, in := b.cur[other]; in && n+1 < len(o) {
					return false
				}
			}
		}
	}
	return true
}

// performReassignments moves partitions, each to the least loaded member subscribing to its
// topic, while some member holds two more than another subscriber of the topic.
func (b *stickyBalance) performReassignments(tps []protocol.TopicPartition) bool {
	performed := false
	for modified := true; modified; {
		modified = false
		for _, tp := range tps {
			if b.isBalanced() {
				break
			}
			if len(b.topicConsumers[tp.Topic]) <= 1 {
				continue
			}
			id, ok := b.owner[tp]
			if !ok {
				continue
			}
			if _, in := b.cur[id]; !in {
				continue // a fixed member's partition
			}
			for _, other := range b.topicConsumers[tp.Topic] {
				if o, in := b.cur[other]; in && len(b.cur[id]) > len(o)+1 {
					for _, to := range b.sorted {
						if slices.Contains(b.memberTopics[to], tp.Topic) {
							b.move(tp, to)
							break
						}
					}
					performed, modified = true, true
					break
				}
			}
		}
	}
	return performed
}

// balanceScore: getBalanceScore: the sum of the differences in size over every pair of members.
func balanceScore(a map[string][]protocol.TopicPartition) int {
	var sizes []int
	for _, tps := range a {
		sizes = append(sizes, len(tps))
	}
	score := 0
	for i := range sizes {
		for j := i + 1; j < len(sizes); j++ {
			score += max(sizes[i]-sizes[j], sizes[j]-sizes[i])
		}
	}
	return score
}
