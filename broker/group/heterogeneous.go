package group

import (
	"cmp"
	"slices"

	"kafkasim/broker/protocol"
)

// uniformHeterogeneous is UniformHeterogeneousAssignmentBuilder: the uniform assignor when the
// members subscribe to different topics. Each member keeps the partitions of its previous
// target whose topics it still subscribes to (maybeRevokePartitions); the unassigned
// partitions go topic by topic, each to the least loaded of the topic's subscribers
// (assignRemainingPartitions); then, for at most MAX_ITERATION_COUNT rounds over the topics
// with two subscribers or more, partitions move from the most loaded subscribers to the least
// loaded until their counts differ by one at most (balanceTopics). Topics are taken in
// topicComparator's order (partitions per subscriber descending, then subscribers ascending,
// then the name where Kafka compares topic ids); members are numbered in member id order.
type heteroBuilder struct {
	ms          []*Member
	topics      map[string]int32
	subscribers map[string][]int // member indexes, ascending
	owners      map[string][]int // by topic, by partition: the owner's index, -1 none
	sizes       []int
}

const heteroMaxIterations = 16 // MAX_ITERATION_COUNT

func uniformHeterogeneous(ms []*Member, prev map[string][]protocol.TopicPartition, topics map[string]int32, out map[string][]protocol.TopicPartition) {
	b := &heteroBuilder{ms: ms, topics: topics, subscribers: map[string][]int{}, owners: map[string][]int{}, sizes: make([]int, len(ms))}
	var subscribed []string
	for i, m := range ms {
		for _, t := range m.Topics {
			if topics[t] <= 0 {
				continue // the topic does not exist (left out of the subscription metadata)
			}
			if b.subscribers[t] == nil {
				subscribed = append(subscribed, t)
			}
			b.subscribers[t] = append(b.subscribers[t], i)
		}
	}
	if len(subscribed) == 0 {
		return
	}
	slices.Sort(subscribed)
	for _, t := range subscribed {
		b.owners[t] = slices.Repeat([]int{-1}, int(topics[t]))
	}
	// maybeRevokePartitions
	for i, m := range ms {
		for _, tp := range prev[m.ID] {
			if own := b.owners[tp.Topic]; own != nil && slices.Contains(m.Topics, tp.Topic) && int(tp.Partition) < len(own) && own[tp.Partition] < 0 {
				own[tp.Partition] = i
				b.sizes[i]++
			}
		}
	}
	// assignRemainingPartitions
	var withUnassigned []string
	for _, t := range subscribed {
		if slices.Contains(b.owners[t], -1) {
			withUnassigned = append(withUnassigned, t)
		}
	}
	bal := &memberBalancer{b: b}
	for _, t := range b.sortTopics(withUnassigned) {
		bal.initialize(b.subscribers[t])
		for p, o := range b.owners[t] {
			if o < 0 {
				b.assign(t, p, bal.nextLeastLoaded())
			}
		}
	}
	// balance
	var balanced []string
	for _, t := range subscribed {
		if len(b.subscribers[t]) >= 2 { // canTopicParticipateInReassignment
			balanced = append(balanced, t)
		}
	}
	if len(balanced) > 0 {
		b.balanceTopics(b.sortTopics(balanced))
	}
	for _, t := range subscribed {
		for p, o := range b.owners[t] {
			if o >= 0 {
				out[ms[o].ID] = append(out[ms[o].ID], protocol.TopicPartition{Topic: t, Partition: int32(p)})
			}
		}
	}
}

// sortTopics: topicComparator.
func (b *heteroBuilder) sortTopics(ts []string) []string {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(x, y string) int {
		px, py := int64(b.topics[x]), int64(b.topics[y])
		sx, sy := int64(len(b.subscribers[x])), int64(len(b.subscribers[y]))
		// partitions per subscriber, descending: py/sy against px/sx, cross-multiplied.
		return cmp.Or(cmp.Compare(py*sx, px*sy), cmp.Compare(sx, sy), cmp.Compare(x, y))
	})
	return ts
}

func (b *heteroBuilder) assign(t string, p, member int) {
	if old := b.owners[t][p]; old >= 0 {
		b.sizes[old]--
	}
	b.owners[t][p] = member
	b.sizes[member]++
}

