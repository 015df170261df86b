package client

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Behavior: the Java producer (Kafka 4.x) as a state machine. Records are created by
// SendRecords or a continuous rate, partitioned, appended to per-partition batches
// (RecordAccumulator), drained per leader into ProduceRequests (Sender) and completed one
// history op per record. A request unanswered within request.timeout.ms counts as a broken
// connection: NETWORK_EXCEPTION, outcome possibly appended. Not modelled: max.block.ms,
// buffer.memory, compression, KIP-794's load-adaptive partition weights.

// ProducerOptions configures a producer.
type ProducerOptions struct {
	Name      string
	Topic     string
	Config    config.Producer // already Finish()ed by the caller
	Rate      float64         // records per second, 0 = only on SendRecords
	Keys      int             // > 0: each record gets key "k<n>", n uniform in [0,Keys) (env.Rand())
	ValueBase int64           // values are ValueBase+1, ValueBase+2, …
	Bootstrap []int32         // broker ids to ask for metadata
}

// ProducerStats counts records by outcome.
type ProducerStats struct {
	Sent     int64 // records handed to the producer
	Acked    int64 // completed ok
	Failed   int64 // completed fail
	Unknown  int64 // completed unknown
	InFlight int64 // handed over, not completed yet
}

// pbatch is one producer batch (Java's ProducerBatch).
type pbatch struct {
	id        uint64 // creation order
	part      int32
	records   []protocol.Record
	created   []time.Duration // each record's creation time (op Invoke)
	size      int64
	createdAt time.Duration
	full      bool // takes no more records (full, followed by another batch, or drained)
	sent      bool // drained at least once
	inflight  bool
	done      bool
	landed    bool // some attempt may have been appended (reference S10)
	attempts  int
	retryAt   time.Duration
	lastErr   protocol.ErrorCode
	wire      *protocol.RecordBatch // built when drained; reused by retries
	pid       int64
	pepoch    int16
	seq       int32
}

type produceReq struct {
	broker  int32
	batches []*pbatch
}

type pendingRecord struct {
	rec     protocol.Record
	created time.Duration
}

// Producer ID states.
const (
	pidNone = iota
	pidRequesting
	pidReady
)

// Producer is a simulated Kafka producer for one topic.
type Producer struct {
	o       ProducerOptions
	cfg     config.Producer
	env     node.Env
	name    string
	meta    topicMeta
	corr    int64
	w       waker
	closed  bool
	stats   ProducerStats
	nextVal int64
	keys    []string

	rate      float64
	rateGen   uint64
	rateStart time.Duration
	rateCount int64

	pidState int
	pid      int64
	pepoch   int16
	pidCorr  int64
	pidTo    int32
	pidAfter time.Duration
	nextSeq  []int32

	sticky      int32
	stickyBytes int64
	rr          int
	avail       []int32

	batchID     uint64
	unassigned  []pendingRecord
	queues      [][]*pbatch // per partition, batches not in flight, oldest first
	outstanding [][]*pbatch // idempotent: batches holding a sequence, not done
	inflight    map[int64]*produceReq
	tmo         timeouts
	rc          reconnects
	brokerLoad  map[int32]int
	drainStart  int
	pending     []*produceReq // drain scratch
	recordBytes int64
}

