package broker

import (
	"fmt"
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
// A follower's session mostly holds quiet partitions: the follower has all of the leader's
// log, the HW equals the LEO, and nothing changed since the last answer (the classroom's 50
// partitions of __consumer_offsets). Kafka reads each of them at every fetch
// (IncrementalFetchContext walks the whole session) and leaves them out of the answer; here the
// answer marks such a partition quiet in the session, the partition tells its sessions when
// anything a fetch reads changes (unquiet), and a fetch skips the quiet ones: it only refreshes
// their follower's fetch time and caught-up time, all that reading them and
// Partition.updateFollowerFetchState would change. The answers, the follower states and the
// ISR are the same as walking them all (TestQuietPartitionsAnswerAsRead checks it). A
// consumer's session is the same: a partition it has read to the end of what it may read (the
// HW, or the last stable offset read_committed), answered with what it last heard, is quiet
// until that changes; a consumer of 30,000 partitions of which a few changed since its last
// fetch reads those few.
//
// A session owns its response: the fetcher sends epoch n+1 only after it read the answer to
// epoch n, so that answer's buffer is free again when epoch n+1 arrives. A fetcher that gives a
// fetch up opens a new session, leaving the old one's buffers to whatever still holds them. A
// client that sends epoch n+1 while the fetch of epoch n is still parked (a misbehaving one, or
// pipelined requests through the gateway) moves the session's epoch on under it: Kafka answers
// the older fetch, when it completes, INVALID_FETCH_SESSION_EPOCH without partitions
// (IncrementalFetchContext.updateAndGenerateResponseData checks the session's epoch). Here the
// older fetch leaves the session (supersede) with its own copy of the partitions it waits on and
// is answered so; the session's buffers go to the newer fetch.

const (
	fetchSessionCacheSlots    = 1000              // max.incremental.fetch.session.cache.slots
	fetchSessionEvictionAfter = 120 * time.Second // min.incremental.fetch.session.eviction.ms
)

// fetchSessionCache is FetchSessionCache.
type fetchSessionCache struct {
	sessions map[int32]*fetchSession
	// byReplica is each follower's last session (by broker id), looked at before the map: a
	// hundred brokers' caches of a hundred sessions each cost a cache miss or two a fetch.
	byReplica []*fetchSession
	base      uint64 // the time of the first session (ids differ between incarnations)
	count     uint64
	partsGen  uint64 // counts the broker's replicas opened and deleted (partsChanged)
}

// partsChanged says that the broker opened or deleted a replica: sessions resolve their
// partitions again.
func (c *fetchSessionCache) partsChanged() { c.partsGen++ }

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
	answered  []int32                   // the partitions (indexes into fetch) resp holds, in order
	quietable bool                      // a session without a planted HW bug (quiet)
	isolation int8                      // a consumer's isolation level, as its quiet marks were made
	partsGen  uint64                    // the cache's partsGen when parts was resolved
	layout    uint64                    // counts changes of the session's partitions (watches)
	active    []int32                   // the partitions that are not quiet (indexes into fetch)
	activeOld bool                      // the partitions changed since active was built, or many quiet marks
	flips     []int32                   // the entries whose quiet mark changed since active was built
	spare     []int32                   // active's second buffer
	lastAt    []int32                   // where update found the last fetch's partitions (fetch after fetch, often the same)
	parkGen   uint64                    // counts changes of parts: older registrations are void (fetch.go)
	parkReg   uint64                    // the parkGen the session registered on parts in
	closed    bool                      // removed from the cache
	// A follower's fetch leaves its quiet entries' follower states alone (lazy) and counts
	// itself here: lazyAt is the time of the last such fetch, lazySeq their count. An entry
	// applies them (settle) when its quiet mark goes, or the session's partitions move.
	lazyAt       time.Duration
	lazySeq      uint64
	replicaEpoch int64 // the follower's broker epoch in its last fetch the session took
}

// sentFetchState is what the session last told the fetcher of a partition (CachedPartition's
// highWatermark and localLogStartOffset, and the last stable offset); hw is -1 when the
// partition must be answered next time. quiet: the partition needs no reading at the next
// fetch (r is the follower's state at the leader, epoch the leader epoch it was read in);
// watcher is the partition whose watches name this entry.
type sentFetchState struct {
	hw, lso, logStart int64
	p, watcher        *Partition
	r                 *remoteReplica
	epoch             int32
	quiet             bool
	seq               uint64 // the session's lazySeq the follower state r has taken
}

