package broker

import (
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/log"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/broker/quorum"
)

// Options builds a broker.
type Options struct {
	ID          int32
	Controllers []int32 // the controller quorum's voters (controller.quorum.voters)
	Config      config.Broker
}

// controlledShutdownTimeout bounds how long a stopping broker waits for the controller to move
// its leaderships away before it shuts down anyway (cleanly: it still flushes and writes the
// clean-shutdown marker).
const controlledShutdownTimeout = 20 * time.Second

// Broker is one Kafka broker.
type Broker struct {
	id          int32
	cfg         config.Broker
	env         node.Env
	disk        node.Disk
	controllers []int32

	meta    *quorum.Observer
	image   *metadata.Image
	applied int64 // next metadata offset to apply

	// Lifecycle (KIP-631, KIP-841).
	incarnation   uint64
	prevEpoch     int64 // broker epoch of the last session if it ended cleanly, else -1
	epoch         int64 // broker epoch, -1 until registered
	published     bool  // partitions taken up (registered and metadata caught up)
	fenced        bool
	regInFlight   bool
	regSent       time.Duration
	hbInFlight    bool
	hbSent        time.Duration
	shuttingDown  bool
	shutdownStart time.Duration
	shutdownHeard bool // a heartbeat answer came during the controlled shutdown
	halted        bool

	corr int64

	parts map[protocol.TopicPartition]*Partition
	order []*Partition // parts sorted by topic-partition, for deterministic iteration

	hwCheckpoint map[protocol.TopicPartition]int64 // read at start-up

	fetchers map[int32]*fetcher

	// Requests to the controller awaiting answers, by correlation id.
	alters map[int64]*Partition

	delayedSeq int64
	produces   map[int64]*delayedProduce
	fetches    map[int64]*delayedFetch
	purgatory  purgatory

	// Producer id block (KIP-730).
	pidNext, pidEnd int64
	pidRequested    bool
	pidSent         time.Duration
	pidWaiters      []pidWaiter
}

type pidWaiter struct {
	from int32
	corr int64
}

// timer is every timer payload of the broker.
type timer struct {
	kind timerKind
	gen  int64
	key  int64
}

type timerKind uint8

const (
	tickHeartbeat timerKind = iota + 1
	tickIsrExpiration
	tickHWCheckpoint
	tickRetention
	tickFetcher      // key = leader id, gen = fetcher generation
	tickDelayedFetch // key = delayed fetch id
	tickDelayedProduce
	tickShutdownTimeout
	tickAlterTimeout // key = correlation id
	tickPurgatory    // gen = purgatory generation
	tickShutdownHeartbeat
)

func (t timer) TraceArg() int64 { return int64(t.kind) }

// Files on the broker's disk besides the partition logs.
const (
	fileHWCheckpoint  = "replication-offset-checkpoint"
	fileCleanShutdown = ".kafka_cleanshutdown"
)

type hwEntry struct {
	TP protocol.TopicPartition
	HW int64
}

// New starts a broker from what its disk holds.
func New(o Options, env node.Env, disk node.Disk, now time.Duration) *Broker {
	b := &Broker{
		id: o.ID, cfg: o.Config, env: env, disk: disk, controllers: o.Controllers,
		image: metadata.NewImage(), epoch: -1, prevEpoch: -1, fenced: true,
		parts: map[protocol.TopicPartition]*Partition{}, fetchers: map[int32]*fetcher{},
		alters: map[int64]*Partition{}, produces: map[int64]*delayedProduce{}, fetches: map[int64]*delayedFetch{},
		hwCheckpoint: map[protocol.TopicPartition]int64{},
		incarnation:  env.Rand(),
	}
	// A clean shutdown leaves a marker with the broker epoch; it is consumed at start-up, so
	// that a later crash is known as unclean (KAFKA-15586).
	if m := disk.Read(fileCleanShutdown); len(m) == 1 {
		b.prevEpoch = m[0].(int64)
		disk.Remove(fileCleanShutdown)
	}
	for _, e := range disk.Read(fileHWCheckpoint) {
		h := e.(hwEntry)
		b.hwCheckpoint[h.TP] = h.HW
	}
	b.meta = quorum.NewObserver(quorum.Config{
		ID:                 b.id,
		Voters:             o.Controllers,
		ElectionTimeout:    o.Config.ControllerQuorumElectionTimeout,
		ElectionBackoffMax: o.Config.ControllerQuorumElectionBackoffMax,
		FetchTimeout:       o.Config.ControllerQuorumFetchTimeout,
		RequestTimeout:     o.Config.ControllerQuorumRequestTimeout,
		FetchMaxWait:       o.Config.MetadataMaxIdleInterval,
	}, env, disk, now)
	env.After(0, timer{kind: tickHeartbeat})
	env.After(o.Config.ReplicaLagTimeMax/2, timer{kind: tickIsrExpiration})
	env.After(o.Config.ReplicaHighWatermarkCheckpointInterval, timer{kind: tickHWCheckpoint})
	env.After(o.Config.LogRetentionCheckInterval, timer{kind: tickRetention})
	return b
}