// NewProducer creates a producer; it asks for metadata (and a producer id) right away.
func NewProducer(o ProducerOptions, env node.Env, now time.Duration) *Producer {
	def := config.DefaultProducer()
	cfg := o.Config
	cfg.RequestTimeout = orDefault(cfg.RequestTimeout, def.RequestTimeout)
	cfg.DeliveryTimeout = orDefault(cfg.DeliveryTimeout, def.DeliveryTimeout)
	cfg.RetryBackoff = orDefault(cfg.RetryBackoff, def.RetryBackoff)
	cfg.MetadataMaxAge = orDefault(cfg.MetadataMaxAge, def.MetadataMaxAge)
	cfg.ReconnectBackoff = orDefault(cfg.ReconnectBackoff, def.ReconnectBackoff)
	cfg.ReconnectMax = max(orDefault(cfg.ReconnectMax, def.ReconnectMax), cfg.ReconnectBackoff)
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = def.MaxInFlight
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.Partitioner == "" {
		cfg.Partitioner = def.Partitioner
	}
	p := &Producer{
		o: o, cfg: cfg, env: env, name: o.Name, rc: reconnects{base: cfg.ReconnectBackoff, max: cfg.ReconnectMax},
		meta:       newTopicMeta(o.Topic, o.Bootstrap),
		w:          waker{pending: -1},
		pid:        protocol.NoProducerID,
		pepoch:     -1,
		sticky:     -1,
		inflight:   make(map[int64]*produceReq),
		brokerLoad: make(map[int32]int),
	}
	if p.name == "" {
		p.name = node.Name(env.ID())
	}
	one := protocol.RecordBatch{Records: []protocol.Record{{}}}
	p.recordBytes = one.SizeBytes() - (&protocol.RecordBatch{}).SizeBytes()
	if o.Keys > 0 {
		p.keys = make([]string, o.Keys)
		for i := range p.keys {
			p.keys[i] = "k" + strconv.Itoa(i)
		}
	}
	if o.Rate > 0 {
		p.setRate(now, o.Rate)
	}
	p.run(now)
	return p
}

// Stats counts records by outcome.
func (p *Producer) Stats() ProducerStats {
	s := p.stats
	s.InFlight = s.Sent - s.Acked - s.Failed - s.Unknown
	return s
}

// Step handles one input: an external command (from == 0), a timer (from == env.ID()) or a
// broker's response.
func (p *Producer) Step(now time.Duration, from int32, msg any) {
	if p.closed {
		return
	}
	switch m := msg.(type) {
	case SendRecords:
		for i := 0; i < m.Count; i++ {
			p.newRecord(now)
		}
	case *SendRecords:
		for i := 0; i < m.Count; i++ {
			p.newRecord(now)
		}
	case SetRate:
		p.setRate(now, m.PerSecond)
	case *SetRate:
		p.setRate(now, m.PerSecond)
	case rateTick:
		if m.gen != p.rateGen || p.rate <= 0 {
			return
		}
		p.createDue(now)
		p.scheduleRate(now)
	case wake:
		p.w.fired(m.at)
	case metadataAge:
		p.meta.aged(m.gen)
	case timeoutTick:
		for _, corr := range p.tmo.due(p.env, now, m) {
			p.onTimeout(now, corr)
		}
	case *node.ConnectionReset:
		p.onReset(now, m.Peer)
	case *pbatch:
		p.expire(now, m)
	case *protocol.MetadataResponse:
		if p.meta.handle(p.env, now, p.cfg.MetadataMaxAge, m) {
			p.grow()
		}
	case *protocol.InitProducerIdResponse:
		p.onInitProducerID(now, m)
	case *protocol.ProduceResponse:
		p.rc.answered(from)
		p.onProduce(now, m)
	default:
		return
	}
	p.run(now)
}

// createDue creates every record due by now at the current rate, each with its exact creation
// time: the producer wakes at most once per linger.ms, since records made in between would
// wait in the same batch anyway.
func (p *Producer) createDue(now time.Duration) {
	if p.rate <= 0 {
		return
	}
	for {
		at := p.rateAt(p.rateCount + 1)
		if at > now {
			return
		}
		p.newRecordAt(now, at)
		p.rateCount++
	}
}

func (p *Producer) setRate(now time.Duration, r float64) {
	p.createDue(now)
	p.rateGen++
	p.rate = r
	if r <= 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		p.rate = 0
		return
	}
	p.rateStart, p.rateCount = now, 0
	p.scheduleRate(now)
}

// scheduleRate schedules record rateCount+1 at rateStart + (rateCount+1)/rate exactly, so
// rounding never accumulates.
func (p *Producer) scheduleRate(now time.Duration) {
	at := p.rateAt(p.rateCount + 1)
	if at < now {
		at = now
	}
	if next := now + p.cfg.Linger; at < next && p.rateCount > 0 {
		at = next
	}
	p.env.After(at-now, rateTick{gen: p.rateGen})
}