// settle applies the session's lazy fetches since the entry's follower state last took them
// (takeQuietFetch's time updates: its other fields are those of the fetch already, quietNow).
func (s *fetchSession) settle(st *sentFetchState) {
	if st.quiet && st.r != nil && st.seq != s.lazySeq {
		st.r.lastCaughtUp = max(st.r.lastCaughtUp, s.lazyAt)
		st.r.lastFetchTime = max(st.r.lastFetchTime, s.lazyAt)
		st.seq = s.lazySeq
	}
}

// settleAll settles every entry.
func (s *fetchSession) settleAll() {
	for i := range s.sent {
		s.settle(&s.sent[i])
	}
}

// sessionWatch names a partition's entry in a session (its index in the session's layout).
type sessionWatch struct {
	s      *fetchSession
	layout uint64
	i      int32
}

// unquiet tells the sessions holding p quiet that something a fetch reads of it may have
// changed: its log (an append), its HW, log start offset, leadership, ISR or replicas. It is
// called where those change, before anything else can answer a parked fetch
// (Partition.maybeIncrementHW, which every leader append calls at once; wakeFetches; updateIsr;
// cleanUp).
func (p *Partition) unquiet() {
	if !p.quietMarked {
		return // no session marked it quiet since the last unquiet
	}
	p.quietMarked = false
	for _, w := range p.sessionWatches {
		if w.s.layout != w.layout {
			continue // the entry moved or the session is gone
		}
		if st := &w.s.sent[w.i]; st.quiet {
			w.s.settle(st)
			st.quiet = false
			w.s.flip(w.i)
		}
	}
}

// watch has p tell session s of its changes (entry i of the current layout), dropping the
// watches of entries that no longer exist.
func (p *Partition) watch(s *fetchSession, i int) {
	kept := p.sessionWatches[:0]
	for _, w := range p.sessionWatches {
		if w.s.layout == w.layout && w.s.sent[w.i].p == p {
			kept = append(kept, w)
		}
	}
	clear(p.sessionWatches[len(kept):])
	p.sessionWatches = append(kept, sessionWatch{s: s, layout: s.layout, i: int32(i)})
}

// relayout forgets every quiet mark and watch: the session's partitions moved.
func (s *fetchSession) relayout() {
	s.layout++
	s.activeOld = true
	s.settleAll()
	for i := range s.sent {
		s.sent[i].quiet, s.sent[i].watcher = false, nil
	}
}

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
				s.parts, s.partsGen = b.resolveFetch(s.parts[:0], s.fetch), c.partsGen
				s.quietable, s.isolation = !b.cfg.Bugs.HWPastLEO && !b.cfg.Bugs.HWRegress, m.IsolationLevel
				return fetchContext{fetch: s.fetch, parts: s.parts, sess: s, full: true, resp: s.resp}, protocol.NONE
			}
		}
		ps := b.resolveFetch(make([]*Partition, 0, len(m.Partitions)), m.Partitions)
		return fetchContext{fetch: m.Partitions, parts: ps, full: true, resp: &protocol.FetchResponse{}}, protocol.NONE
	}
	s := c.lookup(m.SessionID, m.ReplicaID)
	if s == nil || s.replicaID != m.ReplicaID {
		return fetchContext{}, protocol.FETCH_SESSION_ID_NOT_FOUND
	}
	if s.epoch != m.SessionEpoch {
		return fetchContext{}, protocol.INVALID_FETCH_SESSION_EPOCH
	}
	s.supersede()
	if len(m.Forgotten) > 0 || s.partsGen != c.partsGen || m.IsolationLevel != s.isolation {
		s.settleAll() // the entries may move or lose their marks
	}
	s.epoch = protocol.NextSessionEpoch(s.epoch)
	s.lastUsed = now
	changed := s.update(m)
	if m.IsolationLevel != s.isolation { // a consumer's quiet marks hold for one isolation level
		s.isolation = m.IsolationLevel
		changed = true
	}
	if changed {
		s.relayout()
	}
	if changed || s.partsGen != c.partsGen {
		s.unpark() // (none: supersede detached it) a fetch parked on the partitions resolved before waits there (fetch.go)
		s.parkGen++
		s.parts, s.partsGen = b.resolveFetch(s.parts[:0], s.fetch), c.partsGen
		s.activeOld = true
	}
	return fetchContext{fetch: s.fetch, parts: s.parts, sess: s, resp: s.resp}, protocol.NONE
}

