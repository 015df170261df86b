package broker

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// Behavior: the follower's replica fetcher (ReplicaFetcherThread / AbstractFetcherThread): one
// fetch in flight per leader broker, carrying every partition followed from it with the fetch
// offset (its LEO), its log start offset, the leader epoch it believes current (KIP-320), the
// epoch of its last record (truncation on fetch, KIP-320/KIP-595) and its broker epoch
// (KIP-903). On a DivergingEpoch it truncates as getOffsetTruncationState does; on
// records it appends and sets its HW to min(LEO, leader HW). Partition errors back the
// partition off for replica.fetch.backoff.ms; a fetch without an answer is given up after
// replica.socket.timeout.ms.

type fetcher struct {
	b        *Broker
	leader   int32
	parts    []*Partition
	inFlight bool
	corr     int64
	// sent and sentEpochs hold the partitions of the fetch in flight, in request order, and the
	// leader epoch each was fetched in, to drop stale answers. A fetch of every partition leaves
	// them nil (sentParts): parts and epochs are what it sent until parts changes (keepSent).
	// Copying them at each fetch wrote two more arrays gone cold since the fetch before.
	sent       []*Partition
	sentEpochs []int32
	session    protocol.FetchSessionHandler // the fetch session with the leader (KIP-227)
	// entries holds the fetch state of parts (same order), each built anew while not fresh:
	// a partition in an answer, or all of them after parts or a topic's config changed
	// (reset), or the log start moved (cleanUp); out marks the partitions backed off from the
	// next fetch. sentAt is the index in parts of each of sent (sentAll: sent is parts). allIn:
	// the last fetch carried every entry, so the session holds them as they are but changed.
	entries []protocol.FetchPartition
	epochs  []int32 // entries' leader epochs
	fresh   []bool
	stale   []int32 // the indexes of the entries not fresh, ascending (send visits only these)
	out     []bool
	changed []int32
	sentAt  []int32
	sentAll bool
	allIn   bool
	reset   bool
	// One timer at a time serves the request timeout and the back-off: deadline is when the
	// fetch in flight is given up; timerAt when the armed timer (generation gen) fires.
	deadline time.Duration
	armed    bool
	timerAt  time.Duration
	gen      int64
}

// fetcherTable holds a broker's fetchers by leader id: a table for broker ids (1..N, below
// node.ControllerBase), a map for any other. A hundred brokers' maps of a hundred fetchers
// each cost a cache miss or two at every fetch answer.
type fetcherTable struct {
	byID  []*fetcher
	other map[int32]*fetcher
}

const fetcherTableMax = 1 << 12

func (t *fetcherTable) get(leader int32) *fetcher {
	if uint32(leader) < uint32(len(t.byID)) {
		return t.byID[leader]
	}
	return t.other[leader] // nil past the table
}

func (t *fetcherTable) set(leader int32, f *fetcher) {
	if leader >= 0 && leader < fetcherTableMax {
		if int(leader) >= len(t.byID) {
			t.byID = append(t.byID, make([]*fetcher, int(leader)+1-len(t.byID))...)
		}
		t.byID[leader] = f
		return
	}
	if t.other == nil {
		t.other = map[int32]*fetcher{}
	}
	t.other[leader] = f
}

// wakeAt makes sure the fetcher's timer fires no later than at.
func (f *fetcher) wakeAt(now, at time.Duration) {
	if f.armed && f.timerAt <= at {
		return
	}
	f.gen++
	f.armed, f.timerAt = true, at
	f.b.env.After(at-now, timer{kind: tickFetcher, key: int64(f.leader), gen: f.gen})
}

func (b *Broker) startFetching(now time.Duration, p *Partition, leader int32) {
	f := b.fetchers.get(leader)
	if f == nil {
		f = &fetcher{b: b, leader: leader}
		b.fetchers.set(leader, f)
	}
	p.followFrom = leader
	i, found := slices.BinarySearchFunc(f.parts, p, func(a, x *Partition) int { return compareTP(a.tp, x.tp) })
	if !found {
		f.keepSent()
		f.parts = slices.Insert(f.parts, i, p)
	}
	f.reset = true
	if !f.inFlight {
		f.send(now)
	}
}