// rateAt is the creation time of the k-th record at the current rate.
func (p *Producer) rateAt(k int64) time.Duration {
	return p.rateStart + time.Duration(float64(k)*float64(time.Second)/p.rate)
}

func (p *Producer) newRecord(now time.Duration) { p.newRecordAt(now, now) }

// newRecordAt hands the producer a record the application created at `created` (≤ now).
func (p *Producer) newRecordAt(now, created time.Duration) {
	p.nextVal++
	rec := protocol.Record{Value: p.o.ValueBase + p.nextVal}
	if len(p.keys) > 0 {
		rec.Key = p.keys[p.env.Rand()%uint64(len(p.keys))]
	}
	p.stats.Sent++
	if !p.meta.known || len(p.unassigned) > 0 {
		p.unassigned = append(p.unassigned, pendingRecord{rec: rec, created: created})
		return
	}
	p.append(now, rec, created)
}

// grow sizes the per-partition state after metadata learnt more partitions.
func (p *Producer) grow() {
	for len(p.queues) < len(p.meta.parts) {
		p.queues = append(p.queues, nil)
		p.outstanding = append(p.outstanding, nil)
		p.nextSeq = append(p.nextSeq, 0)
	}
}

// available lists the partitions with a leader (all partitions when none has one).
func (p *Producer) available() []int32 {
	a := p.avail[:0]
	for i := range p.meta.parts {
		if p.meta.parts[i].leader >= 0 {
			a = append(a, int32(i))
		}
	}
	if len(a) == 0 {
		for i := range p.meta.parts {
			a = append(a, int32(i))
		}
	}
	p.avail = a
	return a
}

// partition picks a record's partition. "default" is Kafka's BuiltInPartitioner (KIP-794):
// murmur2 over all partitions for a keyed record; for an unkeyed one a sticky partition,
// redrawn uniformly among available partitions once batch.size bytes went to it. "round-robin"
// cycles over available partitions (RoundRobinPartitioner); "key-hash" always hashes the key
// (an unkeyed record hashes the empty key).
func (p *Producer) partition(rec protocol.Record) int32 {
	n := len(p.meta.parts)
	switch p.cfg.Partitioner {
	case "key-hash":
		return PartitionForKey(rec.Key, n)
	case "round-robin":
		a := p.available()
		part := a[p.rr%len(a)]
		p.rr++
		return part
	}
	if rec.Key != "" {
		return PartitionForKey(rec.Key, n)
	}
	if p.sticky < 0 || int(p.sticky) >= n || p.stickyBytes >= int64(p.cfg.BatchSize) {
		a := p.available()
		p.sticky = a[p.env.Rand()%uint64(len(a))]
		p.stickyBytes = 0
	}
	p.stickyBytes += p.recordBytes + int64(len(rec.Key))
	return p.sticky
}

// append adds a record to its partition's last batch, or a new one (RecordAccumulator.append).
func (p *Producer) append(now time.Duration, rec protocol.Record, created time.Duration) {
	part := p.partition(rec)
	sz := p.recordBytes + int64(len(rec.Key))
	q := p.queues[part]
	var b *pbatch
	if len(q) > 0 {
		last := q[len(q)-1]
		if !last.full && last.size+sz <= int64(p.cfg.BatchSize) {
			b = last
		} else {
			last.full = true
		}
	}
	if b == nil {
		p.batchID++
		b = &pbatch{
			id: p.batchID, part: part, createdAt: now, size: (&protocol.RecordBatch{}).SizeBytes(),
			pid: protocol.NoProducerID, pepoch: -1, seq: protocol.NoSequence,
		}
		p.queues[part] = append(q, b)
		if p.cfg.DeliveryTimeout < maxTimer {
			p.env.After(p.cfg.DeliveryTimeout, b)
		}
	}
	b.records = append(b.records, rec)
	b.created = append(b.created, created)
	b.size += sz
	if b.size >= int64(p.cfg.BatchSize) {
		b.full = true
	}
}