// supersede detaches the session's unanswered fetch, if any, from the session: a newer fetch
// moves the session's epoch on. The older fetch keeps waiting on the partitions it waited on
// (DelayedFetch's watch keys are its own request's), over its own copies of them and its own
// answer buffer, and is answered INVALID_FETCH_SESSION_EPOCH when it completes or expires
// (IncrementalFetchContext.updateAndGenerateResponseData: "Possible duplicate request").
func (s *fetchSession) supersede() {
	df := s.df
	if df == nil || df.done {
		return
	}
	s.unpark() // onto its partitions' fetchWaiters, if it waited through the session's registrations
	df.ctx = fetchContext{fetch: slices.Clone(df.ctx.fetch), parts: slices.Clone(df.ctx.parts), full: df.ctx.full,
		resp: &protocol.FetchResponse{}}
	df.superseded, df.sessionID = true, s.id
	s.df = nil
}

// update is FetchSession.update: forgotten partitions leave, new ones join (to be answered),
// changed ones take the fetch's state. It reports whether the session's partitions changed.
func (s *fetchSession) update(m *protocol.FetchRequest) bool {
	changed := false
	for _, tp := range m.Forgotten {
		if i, ok := s.find(tp); ok {
			s.settle(&s.sent[i])
			s.fetch = slices.Delete(s.fetch, i, i+1)
			s.sent = slices.Delete(s.sent, i, i+1)
			changed = true
		}
	}
	hint := 0 // the partitions come in the session's order, often one after another
	at := s.lastAt[:0]
	for j := range m.Partitions {
		fp := &m.Partitions[j]
		i, ok := hint, hint < len(s.fetch) && s.fetch[hint].TP == fp.TP
		if !ok && j < len(s.lastAt) { // the fetch changes the partitions the last one changed
			if c := int(s.lastAt[j]); c < len(s.fetch) && s.fetch[c].TP == fp.TP {
				i, ok = c, true
			}
		}
		if !ok {
			i, ok = s.find(fp.TP)
		}
		hint = i + 1
		at = append(at, int32(i))
		if ok {
			s.settle(&s.sent[i])
			s.fetch[i] = *fp // CachedPartition.updateRequestParams
			s.sent[i].quiet = false
			s.flip(int32(i))
			continue
		}
		s.fetch = slices.Insert(s.fetch, i, *fp)
		s.sent = slices.Insert(s.sent, i, sentFetchState{hw: -1})
		changed = true
	}
	s.lastAt = at
	return changed
}

func (s *fetchSession) find(tp protocol.TopicPartition) (int, bool) {
	lo, hi := 0, len(s.fetch)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if lessTP(s.fetch[m].TP, tp) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.fetch) && s.fetch[lo].TP == tp
}

// lessTP orders topic-partitions as compareTP does, for the binary searches of the fetch path
// (slices.BinarySearchFunc's call per step costs more than the comparison).
func lessTP(a, b protocol.TopicPartition) bool {
	if a.Topic == b.Topic {
		return a.Partition < b.Partition
	}
	return a.Topic < b.Topic
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
		resp: &protocol.FetchResponse{}, parkGen: 1}
	c.sessions[s.id] = s
	if replicaID >= 0 && replicaID < fetcherTableMax {
		if int(replicaID) >= len(c.byReplica) {
			c.byReplica = append(c.byReplica, make([]*fetchSession, int(replicaID)+1-len(c.byReplica))...)
		}
		if old := c.byReplica[replicaID]; old != nil {
			old.settleAll() // the follower moved on: its old session fetches no more
		}
		c.byReplica[replicaID] = s
	}
	return s
}

// lookup is c.sessions[id], tried first as the last session of replica.
func (c *fetchSessionCache) lookup(id, replica int32) *fetchSession {
	if uint32(replica) < uint32(len(c.byReplica)) {
		if s := c.byReplica[replica]; s != nil && s.id == id && !s.closed {
			return s
		}
	}
	return c.sessions[id]
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
	victim.settleAll()
	victim.layout++ // its watches are void
	victim.closed = true
	delete(c.sessions, victim.id)
	return true
}

