package client

import (
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Behavior: the Java producer (Kafka 4.x) as a state machine. Records are created by
// SendRecords or a continuous rate (workload), partitioned (partitioner), appended to
// per-partition batches (accumulator), drained per leader into ProduceRequests (sender) under
// the idempotent producer's sequences (transactionManager) and completed one history op per
// record (outcomes). A request unanswered within request.timeout.ms counts as a broken
// connection: NETWORK_EXCEPTION, outcome possibly appended. Not modelled: max.block.ms,
// buffer.memory, compression, KIP-794's load-adaptive partition weights.

// ProducerOptions configures a producer.
type ProducerOptions struct {
	Name   string
	Topic  string
	Config config.Producer // already Finish()ed by the caller
	Rate   float64         // records per second, 0 = only on SendRecords
	Keys   int             // > 0: each record gets key "k<n>", n uniform in [0,Keys) (env.Rand())
	// Tombstones: the fraction of keyed records sent with a null value (env.Rand(), drawn only
	// when above 0).
	Tombstones float64
	ValueBase  int64   // values are ValueBase+1, ValueBase+2, …
	Bootstrap  []int32 // broker ids to ask for metadata
	// CorrelationBase is where the producer's correlation ids start: a processor's producer
	// shares its node with a consumer (processor.go).
	CorrelationBase int64
}

// ProducerStats counts records by outcome.
type ProducerStats struct {
	Sent     int64 // records handed to the producer
	Acked    int64 // completed ok
	Failed   int64 // completed fail
	Unknown  int64 // completed unknown
	InFlight int64 // handed over, not completed yet

	Committed int64 // transactions committed (transactional.id)
	Aborted   int64 // transactions aborted

	// The compression ratio of compression.type: Bytes is the batches' size as encoded, Plain
	// the same batches uncompressed (exact when compression.type=none, else the accumulator's
	// estimate, as RecordAccumulator sizes batches before compression).
	Bytes, Plain int64
}

// netClient is what a client's requests share (Java's NetworkClient): correlation ids, the
// request timeouts, the reconnect back-off and the wake timer.
type netClient struct {
	env  node.Env
	corr int64
	tmo  timeouts
	rc   reconnects
	w    waker
}

// pendingRecord is a record waiting for the topic's metadata before it can be partitioned.
type pendingRecord struct {
	rec     protocol.Record
	created time.Duration
}

// Producer is a simulated Kafka producer for one topic (KafkaProducer): it wires the parts
// together and routes each input to the one that handles it.
type Producer struct {
	cfg        config.Producer
	net        netClient
	meta       topicMeta
	closed     bool
	workload   workload
	unassigned []pendingRecord // created before the topic's metadata came
	part       partitioner
	sync       syncSends // send.mode=sync (sendmode.go)
	acc        accumulator
	txn        transactionManager
	sender     sender
	out        outcomes
	tx         *transactional // the transactional path (transactional.go), nil without transactional.id
}

// NewProducer creates a producer; it asks for metadata (and a producer id) right away.
func NewProducer(o ProducerOptions, env node.Env, now time.Duration) *Producer {
	def := config.DefaultProducer()
	cfg := o.Config
	cfg.RequestTimeout = orDefault(cfg.RequestTimeout, def.RequestTimeout)
	cfg.DeliveryTimeout = orDefault(cfg.DeliveryTimeout, def.DeliveryTimeout)
	cfg.RetryBackoff = orDefault(cfg.RetryBackoff, def.RetryBackoff)
	cfg.RetryBackoffMax = orDefault(cfg.RetryBackoffMax, def.RetryBackoffMax)
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
	name := o.Name
	if name == "" {
		name = node.Name(env.ID())
	}
	p := &Producer{
		cfg:  cfg,
		net:  netClient{env: env, corr: o.CorrelationBase, w: waker{pending: -1}, rc: newReconnects(cfg.ReconnectBackoff, cfg.ReconnectMax)},
		meta: newTopicMeta(o.Topic, o.Bootstrap, cfg.RetryBackoff, cfg.RetryBackoffMax),
		part: newPartitioner(cfg.Partitioner, cfg.BatchSize),
		sync: syncSends{on: cfg.SendMode == "sync"},
		out:  outcomes{env: env, name: name, topic: o.Topic},
	}
	p.meta.rc = &p.net.rc
	p.workload = newWorkload(env, &o, cfg.Linger)
	p.acc = newAccumulator(env, &p.cfg)
	p.out.acc = &p.acc
	p.txn = newTransactionManager(&p.cfg)
	p.sender = sender{
		cfg: &p.cfg, topic: o.Topic, net: &p.net, meta: &p.meta, acc: &p.acc, txn: &p.txn, out: &p.out,
		inflight: make(map[int64]*produceReq), brokerLoad: make(map[int32]int),
		retryBackoff: newExponentialBackoff(cfg.RetryBackoff, backoffMultiplier, cfg.RetryBackoffMax, backoffJitter),
	}
	if cfg.TransactionalID != "" {
		p.tx = newTransactional(p)
		if o.Rate > 0 {
			p.workload.setRate(now, o.Rate)
		}
		p.tx.run(now)
		return p
	}
	if o.Rate > 0 {
		p.setRate(now, o.Rate)
	}
	p.run(now)
	return p
}

// Compression is the producer's compression.type.
func (p *Producer) Compression() string { return p.cfg.Compression.String() }

// Stats counts records by outcome.
func (p *Producer) Stats() ProducerStats {
	s := p.out.stats
	s.InFlight = s.Sent - s.Acked - s.Failed - s.Unknown
	return s
}

// Step handles one input: an external command (from == 0), a timer (from == env.ID()) or a
// broker's response.
func (p *Producer) Step(now time.Duration, from int32, msg any) {
	if p.closed {
		return
	}
	if p.tx != nil {
		p.tx.step(now, from, msg)
		return
	}
	switch m := msg.(type) {
	case *SendRecords:
		for i := 0; i < m.Count; i++ {
			p.newRecord(now, now)
		}
	case *SetRate:
		p.setRate(now, m.PerSecond)
	case rateTick:
		if !p.workload.live(m) {
			return
		}
		p.createDue(now)
		p.workload.schedule(now)
	case wake:
		p.net.w.fired(m.at)
	case metadataAge:
		p.meta.aged(m.gen)
	case timeoutTick:
		for _, corr := range p.net.tmo.due(p.net.env, now, m) {
			p.onRequestTimeout(now, corr)
		}
	case *node.ConnectionReset:
		p.onReset(now, m.Peer)
	case *pbatch:
		p.sender.expire(now, m)
	case *protocol.MetadataResponse:
		if p.meta.handle(p.net.env, now, p.cfg.MetadataMaxAge, m) {
			p.acc.grow(len(p.meta.parts))
			p.txn.grow(len(p.meta.parts))
		}
	case *protocol.InitProducerIdResponse:
		if p.txn.onInitProducerID(now, p.cfg.RetryBackoff, m) {
			p.meta.wanted = true
		}
	case *protocol.ProduceResponse:
		if p.sender.overtaken(from, m.CorrelationID) {
			p.connectionBroken(now, from)
			break
		}
		p.net.rc.answered(from)
		if p.sender.onProduce(now, m) {
			// Java's Sender takes every response a poll brought before it drains again:
			// the answers arriving at this instant are handled first, so that a new batch
			// does not overtake retried ones whose answers are still on their way.
			p.net.w.at(p.net.env, now, now)
			return
		}
	default:
		return
	}
	p.run(now)
}

// createDue creates every record due by now at the current rate, each with its exact
// creation time.
func (p *Producer) createDue(now time.Duration) {
	for at, ok := p.workload.nextDue(now); ok; at, ok = p.workload.nextDue(now) {
		p.newRecord(now, at)
	}
}

func (p *Producer) setRate(now time.Duration, r float64) {
	p.createDue(now)
	p.sync.stop()
	p.workload.setRate(now, r)
}

// newRecord hands the producer a record the application created at `created` (≤ now).
func (p *Producer) newRecord(now, created time.Duration) {
	if !p.sync.hold() {
		p.createRecord(now, created)
	}
}

// createRecord makes the record and hands it over.
func (p *Producer) createRecord(now, created time.Duration) {
	rec := p.workload.record()
	p.out.stats.Sent++
	if !p.meta.known || len(p.unassigned) > 0 || !p.append(now, rec, created) {
		p.unassigned = append(p.unassigned, pendingRecord{rec: rec, created: created})
	}
}

// append partitions a record and adds it to its partition's batches; false if the application
// chose a partition the metadata does not show yet (the producer then asks for metadata again).
func (p *Producer) append(now time.Duration, rec protocol.Record, created time.Duration) bool {
	part := p.part.partition(p.net.env, &p.meta, rec, p.acc.sizeOf(rec))
	if part < 0 {
		p.meta.wanted = true
		return false
	}
	p.acc.append(now, part, rec, created)
	return true
}

// run does whatever is due: metadata, producer id, partitioning waiting records, draining.
// The idempotent producer first settles its sequences, as Sender.runOnce does
// (maybeResolveSequences, bumpIdempotentEpochAndResetIdIfNeeded).
func (p *Producer) run(now time.Duration) {
	p.meta.maybeSend(p.net.env, &p.net.w, &p.net.tmo, now, &p.net.corr, p.cfg.RequestTimeout)
	p.txn.maybeResolveSequences()
	p.txn.bumpIdempotentEpochAndResetIdIfNeeded(now, &p.net, &p.meta, p.cfg.RequestTimeout)
	p.expireUnassigned(now)
	if p.meta.known && len(p.unassigned) > 0 {
		n := 0
		for n < len(p.unassigned) && p.append(now, p.unassigned[n].rec, p.unassigned[n].created) {
			n++
		}
		p.unassigned = append(p.unassigned[:0], p.unassigned[n:]...)
	}
	p.drain(now)
	p.meta.maybeSend(p.net.env, &p.net.w, &p.net.tmo, now, &p.net.corr, p.cfg.RequestTimeout)
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
		p.out.record(now, -1, r.rec.Value, -1, r.created, history.Fail, "DELIVERY_TIMEOUT")
		n++
	}
	if n > 0 {
		p.unassigned = append(p.unassigned[:0], p.unassigned[n:]...)
	}
	if len(p.unassigned) > 0 {
		p.net.w.at(p.net.env, now, p.unassigned[0].created+p.cfg.DeliveryTimeout)
	}
}

