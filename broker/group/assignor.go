package group

import (
	"cmp"
	"maps"
	"slices"

	"kafkasim/broker/protocol"
)

// The server-side assignors of KIP-848 (group.consumer.assignors), run by the coordinator
// over the members' subscriptions and the subscribed topics' partition counts.
//
// uniform (UniformAssignor): when every member subscribes to the same topics
// (UniformHomogeneousAssignmentBuilder), each member keeps the partitions of its previous
// target up to its quota (P/M, the first P%M members with more one more), and the rest are
// dealt to the members under quota; with different subscriptions,
// UniformHeterogeneousAssignmentBuilder (heterogeneous.go).
// range (RangeAssignor): per topic, the subscribers in member id order each get a contiguous
// range, the first P%M one partition more.
//
// Members are taken in member id order (Kafka's follow its hash maps).

func assignPartitions(name string, members []*Member, prev map[string][]protocol.TopicPartition, topics map[string]int32) map[string][]protocol.TopicPartition {
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b *Member) int { return cmp.Compare(a.ID, b.ID) })
	out := make(map[string][]protocol.TopicPartition, len(ms))
	if len(ms) == 0 {
		return out
	}
	names := slices.Sorted(maps.Keys(topics))
	homogeneous := true
	for _, m := range ms[1:] {
		if !slices.Equal(m.Topics, ms[0].Topics) {
			homogeneous = false
		}
	}
	partsOf := func(ts []string) []protocol.TopicPartition {
		var all []protocol.TopicPartition
		for _, t := range ts {
			for p := int32(0); p < topics[t]; p++ {
				all = append(all, protocol.TopicPartition{Topic: t, Partition: p})
			}
		}
		return all
	}
	subscribers := func(t string) []*Member {
		var subs []*Member
		for _, m := range ms {
			if slices.Contains(m.Topics, t) {
				subs = append(subs, m)
			}
		}
		return subs
	}
	switch {
	case name == "range":
		for _, t := range names {
			subs := subscribers(t)
			if len(subs) == 0 {
				continue
			}
			for i, m := range subs {
				start, k := protocol.RangeShare(topics[t], len(subs), i)
				for p := start; p < start+k; p++ {
					out[m.ID] = append(out[m.ID], protocol.TopicPartition{Topic: t, Partition: p})
				}
			}
		}
	case homogeneous:
		var ts []string
		for _, t := range ms[0].Topics {
			if topics[t] > 0 {
				ts = append(ts, t)
			}
		}
		uniform(ms, partsOf(ts), prev, out)
	default:
		uniformHeterogeneous(ms, prev, topics, out)
	}
	for id := range out {
		slices.SortFunc(out[id], compareTPs)
	}
	return out
}

// uniform balances all over ms, sticky to prev.
func uniform(ms []*Member, all []protocol.TopicPartition, prev map[string][]protocol.TopicPartition, out map[string][]protocol.TopicPartition) {
	n := len(ms)
	minQuota, extra := len(all)/n, len(all)%n
	taken := map[protocol.TopicPartition]bool{}
	count := make([]int, n)
	// Each member keeps what it had, up to its quota.
	for i, m := range ms {
		var keep []protocol.TopicPartition
		for _, tp := range prev[m.ID] {
			if slices.Contains(all, tp) && !taken[tp] {
				keep = append(keep, tp)
			}
		}
		quota := minQuota
		if len(keep) > minQuota && extra > 0 {
			quota++
			extra--
		}
		keep = keep[:min(len(keep), quota)]
		for _, tp := range keep {
			taken[tp] = true
		}
		out[m.ID] = append(out[m.ID], keep...)
		count[i] = len(keep)
	}
	var free []protocol.TopicPartition
	for _, tp := range all {
		if !taken[tp] {
			free = append(free, tp)
		}
	}
	// Fill every member to the minimum quota, then hand out the remaining extra partitions
	// one each.
	for i, m := range ms {
		for count[i] < minQuota && len(free) > 0 {
			out[m.ID] = append(out[m.ID], free[0])
			free, count[i] = free[1:], count[i]+1
		}
	}
	for i, m := range ms {
		if len(free) == 0 {
			break
		}
		if count[i] == minQuota {
			out[m.ID] = append(out[m.ID], free[0])
			free, count[i] = free[1:], count[i]+1
		}
	}
}