// keepSent is called before parts changes: where the last fetch sent parts as they are, sent
// and sentEpochs take their arrays, left as they are, and parts and epochs go on in copies.
func (f *fetcher) keepSent() {
	if f.sentAll && f.sent == nil {
		f.sent, f.sentEpochs = f.parts, f.epochs
		f.parts, f.epochs = slices.Clone(f.parts), slices.Clone(f.epochs)
	}
}

// sentParts is the partitions of the fetch in flight, in request order, and the leader epoch
// each was fetched in.
func (f *fetcher) sentParts() ([]*Partition, []int32) {
	if f.sentAll && f.sent == nil {
		return f.parts, f.epochs
	}
	return f.sent, f.sentEpochs
}

func (b *Broker) stopFetching(p *Partition) {
	if p.followFrom < 0 {
		return
	}
	if f := b.fetchers.get(p.followFrom); f != nil {
		f.keepSent()
		f.parts = slices.DeleteFunc(f.parts, func(x *Partition) bool { return x == p })
		f.reset = true
	}
	p.followFrom = protocol.NoLeader
}

func (f *fetcher) send(now time.Duration) {
	b := f.b
	n := len(f.parts)
	if f.reset || len(f.fresh) != n {
		f.entries = slices.Grow(f.entries[:0], n)[:n]
		f.epochs = slices.Grow(f.epochs[:0], n)[:n]
		f.fresh = slices.Grow(f.fresh[:0], n)[:n]
		f.out = slices.Grow(f.out[:0], n)[:n]
		clear(f.fresh)
		f.stale = f.stale[:0]
		for i := range n {
			f.stale = append(f.stale, int32(i))
		}
		f.reset, f.allIn = false, false
	}
	if verifyQuiet {
		for i := range f.parts {
			if f.fresh[i] {
				f.verifyFresh(now, i)
			}
		}
	}
	sortIndexes(f.stale) // the answer's partitions joined them in its order
	// Build again the entries that are not fresh, in order; a fresh one changed in nothing it is
	// made of, and its partition is neither throttled nor backed off: throttleFollower has
	// nothing to do for it.
	f.changed = f.changed[:0]
	next := time.Duration(-1)
	excluded := 0
	stale, prev := f.stale[:0], int32(-1)
	for _, i := range f.stale {
		if i == prev {
			continue // named twice
		}
		prev = i
		p := f.parts[i]
		b.throttleFollower(now, p) // a throttled replica over its quota waits (quota.go)
		if p.backoffUntil > now {
			if next < 0 || p.backoffUntil < next {
				next = p.backoffUntil
			}
			f.out[i] = true
			excluded++
			stale = append(stale, i)
			continue
		}
		f.out[i] = false
		f.entries[i], f.epochs[i] = f.entry(p), p.leaderEpoch
		f.fresh[i] = !b.followerThrottled(p) && !b.followerQuota.throttled[p.tp]
		if !f.fresh[i] {
			stale = append(stale, i)
		}
		f.changed = append(f.changed, i)
	}
	f.stale = stale
	var req *protocol.FetchRequest
	if excluded == 0 && f.allIn {
		// Every partition again, as the session has them but the entries built again.
		req = f.session.RequestChanged(f.entries, f.changed)
		f.sent, f.sentEpochs, f.sentAll = nil, nil, true // parts and epochs (sentParts)
	} else {
		clear(f.sent)
		f.sent, f.sentEpochs, f.sentAt, f.sentAll = f.sent[:0], f.sentEpochs[:0], f.sentAt[:0], false
		want := f.session.Want[:0]
		for i, p := range f.parts {
			if f.out[i] {
				continue
			}
			want = append(want, f.entries[i])
			f.sent = append(f.sent, p)
			f.sentEpochs = append(f.sentEpochs, f.epochs[i])
			f.sentAt = append(f.sentAt, int32(i))
		}
		f.session.Want = want
		f.allIn = false
		if len(want) == 0 {
			if next >= 0 {
				f.wakeAt(now, next)
			}
			return
		}
		req = f.session.Request()
		f.allIn = excluded == 0
	}
	req.ReplicaID, req.ReplicaEpoch, req.MaxWait, req.MinBytes, req.MaxBytes = b.id, b.lifecycle.epoch, b.cfg.ReplicaFetchWaitMax, 1, b.replicaFetchMaxBytes()
	req.CorrelationID = b.nextCorr()
	f.corr = req.CorrelationID
	f.inFlight = true
	f.deadline = now + b.cfg.ReplicaSocketTimeout
	b.env.Send(f.leader, req)
	f.wakeAt(now, f.deadline)
}