// run does whatever is due: metadata, producer id, partitioning waiting records, draining.
func (p *Producer) run(now time.Duration) {
	p.meta.maybeSend(p.env, &p.w, &p.tmo, now, &p.corr, p.cfg.RequestTimeout, p.cfg.RetryBackoff)
	if p.cfg.EnableIdempotence && p.pidState == pidNone {
		if now < p.pidAfter {
			p.w.at(p.env, now, p.pidAfter)
		} else if to := p.meta.pick(p.env, p.pidTo); to >= 0 {
			p.corr++
			p.pidCorr, p.pidTo, p.pidState = p.corr, to, pidRequesting
			p.env.Send(to, &protocol.InitProducerIdRequest{CorrelationID: p.corr, ProducerID: p.pid, ProducerEpoch: p.pepoch})
			p.tmo.add(p.env, now, p.cfg.RequestTimeout, p.corr)
		}
	}
	p.expireUnassigned(now)
	if p.meta.known && len(p.unassigned) > 0 {
		for _, r := range p.unassigned {
			p.append(now, r.rec, r.created)
		}
		p.unassigned = p.unassigned[:0]
	}
	p.drain(now)
	p.meta.maybeSend(p.env, &p.w, &p.tmo, now, &p.corr, p.cfg.RequestTimeout, p.cfg.RetryBackoff)
}

// expireUnassigned fails records that waited for metadata longer than delivery.timeout.ms
// (Java's send() gives up after max.block.ms; nothing was sent).
func (p *Producer) expireUnassigned(now time.Duration) {
	if len(p.unassigned) == 0 || p.cfg.DeliveryTimeout >= maxTimer {
		return
	}
	n := 0
	for n < len(p.unassigned) && p.unassigned[n].created+p.cfg.DeliveryTimeout <= now {
		r := p.unassigned[n]
		p.observe(now, -1, r.rec.Value, -1, r.created, history.Fail, "DELIVERY_TIMEOUT")
		n++
	}
	if n > 0 {
		p.unassigned = append(p.unassigned[:0], p.unassigned[n:]...)
	}
	if len(p.unassigned) > 0 {
		p.w.at(p.env, now, p.unassigned[0].created+p.cfg.DeliveryTimeout)
	}
}

// drain builds ProduceRequests from ready batches (RecordAccumulator.drain + Sender): at most
// one batch per partition per request, one request per leader per round, at most
// max.in.flight.requests.per.connection requests in flight per leader.
func (p *Producer) drain(now time.Duration) {
	if !p.meta.known || (p.cfg.EnableIdempotence && p.pidState != pidReady) {
		return
	}
	n := len(p.queues)
	for n > 0 {
		p.pending = p.pending[:0]
		for i := 0; i < n; i++ {
			part := int32((p.drainStart + i) % n)
			q := p.queues[part]
			if len(q) == 0 {
				continue
			}
			b := q[0]
			leader := p.meta.parts[part].leader
			if leader < 0 {
				p.meta.wanted = true
				continue
			}
			if b.retryAt > now {
				p.w.at(p.env, now, b.retryAt)
				continue
			}
			if p.rc.waitFor(p.env, &p.w, now, leader) {
				continue
			}
			if !b.full && now < b.createdAt+p.cfg.Linger {
				p.w.at(p.env, now, b.createdAt+p.cfg.Linger)
				continue
			}
			if p.waitsForEarlier(b) {
				continue
			}
			if p.cfg.EnableIdempotence && b.landed && b.seq >= 0 && (b.pid != p.pid || b.pepoch != p.pepoch) {
				// An earlier attempt may be in the log under the old producer epoch; resent
				// under the new one it would not be recognised as a duplicate (§5.1: the
				// broker deduplicates per producer id and epoch). It ends with an unknown
				// outcome instead.
				p.queues[part] = q[1:]
				p.complete(now, b, history.Unknown, -1, timeoutErr(b))
				p.w.at(p.env, now, now) // drain the batches behind it
				continue
			}
			req := p.requestFor(leader)
			if req == nil {
				continue
			}
			p.queues[part] = q[1:]
			if len(p.queues[part]) == 0 {
				p.queues[part] = q[:0]
			}
			p.prepare(b)
			req.batches = append(req.batches, b)
		}
		if len(p.pending) == 0 {
			break
		}
		p.drainStart++
		for _, req := range p.pending {
			p.send(now, req)
		}
	}
}