// ID is the broker id.
func (b *Broker) ID() int32 { return b.id }

// Epoch is the broker epoch of this session, -1 before registration.
func (b *Broker) Epoch() int64 { return b.epoch }

// Fenced reports whether the controller has this broker fenced (as the broker last heard).
func (b *Broker) Fenced() bool { return b.fenced }

// ShuttingDown reports whether a controlled shutdown is under way.
func (b *Broker) ShuttingDown() bool { return b.shuttingDown }

// Image is the broker's replayed metadata (read-only).
func (b *Broker) Image() *metadata.Image { return b.image }

// Metadata is the broker's metadata-log follower.
func (b *Broker) Metadata() *quorum.Observer { return b.meta }

// Partition returns the broker's replica of tp, or nil.
func (b *Broker) Partition(tp protocol.TopicPartition) *Partition { return b.parts[tp] }

// Partitions lists the broker's replicas in topic-partition order.
func (b *Broker) Partitions() []*Partition { return b.order }

// Step handles one input: a message from another node, or one of the broker's timers.
func (b *Broker) Step(now time.Duration, from int32, msg any) {
	if b.halted {
		return
	}
	if b.meta.Handle(now, from, msg) {
		b.replayMetadata(now)
		return
	}
	switch m := msg.(type) {
	case timer:
		b.onTimer(now, m)
	case *protocol.ProduceRequest:
		b.handleProduce(now, from, m)
	case *protocol.FetchRequest:
		b.handleFetch(now, from, m)
	case *protocol.FetchResponse:
		b.handleFetchResponse(now, from, m)
	case *protocol.MetadataRequest:
		b.handleMetadata(now, from, m)
	case *protocol.ListOffsetsRequest:
		b.handleListOffsets(now, from, m)
	case *protocol.OffsetForLeaderEpochRequest:
		b.handleOffsetForLeaderEpoch(now, from, m)
	case *protocol.InitProducerIdRequest:
		b.handleInitProducerId(now, from, m)
	case *protocol.AllocateProducerIdsResponse:
		b.handleAllocateProducerIds(now, m)
	case *protocol.BrokerRegistrationResponse:
		b.handleRegistration(now, m)
	case *protocol.BrokerHeartbeatResponse:
		b.handleHeartbeat(now, m)
	case *protocol.AlterPartitionResponse:
		b.handleAlterPartition(now, m)
	case *node.ConnectionReset:
		b.onConnectionReset(now, m.Peer)
	}
}

// onConnectionReset: the peer's process is gone. An unanswered fetch to it is given up and
// retried after replica.fetch.backoff.ms (the fetcher's disconnect handling); a request to the
// controller is sent again at the next heartbeat tick.
func (b *Broker) onConnectionReset(now time.Duration, peer int32) {
	if f := b.fetchers[peer]; f != nil {
		f.disconnected(now)
	}
	if node.IsController(peer) {
		b.hbInFlight, b.regInFlight = false, false
	}
}

func (b *Broker) nextCorr() int64 {
	b.corr++
	return b.corr
}