// sortIndexes sorts a short list of indexes, nearly sorted already.
func sortIndexes(x []int32) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

// entry is the fetch state of p: its LEO, log start, leader epoch and last fetched epoch.
func (f *fetcher) entry(p *Partition) protocol.FetchPartition {
	last := p.log.LatestEpoch()
	if f.b.cfg.Truncation == config.TruncateHighWatermark {
		last = protocol.UnknownEpoch // before KIP-101 there was no epoch to compare
	}
	return protocol.FetchPartition{
		TP: p.tp, FetchOffset: p.log.LogEndOffset(), LogStartOffset: p.log.LogStartOffset(),
		CurrentLeaderEpoch: p.leaderEpoch, LastFetchedEpoch: last,
	}
}

// verifyFresh panics when parts[i]'s fresh entry is not what send would build (tests).
func (f *fetcher) verifyFresh(now time.Duration, i int) {
	p := f.parts[i]
	if e := f.entry(p); e != f.entries[i] || p.backoffUntil > now || f.b.followerThrottled(p) || f.b.followerQuota.throttled[p.tp] {
		panic(fmt.Sprintf("broker %d: the fetch entry of %s is fresh but %+v is now %+v (backed off until %v at %v)", f.b.id, p.tp, f.entries[i], e, p.backoffUntil, now))
	}
}

// staleFetch makes p's fetch entry be built again at the next fetch (its log start moved).
func (b *Broker) staleFetch(p *Partition) {
	if f := b.fetchers.get(p.followFrom); f != nil && p.followFrom >= 0 {
		f.reset = true
	}
}

// onTimer: the fetch went unanswered for replica.socket.timeout.ms (the leader is down or cut
// off), or a back-off ended.
func (f *fetcher) onTimer(now time.Duration, gen int64) {
	if gen != f.gen {
		return
	}
	f.armed = false
	if f.inFlight && now < f.deadline {
		f.wakeAt(now, f.deadline)
		return
	}
	f.inFlight = false
	f.session.Abandon()
	f.send(now)
}

// disconnected: the leader's connection was reset; try again after replica.fetch.backoff.ms.
func (f *fetcher) disconnected(now time.Duration) {
	if !f.inFlight {
		return
	}
	f.inFlight = false
	f.session.Abandon()
	f.armed = false
	f.wakeAt(now, now+f.b.cfg.ReplicaFetchBackoff)
}