// waitsForEarlier holds back a retried idempotent batch while a batch with a lower sequence
// is still in flight (Java drains a retry only as the first in-flight batch of its partition).
func (p *Producer) waitsForEarlier(b *pbatch) bool {
	if !b.sent || b.seq < 0 || b.pid != p.pid || b.pepoch != p.pepoch {
		return false
	}
	for _, o := range p.outstanding[b.part] {
		if o != b && o.inflight && o.pid == b.pid && o.pepoch == b.pepoch && o.seq < b.seq {
			return true
		}
	}
	return false
}

// requestFor returns this round's request to leader, opening one if leader has room.
func (p *Producer) requestFor(leader int32) *produceReq {
	for _, r := range p.pending {
		if r.broker == leader {
			return r
		}
	}
	if p.brokerLoad[leader] >= p.cfg.MaxInFlight {
		return nil
	}
	r := &produceReq{broker: leader}
	p.pending = append(p.pending, r)
	return r
}

// prepare freezes a batch for sending: with idempotence it gets the next sequence of its
// partition on its first drain, or again after the producer epoch changed (sequences restart
// at 0 with a new epoch); retries within an epoch keep their sequence.
func (p *Producer) prepare(b *pbatch) {
	b.full = true
	if p.cfg.EnableIdempotence && (b.seq < 0 || b.pid != p.pid || b.pepoch != p.pepoch) {
		p.dropOutstanding(b)
		b.pid, b.pepoch, b.seq = p.pid, p.pepoch, p.nextSeq[b.part]
		p.nextSeq[b.part] += int32(len(b.records))
		p.outstanding[b.part] = append(p.outstanding[b.part], b)
		b.wire = nil
	}
	if b.wire == nil {
		b.wire = &protocol.RecordBatch{
			ProducerID: b.pid, ProducerEpoch: b.pepoch, BaseSequence: b.seq,
			MaxTimestamp: b.createdAt, Records: b.records,
		}
	}
}

func (p *Producer) send(now time.Duration, req *produceReq) {
	p.corr++
	parts := make([]protocol.ProducePartition, len(req.batches))
	for i, b := range req.batches {
		parts[i] = protocol.ProducePartition{TP: protocol.TopicPartition{Topic: p.o.Topic, Partition: b.part}, Batch: b.wire}
		b.sent = true
		b.attempts++
	}
	p.env.Send(req.broker, &protocol.ProduceRequest{
		CorrelationID: p.corr, Acks: p.cfg.Acks, Timeout: p.cfg.RequestTimeout, Partitions: parts,
	})
	if p.cfg.Acks == protocol.AcksNone {
		// No response comes: the records complete at send time, without offsets.
		for _, b := range req.batches {
			p.complete(now, b, history.OK, -1, "")
		}
		return
	}
	for _, b := range req.batches {
		b.inflight = true
	}
	p.inflight[p.corr] = req
	p.brokerLoad[req.broker]++
	p.tmo.add(p.env, now, p.cfg.RequestTimeout, p.corr)
}

func (p *Producer) onTimeout(now time.Duration, corr int64) {
	if p.meta.timedOut(corr) {
		return
	}
	if corr == p.pidCorr && p.pidState == pidRequesting {
		p.pidState, p.pidCorr = pidNone, 0
		return
	}
	req := p.inflight[corr]
	if req == nil {
		return
	}
	p.finishRequest(corr, req)
	// A broken connection: Java fails the in-flight batches with NetworkException and
	// refreshes metadata. The batch may have been appended.
	p.meta.wanted = true
	for _, b := range req.batches {
		p.result(now, b, protocol.NETWORK_EXCEPTION, -1)
	}
}

