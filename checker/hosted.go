package checker

import "kafkasim/broker/protocol"

// A broker hosts every partition of the internal topics too (__transaction_state has 50), and
// afterBroker runs at every one of its events: looking each replica and its remembered state up
// by topic-partition (two map lookups hashing the topic name) was most of the online checker's
// time. A source that can list a broker's replicas directly lets it keep, per broker, the
// replicas in the order last walked with their states, and reuse a state while the replica at
// that place is the same incarnation.

// hostedReplica is one replica a broker hosts.
type hostedReplica struct {
	tp protocol.TopicPartition
	r  replica
}

// hostedEntry is a hosted replica with the state checkReplica keeps for it.
type hostedEntry struct {
	r  replica
	rs *repState
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
	for i, h := range list {
		rs := cache[i].rs
		if rs == nil || cache[i].r != h.r {
			rs = o.reps[repKey{b, h.tp}]
		}
		changed, rs := o.checkReplicaState(b, h.tp, h.r, rs)
		cache[i] = hostedEntry{r: h.r, rs: rs}
		if changed {
			o.checkPartition(h.tp)
		}
	}
	o.hosted[b] = cache
	return true
}