// onRequestTimeout handles request.timeout.ms passing for request corr: Java's NetworkClient
// then closes the connection to the request's broker (handleTimedOutRequests,
// processTimeoutDisconnection), which fails every request in flight on it at once, as a reset
// does; the broker, told the connection closed, never reads the requests pipelined behind the
// one it is handling. An answered request's deadline is ignored.
func (p *Producer) onRequestTimeout(now time.Duration, corr int64) {
	var to int32 = -1
	switch {
	case p.meta.corr != 0 && corr == p.meta.corr:
		to = p.meta.to
	case p.txn.state == pidRequesting && corr == p.txn.corr:
		to = p.txn.to
	default:
		if r := p.sender.inflight[corr]; r != nil {
			to = r.broker
		}
	}
	if to >= 0 {
		p.connectionBroken(now, to)
	}
}

// connectionBroken closes the connection to broker `to` and fails everything in flight on it
// (NetworkClient's disconnect, processDisconnection): after a request timed out, or after an
// answer came that is not the oldest one the connection owes (sender.overtaken).
func (p *Producer) connectionBroken(now time.Duration, to int32) {
	closeConnection(p.net.env, to)
	p.onReset(now, to)
}

// closeConnection closes the client's connection to peer, if the machine can (sim.Host).
func closeConnection(env node.Env, peer int32) {
	if c, ok := env.(connectionCloser); ok {
		c.CloseConnection(peer)
	}
}