func (b *Broker) onTimer(now time.Duration, t timer) {
	switch t.kind {
	case tickHeartbeat:
		b.lifecycleTick(now)
		b.env.After(b.cfg.BrokerHeartbeatInterval, t)
	case tickIsrExpiration:
		for _, p := range b.order {
			if p.isLeader {
				p.maybeShrinkIsr(now)
			}
		}
		b.env.After(b.cfg.ReplicaLagTimeMax/2, t)
	case tickHWCheckpoint:
		for _, p := range b.order {
			p.log.MaybeFlush(now) // flush.ms, when a topic sets it
		}
		b.checkpointHW()
		b.env.After(b.cfg.ReplicaHighWatermarkCheckpointInterval, t)
	case tickRetention:
		for _, p := range b.order {
			limit := p.hw
			if b.cfg.Bugs.LogStartPastHW {
				limit = p.log.LogEndOffset() // planted bug: retention must stop at the HW
			}
			p.log.DeleteOldSegments(now, limit)
		}
		b.env.After(b.cfg.LogRetentionCheckInterval, t)
	case tickFetcher:
		if f := b.fetchers[int32(t.key)]; f != nil {
			f.onTimer(now, t.gen)
		}
	case tickPurgatory:
		b.onPurgatoryTimer(now, t.gen)
	case tickShutdownTimeout:
		if b.shuttingDown {
			b.finishShutdown()
		}
	case tickShutdownHeartbeat:
		if b.shuttingDown && !b.halted && !b.hbInFlight {
			b.sendHeartbeat(now)
		}
	case tickAlterTimeout:
		if p := b.alters[t.key]; p != nil {
			delete(b.alters, t.key)
			p.alterFailed(now, t.key)
		}
	}
}

// ---- Lifecycle: registration, heartbeats, controlled shutdown (KIP-631, KIP-841) ----

func (b *Broker) activeController() int32 {
	id, _ := b.meta.Leader()
	return id
}

func (b *Broker) lifecycleTick(now time.Duration) {
	timeout := b.cfg.ControllerQuorumRequestTimeout
	if b.pidRequested && now-b.pidSent >= timeout {
		// The block never came: let the waiting producers retry.
		b.pidRequested = false
		b.failPidWaiters(protocol.COORDINATOR_NOT_AVAILABLE)
	}
	if b.epoch < 0 {
		if b.regInFlight && now-b.regSent < timeout {
			return
		}
		c := b.activeController()
		if c < 0 {
			return
		}
		b.regInFlight, b.regSent = true, now
		b.env.Send(c, &protocol.BrokerRegistrationRequest{
			CorrelationID: b.nextCorr(), BrokerID: b.id, IncarnationID: b.incarnation, PreviousBrokerEpoch: b.prevEpoch,
		})
		return
	}
	if b.hbInFlight && now-b.hbSent < timeout {
		return
	}
	b.sendHeartbeat(now)
}

func (b *Broker) sendHeartbeat(now time.Duration) {
	c := b.activeController()
	if c < 0 {
		return
	}
	b.hbInFlight, b.hbSent = true, now
	b.env.Send(c, &protocol.BrokerHeartbeatRequest{
		CorrelationID: b.nextCorr(), BrokerID: b.id, BrokerEpoch: b.epoch,
		CurrentMetadataOffset: b.applied - 1, WantShutDown: b.shuttingDown,
	})
}

func (b *Broker) handleRegistration(now time.Duration, m *protocol.BrokerRegistrationResponse) {
	b.regInFlight = false
	if m.Error != protocol.NONE || b.epoch >= 0 {
		return
	}
	b.epoch = m.BrokerEpoch
	b.fenced = true
	b.env.Observe(&Registered{Broker: b.id, Epoch: b.epoch, Clean: b.prevEpoch >= 0})
	b.maybePublish(now)
	b.sendHeartbeat(now)
}

// maybePublish takes up the partitions once the broker is registered and its metadata replay
// has reached its own registration record (the broker epoch is that record's offset). Before
// that its image may still show a previous incarnation leading partitions — with a log a
// crash may have cut — while the controller has already moved them: KRaft's broker likewise
// waits for its initial metadata catch-up before the replica manager acts on it.
func (b *Broker) maybePublish(now time.Duration) {
	if b.published || b.epoch < 0 || b.applied-1 < b.epoch {
		return
	}
	b.published = true
	// Fetches can now carry the broker epoch (KIP-903).
	for _, name := range b.image.TopicNames() {
		for _, p := range b.image.Topics[name].Partitions {
			if p != nil {
				b.applyPartition(now, p)
			}
		}
	}
}

func (b *Broker) handleHeartbeat(now time.Duration, m *protocol.BrokerHeartbeatResponse) {
	b.hbInFlight = false
	switch m.Error {
	case protocol.NONE:
	case protocol.STALE_BROKER_EPOCH, protocol.BROKER_ID_NOT_REGISTERED:
		// The controller no longer knows this session: register again.
		b.epoch = -1
		b.fenced = true
		return
	default:
		return
	}
	b.fenced = m.IsFenced
	if b.shuttingDown && m.ShouldShutDown {
		b.finishShutdown()
	} else if b.shuttingDown && !b.shutdownHeard {
		// BrokerLifecycleManager: after the first answer in PENDING_CONTROLLED_SHUTDOWN the
		// next heartbeat goes in 50 ms, then at the usual interval.
		b.shutdownHeard = true
		b.env.After(50*time.Millisecond, timer{kind: tickShutdownHeartbeat})
	}
}