// balanceTopics: round after round over the topics, until a whole round moved nothing.
func (b *heteroBuilder) balanceTopics(ts []string) {
	last := -1
	bal := &memberBalancer{b: b}
	for range heteroMaxIterations {
		for ti, t := range ts {
			if ti == last {
				return
			}
			if b.balanceTopic(t, bal) > 0 || last == -1 {
				last = ti
			}
		}
	}
}

// balanceTopic: balanceTopic: the topic's partitions sorted by owner, each owner's last ones
// move to the least loaded subscribers.
func (b *heteroBuilder) balanceTopic(t string, bal *memberBalancer) int {
	moved := 0
	if bal.initialize(b.subscribers[t]) <= 1 {
		return 0
	}
	owners := b.owners[t]
	parts := make([]int, len(owners))
	for p := range parts {
		parts[p] = p
	}
	slices.SortFunc(parts, func(x, y int) int { return cmp.Or(cmp.Compare(owners[x], owners[y]), cmp.Compare(x, y)) })
	start, end := map[int]int{}, map[int]int{}
	for i, p := range parts {
		if _, ok := start[owners[p]]; !ok {
			start[owners[p]] = i
		}
		end[owners[p]] = i + 1
	}
	for !bal.isBalanced() {
		most := -1
		for {
			most = bal.nextMostLoaded()
			if most == -1 {
				break
			}
			if e, ok := end[most]; !ok || e-start[most] <= 0 {
				bal.excludeMostLoaded()
				continue
			}
			break
		}
		if most == -1 {
			break
		}
		p := parts[end[most]-1]
		end[most]--
		least := bal.nextLeastLoaded()
		if bal.isBalanced() {
			break
		}
		b.assign(t, p, least)
		moved++
	}
	return moved
}

// memberBalancer: UniformHeterogeneousAssignmentBuilder.MemberAssignmentBalancer: a topic's
// subscribers sorted by partition count, a least loaded range growing rightwards and a most
// loaded range growing leftwards.
type memberBalancer struct {
	b                                   *heteroBuilder
	sorted                              []int
	leastEnd, leastCount, nextLeast     int
	mostStart, mostEnd, mostCount, next int
}

func (m *memberBalancer) initialize(members []int) int {
	sizes := m.b.sizes
	m.sorted = append(m.sorted[:0], members...)
	slices.SortFunc(m.sorted, func(x, y int) int { return cmp.Or(cmp.Compare(sizes[x], sizes[y]), cmp.Compare(x, y)) })
	n := len(m.sorted)
	m.leastEnd, m.leastCount, m.nextLeast = 0, sizes[m.sorted[0]]-1, 0
	m.mostStart, m.mostEnd, m.mostCount, m.next = n, n, sizes[m.sorted[n-1]]+1, n-1
	return sizes[m.sorted[n-1]] - sizes[m.sorted[0]]
}

func (m *memberBalancer) nextLeastLoaded() int {
	sizes := m.b.sizes
	if m.nextLeast >= m.leastEnd {
		m.leastCount++
		for m.leastEnd < len(m.sorted) && sizes[m.sorted[m.leastEnd]] == m.leastCount {
			m.leastEnd++
		}
		m.nextLeast = 0
	}
	i := m.sorted[m.nextLeast]
	m.nextLeast++
	return i
}

func (m *memberBalancer) nextMostLoaded() int {
	sizes := m.b.sizes
	if m.next < m.mostStart {
		if m.mostEnd <= m.mostStart && m.mostStart > 0 {
			m.mostCount = sizes[m.sorted[m.mostStart-1]]
		} else {
			m.mostCount--
		}
		for m.mostStart > 0 && sizes[m.sorted[m.mostStart-1]] == m.mostCount {
			m.mostStart--
		}
		m.next = m.mostEnd - 1
	}
	if m.next < 0 {
		return -1
	}
	i := m.sorted[m.next]
	m.next--
	return i
}

func (m *memberBalancer) excludeMostLoaded() {
	i := m.sorted[m.next+1]
	m.sorted[m.next+1] = m.sorted[m.mostEnd-1]
	m.sorted[m.mostEnd-1] = i
	m.mostEnd--
}

func (m *memberBalancer) isBalanced() bool { return m.mostCount-m.leastCount <= 1 }