// onReset fails every request in flight to a broker whose connection was reset, as the
// request timeout would, only at once (NetworkClient's disconnect handling).
func (p *Producer) onReset(now time.Duration, peer int32) {
	p.rc.failed(now, peer)
	if p.meta.corr != 0 && p.meta.to == peer {
		p.onTimeout(now, p.meta.corr)
	}
	if p.pidState == pidRequesting && p.pidTo == peer {
		p.onTimeout(now, p.pidCorr)
	}
	var corrs []int64
	for corr, req := range p.inflight {
		if req.broker == peer {
			corrs = append(corrs, corr)
		}
	}
	slices.Sort(corrs)
	for _, corr := range corrs {
		p.onTimeout(now, corr)
	}
}

func (p *Producer) finishRequest(corr int64, req *produceReq) {
	delete(p.inflight, corr)
	if p.brokerLoad[req.broker] <= 1 {
		delete(p.brokerLoad, req.broker)
	} else {
		p.brokerLoad[req.broker]--
	}
	for _, b := range req.batches {
		b.inflight = false
	}
}

func (p *Producer) onInitProducerID(now time.Duration, r *protocol.InitProducerIdResponse) {
	if r.CorrelationID != p.pidCorr || p.pidState != pidRequesting {
		return
	}
	p.pidCorr = 0
	if r.Error != protocol.NONE {
		p.pidState, p.pidAfter = pidNone, now+p.cfg.RetryBackoff
		if r.Error.RefreshesMetadata() {
			p.meta.wanted = true
		}
		return
	}
	p.pid, p.pepoch, p.pidState = r.ProducerID, r.ProducerEpoch, pidReady
	for i := range p.nextSeq {
		p.nextSeq[i] = 0
	}
}

func (p *Producer) onProduce(now time.Duration, r *protocol.ProduceResponse) {
	req := p.inflight[r.CorrelationID]
	if req == nil {
		return
	}
	p.finishRequest(r.CorrelationID, req)
	for _, b := range req.batches {
		var pr *protocol.ProducePartitionResponse
		for i := range r.Partitions {
			if r.Partitions[i].TP.Partition == b.part && r.Partitions[i].TP.Topic == p.o.Topic {
				pr = &r.Partitions[i]
				break
			}
		}
		if pr == nil {
			p.result(now, b, protocol.UNKNOWN_SERVER_ERROR, -1)
			continue
		}
		if pr.Error == protocol.NOT_LEADER_OR_FOLLOWER || pr.Error == protocol.FENCED_LEADER_EPOCH {
			p.meta.hint(b.part, pr.CurrentLeader, pr.CurrentLeaderEp)
		}
		p.result(now, b, pr.Error, pr.BaseOffset)
	}
}

// notAppended reports whether err is raised before the leader appends, so that an attempt
// answered with it certainly left no record (reference §2.4). Everything else — timeouts,
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT from purgatory, unknown errors — may
// follow an append. NOT_LEADER_OR_FOLLOWER is ambiguous with acks=all: a delayed produce
// completes with it when leadership moves after the append (§2.4; KAFKA-13574).
func notAppended(err protocol.ErrorCode, acks int16) bool {
	switch err {
	case protocol.NOT_ENOUGH_REPLICAS, protocol.UNKNOWN_TOPIC_OR_PARTITION, protocol.LEADER_NOT_AVAILABLE,
		protocol.INVALID_REQUIRED_ACKS, protocol.INVALID_REQUEST, protocol.INVALID_PRODUCER_EPOCH,
		protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, protocol.UNKNOWN_PRODUCER_ID, protocol.PRODUCER_FENCED,
		protocol.FENCED_LEADER_EPOCH, protocol.UNKNOWN_LEADER_EPOCH, protocol.CONCURRENT_TRANSACTIONS,
		protocol.INVALID_CONFIG, protocol.INVALID_PARTITIONS:
		return true
	case protocol.NOT_LEADER_OR_FOLLOWER:
		return acks != protocol.AcksAll
	}
	return false
}