// Stop begins a controlled shutdown: the broker asks the controller (through its heartbeat) to
// move its leaderships away, then flushes, writes the clean-shutdown marker and halts.
func (b *Broker) Stop(now time.Duration) {
	if b.halted || b.shuttingDown {
		return
	}
	if !b.cfg.ControlledShutdownEnable || b.epoch < 0 {
		b.finishShutdown()
		return
	}
	b.shuttingDown, b.shutdownStart = true, now
	b.sendHeartbeat(now)
	b.env.After(controlledShutdownTimeout, timer{kind: tickShutdownTimeout})
}

func (b *Broker) finishShutdown() {
	for _, p := range b.order {
		p.log.Flush()
	}
	b.checkpointHW()
	if b.epoch >= 0 {
		b.disk.Write(fileCleanShutdown, []any{b.epoch})
		b.disk.Flush(fileCleanShutdown)
	}
	b.halted = true
	b.env.Halt()
}

func (b *Broker) checkpointHW() {
	entries := make([]any, 0, len(b.order))
	for _, p := range b.order {
		entries = append(entries, hwEntry{TP: p.tp, HW: p.hw})
	}
	b.disk.Write(fileHWCheckpoint, entries)
	b.disk.Flush(fileHWCheckpoint)
}

// ---- Metadata replay ----

// replayMetadata applies newly committed metadata entries and takes up the partition changes
// they carry (the broker's MetadataPublisher → ReplicaManager.applyDelta).
func (b *Broker) replayMetadata(now time.Duration) {
	hw := b.meta.HighWatermark()
	if hw <= b.applied {
		return
	}
	var changed []protocol.TopicPartition
	brokersChanged := false
	for _, e := range b.meta.Entries(b.applied, hw) {
		for _, rec := range e.Records {
			b.image.Apply(rec)
			switch r := rec.(type) {
			case *metadata.PartitionRecord:
				changed = append(changed, protocol.TopicPartition{Topic: r.Topic, Partition: r.Partition})
			case *metadata.PartitionChangeRecord:
				changed = append(changed, protocol.TopicPartition{Topic: r.Topic, Partition: r.Partition})
			case *metadata.ConfigRecord:
				b.refreshConfigs(r.Topic)
			case *metadata.RegisterBrokerRecord, *metadata.BrokerRegistrationChangeRecord:
				brokersChanged = true
			}
		}
		b.image.Offset = e.Offset
	}
	b.applied = hw
	if !b.published {
		b.maybePublish(now) // partitions are taken up once registered and caught up
		return
	}
	slices.SortFunc(changed, compareTP)
	changed = slices.Compact(changed)
	for _, tp := range changed {
		if p := b.image.Partition(tp.Topic, tp.Partition); p != nil {
			b.applyPartition(now, p)
		}
	}
	if brokersChanged {
		// Eligibility of followers changed (fencing, controlled shutdown): the leader's HW
		// may move (§2.3 counts caught-up eligible non-members).
		for _, p := range b.order {
			if p.isLeader {
				p.maybeIncrementHW(now)
			}
		}
	}
}

func compareTP(a, b protocol.TopicPartition) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return int(a.Partition - b.Partition)
}

func (b *Broker) topicConfig(topic string) config.Topic {
	t := b.image.Topics[topic]
	if t == nil {
		return b.cfg.Topic
	}
	defaults := b.cfg.Topic
	if len(b.image.Configs) > 0 {
		if d, err := config.TopicFrom(defaults, b.image.Configs); err == nil {
			defaults = d
		}
	}
	c, err := config.TopicFrom(defaults, t.Configs)
	if err != nil {
		return defaults
	}
	return c
}

func (b *Broker) refreshConfigs(topic string) {
	for _, p := range b.order {
		if topic == "" || p.tp.Topic == topic {
			p.cfg = b.topicConfig(p.tp.Topic)
			p.log.SetConfig(p.cfg)
		}
	}
}

