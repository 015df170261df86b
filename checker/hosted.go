package checker

import (
	"kafkasim/broker"
	"kafkasim/broker/protocol"
)

// A broker hosts every partition of the internal topics too (__transaction_state has 50), and
// afterBroker runs at every one of its events: looking each replica and its remembered state up
// by topic-partition (two map lookups hashing the topic name) was most of the online checker's
// time. A source that can list a broker's replicas directly lets it keep, per broker, the
// replicas in the order last walked with their states, and reuse a state while the replica at
// that place is the same incarnation.

// hostedReplica is one replica a broker hosts; p is the broker's own replica when the source
// is a live cluster (nil for another source).
type hostedReplica struct {
	tp protocol.TopicPartition
	r  replica
	p  *broker.Partition
}

// hostedEntry is a hosted replica with the state checkReplica keeps for it.
type hostedEntry struct {
	r  replica
	p  *broker.Partition
	rs *repState
}

// unchanged reports, without a call through the replica interface, that the live replica e
// holds is the incarnation h lists and shows the state checkReplicaState last saw: nothing to
// check. Most of a broker's replicas are unchanged at most of its events (the 50 partitions of
// __transaction_state and __consumer_offsets sit idle but for the few a transaction or group
// uses), and the walk through the interface was most of the online checker's cost.
func (e *hostedEntry) unchanged(h *hostedReplica) bool {
	p, rs := h.p, e.rs
	return p != nil && e.p == p && rs != nil && !rs.truncated &&
		p.HW() == rs.hw && p.LEO() == rs.leo && p.LogStart() == rs.start && p.IsLeader() == rs.leading && p.LeaderEpoch() == rs.epoch
}

// hostedLister is a source that lists a broker's replicas (clusterSource). The list it
// returns may be its own: the caller only reads it.
type hostedLister interface {
	HostedReplicas(b int32, buf []hostedReplica) []hostedReplica
}

// afterBrokerHosted runs afterBroker's replica and partition checks through the source's
// replica list; false if the source cannot list them.
func (o *Online) afterBrokerHosted(b int32) bool {
	hl, ok := o.src.(hostedLister)
	if !ok {
		return false
	}
	list := hl.HostedReplicas(b, o.hostedBuf[:0])
	cache := o.hosted[b]
	if len(cache) != len(list) {
		cache = make([]hostedEntry, len(list))
	}
	for i := range list {
		h := &list[i]
		if cache[i].unchanged(h) {
			continue
		}
		rs := cache[i].rs
		if rs == nil || cache[i].r != h.r {
			rs = o.reps[repKey{b, h.tp}]
		}
		changed, rs := o.checkReplicaState(b, h.tp, h.r, rs)
		cache[i] = hostedEntry{r: h.r, p: h.p, rs: rs}
		if changed {
			o.checkPartition(h.tp)
		}
	}
	o.hosted[b] = cache
	return true
}
