package broker

import (
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the leader's side of Fetch (Partition.fetchRecords, DelayedFetch).
// Followers read up to the LEO, consumers up to the HW (read_uncommitted) or the LSO
// (read_committed; equal to the HW while there are no transactions). A follower's fetch is
// checked against the leader-epoch cache first: when its last fetched epoch ends earlier in the
// leader's log, the answer carries no records but a DivergingEpoch, and the follower truncates.
// Only a fetch without divergence updates the follower's state, which may expand the ISR and
// advance the HW. A fetch that finds nothing waits up to MaxWait for new data.

type delayedFetch struct {
	id    int64
	from  int32
	req   *protocol.FetchRequest
	parts []*Partition // the request's partitions, resolved once (nil: not hosted)
	done  bool
}

// maxFetchBytes bounds one partition's answer (replica.fetch.max.bytes /
// max.partition.fetch.bytes).
const maxFetchBytes = 1 << 20

func (b *Broker) handleFetch(now time.Duration, from int32, m *protocol.FetchRequest) {
	// Read first: the answer carries the HW, LEO and log start as they were before this fetch moved
	// them (Partition.fetchRecords snapshots them before updateFollowerFetchState), so a follower
	// learns a HW its own fetch advanced only on its next fetch
	// (ReplicaFetcherThread.processPartitionData).
	ps := make([]*Partition, len(m.Partitions))
	for i := range m.Partitions {
		ps[i] = b.parts[m.Partitions[i].TP]
	}
	resp, ready := b.readFetch(now, m, ps)
	if m.ReplicaID >= 0 {
		for i := range m.Partitions {
			b.takeFollowerFetch(now, m, &m.Partitions[i], ps[i])
		}
	}
	if ready || m.MaxWait <= 0 {
		b.env.Send(from, resp)
		return
	}
	b.delayedSeq++
	df := &delayedFetch{id: b.delayedSeq, from: from, req: m, parts: ps}
	b.fetches[df.id] = df
	for _, p := range ps {
		if p != nil {
			p.pruneFetchWaiters()
			p.fetchWaiters = append(p.fetchWaiters, df)
		}
	}
	b.expireAt(now, now+m.MaxWait, tickDelayedFetch, df.id)
}

// fetchError checks leadership and the fetcher's epoch (Partition.fetchRecords, KIP-320).
func (b *Broker) fetchError(p *Partition, replicaID int32, currentEpoch int32) protocol.ErrorCode {
	if p == nil || !p.isLeader {
		return protocol.NOT_LEADER_OR_FOLLOWER
	}
	if currentEpoch != protocol.UnknownEpoch {
		if currentEpoch < p.leaderEpoch {
			return protocol.FENCED_LEADER_EPOCH
		}
		if currentEpoch > p.leaderEpoch {
			return protocol.UNKNOWN_LEADER_EPOCH
		}
	}
	if replicaID >= 0 && p.remote(replicaID) == nil {
		if currentEpoch != protocol.UnknownEpoch {
			return protocol.UNKNOWN_LEADER_EPOCH
		}
		return protocol.NOT_LEADER_OR_FOLLOWER
	}
	return protocol.NONE
}

// divergence is Partition.fetchRecords' lastFetchedEpoch check: the (epoch, end offset) the
// follower must truncate to, if any.
func (p *Partition) divergence(fp *protocol.FetchPartition) (protocol.EpochEndOffset, protocol.ErrorCode) {
	if fp.FetchOffset < p.log.LogStartOffset() {
		return protocol.NoDivergence, protocol.OFFSET_OUT_OF_RANGE
	}
	if fp.LastFetchedEpoch == protocol.UnknownEpoch {
		if fp.FetchOffset > p.log.LogEndOffset() {
			return protocol.NoDivergence, protocol.OFFSET_OUT_OF_RANGE
		}
		return protocol.NoDivergence, protocol.NONE
	}
	e, end := p.log.EndOffsetForEpoch(fp.LastFetchedEpoch)
	if e == protocol.UnknownEpoch && end == protocol.UnknownOffset {
		// The leader's cache is empty: nothing can diverge from an empty history.
		if fp.FetchOffset > p.log.LogEndOffset() {
			return protocol.EpochEndOffset{Epoch: protocol.UnknownEpoch, EndOffset: p.log.LogEndOffset()}, protocol.OFFSET_OUT_OF_RANGE
		}
		return protocol.NoDivergence, protocol.NONE
	}
	if e < fp.LastFetchedEpoch || end < fp.FetchOffset {
		return protocol.EpochEndOffset{Epoch: e, EndOffset: end}, protocol.NONE
	}
	return protocol.NoDivergence, protocol.NONE
}

// takeFollowerFetch applies a follower's fetch to the leader's state (Partition.fetchRecords:
// the divergence check, then updateFollowerFetchState).
func (b *Broker) takeFollowerFetch(now time.Duration, m *protocol.FetchRequest, fp *protocol.FetchPartition, p *Partition) {
	if b.fetchError(p, m.ReplicaID, fp.CurrentLeaderEpoch) != protocol.NONE {
		return
	}
	div, code := p.divergence(fp)
	if code != protocol.NONE || div.Epoch != protocol.UnknownEpoch {
		return
	}
	// KIP-903: a fetch from an older incarnation of the follower is stale.
	if reg := b.image.Brokers[m.ReplicaID]; m.ReplicaEpoch >= 0 && reg != nil && reg.Epoch > m.ReplicaEpoch {
		return
	}
	r := p.remote(m.ReplicaID)
	p.updateFollowerFetchState(now, r, fp.FetchOffset, fp.LogStartOffset, p.log.LogEndOffset(), m.ReplicaEpoch)
}

// readFetch builds the answer; ready reports whether it may be sent now (data, an error, or
// a divergence for some partition).
func (b *Broker) readFetch(now time.Duration, m *protocol.FetchRequest, ps []*Partition) (*protocol.FetchResponse, bool) {
	resp := &protocol.FetchResponse{CorrelationID: m.CorrelationID, Partitions: make([]protocol.FetchPartitionResponse, len(m.Partitions))}
	ready := false
	bytes := int64(0)
	for i := range m.Partitions {
		fp := &m.Partitions[i]
		r := &resp.Partitions[i]
		r.TP = fp.TP
		r.DivergingEpoch = protocol.NoDivergence
		r.CurrentLeader, r.CurrentLeaderEpoch = protocol.NoLeader, protocol.UnknownEpoch
		p := ps[i]
		if code := b.fetchError(p, m.ReplicaID, fp.CurrentLeaderEpoch); code != protocol.NONE {
			r.Error = code
			r.HighWatermark, r.LastStableOffset, r.LogStartOffset = -1, -1, -1
			if mp := b.image.Partition(fp.TP.Topic, fp.TP.Partition); mp != nil {
				r.CurrentLeader, r.CurrentLeaderEpoch = mp.Leader, mp.LeaderEpoch
			}
			ready = true
			continue
		}
		r.HighWatermark, r.LastStableOffset, r.LogStartOffset = p.hw, p.log.LastStableOffset(p.hw), p.log.LogStartOffset()
		r.CurrentLeader, r.CurrentLeaderEpoch = p.leader, p.leaderEpoch
		limit := p.log.LogEndOffset()
		if m.ReplicaID < 0 {
			limit = consumerLimit(p, m.IsolationLevel)
			if fp.FetchOffset < p.log.LogStartOffset() || fp.FetchOffset > p.log.LogEndOffset() {
				r.Error = protocol.OFFSET_OUT_OF_RANGE
				ready = true
				continue
			}
		} else {
			div, code := p.divergence(fp)
			if code != protocol.NONE || div.Epoch != protocol.UnknownEpoch {
				r.Error, r.DivergingEpoch = code, div
				ready = true
				continue
			}
		}
		if fp.FetchOffset < limit && !b.shouldLeaderThrottle(now, p, m.ReplicaID) { // quota.go
			r.Batches = p.log.Read(fp.FetchOffset, limit, partitionMaxBytes(m))
			b.leaderSent(now, p, m.ReplicaID, r.Batches)
			for _, bt := range r.Batches {
				bytes += bt.SizeBytes()
			}
			if m.ReplicaID < 0 && m.IsolationLevel == protocol.ReadCommitted && len(r.Batches) > 0 {
				r.AbortedTransactions = p.log.AbortedTransactions(fp.FetchOffset, r.Batches[len(r.Batches)-1].NextOffset())
			}
		}
	}
	if bytes > 0 && bytes >= int64(m.MinBytes) {
		ready = true
	}
	return resp, ready
}

// fetchReady is readFetch's readiness without building the answer: some partition has an
// error, a divergence, or data below its limit (MinBytes is at most one record here).
func (b *Broker) fetchReady(now time.Duration, m *protocol.FetchRequest, ps []*Partition) bool {
	data := false
	for i := range m.Partitions {
		fp := &m.Partitions[i]
		p := ps[i]
		if b.fetchError(p, m.ReplicaID, fp.CurrentLeaderEpoch) != protocol.NONE {
			return true
		}
		limit := p.log.LogEndOffset()
		if m.ReplicaID < 0 {
			limit = consumerLimit(p, m.IsolationLevel)
			if fp.FetchOffset < p.log.LogStartOffset() || fp.FetchOffset > p.log.LogEndOffset() {
				return true
			}
		} else if div, code := p.divergence(fp); code != protocol.NONE || div.Epoch != protocol.UnknownEpoch {
			return true
		}
		if fp.FetchOffset < limit && !b.shouldLeaderThrottle(now, p, m.ReplicaID) { // quota.go
			if m.MinBytes <= 1 {
				return true
			}
			data = true
		}
	}
	if data { // MinBytes above one record: count the bytes as the answer would
		_, ready := b.readFetch(now, m, ps)
		return ready
	}
	return false
}

// consumerLimit is the end of what a consumer may read (FetchIsolation): the high watermark
// for read_uncommitted, the last stable offset for read_committed.
func consumerLimit(p *Partition, isolation int8) int64 {
	if isolation == protocol.ReadCommitted {
		return p.log.LastStableOffset(p.hw)
	}
	return p.hw
}

// wakeFetches re-tries the fetches parked on this partition (new data, a HW move, or a
// leadership change).
func (p *Partition) wakeFetches(now time.Duration) {
	if len(p.fetchWaiters) == 0 {
		return
	}
	ws := p.fetchWaiters
	p.fetchWaiters = nil
	var kept []*delayedFetch
	for _, df := range ws {
		if df.done {
			continue
		}
		if !p.b.fetchReady(now, df.req, df.parts) {
			kept = append(kept, df)
			continue
		}
		resp, _ := p.b.readFetch(now, df.req, df.parts)
		p.b.finishFetch(df, resp)
	}
	// Waiters added while answering stay too.
	p.fetchWaiters = append(kept, p.fetchWaiters...)
}

func (b *Broker) finishFetch(df *delayedFetch, resp *protocol.FetchResponse) {
	df.done = true
	delete(b.fetches, df.id)
	b.env.Send(df.from, resp)
}

func (b *Broker) expireDelayedFetch(now time.Duration, id int64) {
	df := b.fetches[id]
	if df == nil || df.done {
		return
	}
	resp, _ := b.readFetch(now, df.req, df.parts)
	b.finishFetch(df, resp)
}

// pruneFetchWaiters drops answered fetches from the partition's list (they were answered
// through another partition of the same request).
func (p *Partition) pruneFetchWaiters() {
	if len(p.fetchWaiters) < 8 {
		return
	}
	kept := p.fetchWaiters[:0]
	for _, df := range p.fetchWaiters {
		if !df.done {
			kept = append(kept, df)
		}
	}
	clear(p.fetchWaiters[len(kept):])
	p.fetchWaiters = kept
}