// applyPartition brings the local replica in line with the partition's metadata: become
// leader or follower on every leader-epoch change (KAFKA-7164: not only on leader change),
// or take in an ISR change.
func (b *Broker) applyPartition(now time.Duration, mp *metadata.Partition) {
	tp := protocol.TopicPartition{Topic: mp.Topic, Partition: mp.Index}
	p := b.parts[tp]
	if !metadata.Contains(mp.Replicas, b.id) {
		if p != nil {
			p.stopReplica(now)
		}
		return
	}
	if p == nil {
		p = b.openPartition(now, tp)
	}
	p.replicas = mp.Replicas
	switch {
	case mp.Leader == b.id && (!p.isLeader || mp.LeaderEpoch > p.leaderEpoch):
		p.makeLeader(now, mp)
	case mp.Leader != b.id && (p.isLeader || mp.LeaderEpoch != p.leaderEpoch || mp.Leader != p.leader || !p.started):
		p.makeFollower(now, mp)
	default:
		p.updateIsr(now, mp.ISR, mp.PartitionEpoch)
	}
}

func (b *Broker) openPartition(now time.Duration, tp protocol.TopicPartition) *Partition {
	cfg := b.topicConfig(tp.Topic)
	l := log.Open(b.disk, tp.String(), cfg, now)
	p := &Partition{
		tp: tp, b: b, log: l, cfg: cfg, leader: protocol.NoLeader, leaderEpoch: protocol.UnknownEpoch,
		followFrom: protocol.NoLeader,
	}
	// The HW checkpoint is written periodically: after a restart the HW may be behind, never
	// ahead of what is durable in the log.
	p.hw = min(b.hwCheckpoint[tp], l.LogEndOffset())
	p.hw = max(p.hw, l.LogStartOffset())
	b.parts[tp] = p
	i, _ := slices.BinarySearchFunc(b.order, p, func(a, x *Partition) int { return compareTP(a.tp, x.tp) })
	b.order = slices.Insert(b.order, i, p)
	return p
}

// eligible reports whether broker r may be in the ISR as this broker's metadata has it:
// registered, not fenced, not in controlled shutdown, and — when the follower's fetch carried
// a broker epoch — of the current registration (KIP-841, KIP-903).
func (b *Broker) eligible(r int32, fetchEpoch int64) bool {
	reg := b.image.Brokers[r]
	if reg == nil || reg.Fenced || reg.InControlledShutdown {
		return false
	}
	return fetchEpoch < 0 || fetchEpoch == reg.Epoch
}

// ---- Producer ids (KIP-730) ----

func (b *Broker) handleInitProducerId(now time.Duration, from int32, m *protocol.InitProducerIdRequest) {
	if b.pidNext < b.pidEnd {
		id := b.pidNext
		b.pidNext++
		b.env.Send(from, &protocol.InitProducerIdResponse{CorrelationID: m.CorrelationID, ProducerID: id})
		return
	}
	b.pidWaiters = append(b.pidWaiters, pidWaiter{from: from, corr: m.CorrelationID})
	if !b.pidRequested {
		if c := b.activeController(); c >= 0 && b.epoch >= 0 {
			b.pidRequested, b.pidSent = true, now
			b.env.Send(c, &protocol.AllocateProducerIdsRequest{CorrelationID: b.nextCorr(), BrokerID: b.id, BrokerEpoch: b.epoch})
		} else {
			b.failPidWaiters(protocol.COORDINATOR_NOT_AVAILABLE)
		}
	}
}

func (b *Broker) failPidWaiters(code protocol.ErrorCode) {
	for _, w := range b.pidWaiters {
		b.env.Send(w.from, &protocol.InitProducerIdResponse{CorrelationID: w.corr, Error: code, ProducerID: protocol.NoProducerID})
	}
	b.pidWaiters = b.pidWaiters[:0]
}

func (b *Broker) handleAllocateProducerIds(now time.Duration, m *protocol.AllocateProducerIdsResponse) {
	b.pidRequested = false
	if m.Error != protocol.NONE {
		b.failPidWaiters(m.Error)
		return
	}
	b.pidNext, b.pidEnd = m.ProducerIDStart, m.ProducerIDStart+int64(m.ProducerIDLen)
	ws := b.pidWaiters
	b.pidWaiters = nil
	for _, w := range ws {
		b.handleInitProducerId(now, w.from, &protocol.InitProducerIdRequest{CorrelationID: w.corr})
	}
}
