package checker

import (
	"slices"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
	"kafkasim/broker/txn"
	"kafkasim/sim/cluster"
)

// clusterSource is a live cluster as the invariants see it.
type clusterSource struct {
	c        *cluster.Cluster
	isBroker map[int32]bool
	brokers  int // len(c.BrokerIDs) when isBroker was filled
	lists    map[int32]*hostedList
	buf      []protocol.TopicPartition
}

func (s *clusterSource) Brokers() []int32 { return s.c.BrokerIDs }

func (s *clusterSource) Hosted(b int32) []protocol.TopicPartition {
	br := s.c.Broker(b)
	if br == nil {
		return nil
	}
	s.buf = s.buf[:0]
	for _, p := range br.Partitions() {
		s.buf = append(s.buf, p.TP())
	}
	return s.buf
}

func (s *clusterSource) Replica(b int32, tp protocol.TopicPartition) replica {
	if p := s.c.Replica(b, tp); p != nil {
		return liveReplica{p}
	}
	return nil
}

func (s *clusterSource) Current(b int32, im *metadata.Image) bool {
	br := s.c.Broker(b)
	if br == nil || im == nil {
		return false
	}
	reg := im.Brokers[b]
	return reg != nil && !reg.Fenced && reg.Epoch == br.Epoch()
}

func (s *clusterSource) Metadata() *metadata.Image { return s.c.Committed() }

// liveReplica is a broker's replica; equal values are the same incarnation.
type liveReplica struct{ p *broker.Partition }

func (r liveReplica) HW() int64          { return r.p.HW() }
func (r liveReplica) LEO() int64         { return r.p.LEO() }
func (r liveReplica) LogStart() int64    { return r.p.LogStart() }
func (r liveReplica) IsLeader() bool     { return r.p.IsLeader() }
func (r liveReplica) LeaderEpoch() int32 { return r.p.LeaderEpoch() }
func (r liveReplica) BatchAt(offset int64) *protocol.RecordBatch {
	return r.p.Log().BatchAt(offset)
}

// OpenTransaction: the oldest transaction open in the replica's log (hanging.go).
func (r liveReplica) OpenTransaction() (pid, first int64, since time.Duration, ok bool) {
	return r.p.OpenTransaction()
}

func (s *clusterSource) Now() time.Duration { return s.c.Now() }

// CoordinatorTxn: producer pid's transaction as the running coordinator with the highest
// coordinator epoch has it.
func (s *clusterSource) CoordinatorTxn(pid int64) *txn.Metadata {
	var best *txn.Metadata
	bestEpoch := int32(-1)
	for _, b := range s.c.BrokerIDs {
		br := s.c.Broker(b)
		if br == nil {
			continue
		}
		if m, epoch := br.TxnCoordinator().ByProducerID(pid); m != nil && epoch > bestEpoch {
			best, bestEpoch = m, epoch
		}
	}
	return best
}

// HostedReplicas lists running broker b's replicas in its own order (hosted.go). The list is
// kept per broker and rebuilt only when the broker's replicas change.
func (s *clusterSource) HostedReplicas(b int32, buf []hostedReplica) []hostedReplica {
	br := s.c.Broker(b)
	if br == nil {
		return buf
	}
	ps := br.Partitions()
	if s.lists == nil {
		s.lists = map[int32]*hostedList{}
	}
	l := s.lists[b]
	if l == nil || !slices.Equal(l.parts, ps) {
		l = &hostedList{parts: slices.Clone(ps)}
		for _, p := range ps {
			l.list = append(l.list, hostedReplica{tp: p.TP(), r: liveReplica{p}, p: p})
		}
		s.lists[b] = l
	}
	return l.list
}

// hostedList is a broker's replicas as HostedReplicas last listed them.
type hostedList struct {
	parts []*broker.Partition
	list  []hostedReplica
}