// connectionCloser is the machine's way to close a connection (sim.Host).
type connectionCloser interface{ CloseConnection(peer int32) }

// onTimeout routes the failure of request corr (its connection closed) to whoever sent it.
func (p *Producer) onTimeout(now time.Duration, corr int64) {
	if p.meta.timedOut(p.net.env, now, corr) || p.txn.timedOut(corr) {
		return
	}
	p.sender.timedOut(now, corr)
}

// onReset fails every request in flight to a broker whose connection was reset, as the
// request timeout would, only at once, and asks for metadata: the disconnect may come from stale
// metadata (NetworkClient.processDisconnection, DefaultMetadataUpdater.handleServerDisconnect).
// An acks=0 producer learns of a leader change only this way: the broker closes its connection.
func (p *Producer) onReset(now time.Duration, peer int32) {
	p.net.rc.failed(p.net.env, now, peer)
	p.meta.wanted = true
	if p.meta.corr != 0 && p.meta.to == peer {
		p.onTimeout(now, p.meta.corr)
	}
	if p.txn.requesting(peer) {
		p.onTimeout(now, p.txn.corr)
	}
	for _, corr := range p.sender.inflightTo(peer) {
		p.onTimeout(now, corr)
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
	if p.tx != nil {
		p.tx.close(now)
		return
	}
	for _, r := range p.unassigned {
		p.out.record(now, -1, r.rec.Value, -1, r.created, history.Fail, "CLOSED")
	}
	p.unassigned = nil
	p.sender.close(now)
}

// outcomes records how each record ended as one history op (the Java producer's send
// callback) and counts them.
type outcomes struct {
	env   node.Env
	name  string
	topic string
	stats ProducerStats
	sends history.Sends // the batch being observed, reused: observers copy what they keep
	acc   *accumulator  // takes back a completed batch's buffers
}

// batch records one op per record of b, as one observation in record order, and takes back
// b's creation times for a later batch (a completed batch takes no more records).
func (o *outcomes) batch(now time.Duration, b *pbatch, out history.Outcome, base int64, errName string) {
	n := b.n
	s := &o.sends
	s.Client, s.Topic, s.Partition = o.name, o.topic, b.part
	s.Values = s.Values[:0]
	for i := range n {
		s.Values = append(s.Values, b.value(i))
	}
	s.Invokes, s.Complete, s.Outcome, s.Error = b.created, now, out, errName
	s.Base = -1
	if out == history.OK && base >= 0 {
		s.Base = base
	}
	o.env.Observe(s)
	s.Invokes = nil
	if o.acc != nil {
		o.acc.recycle(b)
	}
	o.count(out, int64(n))
}

// record records the op of a single record that never joined a batch.
func (o *outcomes) record(now time.Duration, part int32, v, off int64, created time.Duration, out history.Outcome, errName string) {
	op := &history.Op{
		Client: o.name, Type: history.Send, Topic: o.topic, Partition: part,
		Values: []int64{v}, Invoke: created, Complete: now, Outcome: out, Error: errName,
	}
	if off >= 0 {
		op.Offsets = []int64{off}
	}
	o.env.Observe(op)
	o.count(out, 1)
}

func (o *outcomes) count(out history.Outcome, n int64) {
	switch out {
	case history.OK:
		o.stats.Acked += n
	case history.Fail:
		o.stats.Failed += n
	default:
		o.stats.Unknown += n
	}
}