func (b *Broker) handleFetchResponse(now time.Duration, from int32, m *protocol.FetchResponse) {
	f := b.fetchers.get(from)
	if f == nil || !f.inFlight || m.CorrelationID != f.corr {
		return
	}
	f.inFlight = false
	if !f.session.Answered(m) {
		f.send(now) // a session error: a full fetch at once, as ReplicaFetcherThread does after an empty answer
		return
	}
	// The answer holds a sorted subset of the partitions sent: walk both together.
	sent, sentEpochs := f.sentParts()
	j := 0
	for i := range m.Partitions {
		r := &m.Partitions[i]
		hi := len(sent)
		for j < hi {
			m := int(uint(j+hi) >> 1)
			if lessTP(sent[m].tp, r.TP) {
				j = m + 1
			} else {
				hi = m
			}
		}
		if j == len(sent) || sent[j].tp != r.TP {
			continue
		}
		p := sent[j]
		if !f.reset {
			i := j
			if !f.sentAll {
				i = int(f.sentAt[j])
			}
			if f.fresh[i] {
				f.fresh[i] = false // the answer may move its LEO, log start or epochs
				f.stale = append(f.stale, int32(i))
			}
		}
		if p.followFrom != from || p.leaderEpoch != sentEpochs[j] {
			// The partition moved on while the fetch was out. The session believes this answer
			// heard: fetch in full next time, so that nothing it said is lost.
			f.session.CloseExisting()
			continue
		}
		p.processFetch(now, r)
	}
	f.send(now)
}

func (p *Partition) processFetch(now time.Duration, r *protocol.FetchPartitionResponse) {
	switch r.Error {
	case protocol.NONE:
	case protocol.OFFSET_OUT_OF_RANGE:
		if r.LogStartOffset > p.log.LogEndOffset() {
			// The leader deleted what the follower still needs: start over at its log start.
			leo := p.log.LogEndOffset()
			p.log.TruncateFullyAndStartAt(r.LogStartOffset)
			p.hw = r.LogStartOffset
			p.b.env.Observe(&Truncated{Broker: p.b.id, TP: p.tp, From: leo, To: r.LogStartOffset, Reason: "out-of-range"})
			return
		}
		if r.DivergingEpoch.EndOffset >= 0 && r.DivergingEpoch.EndOffset < p.log.LogEndOffset() {
			p.truncateTo(r.DivergingEpoch.EndOffset, "out-of-range")
			return
		}
		p.backoffUntil = now + p.b.cfg.ReplicaFetchBackoff
		return
	default:
		// NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, …: wait for the
		// metadata log to say what changed.
		p.backoffUntil = now + p.b.cfg.ReplicaFetchBackoff
		return
	}
	if r.DivergingEpoch.Epoch != protocol.UnknownEpoch {
		p.truncateOnDivergence(r.DivergingEpoch)
		return
	}
	if len(r.Batches) > 0 {
		if err := p.log.AppendAsFollower(r.Batches, now); err != nil {
			p.backoffUntil = now + p.b.cfg.ReplicaFetchBackoff
			return
		}
	}
	// The follower takes the leader's HW bounded by its own log start and end offsets, up or
	// down (ReplicaFetcherThread.processPartitionData → UnifiedLog.maybeUpdateHighWatermark):
	// a new leader's HW may be lower than the old one's until its followers have fetched.
	p.hw = max(min(r.HighWatermark, p.log.LogEndOffset()), p.log.LogStartOffset())
	p.b.followerFetched(now, p, r) // replication quota (quota.go)
}

// truncateOnDivergence: AbstractFetcherThread.getOffsetTruncationState (KIP-279). The leader says
// its log holds epoch e up to offset end; the follower cuts to the largest common prefix.
func (p *Partition) truncateOnDivergence(d protocol.EpochEndOffset) {
	leo := p.log.LogEndOffset()
	e, end := p.log.EndOffsetForEpoch(d.Epoch)
	var to int64
	switch {
	case e == protocol.UnknownEpoch:
		// The follower tracks no epoch at or below the leader's: take the leader's offset.
		to = min(d.EndOffset, leo)
	case e == d.Epoch:
		to = min(d.EndOffset, end, leo)
	default:
		// The follower does not know the leader's epoch: cut to the end of its own earlier
		// epoch; the next fetch carries that epoch and the leader checks again.
		to = min(end, leo)
	}
	p.truncateTo(to, "diverging-epoch")
}