func (c *fetchSessionCache) remove(id, replicaID int32) {
	if s := c.sessions[id]; s != nil && s.replicaID == replicaID {
		s.settleAll()
		s.layout++ // its watches are void
		s.closed = true
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
	for k := range resp.Partitions {
		r := &resp.Partitions[k]
		i := s.answered[k]
		st := &s.sent[i]
		must := len(r.Batches) > 0 || r.Error != protocol.NONE || r.DivergingEpoch.Epoch != protocol.UnknownEpoch ||
			st.hw != r.HighWatermark || st.lso != r.LastStableOffset || st.logStart != r.LogStartOffset
		st.hw, st.lso, st.logStart = r.HighWatermark, r.LastStableOffset, r.LogStartOffset
		was := st.quiet && st.p == ctx.parts[i]
		s.settle(st)
		st.quiet = false
		if s.quietable && len(r.Batches) == 0 && r.Error == protocol.NONE && r.DivergingEpoch.Epoch == protocol.UnknownEpoch {
			s.markQuiet(int(i), ctx.parts[i], &ctx.fetch[i], r.CurrentLeaderEpoch)
		}
		if st.quiet != was { // (markQuiet leaves st.p the partition)
			s.flip(i)
		}
		if r.Error != protocol.NONE {
			st.hw = -1 // answered again once the error goes away
		}
		if must || ctx.full {
			if len(kept) == k {
				kept = kept[:k+1] // r is in place already
			} else {
				kept = append(kept, *r)
			}
		}
	}
	clear(resp.Partitions[len(kept):])
	resp.Partitions = kept
}

// beginRead starts an answer: it empties the list of the partitions it holds.
func (ctx *fetchContext) beginRead() {
	if ctx.sess != nil {
		ctx.sess.answered = ctx.sess.answered[:0]
	}
}

// reading notes that the answer's next partition is the fetch's i-th.
func (ctx *fetchContext) reading(i int) {
	if ctx.sess != nil {
		ctx.sess.answered = append(ctx.sess.answered, int32(i))
	}
}

// markQuiet marks the session's i-th partition quiet if it is so now, after its answer
// (read in leader epoch epoch, without an error, a divergence or records): the leader still
// leads it in that epoch, the follower's fetch offset is the LEO and the HW both, the HW and log
// start offset are those just sent, and the follower is in the ISR. Fetching it again would
// read no records, find no error and no divergence (the leader's epoch cache moves only with
// its LEO, its log start or a new epoch), send nothing, and Partition.updateFollowerFetchState
// would expand no ISR and move no HW (already the LEO): only the follower's fetch times would
// move (takeQuietFetch). It stays quiet until the partition changes (unquiet) or the fetch of it
// does (update).
func (s *fetchSession) markQuiet(i int, p *Partition, fp *protocol.FetchPartition, epoch int32) {
	st := &s.sent[i]
	st.p, st.epoch = p, epoch
	r, ok := s.quietNow(st, fp)
	if !ok {
		return
	}
	st.r, st.quiet, st.seq = r, true, s.lazySeq
	p.quietMarked = true
	if st.watcher != p {
		p.watch(s, i)
		st.watcher = p
	}
}

// quietNow is markQuiet's test: whether the entry is quiet now, and the follower's state at the
// leader (nil for a consumer).
func (s *fetchSession) quietNow(st *sentFetchState, fp *protocol.FetchPartition) (*remoteReplica, bool) {
	p := st.p
	if !p.isLeader || p.leaderEpoch != st.epoch || p.hw != st.hw || p.log.LogStartOffset() != st.logStart {
		return nil, false
	}
	if s.replicaID < 0 {
		// A consumer at the end of what it may read (the HW, or the LSO read_committed), with the
		// last stable offset just sent: a read would find no records, no error, nothing to send.
		return nil, fp.FetchOffset == p.b.fetchLimit(p, s.isolation) && p.log.LastStableOffset(p.hw) == st.lso
	}
	if p.hw != fp.FetchOffset || p.log.LogEndOffset() != p.hw || !slices.Contains(p.isr, s.replicaID) {
		return nil, false
	}
	r := p.remote(s.replicaID)
	// The follower's state is the fetch's already, but for its times (settle).
	return r, r != nil && r.leo == fp.FetchOffset && r.logStart == fp.LogStartOffset && r.lastFetchLeaderLEO == fp.FetchOffset &&
		r.brokerEpoch == s.replicaEpoch
}

// verifyQuiet makes every use of a quiet mark check it against the leader's state: a change
// that did not call unquiet panics (tests).
var verifyQuiet = false

// quiet returns the follower's state at the leader when the fetch's i-th partition is quiet
// (markQuiet), nil when it must be read.
func (ctx *fetchContext) quiet(i int) *remoteReplica {
	if s := ctx.sess; s != nil && !ctx.full {
		if st := &s.sent[i]; st.quiet && st.p == ctx.parts[i] {
			return st.r // verifyQuiet checks it in toRead, which every fetch calls first
		}
	}
	return nil
}

// toRead lists the partitions a read of the fetch visits, in order: those of an incremental
// follower session that are not quiet; nil: every partition.
func (ctx *fetchContext) toRead() []int32 {
	s := ctx.sess
	if s == nil || ctx.full || !s.quietable {
		return nil
	}
	switch {
	case s.activeOld || s.active == nil:
		if s.active == nil {
			s.active = make([]int32, 0, len(s.sent)) // empty, not nil: nil reads every partition
		}
		s.active = s.active[:0]
		for i := range s.sent {
			if s.reads(i, ctx.parts) {
				s.active = append(s.active, int32(i))
			}
		}
		s.activeOld = false
		s.flips = s.flips[:0]
	case len(s.flips) > 0:
		s.mergeFlips(ctx.parts)
	}
	if verifyQuiet {
		for i := range s.sent {
			if st := &s.sent[i]; st.quiet && st.p == ctx.parts[i] {
				s.verify(st, &ctx.fetch[i])
			}
			if s.reads(i, ctx.parts) != slices.Contains(s.active, int32(i)) {
				panic(fmt.Sprintf("broker: entry %d of a fetch session is read %v but in the list to read %v", i, s.reads(i, ctx.parts), s.active))
			}
		}
	}
	return s.active
}

// reads reports whether a read of the session visits entry i: it is not quiet, or its quiet
// mark is of another partition than parts[i].
func (s *fetchSession) reads(i int, parts []*Partition) bool {
	st := &s.sent[i]
	return !st.quiet || st.p != parts[i]
}

// flip notes that entry i's quiet mark changed: toRead moves it in or out of active. Past a
// few, toRead builds active anew.
func (s *fetchSession) flip(i int32) {
	if s.activeOld {
		return
	}
	if len(s.flips) == 8 {
		s.activeOld = true
		return
	}
	s.flips = append(s.flips, i)
}

// mergeFlips brings active up to date with the entries in flips: the others kept their marks.
func (s *fetchSession) mergeFlips(parts []*Partition) {
	f := s.flips
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j] < f[j-1]; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
	out, a := s.spare[:0], s.active
	if out == nil {
		out = make([]int32, 0, len(s.sent)) // empty, not nil: nil reads every partition
	}
	for len(a) > 0 || len(f) > 0 {
		if len(f) == 0 || len(a) > 0 && a[0] < f[0] {
			out, a = append(out, a[0]), a[1:]
			continue
		}
		i := f[0]
		for len(f) > 0 && f[0] == i {
			f = f[1:]
		}
		if len(a) > 0 && a[0] == i {
			a = a[1:]
		}
		if s.reads(int(i), parts) {
			out = append(out, i)
		}
	}
	s.spare, s.active = s.active[:0], out
	s.flips = s.flips[:0]
}

