package client

import (
	"cmp"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Behavior: the Java consumer with every partition of its topics assigned (assign(), no
// group), or, with group.id, the partitions its group gives it (group.go, membership.go). It
// reads one topic or several (subscribe(Collection<String>)): one metadata request asks for
// them all, and each topic-partition has its own position.
// Positions start per auto.offset.reset through ListOffsets; one Fetch in flight per leader;
// each fetch answer with records becomes one poll op per partition. After a leader
// epoch change the position is validated with OffsetForLeaderEpoch (KIP-320, KAFKA-7747) and a
// truncation is observed and repaired by seeking to the leader's end offset. Not modelled:
// read_committed filtering of aborted transactions, max.poll.records,
// auto.offset.reset=none raising errors (positions then stay unknown; truncation still seeks).

// ConsumerOptions configures a consumer.
type ConsumerOptions struct {
	Name  string
	Topic string
	// Topics: a consumer of several topics lists them all (Topic is then the first); nil
	// reads Topic alone.
	Topics    []string
	Config    config.Consumer
	Bootstrap []int32
}

// ConsumerStats counts what a consumer did.
type ConsumerStats struct {
	Consumed            int64 // records returned
	Polls               int64 // poll ops recorded (one per partition per fetch with records)
	TruncationsDetected int64
	Resets              int64 // positions reset by auto.offset.reset after OFFSET_OUT_OF_RANGE or an undefined epoch
}

// Partition states.
const (
	cpNeedReset uint8 = iota
	cpResetting
	cpNeedValidate
	cpValidating
	cpFetchable
)

// cpart is the consumer's state for one partition (SubscriptionState.TopicPartitionState).
type cpart struct {
	tp        protocol.TopicPartition
	ti        int32 // the topic's place in the metadata's topics (0: topicMeta.topic, k: more[k-1])
	state     uint8
	gen       uint32 // bumped when the position is reset or revalidated: older answers are stale
	position  int64  // next offset to read, -1 while unknown
	lastEpoch int32  // leader epoch of the last consumed record (or of the ListOffsets answer)
	seenEpoch int32  // metadata leader epoch the position was last validated against
	end       int64  // the visible end (HW, or LSO for read_committed) of the last fetch, -1
	fetchOK   bool   // the last fetch of this partition had no error
	fetchCorr int64  // fetch in flight, 0 none
	notBefore time.Duration
	seekTo    int64 // a seek to the beginning or end waits for its ListOffsets (0: none)
}

// Consumer request kinds.
const (
	reqFetch uint8 = iota
	reqListOffsets
	reqValidate
)

type creq struct {
	kind   uint8
	broker int32
	sentAt time.Duration
	parts  []int32
	gens   []uint32
	offs   []int64
}

// Consumer is a simulated Kafka consumer: every partition of its topics, or its group's share.
type Consumer struct {
	o         ConsumerOptions
	cfg       config.Consumer
	env       node.Env
	name      string
	topics    []string // the subscription, sorted
	meta      topicMeta
	index     [][]int32 // by metadata topic (as cpart.ti), by partition: the index in parts
	corr      int64
	w         waker
	stats     ConsumerStats
	parts     []cpart
	reqs      map[int64]*creq
	tmo       timeouts
	rc        reconnects
	now       time.Duration              // the time of the input being handled
	fetching  []bool                     // by broker id: a fetch is in flight to it
	sessions  map[int32]*consumerSession // fetch sessions by broker (KIP-227)
	isolation int8
	groups    []*creq // scratch
	freeReqs  []*creq // answered fetches' creqs, for reuse
	poll      pollBuffer

	// parked marks the partitions run's walk may pass over: a fetch out, fetchable, no
	// back-off, a known leader, as the walk's first test finds them. It holds while parkedOK:
	// until an input other than a fetch answer, a wake or a quiet timeout tick, or a walk that is
	// not quick (see run). A fetch answer unparks its request's partitions (take), so the
	// walk after it visits them and the few others, not every partition.
	parked   []uint64
	parkedN  int // the partitions parked
	parkedOK bool
	walks    int // the walks that visited every partition (tests)
	// answer: the fetch whose answer the input being handled was, kept until run is done.
	answer *creq

	grp *groupMember // the consumer's group membership (group.go); nil without group.id
}

// NewConsumer creates a consumer; it asks for metadata right away.
func NewConsumer(o ConsumerOptions, env node.Env, now time.Duration) *Consumer {
	def := config.DefaultConsumer()
	cfg := o.Config
	cfg.RequestTimeout = orDefault(cfg.RequestTimeout, def.RequestTimeout)
	cfg.RetryBackoff = orDefault(cfg.RetryBackoff, def.RetryBackoff)
	cfg.RetryBackoffMax = orDefault(cfg.RetryBackoffMax, def.RetryBackoffMax)
	cfg.MetadataMaxAge = orDefault(cfg.MetadataMaxAge, def.MetadataMaxAge)
	cfg.ReconnectBackoff = orDefault(cfg.ReconnectBackoff, def.ReconnectBackoff)
	cfg.ReconnectMax = max(orDefault(cfg.ReconnectMax, def.ReconnectMax), cfg.ReconnectBackoff)
	if cfg.AutoOffsetReset == "" {
		cfg.AutoOffsetReset = def.AutoOffsetReset
	}
	topics := []string{o.Topic}
	if len(o.Topics) > 0 {
		topics = slices.Compact(slices.Sorted(slices.Values(o.Topics)))
		o.Topic = topics[0]
	}
	c := &Consumer{topics: topics,
		o: o, cfg: cfg, env: env, name: o.Name, rc: newReconnects(cfg.ReconnectBackoff, cfg.ReconnectMax),
		meta: newTopicMeta(o.Topic, o.Bootstrap, cfg.RetryBackoff, cfg.RetryBackoffMax),
		w:    waker{pending: -1},
		reqs: make(map[int64]*creq),
	}
	c.meta.rc = &c.rc
	for _, t := range topics[1:] {
		c.meta.addTopic(t)
	}
	if c.name == "" {
		c.name = node.Name(env.ID())
	}
	if cfg.IsolationLevel == "read_committed" {
		c.isolation = protocol.ReadCommitted
	}
	if cfg.Group != "" {
		c.grp = newGroupMember(c, now)
	}
	c.run(now)
	return c
}

// Stop closes the consumer cleanly (KafkaConsumer.close, the world's `stop`): a member of a
// group commits and leaves it first (ConsumerCoordinator.close); then the process ends.
func (c *Consumer) Stop(now time.Duration) {
	c.now = now
	c.parkedOK = false
	if c.grp == nil {
		c.env.Halt()
		return
	}
	c.grp.finishProcessing(now)
	c.grp.close(now)
	c.run(now)
}

// Processing reports whether the application is still handling records it polled.
func (c *Consumer) Processing() bool { return c.grp != nil && len(c.grp.handling) > 0 }

// Stats counts what the consumer did.
func (c *Consumer) Stats() ConsumerStats { return c.stats }

// Positions is the next offset to read per partition (-1 while unknown).
func (c *Consumer) Positions() map[protocol.TopicPartition]int64 {
	m := make(map[protocol.TopicPartition]int64, len(c.parts))
	for i := range c.parts {
		m[c.tp(int32(i))] = c.parts[i].position
	}
	return m
}

// CaughtUp reports whether every partition's position is at or past the end the last fetch
// reported for it (HW, or LSO under read_committed) and that fetch had no error.
func (c *Consumer) CaughtUp() bool {
	if !c.meta.known || len(c.parts) == 0 {
		return false
	}
	for i := range c.parts {
		p := &c.parts[i]
		if !p.fetchOK || p.end < 0 || p.position < p.end {
			return false
		}
	}
	return true
}

// tp is the topic-partition at index i of parts.
func (c *Consumer) tp(i int32) protocol.TopicPartition { return c.parts[i].tp }

// pmeta is the metadata of the partition at index i of parts.
func (c *Consumer) pmeta(i int32) *partMeta {
	p := &c.parts[i]
	if p.ti == 0 {
		return &c.meta.parts[p.tp.Partition]
	}
	return &c.meta.moreParts[p.ti-1][p.tp.Partition]
}

// indexOf is tp's index in parts, -1 if metadata has not described it.
func (c *Consumer) indexOf(tp protocol.TopicPartition) int {
	ti := -1
	if tp.Topic == c.meta.topic {
		ti = 0
	} else if k := slices.Index(c.meta.more, tp.Topic); k >= 0 {
		ti = k + 1
	}
	if ti < 0 || ti >= len(c.index) || tp.Partition < 0 || int(tp.Partition) >= len(c.index[ti]) {
		return -1
	}
	return int(c.index[ti][tp.Partition])
}

// metaTopic is the metadata's topic ti (as cpart.ti) and its partitions.
func (c *Consumer) metaTopic(ti int) (string, []partMeta) {
	if ti == 0 {
		return c.meta.topic, c.meta.parts
	}
	return c.meta.more[ti-1], c.meta.moreParts[ti-1]
}

// Step handles one input: a timer (from == env.ID()) or a broker's response.
func (c *Consumer) Step(now time.Duration, from int32, msg any) {
	c.now = now
	switch m := msg.(type) {
	case wake:
		c.w.fired(m.at)
	case metadataAge:
		c.meta.aged(m.gen)
	case timeoutTick:
		for _, corr := range c.tmo.due(c.env, now, m) {
			if c.onRequestTimeout(corr) {
				c.parkedOK = false
			}
		}
	case *protocol.FetchResponse:
		c.rc.answered(from)
		c.onFetch(now, m)
	case *protocol.ListOffsetsResponse:
		c.onListOffsets(now, m) // moves only the request's partitions, unparked by take
	case *protocol.OffsetForLeaderEpochResponse:
		c.onValidate(now, m) // likewise
	default:
		c.parkedOK = false
		if !c.stepOther(now, from, msg) {
			return
		}
	}
	c.run(now)
	if c.answer != nil {
		c.freeReq(c.answer)
		c.answer = nil
	}
}

// stepOther handles the inputs that may change any partition's state (the walk after them
// visits every partition); false for a message nobody handles.
func (c *Consumer) stepOther(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case *node.ConnectionReset:
		c.onReset(m.Peer)
	case *protocol.MetadataResponse:
		if c.meta.handle(c.env, now, c.cfg.MetadataMaxAge, m) {
			c.onMetadata()
		}
	case *Seek:
		c.seek(m)
	case *CommitNow:
		c.commitNow(now, m)
	case *LeaveGroup:
		if c.grp != nil {
			c.grp.leave(now)
		}
	default:
		return c.grp != nil && c.grp.handle(now, from, msg)
	}
	return true
}

// onMetadata picks up new partitions and starts validating positions whose leader epoch moved
// (KAFKA-7747: SubscriptionState.maybeValidatePositionForCurrentLeader).
// A partition first described is appended to parts: one topic's partitions keep their own
// numbers as indexes.
func (c *Consumer) onMetadata() {
	for ti := 0; ti <= len(c.meta.more); ti++ {
		name, parts := c.metaTopic(ti)
		if ti >= len(c.index) {
			c.index = append(c.index, nil)
		}
		for k := range parts {
			epoch := parts[k].epoch
			if k >= len(c.index[ti]) {
				i := len(c.parts)
				c.index[ti] = append(c.index[ti], int32(i))
				tp := protocol.TopicPartition{Topic: name, Partition: int32(k)}
				c.parts = append(c.parts, cpart{tp: tp, ti: int32(ti), position: -1, lastEpoch: protocol.UnknownEpoch, seenEpoch: epoch, end: -1})
				if c.grp != nil {
					c.grp.described(i, tp)
				}
				continue
			}
			p := &c.parts[c.index[ti][k]]
			if epoch <= p.seenEpoch {
				continue
			}
			p.seenEpoch = epoch
			switch p.state {
			case cpFetchable, cpNeedValidate, cpValidating:
				if p.lastEpoch >= 0 {
					p.state = cpNeedValidate
					p.gen++
					p.fetchOK = false
				}
			}
		}
	}
}

func (c *Consumer) reset(p *cpart) {
	p.state, p.position, p.gen, p.fetchOK = cpNeedReset, -1, p.gen+1, false
}

// run sends whatever is due: metadata, ListOffsets, validations, fetches.
func (c *Consumer) run(now time.Duration) {
	c.meta.maybeSend(c.env, &c.w, &c.tmo, now, &c.corr, c.cfg.RequestTimeout)
	if !c.meta.known {
		return
	}
	if c.grp != nil {
		c.grp.run(now)
		if c.grp.closing != 0 {
			if c.grp.closing == closeDone {
				c.env.Halt()
			}
			return
		}
	}
	c.groups = c.groups[:0]
	quick := c.grp == nil && len(c.rc.peers) == 0
	if n := (len(c.parts) + 63) / 64; quick && c.parkedOK && len(c.parked) == n {
		if verifyParked {
			c.verifyParked(now)
		}
		if c.refetch(now) {
			if verifyParked {
				c.verifyRefetch(now)
			}
			goto send
		}
		c.walkUnparked(now)
	} else {
		c.parked = slices.Grow(c.parked[:0], n)[:n]
		clear(c.parked)
		c.parkedN = 0
		c.walks++
		for i := range c.parts {
			c.visit(now, i, quick)
		}
		c.parkedOK = quick
	}
send:
	for _, g := range c.groups {
		c.send(g)
	}
	c.meta.maybeSend(c.env, &c.w, &c.tmo, now, &c.corr, c.cfg.RequestTimeout)
}

// walkUnparked visits the partitions that are not parked, in order.
func (c *Consumer) walkUnparked(now time.Duration) {
	n := len(c.parked)
	for w, word := range c.parked {
		z := ^word
		if w == n-1 && len(c.parts)%64 != 0 {
			z &= 1<<(len(c.parts)%64) - 1
		}
		for z != 0 {
			i := w*64 + bits.TrailingZeros64(z)
			z &= z - 1
			c.visit(now, i, true)
		}
	}
}

// verifyRefetch panics when the walk would not send the one fetch refetch made.
func (c *Consumer) verifyRefetch(now time.Duration) {
	want := *c.groups[0]
	want.parts, want.gens, want.offs = slices.Clone(want.parts), slices.Clone(want.gens), slices.Clone(want.offs)
	c.groups = c.groups[:0]
	c.walkUnparked(now)
	if len(c.groups) != 1 {
		panic(fmt.Sprintf("client %s: refetch made one fetch, the walk %d requests", c.name, len(c.groups)))
	}
	got := c.groups[0]
	if got.kind != want.kind || got.broker != want.broker || got.sentAt != want.sentAt || !slices.Equal(got.parts, want.parts) ||
		!slices.Equal(got.gens, want.gens) || !slices.Equal(got.offs, want.offs) {
		panic(fmt.Sprintf("client %s: refetch made %+v, the walk %+v", c.name, want, *got))
	}
}

// waits reports whether partition i waits for the answer to its ListOffsets or
// OffsetForLeaderEpoch request with a known leader and no back-off: a walk without a group and
// without a broker to wait for would do nothing for it.
func (c *Consumer) waits(now time.Duration, i int) bool {
	p := &c.parts[i]
	return (p.state == cpResetting || p.state == cpValidating) && p.notBefore <= now && c.pmeta(int32(i)).leader >= 0
}

// verifyParked makes every walk over the parked partitions check that the full walk would pass
// over each of them too (tests).
var verifyParked = false

// verifyParked panics when a parked partition is one the walk's first test would not pass over.
func (c *Consumer) verifyParked(now time.Duration) {
	n := 0
	for _, w := range c.parked {
		n += bits.OnesCount64(w)
	}
	if n != c.parkedN {
		panic(fmt.Sprintf("client %s: %d partitions parked, counted %d", c.name, n, c.parkedN))
	}
	for i := range c.parts {
		if c.parked[i/64]>>(i%64)&1 == 0 {
			continue
		}
		if p := &c.parts[i]; !(p.state == cpFetchable && p.fetchCorr != 0 && p.notBefore <= now && c.meta.parts[i].leader >= 0) && !c.waits(now, i) {
			panic(fmt.Sprintf("client %s: %s is parked but state %d, fetch %d, back-off until %v at %v, leader %d",
				c.name, p.tp, p.state, p.fetchCorr, p.notBefore, now, c.meta.parts[i].leader))
		}
	}
}

func (c *Consumer) park(i int32) {
	if w := &c.parked[i/64]; *w&(1<<(i%64)) == 0 {
		*w |= 1 << (i % 64)
		c.parkedN++
	}
}

func (c *Consumer) unpark(i int32) {
	if int(i)/64 < len(c.parked) {
		if w := &c.parked[i/64]; *w&(1<<(i%64)) != 0 {
			*w &^= 1 << (i % 64)
			c.parkedN--
		}
	}
}

// refetch is the walk after a fetch answer in the usual case, without visiting: the answered
// fetch's partitions are the only ones not parked, and each is as the fetch left it but for its
// position (still fetchable, the same generation, no back-off, the same leader), so the walk
// would put them all, in order, in one fetch to the same broker. It reports whether it did so.
func (c *Consumer) refetch(now time.Duration) bool {
	g := c.answer
	if g == nil || g.kind != reqFetch || len(c.parts)-c.parkedN != len(g.parts) || c.isFetching(g.broker) {
		return false
	}
	for k, part := range g.parts {
		p := &c.parts[part]
		if p.state != cpFetchable || p.fetchCorr != 0 || p.notBefore > now || p.gen != g.gens[k] || c.pmeta(part).leader != g.broker {
			return false
		}
	}
	ng := c.group(reqFetch, g.broker, now)
	ng.parts = append(ng.parts, g.parts...)
	ng.gens = append(ng.gens, g.gens...)
	for _, part := range g.parts {
		ng.offs = append(ng.offs, c.parts[part].position)
	}
	return true
}

// visit looks at partition i for run: what it needs sent, if anything.
func (c *Consumer) visit(now time.Duration, i int, quick bool) {
	p := &c.parts[i]
	if quick && p.state == cpFetchable && p.fetchCorr != 0 && p.notBefore <= now && c.meta.parts[i].leader >= 0 {
		c.park(int32(i))
		return // its fetch is out and nothing below would stop at it: the usual case, checked first
	}
	if quick && c.waits(now, i) {
		c.park(int32(i)) // nothing below would do anything for it
		return
	}
	if c.grp != nil && (!c.grp.owns(i) || p.state == cpCommitted || (p.state == cpFetchable && c.grp.busy(now))) {
		return // not ours, waiting for the committed offset, or the application is busy
	}
	leader := c.pmeta(int32(i)).leader
	if leader < 0 {
		c.meta.wanted = true
		return
	}
	if p.notBefore > now {
		c.w.at(c.env, now, p.notBefore)
		return
	}
	if c.rc.waitFor(c.env, &c.w, now, leader) {
		return
	}
	var kind uint8
	switch {
	case p.state == cpNeedReset && c.cfg.AutoOffsetReset != "none":
		kind = reqListOffsets
	case p.state == cpNeedValidate:
		kind = reqValidate
	case p.state == cpFetchable && p.fetchCorr == 0 && !c.isFetching(leader):
		kind = reqFetch
	default:
		return
	}
	g := c.group(kind, leader, now)
	g.parts = append(g.parts, int32(i))
	g.gens = append(g.gens, p.gen)
	g.offs = append(g.offs, p.position)
}

func (c *Consumer) group(kind uint8, broker int32, now time.Duration) *creq {
	for _, g := range c.groups {
		if g.kind == kind && g.broker == broker {
			return g
		}
	}
	var g *creq
	if n := len(c.freeReqs); n > 0 {
		g = c.freeReqs[n-1]
		c.freeReqs = c.freeReqs[:n-1]
		*g = creq{kind: kind, broker: broker, sentAt: now, parts: g.parts[:0], gens: g.gens[:0], offs: g.offs[:0]}
	} else {
		g = &creq{kind: kind, broker: broker, sentAt: now}
	}
	c.groups = append(c.groups, g)
	return g
}

// freeReq takes back a fetch's creq once its answer or timeout has been handled.
func (c *Consumer) freeReq(g *creq) { c.freeReqs = append(c.freeReqs, g) }

func (c *Consumer) send(g *creq) {
	c.corr++
	corr := c.corr
	c.reqs[corr] = g
	switch g.kind {
	case reqListOffsets:
		ts := protocol.LatestOffset
		if c.cfg.AutoOffsetReset == "earliest" {
			ts = protocol.EarliestOffset
		}
		ps := make([]protocol.ListOffsetsPartition, len(g.parts))
		for i, part := range g.parts {
			c.parts[part].state = cpResetting
			if c.parkedOK && c.waits(c.now, int(part)) {
				c.park(part)
			}
			pts := ts
			if to := c.parts[part].seekTo; to != 0 {
				pts = to
			}
			ps[i] = protocol.ListOffsetsPartition{TP: c.tp(part), CurrentLeaderEpoch: c.pmeta(part).epoch, Timestamp: pts}
		}
		c.env.Send(g.broker, &protocol.ListOffsetsRequest{CorrelationID: corr, ReplicaID: protocol.ConsumerID, IsolationLevel: c.isolation, Partitions: ps})
	case reqValidate:
		ps := make([]protocol.OffsetForLeaderEpochPartition, len(g.parts))
		for i, part := range g.parts {
			p := &c.parts[part]
			p.state = cpValidating
			if c.parkedOK && c.waits(c.now, int(part)) {
				c.park(part)
			}
			ps[i] = protocol.OffsetForLeaderEpochPartition{TP: c.tp(part), CurrentLeaderEpoch: c.pmeta(part).epoch, LeaderEpoch: p.lastEpoch}
		}
		c.env.Send(g.broker, &protocol.OffsetForLeaderEpochRequest{CorrelationID: corr, ReplicaID: protocol.ConsumerID, Partitions: ps})
	default:
		cs := c.sessions[g.broker]
		if cs == nil {
			cs = &consumerSession{}
			if c.sessions == nil {
				c.sessions = map[int32]*consumerSession{}
			}
			c.sessions[g.broker] = cs
		}
		h := &cs.h
		// The fetch of the same partitions as the last one (the usual case) names the entries
		// whose position or leader epoch moved, and the session compares those alone.
		same := slices.Equal(cs.parts, g.parts)
		cs.changed = cs.changed[:0]
		if !same {
			cs.parts = append(cs.parts[:0], g.parts...)
			cs.want = cs.want[:0]
		}
		for i, part := range g.parts { // g.parts ascend: the session's order
			p := &c.parts[part]
			if !p.fetchOK {
				// The partition's last answer was an error or was dropped (a reset position, a new
				// leader epoch): a full fetch, so that the broker tells everything again.
				h.CloseExisting()
			}
			p.fetchCorr = corr
			if c.parkedOK && p.state == cpFetchable && p.notBefore <= c.now && int(part) < len(c.meta.parts) && c.meta.parts[part].leader >= 0 {
				c.park(part) // as the next walk would find it
			}
			epoch := c.pmeta(part).epoch
			if !same {
				cs.want = append(cs.want, protocol.FetchPartition{
					TP: p.tp, FetchOffset: g.offs[i], LogStartOffset: -1,
					CurrentLeaderEpoch: epoch, LastFetchedEpoch: protocol.UnknownEpoch,
				})
			} else if w := &cs.want[i]; w.FetchOffset != g.offs[i] || w.CurrentLeaderEpoch != epoch {
				w.FetchOffset, w.CurrentLeaderEpoch = g.offs[i], epoch
				cs.changed = append(cs.changed, int32(i))
			}
		}
		var req *protocol.FetchRequest
		if same { // cs.want was the last fetch's, as the handler has it

			req = h.RequestChanged(cs.want, cs.changed)
		} else {
			h.Want = append(h.Want, cs.want...)
			req = h.Request()
		}
		c.setFetching(g.broker, true)
		req.CorrelationID, req.ReplicaID, req.ReplicaEpoch = corr, protocol.ConsumerID, -1
		req.MaxWait, req.MinBytes, req.MaxBytes, req.IsolationLevel = c.cfg.FetchMaxWait, int32(c.cfg.FetchMinBytes), 50<<20, c.isolation
		c.env.Send(g.broker, req)
	}
	c.tmo.add(c.env, c.now, c.cfg.RequestTimeout, corr)
}

// consumerSession is the consumer's fetch session with one broker and the partitions of its
// last fetch, as that fetch carried them (the session handler's own view of them).
type consumerSession struct {
	h       protocol.FetchSessionHandler
	parts   []int32                   // the last fetch's partitions (indexes into Consumer.parts)
	want    []protocol.FetchPartition // their entries as last sent
	changed []int32                   // scratch: the entries that moved since
}

func (c *Consumer) isFetching(broker int32) bool {
	return broker >= 0 && int(broker) < len(c.fetching) && c.fetching[broker]
}

func (c *Consumer) setFetching(broker int32, on bool) {
	if broker < 0 {
		panic("client: a fetch to a negative broker id")
	}
	if int(broker) >= len(c.fetching) {
		if !on {
			return
		}
		c.fetching = append(c.fetching, make([]bool, int(broker)+1-len(c.fetching))...)
	}
	c.fetching[broker] = on
}

// take removes request corr of kind from the table.
func (c *Consumer) take(corr int64, kind uint8) *creq {
	g := c.reqs[corr]
	if g == nil || g.kind != kind {
		return nil
	}
	delete(c.reqs, corr)
	for _, part := range g.parts {
		c.unpark(part)
	}
	if kind == reqFetch {
		c.setFetching(g.broker, false)
		for _, part := range g.parts {
			if c.parts[part].fetchCorr == corr {
				c.parts[part].fetchCorr = 0
			}
		}
	}
	return g
}

// current returns partition part's state if the request's view of it (gen) is still current.
func (c *Consumer) current(g *creq, tp protocol.TopicPartition) (*cpart, int) {
	at := c.indexOf(tp)
	if at < 0 {
		return nil, -1
	}
	// A request's partitions ascend (the walk's order), and each appears once: a binary search
	// finds the one a linear scan would (which stays for any request built otherwise). The
	// answers to a consumer's first fetches of 30,000 partitions name hundreds each.
	i, ok := slices.BinarySearch(g.parts, int32(at))
	if !ok {
		i = slices.Index(g.parts, int32(at))
	}
	if i < 0 || c.parts[at].gen != g.gens[i] {
		return nil, -1
	}
	return &c.parts[at], i
}

// onReset fails every request in flight to a broker whose connection was reset, and asks for
// metadata (DefaultMetadataUpdater.handleServerDisconnect).
func (c *Consumer) onReset(peer int32) {
	c.rc.failed(c.env, c.now, peer)
	c.meta.wanted = true
	if c.grp != nil {
		c.grp.onReset(c.now, peer)
	}
	if c.meta.corr != 0 && c.meta.to == peer {
		c.onTimeout(c.meta.corr)
	}
	var corrs []int64
	for _, corr := range slices.Sorted(maps.Keys(c.reqs)) {
		if c.reqs[corr].broker == peer {
			corrs = append(corrs, corr)
		}
	}
	for _, corr := range corrs {
		c.onTimeout(corr)
	}
}

// onRequestTimeout: a request unanswered within request.timeout.ms closes the connection to its
// broker (NetworkClient.handleTimedOutRequests), failing every request in flight on it.
//
// It reports whether the timeout may have changed a partition's state. The deadline of a
// request answered long since (nearly every one: timeouts keeps them all) changes nothing, and
// leaves the parked partitions parked: else every fetch answered request.timeout.ms ago made
// the walk after its deadline visit every partition.
func (c *Consumer) onRequestTimeout(corr int64) bool {
	switch {
	case c.meta.corr != 0 && corr == c.meta.corr:
		c.onReset(c.meta.to)
	case c.reqs[corr] != nil:
		c.onReset(c.reqs[corr].broker)
	case c.grp != nil:
		return c.grp.timedOut(c.now, corr)
	default:
		return false
	}
	return true
}

func (c *Consumer) onTimeout(corr int64) {
	if c.meta.timedOut(c.env, c.now, corr) {
		return
	}
	if c.grp != nil && c.grp.timedOut(c.now, corr) {
		return
	}
	g := c.reqs[corr]
	if g == nil {
		return
	}
	c.take(corr, g.kind)
	c.meta.wanted = true // a broken connection makes Java refresh metadata
	for i, part := range g.parts {
		p := &c.parts[part]
		if p.gen != g.gens[i] {
			continue
		}
		switch g.kind {
		case reqListOffsets:
			p.state = cpNeedReset
		case reqValidate:
			p.state = cpNeedValidate
		default:
			p.fetchOK = false
		}
	}
	if g.kind == reqFetch {
		if cs := c.sessions[g.broker]; cs != nil {
			cs.h.Abandon()
		}
		c.freeReq(g)
	}
}

// backoff handles a partition-level error: refresh metadata if the error says so, and wait
// retry.backoff.ms before asking this partition again.
func (c *Consumer) backoff(now time.Duration, p *cpart, err protocol.ErrorCode) {
	if err.RefreshesMetadata() {
		c.meta.wanted = true
	}
	p.notBefore = now + c.cfg.RetryBackoff
}

func (c *Consumer) onListOffsets(now time.Duration, r *protocol.ListOffsetsResponse) {
	g := c.take(r.CorrelationID, reqListOffsets)
	if g == nil {
		return
	}
	for i := range r.Partitions {
		pr := &r.Partitions[i]
		p, _ := c.current(g, pr.TP)
		if p == nil || p.state != cpResetting {
			continue
		}
		if pr.Error != protocol.NONE || pr.Offset < 0 {
			// OFFSET_NOT_AVAILABLE while a new leader's HW catches up (KIP-207), or a
			// leadership error: ask again later.
			p.state = cpNeedReset
			c.backoff(now, p, pr.Error)
			continue
		}
		p.position, p.lastEpoch, p.state, p.seekTo = pr.Offset, pr.LeaderEpoch, cpFetchable, 0
	}
	c.requeue(g, cpResetting, cpNeedReset)
}

// requeue puts partitions of g that got no answer back to state to.
func (c *Consumer) requeue(g *creq, from, to uint8) {
	for i, part := range g.parts {
		if p := &c.parts[part]; p.gen == g.gens[i] && p.state == from {
			p.state = to
		}
	}
}

// onValidate completes position validation (SubscriptionState.maybeCompleteValidation): an
// end offset below the position for the epoch of the last consumed record means the log was
// truncated under the consumer; with a reset policy Java seeks to the end offset.
func (c *Consumer) onValidate(now time.Duration, r *protocol.OffsetForLeaderEpochResponse) {
	g := c.take(r.CorrelationID, reqValidate)
	if g == nil {
		return
	}
	for i := range r.Partitions {
		pr := &r.Partitions[i]
		p, _ := c.current(g, pr.TP)
		if p == nil || p.state != cpValidating {
			continue
		}
		switch {
		case pr.Error != protocol.NONE:
			p.state = cpNeedValidate
			c.backoff(now, p, pr.Error)
		case pr.LeaderEpoch < 0 || pr.EndOffset < 0:
			// No epoch at or below ours on the leader: Java resets per auto.offset.reset.
			c.reset(p)
			c.stats.Resets++
		case pr.EndOffset < p.position:
			c.env.Observe(&TruncationDetected{Client: c.name, TP: pr.TP, Position: p.position, EndOffset: pr.EndOffset})
			c.stats.TruncationsDetected++
			p.position, p.lastEpoch, p.state = pr.EndOffset, pr.LeaderEpoch, cpFetchable
		default:
			p.state = cpFetchable
		}
	}
	c.requeue(g, cpValidating, cpNeedValidate)
}

func (c *Consumer) onFetch(now time.Duration, r *protocol.FetchResponse) {
	g := c.take(r.CorrelationID, reqFetch)
	if g == nil {
		return
	}
	c.answer = g // freed once run has sent the next fetch (refetch)
	// An incremental session's answer holds only the partitions with something new; a session
	// error holds none, and the next fetch is full.
	if cs := c.sessions[g.broker]; cs != nil && !cs.h.Answered(r) {
		return
	}
	for i := range r.Partitions {
		pr := &r.Partitions[i]
		p, k := c.current(g, pr.TP)
		if p == nil || p.state != cpFetchable || p.position != g.offs[k] {
			continue
		}
		switch pr.Error {
		case protocol.NONE:
			c.consume(now, g.sentAt, p, pr)
		case protocol.OFFSET_OUT_OF_RANGE:
			c.reset(p)
			c.stats.Resets++
		default:
			p.fetchOK = false
			c.backoff(now, p, pr.Error)
		}
	}
}

// consume takes the records at or above the position from a fetch answer and records them as
// one poll op.
func (c *Consumer) consume(now, invoke time.Duration, p *cpart, pr *protocol.FetchPartitionResponse) {
	var skip []bool // read_committed: the batches of aborted transactions
	if c.isolation == protocol.ReadCommitted && len(pr.AbortedTransactions) > 0 {
		skip = abortedBatches(pr)
	}
	n := 0
	for bi, b := range pr.Batches {
		if b.Control || skip != nil && skip[bi] {
			continue
		}
		for i := range b.Len() {
			if b.OffsetOf(i) >= p.position {
				n++
			}
		}
	}
	// The application handling records later keeps its poll; else the observers copy what they
	// keep of it before Observe returns, and the consumer reuses its buffers.
	held := c.grp != nil && c.cfg.Processing > 0
	var values, offsets []int64
	if n > 0 {
		values, offsets = c.poll.values(n, held)
	}
	for bi, b := range pr.Batches {
		if b.NextOffset() <= p.position {
			continue // entirely below the position
		}
		if !b.Control && (skip == nil || !skip[bi]) {
			for i := range b.Len() {
				off := b.OffsetOf(i) // a cleaned batch skips the removed records' offsets
				if off >= p.position {
					values = append(values, b.Value(i))
					offsets = append(offsets, off)
				}
			}
			p.lastEpoch = b.PartitionLeaderEpoch
		}
		p.position = b.NextOffset()
	}
	p.end = pr.HighWatermark
	if c.isolation == protocol.ReadCommitted && pr.LastStableOffset >= 0 {
		p.end = pr.LastStableOffset
	}
	p.fetchOK = true
	if n == 0 {
		return
	}
	op := &c.poll.op
	if held {
		op = &history.Op{}
	}
	*op = history.Op{
		Client: c.name, Type: history.Poll, Topic: pr.TP.Topic, Partition: pr.TP.Partition,
		Values: values, Offsets: offsets, Invoke: invoke, Complete: now, Outcome: history.OK,
	}
	if c.grp != nil {
		op.Group, op.Generation, op.Session = c.cfg.Group, c.grp.generation, c.grp.session()
	}
	if c.isolation == protocol.ReadCommitted {
		op.Isolation = history.ReadCommitted
	}
	if held {
		c.grp.process(now, op) // the records count as received as the application handles them
	} else {
		c.env.Observe(op)
	}
	if c.grp != nil {
		c.grp.polled(now)
	}
	c.stats.Polls++
	c.stats.Consumed += int64(n)
}

// pollBuffer is the consumer's reused poll operation and its values and offsets.
type pollBuffer struct {
	op  history.Op
	buf []int64
}

// values returns empty slices with room for n values and n offsets: fresh when the poll is
// held after Observe, else the reused buffer.
func (b *pollBuffer) values(n int, held bool) (values, offsets []int64) {
	var buf []int64
	if held {
		buf = make([]int64, 2*n)
	} else {
		b.buf = slices.Grow(b.buf[:0], 2*n)[:2*n]
		buf = b.buf
	}
	return buf[:0:n], buf[n : n : 2*n]
}

// abortedBatches marks the batches of aborted transactions in a read_committed answer, as the
// Java consumer's CompletedFetch.nextFetchedRecord does: an aborted transaction's producer
// joins the aborted set once a transactional batch of it reaches the transaction's first offset,
// and leaves it at its ABORT marker; its batches in between are dropped.
func abortedBatches(pr *protocol.FetchPartitionResponse) []bool {
	skip := make([]bool, len(pr.Batches))
	pending := slices.Clone(pr.AbortedTransactions)
	slices.SortStableFunc(pending, func(a, b protocol.AbortedTransaction) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
	aborted := map[int64]bool{}
	for i, b := range pr.Batches {
		if b.ProducerID < 0 || !b.Control && !b.Transactional {
			continue
		}
		// consumeAbortedTransactionsUpTo(batch.lastOffset()) comes first, for a marker too: an
		// answer that starts at an aborted transaction's ABORT marker lists that transaction,
		// and the marker must close it, not leave it open over the next transaction's batches.
		for len(pending) > 0 && pending[0].FirstOffset <= b.LastOffset() {
			aborted[pending[0].ProducerID] = true
			pending = pending[1:]
		}
		if b.Control {
			if b.Len() > 0 && b.Key(0) == protocol.MarkerAbort {
				delete(aborted, b.ProducerID)
			}
			continue
		}
		skip[i] = aborted[b.ProducerID]
	}
	return skip
}