// result handles one attempt's outcome for batch b (Sender.completeBatch / canRetry).
func (p *Producer) result(now time.Duration, b *pbatch, err protocol.ErrorCode, base int64) {
	if b.done {
		return // expired by delivery.timeout.ms while in flight
	}
	if err == protocol.NONE || err == protocol.DUPLICATE_SEQUENCE_NUMBER {
		p.complete(now, b, history.OK, base, "")
		return
	}
	b.lastErr = err
	if !notAppended(err, p.cfg.Acks) && !p.cfg.ReportsAppendedAsFailed {
		b.landed = true
	}
	if err.RefreshesMetadata() {
		p.meta.wanted = true
	}
	stale := b.pid != p.pid || b.pepoch != p.pepoch
	switch err {
	case protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, protocol.UNKNOWN_PRODUCER_ID, protocol.INVALID_PRODUCER_EPOCH:
		if !p.cfg.EnableIdempotence {
			break
		}
		// Java's TransactionManager.canRetry: a batch sent under an older epoch, or whose
		// predecessor is still unresolved, is retried; otherwise the sequence is lost: fail
		// the batch and bump the epoch (KIP-360), sequences restart at 0.
		if p.canRetry(now, b) && (stale || (err == protocol.OUT_OF_ORDER_SEQUENCE_NUMBER && p.earlierUnresolved(b))) {
			p.retry(now, b)
			return
		}
		p.complete(now, b, outcomeOf(b), -1, err.String())
		p.bumpEpoch()
		return
	}
	if err.Retriable() && p.canRetry(now, b) {
		p.retry(now, b)
		return
	}
	p.complete(now, b, outcomeOf(b), -1, err.String())
	if p.cfg.EnableIdempotence && !stale {
		// The sequence of a failed batch is gone; later batches would be out of order.
		p.bumpEpoch()
	}
}

func (p *Producer) canRetry(now time.Duration, b *pbatch) bool {
	return b.attempts <= p.cfg.Retries && now < b.createdAt+p.cfg.DeliveryTimeout
}

func (p *Producer) earlierUnresolved(b *pbatch) bool {
	for _, o := range p.outstanding[b.part] {
		if o != b && o.pid == b.pid && o.pepoch == b.pepoch && o.seq < b.seq {
			return true
		}
	}
	return false
}

func outcomeOf(b *pbatch) history.Outcome {
	if b.landed {
		return history.Unknown
	}
	return history.Fail
}

// retry puts b back in its partition's queue after retry.backoff.ms, in creation order ahead
// of batches never sent (Java's reenqueue, in sequence order with idempotence).
func (p *Producer) retry(now time.Duration, b *pbatch) {
	b.retryAt = now + p.cfg.RetryBackoff
	q := p.queues[b.part]
	i := 0
	for i < len(q) && q[i].sent && q[i].id < b.id {
		i++
	}
	q = append(q, nil)
	copy(q[i+1:], q[i:])
	q[i] = b
	p.queues[b.part] = q
}

// bumpEpoch asks for a new producer epoch; batches not yet answered keep theirs and get new
// sequences when drained again.
func (p *Producer) bumpEpoch() {
	if p.pidState == pidReady {
		p.pidState = pidNone
	}
}

// expire handles delivery.timeout.ms for batch b (Java expires queued and in-flight batches).
func (p *Producer) expire(now time.Duration, b *pbatch) {
	if b.done {
		return
	}
	if b.inflight {
		b.landed = true
	} else {
		q := p.queues[b.part]
		for i := range q {
			if q[i] == b {
				p.queues[b.part] = append(q[:i], q[i+1:]...)
				break
			}
		}
	}
	hadSeq := b.seq >= 0 && b.pid == p.pid && b.pepoch == p.pepoch
	p.complete(now, b, outcomeOf(b), -1, timeoutErr(b))
	if hadSeq {
		p.bumpEpoch()
	}
}

