package broker

import (
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the leader's incremental fetch sessions (KIP-227: FetchManager.newContext,
// FetchSession, FetchSessionCache). A full fetch with SessionEpoch INITIAL_EPOCH opens a session
// (closing the one it names) holding every partition's fetch state (CachedPartition); an
// incremental fetch carries the session's next epoch, the partitions added or changed, and
// the partitions forgotten, and is served over all the session's partitions. Its answer
// carries only the partitions with records, an error, a divergence, or a high watermark, last
// stable offset or log start offset other than the session last sent
// (CachedPartition.maybeUpdateResponseData). A session belongs to the replica that opened it,
// and its id is unlikely to name a session of an earlier incarnation of the broker (Kafka
// draws ids at random; here a count mixed with the time of the incarnation's first session,
// which leaves the broker's random stream alone): a fetch naming a session lost in a restart,
// or another replica's, gets FETCH_SESSION_ID_NOT_FOUND. The cache
// holds max.incremental.fetch.session.cache.slots sessions; when it is full, the least recently
// used session idle for min.incremental.fetch.session.eviction.ms makes room
// (FetchSessionCache.tryEvict, without its privileged/unprivileged split), else the fetch is
// served without a session. Not modelled: responded partitions moving to the end of the
// session's order (the fairness of FetchSession's ImplicitLinkedHashCollection).
//
// A session owns its response: the fetcher sends epoch n+1 only after it read the answer to
// epoch n, so that answer's buffer is free again when epoch n+1 arrives. A fetcher that gives a
// fetch up opens a new session, leaving the old one's buffers to whatever still holds them.

const (
	fetchSessionCacheSlots    = 1000              // max.incremental.fetch.session.cache.slots
	fetchSessionEvictionAfter = 120 * time.Second // min.incremental.fetch.session.eviction.ms
)

// fetchSessionCache is FetchSessionCache.
type fetchSessionCache struct {
	sessions map[int32]*fetchSession
	base     uint64 // the time of the first session (ids differ between incarnations)
	count    uint64
}

// fetchSession is FetchSession: the fetch state of the session's partitions, sorted by
// topic-partition.
type fetchSession struct {
	id        int32
	replicaID int32
	epoch     int32 // the epoch the next fetch must carry
	lastUsed  time.Duration
	fetch     []protocol.FetchPartition // CachedPartition's request data
	parts     []*Partition              // fetch's partitions, resolved at each fetch (nil: not hosted)
	sent      []sentFetchState          // CachedPartition's response data, as last sent
	resp      *protocol.FetchResponse   // the session's answer buffer
	df        *delayedFetch             // the session's parked fetch, reused once answered
}

// sentFetchState is what the session last told the fetcher of a partition (CachedPartition's
// highWatermark and localLogStartOffset, and the last stable offset); hw is -1 when the
// partition must be answered next time.
type sentFetchState struct{ hw, lso, logStart int64 }

// fetchContext is one fetch as the leader serves it (FetchContext): the partitions to read,
// their resolved partitions, the session (nil: sessionless), and the answer's buffer.
type fetchContext struct {
	fetch []protocol.FetchPartition
	parts []*Partition
	sess  *fetchSession
	full  bool // answer every partition (FullFetchContext)
	resp  *protocol.FetchResponse
}

// newFetchContext is FetchManager.newContext: it opens, updates or closes the fetch's session.
// A non-NONE code is the fetch's top-level error.
func (b *Broker) newFetchContext(now time.Duration, m *protocol.FetchRequest) (fetchContext, protocol.ErrorCode) {
	c := &b.fetchSessions
	switch m.SessionEpoch {
	case protocol.FinalEpoch, protocol.InitialEpoch:
		if m.SessionID != protocol.InvalidSessionID {
			c.remove(m.SessionID, m.ReplicaID)
		}
		if m.SessionEpoch == protocol.InitialEpoch {
			if s := c.create(now, m.ReplicaID); s != nil {
				s.fetch = append(s.fetch[:0], m.Partitions...)
				if !slices.IsSortedFunc(s.fetch, compareFetchTP) {
					slices.SortStableFunc(s.fetch, compareFetchTP)
				}
				s.sent = slices.Grow(s.sent[:0], len(s.fetch))[:len(s.fetch)]
				for i := range s.sent {
					s.sent[i] = sentFetchState{hw: -1}
				}
				s.parts = b.resolveFetch(s.parts[:0], s.fetch)
				return fetchContext{fetch: s.fetch, parts: s.parts, sess: s, full: true, resp: s.resp}, protocol.NONE
			}
		}
		ps := b.resolveFetch(make([]*Partition, 0, len(m.Partitions)), m.Partitions)
		return fetchContext{fetch: m.Partitions, parts: ps, full: true, resp: &protocol.FetchResponse{}}, protocol.NONE
	}
	s := c.sessions[m.SessionID]
	if s == nil || s.replicaID != m.ReplicaID {
		return fetchContext{}, protocol.FETCH_SESSION_ID_NOT_FOUND
	}
	if s.epoch != m.SessionEpoch {
		return fetchContext{}, protocol.INVALID_FETCH_SESSION_EPOCH
	}
	s.epoch = protocol.NextSessionEpoch(s.epoch)
	s.lastUsed = now
	s.update(m)
	s.parts = b.resolveFetch(s.parts[:0], s.fetch)
	return fetchContext{fetch: s.fetch, parts: s.parts, sess: s, resp: s.resp}, protocol.NONE
}

// update is FetchSession.update: forgotten partitions leave, new ones join (to be answered),
// changed ones take the fetch's state.
func (s *fetchSession) update(m *protocol.FetchRequest) {
	for _, tp := range m.Forgotten {
		if i, ok := s.find(tp); ok {
			s.fetch = slices.Delete(s.fetch, i, i+1)
			s.sent = slices.Delete(s.sent, i, i+1)
		}
	}
	for _, fp := range m.Partitions {
		i, ok := s.find(fp.TP)
		if ok {
			s.fetch[i] = fp // CachedPartition.updateRequestParams
			continue
		}
		s.fetch = slices.Insert(s.fetch, i, fp)
		s.sent = slices.Insert(s.sent, i, sentFetchState{hw: -1})
	}
}

func (s *fetchSession) find(tp protocol.TopicPartition) (int, bool) {
	return slices.BinarySearchFunc(s.fetch, tp, func(fp protocol.FetchPartition, tp protocol.TopicPartition) int { return compareTP(fp.TP, tp) })
}

func compareFetchTP(a, b protocol.FetchPartition) int { return compareTP(a.TP, b.TP) }

// resolveFetch appends the partition of every fetched topic-partition (nil: not hosted).
func (b *Broker) resolveFetch(ps []*Partition, fetch []protocol.FetchPartition) []*Partition {
	for i := range fetch {
		ps = append(ps, b.parts[fetch[i].TP])
	}
	return ps
}

// create opens a session for replicaID, evicting an idle one if the cache is full; nil when
// there is no room.
func (c *fetchSessionCache) create(now time.Duration, replicaID int32) *fetchSession {
	if c.sessions == nil {
		c.sessions = map[int32]*fetchSession{}
		c.base = uint64(now)
	}
	if len(c.sessions) >= fetchSessionCacheSlots && !c.evict(now) {
		return nil
	}
	id := protocol.InvalidSessionID
	for id == protocol.InvalidSessionID || c.sessions[id] != nil {
		c.count++
		id = int32(mix64(c.base+c.count) & 0x7fffffff)
	}
	s := &fetchSession{id: id, replicaID: replicaID, epoch: protocol.NextSessionEpoch(protocol.InitialEpoch), lastUsed: now,
		resp: &protocol.FetchResponse{}}
	c.sessions[s.id] = s
	return s
}

// mix64 is SplitMix64's finalizer: spreads consecutive counts over the id space.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// evict is FetchSessionCache.tryEvict: the least recently used session idle long enough goes.
func (c *fetchSessionCache) evict(now time.Duration) bool {
	var victim *fetchSession
	for _, s := range c.sessions { // the minimum of (lastUsed, id) is unique: order does not leak
		if now-s.lastUsed < fetchSessionEvictionAfter {
			continue
		}
		if victim == nil || s.lastUsed < victim.lastUsed || s.lastUsed == victim.lastUsed && s.id < victim.id {
			victim = s
		}
	}
	if victim == nil {
		return false
	}
	delete(c.sessions, victim.id)
	return true
}

func (c *fetchSessionCache) remove(id, replicaID int32) {
	if s := c.sessions[id]; s != nil && s.replicaID == replicaID {
		delete(c.sessions, id)
	}
}

// respondable trims the answer of an incremental session to the partitions with something
// new, and records what the answer tells the fetcher (CachedPartition.maybeUpdateResponseData).
func (ctx *fetchContext) respondable() {
	s := ctx.sess
	if s == nil {
		return
	}
	resp := ctx.resp
	kept := resp.Partitions[:0]
	for i := range resp.Partitions {
		r := &resp.Partitions[i]
		st := &s.sent[i]
		must := len(r.Batches) > 0 || r.Error != protocol.NONE || r.DivergingEpoch.Epoch != protocol.UnknownEpoch ||
			st.hw != r.HighWatermark || st.lso != r.LastStableOffset || st.logStart != r.LogStartOffset
		st.hw, st.lso, st.logStart = r.HighWatermark, r.LastStableOffset, r.LogStartOffset
		if r.Error != protocol.NONE {
			st.hw = -1 // answered again once the error goes away
		}
		if must || ctx.full {
			kept = append(kept, *r)
		}
	}
	clear(resp.Partitions[len(kept):])
	resp.Partitions = kept
}