// verify panics when a quiet entry is not quiet as the leader has the partition now.
func (s *fetchSession) verify(st *sentFetchState, fp *protocol.FetchPartition) {
	if r, ok := s.quietNow(st, fp); !ok || r != st.r {
		panic(fmt.Sprintf("broker %d: %s is marked quiet in the session of replica %d but changed (hw %d, leo %d, log start %d, epoch %d; sent hw %d, log start %d, epoch %d)",
			st.p.b.id, st.p.tp, s.replicaID, st.p.hw, st.p.log.LogEndOffset(), st.p.log.LogStartOffset(), st.p.leaderEpoch, st.hw, st.logStart, st.epoch))
	}
}

// takeQuietFetch is takeFollowerFetch for a quiet partition: updateFollowerFetchState with a
// fetch offset at the LEO, whose ISR expansion and HW advance have nothing to do.
func takeQuietFetch(now time.Duration, m *protocol.FetchRequest, fp *protocol.FetchPartition, r *remoteReplica) {
	r.lastCaughtUp = max(r.lastCaughtUp, now)
	r.lastFetchLeaderLEO = fp.FetchOffset
	r.lastFetchTime = now
	r.leo = fp.FetchOffset
	r.logStart = fp.LogStartOffset
	r.brokerEpoch = m.ReplicaEpoch
}
