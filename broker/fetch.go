package broker

import (
	"fmt"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the leader's side of Fetch (Partition.fetchRecords, DelayedFetch).
// Followers read up to the LEO, consumers up to the HW (read_uncommitted) or the LSO
// (read_committed; equal to the HW while there are no transactions). A follower's fetch is
// checked against the leader-epoch cache first: when its last fetched epoch ends earlier in the
// leader's log, the answer carries no records but a DivergingEpoch, and the follower truncates.
// Only a fetch without divergence updates the follower's state, which may expand the ISR and
// advance the HW. A fetch that finds nothing waits up to MaxWait for new data. A fetch in an
// incremental session (KIP-227, fetchsession.go) is served over every partition of its session
// but the quiet ones, which have nothing to read, and answered with only the partitions that
// have something new; a follower's answer leaves
// the last stable offset out (ReplicaFetcherThread never reads it).

type delayedFetch struct {
	id   int64 // a session's delayedFetch is reused: id tells its fetches apart
	from int32
	req  *protocol.FetchRequest
	ctx  fetchContext // the partitions, resolved once, and the answer's buffer (fetchsession.go)
	done bool
	// reg: parked through its session's registrations (it is the session's df), not in the
	// partitions' fetchWaiters.
	reg bool
	// superseded: the session (sessionID) took a newer fetch while this one was parked; it is
	// answered INVALID_FETCH_SESSION_EPOCH (fetchSession.supersede).
	superseded bool
	sessionID  int32
}

// fetchWaiter is a delayed fetch parked on a partition: live while the fetch it was parked for
// (id) is unanswered.
type fetchWaiter struct {
	df *delayedFetch
	id int64
}

// Parking. A fetch that waits is woken by any of its partitions (DelayedFetch's watch keys).
// A session's fetch parks on the session's partitions, the same ones fetch after fetch: the
// session registers on them once (sessionParking), again only when its partitions change, and
// a partition's waiting fetches are its registered sessions' parked ones. A fetch without a
// session, or a session's fetch that must keep waiting where it is while the session moves on
// (unpark), is put on each partition's fetchWaiters instead. Either way a partition wakes its
// waiting fetches in the order they were parked, as one list of them all would.

// sessionParking registers session s on a partition: its parked fetch waits there while gen
// is the session's parkGen.
type sessionParking struct {
	s   *fetchSession
	gen uint64
}

func (w fetchWaiter) live() bool { return !w.df.done && w.df.id == w.id }

// maxFetchBytes bounds one partition's answer (replica.fetch.max.bytes /
// max.partition.fetch.bytes).
const maxFetchBytes = 1 << 20

func (b *Broker) handleFetch(now time.Duration, from int32, m *protocol.FetchRequest) {
	ctx, code := b.newFetchContext(now, m)
	if code != protocol.NONE {
		b.env.Send(from, &protocol.FetchResponse{CorrelationID: m.CorrelationID, Error: code, SessionID: m.SessionID})
		return
	}
	// Read first: the answer carries the HW, LEO and log start as they were before this fetch moved
	// them (Partition.fetchRecords snapshots them before updateFollowerFetchState), so a follower
	// learns a HW its own fetch advanced only on its next fetch
	// (ReplicaFetcherThread.processPartitionData). An incremental fetch updates the follower's
	// state for every partition of its session, the unchanged ones too.
	ready := b.readFetch(now, m, &ctx)
	if m.ReplicaID >= 0 {
		b.takeFollowerFetches(now, m, &ctx)
	}
	if ready || m.MaxWait <= 0 {
		b.sendFetch(from, &ctx)
		return
	}
	b.delayedSeq++
	s := ctx.sess
	var df *delayedFetch
	if s != nil && s.df != nil && s.df.done {
		df = s.df // the session's previous fetch was answered: its delayedFetch is free
	} else {
		df = &delayedFetch{}
		if s != nil {
			s.unpark() // its previous fetch waits on where it was parked
			s.df = df
		}
	}
	*df = delayedFetch{id: b.delayedSeq, from: from, req: m, ctx: ctx}
	if s != nil {
		df.reg = true
		s.registerParking() // ctx.parts are the session's
	} else {
		for _, p := range ctx.parts {
			if p != nil {
				p.pruneFetchWaiters()
				p.fetchWaiters = append(p.fetchWaiters, fetchWaiter{df: df, id: df.id})
			}
		}
	}
	b.expireFetchAt(now, now+m.MaxWait, df)
}

// registerParking registers the session on its partitions, unless it did since they last
// changed.
func (s *fetchSession) registerParking() {
	if s.parkReg == s.parkGen {
		return
	}
	for _, p := range s.parts {
		if p != nil {
			p.registerParking(s)
		}
	}
	s.parkReg = s.parkGen
}

// registerParking adds session s to the partition's registrations, dropping the void ones.
func (p *Partition) registerParking(s *fetchSession) {
	kept := p.parkedSessions[:0]
	for _, e := range p.parkedSessions {
		if e.live() {
			kept = append(kept, e)
		}
	}
	clear(p.parkedSessions[len(kept):])
	p.parkedSessions = append(kept, sessionParking{s: s, gen: s.parkGen})
}

// live: the registration may still hold a parked fetch (a closed session's only until its last
// fetch is answered).
func (e sessionParking) live() bool {
	if e.gen != e.s.parkGen {
		return false
	}
	return !e.s.closed || e.s.parked() != nil
}

// parked is the session's fetch parked through its registrations, if any.
func (s *fetchSession) parked() *delayedFetch {
	if df := s.df; df != nil && df.reg && !df.done {
		return df
	}
	return nil
}

// unpark moves the session's parked fetch, if any, from its registrations onto its partitions'
// fetchWaiters, where it waits as before: the session is about to park another fetch or change
// its partitions.
func (s *fetchSession) unpark() {
	df := s.parked()
	if df == nil {
		return
	}
	df.reg = false
	for _, p := range s.parts {
		if p != nil {
			p.pruneFetchWaiters()
			p.fetchWaiters = append(p.fetchWaiters, fetchWaiter{df: df, id: df.id})
		}
	}
}

// sendFetch sends the answer readFetch built, trimmed to what an incremental session must
// hear.
func (b *Broker) sendFetch(to int32, ctx *fetchContext) {
	ctx.respondable()
	b.env.Send(to, ctx.resp)
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

// takeFollowerFetches applies a follower's fetch to the leader's state, partition by partition
// (Partition.fetchRecords: the error and divergence checks, then updateFollowerFetchState).
// The checks are readFetch's, just made for the same fetch: a partition whose answer carries
// neither an error nor a divergence passes them. They are read off the answer before any
// partition's state moves.
func (b *Broker) takeFollowerFetches(now time.Duration, m *protocol.FetchRequest, ctx *fetchContext) {
	// KIP-903: a fetch from an older incarnation of the follower is stale.
	if reg := b.image.Brokers[m.ReplicaID]; m.ReplicaEpoch >= 0 && reg != nil && reg.Epoch > m.ReplicaEpoch {
		return
	}
	// The answers readFetch wrote, in the order it read the partitions: every partition, or
	// the session's partitions that are not quiet (fetchsession.go).
	vis := ctx.toRead()
	if s := ctx.sess; s != nil && vis != nil && !ctx.full && m.ReplicaEpoch == s.replicaEpoch {
		// The quiet entries' follower states take this fetch lazily (fetchSession.settle).
		s.lazyAt, s.lazySeq = now, s.lazySeq+1
		if verifyQuiet {
			for i := range s.sent {
				if r := ctx.quiet(i); r != nil && (r.leo != ctx.fetch[i].FetchOffset || r.logStart != ctx.fetch[i].LogStartOffset || r.brokerEpoch != m.ReplicaEpoch) {
					panic(fmt.Sprintf("broker: a quiet entry's follower state is not its fetch's (%s)", ctx.fetch[i].TP))
				}
			}
		}
		for k, i := range vis {
			r := &ctx.resp.Partitions[k]
			if r.Error == protocol.NONE && r.DivergingEpoch.Epoch == protocol.UnknownEpoch {
				p, fp := ctx.parts[i], &ctx.fetch[i]
				p.updateFollowerFetchState(now, p.remote(m.ReplicaID), fp.FetchOffset, fp.LogStartOffset, p.log.LogEndOffset(), m.ReplicaEpoch)
			}
		}
		return
	}
	if s := ctx.sess; s != nil {
		s.replicaEpoch = m.ReplicaEpoch
	}
	k := 0
	for i := range ctx.fetch {
		if r := ctx.quiet(i); r != nil {
			takeQuietFetch(now, m, &ctx.fetch[i], r)
			continue
		}
		if vis != nil && (k >= len(vis) || int(vis[k]) != i) {
			panic("broker: a fetch session's partitions to read are not in session order")
		}
		r := &ctx.resp.Partitions[k]
		k++
		if r.Error == protocol.NONE && r.DivergingEpoch.Epoch == protocol.UnknownEpoch {
			p, fp := ctx.parts[i], &ctx.fetch[i]
			p.updateFollowerFetchState(now, p.remote(m.ReplicaID), fp.FetchOffset, fp.LogStartOffset, p.log.LogEndOffset(), m.ReplicaEpoch)
		}
	}
}

// readFetch builds the answer to every partition of the fetch into ctx.resp; ready reports
// whether it may be sent now (data, an error, or a divergence for some partition).
func (b *Broker) readFetch(now time.Duration, m *protocol.FetchRequest, ctx *fetchContext) bool {
	ready, _ := b.readFetchData(now, m, ctx)
	return ready
}

// readFetchData is readFetch, also reporting whether some partition had data below its limit
// to read (fetchReady's test of data).
func (b *Broker) readFetchData(now time.Duration, m *protocol.FetchRequest, ctx *fetchContext) (ready, data bool) {
	resp := ctx.resp
	// Every answer below is written whole over the last response's; only a shorter response
	// clears the rest, so that their batches are not kept alive.
	prev := len(resp.Partitions)
	resp.CorrelationID, resp.Error, resp.SessionID, resp.Partitions = m.CorrelationID, protocol.NONE, protocol.InvalidSessionID, resp.Partitions[:0]
	if ctx.sess != nil {
		resp.SessionID = ctx.sess.id
	}
	bytes := int64(0)
	ctx.beginRead()
	vis := ctx.toRead() // nil: every partition; else those not quiet (fetchsession.go)
	n := len(ctx.fetch)
	if vis != nil {
		n = len(vis)
	}
	for k := 0; k < n; k++ {
		i := k
		if vis != nil {
			i = int(vis[k])
		}
		fp := &ctx.fetch[i]
		ctx.reading(i)
		resp.Partitions = append(resp.Partitions, protocol.FetchPartitionResponse{
			TP: fp.TP, DivergingEpoch: protocol.NoDivergence, CurrentLeader: protocol.NoLeader, CurrentLeaderEpoch: protocol.UnknownEpoch,
		})
		r := &resp.Partitions[len(resp.Partitions)-1]
		p := ctx.parts[i]
		if code := b.fetchError(p, m.ReplicaID, fp.CurrentLeaderEpoch); code != protocol.NONE {
			r.Error = code
			r.HighWatermark, r.LastStableOffset, r.LogStartOffset = -1, -1, -1
			if mp := b.image.Partition(fp.TP.Topic, fp.TP.Partition); mp != nil {
				r.CurrentLeader, r.CurrentLeaderEpoch = mp.Leader, mp.LeaderEpoch
			}
			ready = true
			continue
		}
		// A follower's answer leaves the last stable offset out (-1): ReplicaFetcherThread never
		// reads it, and working it out walks the log's producers.
		r.HighWatermark, r.LastStableOffset, r.LogStartOffset = p.hw, protocol.UnknownOffset, p.log.LogStartOffset()
		if m.ReplicaID < 0 {
			r.LastStableOffset = p.log.LastStableOffset(p.hw)
		}
		r.CurrentLeader, r.CurrentLeaderEpoch = p.leader, p.leaderEpoch
		limit := p.log.LogEndOffset()
		if m.ReplicaID < 0 {
			limit = b.fetchLimit(p, m.IsolationLevel)
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
			data = true
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
	if n := len(resp.Partitions); n < prev {
		clear(resp.Partitions[n:prev])
	}
	if bytes > 0 && bytes >= int64(m.MinBytes) {
		ready = true
	}
	return ready, data
}

// fetchReady is readFetch's readiness without building the answer: some partition has an
// error, a divergence, or data below its limit (MinBytes is at most one record here).
func (b *Broker) fetchReady(now time.Duration, m *protocol.FetchRequest, ctx *fetchContext) bool {
	data := false
	vis := ctx.toRead()
	n := len(ctx.fetch)
	if vis != nil {
		n = len(vis)
	}
	for k := 0; k < n; k++ {
		i := k
		if vis != nil {
			i = int(vis[k])
		}
		fp := &ctx.fetch[i]
		p := ctx.parts[i]
		if b.fetchError(p, m.ReplicaID, fp.CurrentLeaderEpoch) != protocol.NONE {
			return true
		}
		limit := p.log.LogEndOffset()
		if m.ReplicaID < 0 {
			limit = b.fetchLimit(p, m.IsolationLevel)
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
		return b.readFetch(now, m, ctx)
	}
	return false
}

// consumerLimit is the end of what a consumer may read (FetchIsolation): the high watermark
// for read_uncommitted, the last stable offset for read_committed.
func consumerLimit(p *Partition, isolation int8) int64 {
	if isolation == protocol.ReadCommitted && !p.b.cfg.Bugs.ReadCommittedToHW { // the planted bug: up to the HW
		return p.log.LastStableOffset(p.hw)
	}
	return p.hw
}

// fetchLimit is consumerLimit, or the high watermark for both with the planted bug
// ReadCommittedToHW.
func (b *Broker) fetchLimit(p *Partition, isolation int8) int64 {
	if b.cfg.Bugs.ReadCommittedToHW {
		return p.hw
	}
	return consumerLimit(p, isolation)
}

// wakeFetches re-tries the fetches parked on this partition (new data, a HW move, or a
// leadership change), in the order they were parked.
func (p *Partition) wakeFetches(now time.Duration) {
	p.unquiet() // fetchsession.go
	if len(p.fetchWaiters) == 0 && len(p.parkedSessions) == 0 {
		return
	}
	b := p.b
	ws := b.waking[:0]
	b.waking = nil // a nested wake (none today) takes its own
	for _, w := range p.fetchWaiters {
		if w.live() {
			ws = append(ws, w)
		}
	}
	for _, e := range p.parkedSessions {
		if e.gen == e.s.parkGen {
			if df := e.s.parked(); df != nil {
				ws = append(ws, fetchWaiter{df: df, id: df.id})
			}
		}
	}
	for i := 1; i < len(ws); i++ { // parking order: ids grow
		for j := i; j > 0 && ws[j].id < ws[j-1].id; j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
	for _, w := range ws {
		if !w.live() {
			continue // answered through an earlier entry of the same fetch
		}
		df := w.df
		if df.req.MinBytes <= 1 && !df.superseded {
			// Read at once: fetchReady says ready exactly when the read finds an error, a
			// divergence or data, and the read it would be followed by is this one. A read that is
			// not ready leaves only the parked fetch's own answer buffer written.
			if ready, data := b.readFetchData(now, df.req, &df.ctx); ready || data {
				b.finishFetch(df)
			}
			continue
		}
		if !b.fetchReady(now, df.req, &df.ctx) {
			continue
		}
		if !df.superseded {
			b.readFetch(now, df.req, &df.ctx)
		}
		b.finishFetch(df)
	}
	if len(p.fetchWaiters) > 0 {
		kept := p.fetchWaiters[:0]
		for _, w := range p.fetchWaiters {
			if w.live() {
				kept = append(kept, w)
			}
		}
		clear(p.fetchWaiters[len(kept):])
		p.fetchWaiters = kept
	}
	clear(ws)
	b.waking = ws[:0]
}

func (b *Broker) finishFetch(df *delayedFetch) {
	df.done = true
	if df.superseded { // IncrementalFetchContext.updateAndGenerateResponseData on a session moved on
		b.env.Send(df.from, &protocol.FetchResponse{CorrelationID: df.req.CorrelationID, Error: protocol.INVALID_FETCH_SESSION_EPOCH,
			SessionID: df.sessionID})
		return
	}
	b.sendFetch(df.from, &df.ctx)
}

// expireDelayedFetch answers the parked fetch id of df at its deadline, unless it was answered.
func (b *Broker) expireDelayedFetch(now time.Duration, df *delayedFetch, id int64) {
	if df.done || df.id != id {
		return
	}
	if !df.superseded {
		b.readFetch(now, df.req, &df.ctx)
	}
	b.finishFetch(df)
}

// pruneFetchWaiters drops answered fetches from the partition's list (they were answered
// through another partition of the same request).
func (p *Partition) pruneFetchWaiters() {
	if len(p.fetchWaiters) < 8 {
		return
	}
	kept := p.fetchWaiters[:0]
	for _, w := range p.fetchWaiters {
		if w.live() {
			kept = append(kept, w)
		}
	}
	clear(p.fetchWaiters[len(kept):])
	p.fetchWaiters = kept
}