func (p *Producer) dropOutstanding(b *pbatch) {
	if b.part < 0 || int(b.part) >= len(p.outstanding) {
		return
	}
	o := p.outstanding[b.part]
	for i := range o {
		if o[i] == b {
			p.outstanding[b.part] = append(o[:i], o[i+1:]...)
			return
		}
	}
}

// complete records one op per record of b.
func (p *Producer) complete(now time.Duration, b *pbatch, out history.Outcome, base int64, errName string) {
	b.done = true
	p.dropOutstanding(b)
	n := len(b.records)
	var values, offsets []int64
	if out == history.OK && base >= 0 {
		both := make([]int64, 2*n) // values and offsets in one allocation
		values, offsets = both[:n:n], both[n:]
	} else {
		values = make([]int64, n)
	}
	ops := make(history.Ops, n)
	for i := range b.records {
		values[i] = b.records[i].Value
		ops[i] = history.Op{
			Client: p.name, Type: history.Send, Topic: p.o.Topic, Partition: b.part,
			Values: values[i : i+1 : i+1], Invoke: b.created[i], Complete: now, Outcome: out, Error: errName,
		}
		if offsets != nil {
			offsets[i] = base + int64(i)
			ops[i].Offsets = offsets[i : i+1 : i+1]
		}
	}
	// One observation for the batch: the ops of its records, in record order.
	p.env.Observe(ops)
	p.count(out, int64(n))
}

func (p *Producer) observe(now time.Duration, part int32, v, off int64, created time.Duration, out history.Outcome, errName string) {
	op := &history.Op{
		Client: p.name, Type: history.Send, Topic: p.o.Topic, Partition: part,
		Values: []int64{v}, Invoke: created, Complete: now, Outcome: out, Error: errName,
	}
	if off >= 0 {
		op.Offsets = []int64{off}
	}
	p.env.Observe(op)
	p.count(out, 1)
}

func (p *Producer) count(out history.Outcome, n int64) {
	switch out {
	case history.OK:
		p.stats.Acked += n
	case history.Fail:
		p.stats.Failed += n
	default:
		p.stats.Unknown += n
	}
}

// Close reports every record still pending, at the end of a run: unknown if its batch is in
// flight or an earlier attempt may have been appended, fail otherwise (never sent, or only
// refused before append). Error is the last error, or CLOSED. The producer then ignores input.
func (p *Producer) Close(now time.Duration) {
	if p.closed {
		return
	}
	p.closed = true
	for _, r := range p.unassigned {
		p.observe(now, -1, r.rec.Value, -1, r.created, history.Fail, "CLOSED")
	}
	p.unassigned = nil
	corrs := make([]int64, 0, len(p.inflight))
	for c := range p.inflight {
		corrs = append(corrs, c)
	}
	sort.Slice(corrs, func(i, j int) bool { return corrs[i] < corrs[j] })
	for _, c := range corrs {
		for _, b := range p.inflight[c].batches {
			if !b.done {
				b.landed = true
				p.complete(now, b, history.Unknown, -1, closeErr(b))
			}
		}
	}
	for part := range p.queues {
		for _, b := range p.queues[part] {
			if !b.done {
				p.complete(now, b, outcomeOf(b), -1, closeErr(b))
			}
		}
		p.queues[part] = nil
	}
}

// timeoutErr names why a batch ran out of delivery.timeout.ms: the last error a broker gave
// it, as the Java producer's TimeoutException message carries it, else DELIVERY_TIMEOUT.
func timeoutErr(b *pbatch) string {
	if b.lastErr != protocol.NONE {
		return b.lastErr.String()
	}
	return "DELIVERY_TIMEOUT"
}

func closeErr(b *pbatch) string {
	if b.lastErr != protocol.NONE {
		return b.lastErr.String()
	}
	return "CLOSED"
}
