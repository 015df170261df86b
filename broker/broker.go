package broker

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/group"
	"kafkasim/broker/log"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/broker/quorum"
	"kafkasim/broker/txn"
)

// Options builds a broker.
type Options struct {
	ID          int32
	Controllers []int32 // the controller quorum's voters (controller.quorum.voters)
	Config      config.Broker
	// ZooKeeper, when set, runs the broker in ZooKeeper mode (zkmode.go): zookeeper.connect,
	// with zookeeper.session.timeout.ms (0: 18 s). Controllers is then empty.
	ZooKeeper               []int32
	ZooKeeperSessionTimeout time.Duration
}

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

	lifecycle lifecycle // registration, heartbeats, controlled shutdown (lifecycle.go)
	published bool      // partitions taken up (registered and metadata caught up)
	halted    bool

	corr int64

	parts map[protocol.TopicPartition]*Partition
	order []*Partition // parts sorted by topic-partition, for deterministic iteration

	hwCheckpoint map[protocol.TopicPartition]int64 // read at start-up

	fetchers      fetcherTable     // by leader id (fetcher.go)
	followerQuota replicationQuota // follower.replication.throttled.rate (quota.go)
	leaderQuota   replicationQuota // leader.replication.throttled.rate (quota.go)

	// Requests to the controller awaiting answers, by correlation id.
	alters map[int64]*Partition

	delayedSeq int64
	conns      map[int32]*clientConn // clients' connections, by client id (produce.go)
	unmuted    []int32               // clients whose requests wait on a connection unmuted this step
	purgatory  purgatory
	waking     []fetchWaiter // wakeFetches' buffer (fetch.go)

	pids producerIDs // producer id blocks (producerid.go)

	fetchSessions fetchSessionCache // incremental fetch sessions (KIP-227, fetchsession.go)

	groups        *group.Coordinator       // the group coordinator (groups.go)
	txns          *txn.Coordinator         // the transaction coordinator (txns.go)
	txnAdds       txnAdds                  // produce requests held while their partitions join a transaction (txns.go)
	internalAsked map[string]time.Duration // internal topics whose creation was asked for, and when (internaltopics.go)

	zk *zkMode // ZooKeeper mode's control plane (zkmode.go); nil in KRaft mode

	topicCfgs map[string]cachedTopicConfig // parsed topic configs (topicConfig)
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
	tickFetcher // key = leader id, gen = fetcher generation
	// Two kinds no timer has any more (the purgatory's deadlines, purgatory.go), kept so that
	// the kinds after them keep their numbers, which timers carry into the trace (TraceArg).
	_
	_
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
		internalAsked: map[string]time.Duration{},
		id:            o.ID, cfg: o.Config, env: env, disk: disk, controllers: o.Controllers,
		image:  metadata.NewImage(),
		parts:  map[protocol.TopicPartition]*Partition{},
		alters: map[int64]*Partition{}, conns: map[int32]*clientConn{},
		hwCheckpoint: map[protocol.TopicPartition]int64{},
	}
	incarnation := env.Rand()
	// A clean shutdown leaves a marker with the broker epoch; it is consumed at start-up, so
	// that a later crash is known as unclean (KAFKA-15586).
	prevEpoch := int64(-1)
	if m := disk.Read(fileCleanShutdown); len(m) == 1 {
		prevEpoch = m[0].(int64)
		disk.Remove(fileCleanShutdown)
	}
	b.lifecycle = newLifecycle(incarnation, prevEpoch)
	b.groups = newCoordinator(b)
	b.txns = newTxnCoordinator(b)
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
	if len(o.ZooKeeper) > 0 {
		b.zkStart(now, o.ZooKeeper, cmp.Or(o.ZooKeeperSessionTimeout, DefaultZooKeeperSessionTimeout))
	}
	return b
}

// ID is the broker id.
func (b *Broker) ID() int32 { return b.id }

// Epoch is the broker epoch of this session, -1 before registration.
func (b *Broker) Epoch() int64 { return b.lifecycle.epoch }

// Fenced reports whether the controller has this broker fenced (as the broker last heard).
func (b *Broker) Fenced() bool { return b.lifecycle.fenced }

// ShuttingDown reports whether a controlled shutdown is under way.
func (b *Broker) ShuttingDown() bool { return b.lifecycle.shuttingDown }

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
	defer b.groups.Watch(now, msg) // the group events this input caused (group/events.go)
	b.step(now, from, msg)
	b.unmuteConnections(now)
}

func (b *Broker) step(now time.Duration, from int32, msg any) {
	if b.zk != nil && b.zkStep(now, from, msg) {
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
		if m.TransactionalID != "" {
			b.txns.Handle(now, from, m)
			return
		}
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
	case group.Timer:
		b.groups.OnTimer(now, m)
	case *protocol.FindCoordinatorRequest:
		b.handleFindCoordinator(now, from, m)
	case txn.Timer:
		b.txns.OnTimer(now, m)
	case *protocol.WriteTxnMarkersRequest:
		b.handleWriteTxnMarkers(now, from, m)
	case *protocol.AddPartitionsToTxnResponse:
		b.handleTxnAddAnswer(now, m.CorrelationID, m.Error)
	case txnAddTimeout:
		b.handleTxnAddAnswer(now, m.corr, protocol.REQUEST_TIMED_OUT)
	case txnAddRetry:
		b.retryTxnAdd(now, m.corr)
	default:
		if b.txns.Handle(now, from, msg) {
			return
		}
		b.groups.Handle(now, from, msg)
	}
}

// onConnectionReset: the peer's process is gone, or the peer closed its connection. A client's
// pipelined produce requests are dropped (closeConnection); an unanswered fetch to it is given up
// and retried after replica.fetch.backoff.ms (the fetcher's disconnect handling); a request to the
// controller is sent again at the next heartbeat tick.
func (b *Broker) onConnectionReset(now time.Duration, peer int32) {
	b.closeConnection(peer)
	if f := b.fetchers.get(peer); f != nil {
		f.disconnected(now)
	}
	if node.IsController(peer) {
		b.lifecycle.controllerGone()
	}
	b.txns.Disconnected(now, peer) // WriteTxnMarkers in flight to peer are sent again
	b.txnAddsDisconnected(now, peer)
}

func (b *Broker) nextCorr() int64 {
	b.corr++
	return b.corr
}

func (b *Broker) onTimer(now time.Duration, t timer) {
	switch t.kind {
	case tickHeartbeat:
		b.expireProducerIDRequest(now)
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
			// flush.ms, when a topic sets it (LogManager.flushDirtyLogs). A log without flush.ms
			// and flush.messages is never due, and is left alone: a broker of 900 replicas read
			// every one's log here, a cache miss or more each.
			if p.cfg.FlushInterval != config.Forever || p.cfg.FlushMessages != math.MaxInt64 {
				p.log.MaybeFlush(now)
			}
		}
		b.checkpointHW()
		b.env.After(b.cfg.ReplicaHighWatermarkCheckpointInterval, t)
	case tickRetention:
		for _, p := range b.order {
			limit := p.hw
			if b.cfg.Bugs.LogStartPastHW {
				limit = p.log.LogEndOffset() // planted bug: retention must stop at the HW
			}
			p.cleanUp(now, limit)
		}
		b.groups.CleanupGroupMetadata(now) // internaltopics.go
		b.env.After(b.cfg.LogRetentionCheckInterval, t)
	case tickFetcher:
		if f := b.fetchers.get(int32(t.key)); f != nil {
			f.onTimer(now, t.gen)
		}
	case tickPurgatory:
		b.onPurgatoryTimer(now, t.gen)
	case tickShutdownTimeout:
		if b.lifecycle.shuttingDown {
			b.finishShutdown()
		}
	case tickShutdownHeartbeat:
		if b.lifecycle.shuttingDown && !b.halted && !b.lifecycle.hbInFlight {
			b.sendHeartbeat(now)
		}
	case tickAlterTimeout:
		if p := b.alters[t.key]; p != nil {
			delete(b.alters, t.key)
			p.alterFailed(now, t.key)
		}
	}
}

func (b *Broker) checkpointHW() {
	entries := make([]any, 0, len(b.order))
	for _, p := range b.order {
		entries = append(entries, hwEntry{TP: p.tp, HW: p.hw})
	}
	b.disk.Write(fileHWCheckpoint, entries)
	b.disk.Flush(fileHWCheckpoint)
}

// replayMetadata applies newly committed metadata entries and takes up the partition changes
// they carry (the broker's MetadataPublisher → ReplicaManager.applyDelta).
func (b *Broker) replayMetadata(now time.Duration) {
	hw := b.meta.HighWatermark()
	if hw <= b.applied {
		return
	}
	entries := b.meta.Entries(b.applied, hw)
	n := 0
	for _, e := range entries {
		n += len(e.Records)
	}
	// Room for a few: a topic's creation carries every partition, few of them this broker's
	// (30,000 records, 900 replicas on each of 100 brokers).
	changed := make([]protocol.TopicPartition, 0, min(n, 64))
	brokersChanged := false
	for _, e := range entries {
		for i, rec := range e.Records {
			created := b.image.ApplyIn(e.Records, i)
			switch r := rec.(type) {
			case *metadata.PartitionRecord:
				if created && !metadata.Contains(r.Replicas, b.id) {
					// A new partition this broker is no replica of: it has no local replica
					// to stop either (ReplicaManager.applyDelta's localChanges leave it out).
					continue
				}
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
	if !slices.IsSortedFunc(changed, compareTP) { // a topic's creation comes in order
		slices.SortFunc(changed, compareTP)
	}
	changed = slices.Compact(changed)
	var t *metadata.Topic // the topic of the previous partition: most changes are of one topic
	for _, tp := range changed {
		if t == nil || t.Name != tp.Topic {
			if t = b.image.Topics[tp.Topic]; t == nil {
				continue
			}
		}
		if tp.Partition >= 0 && int(tp.Partition) < len(t.Partitions) {
			if p := t.Partitions[tp.Partition]; p != nil {
				b.applyPartition(now, p)
			}
		}
	}
	if brokersChanged {
		// Eligibility of followers changed (fencing, controlled shutdown): the leader's HW
		// may move (Partition.maybeIncrementLeaderHW counts caught-up eligible non-members).
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

// topicConfig is a topic's config as the image has it: the broker's defaults, overridden by
// the cluster-wide dynamic configs, then by the topic's own (LogManager.fetchTopicConfigOverrides
// and LogConfig.fromProps). It is parsed once per topic and config change, not per partition:
// the result is kept until the image's ConfigVersion moves or the topic is recreated.
func (b *Broker) topicConfig(topic string) config.Topic {
	t := b.image.Topics[topic]
	if t == nil {
		return b.cfg.Topic
	}
	if b.zk != nil { // ZooKeeper mode replaces the image's config maps without a record
		return b.parseTopicConfig(t)
	}
	if c, ok := b.topicCfgs[topic]; ok && c.t == t && c.version == b.image.ConfigVersion {
		return c.cfg
	}
	cfg := b.parseTopicConfig(t)
	if b.topicCfgs == nil {
		b.topicCfgs = map[string]cachedTopicConfig{}
	}
	b.topicCfgs[topic] = cachedTopicConfig{t: t, version: b.image.ConfigVersion, cfg: cfg}
	return cfg
}

// cachedTopicConfig is a topic's parsed config, valid while the image holds the same topic at
// the same config version.
type cachedTopicConfig struct {
	t       *metadata.Topic
	version uint64
	cfg     config.Topic
}

func (b *Broker) parseTopicConfig(t *metadata.Topic) config.Topic {
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
			b.staleFetch(p) // its throttle may have changed (fetcher.go)
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
			b.coordinatorLeadership(now, p)
			b.deletePartition(p)
		}
		return
	}
	if p == nil {
		p = b.openPartition(now, tp)
	}
	if p.isLeader && mp.Leader == b.id && mp.LeaderEpoch == p.leaderEpoch && !slices.Equal(p.replicas, mp.Replicas) {
		// A reassignment added replicas in the same leader epoch (KIP-455): the leader tracks
		// them from now on (Partition.updateAssignmentAndIsr).
		p.updateRemotes(now, mp.Replicas)
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
	b.coordinatorLeadership(now, p)
}

// deletePartition removes a replica this broker no longer hosts, with its log's files, as
// ReplicaManager.applyDelta stops and deletes the partitions a metadata delta took away from
// the broker (stopPartitions with deleteLocalLog).
func (b *Broker) deletePartition(p *Partition) {
	prefix := p.tp.String() + "/"
	for _, f := range b.disk.Files() {
		if strings.HasPrefix(f, prefix) {
			b.disk.Remove(f)
		}
	}
	delete(b.parts, p.tp)
	b.fetchSessions.partsChanged()
	delete(b.hwCheckpoint, p.tp)
	if i := slices.Index(b.order, p); i >= 0 {
		b.order = slices.Delete(b.order, i, i+1)
	}
	b.env.Observe(&ReplicaDeleted{Broker: b.id, TP: p.tp})
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
	b.fetchSessions.partsChanged()
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

// ReplicaDeleted: this broker is no longer a replica of TP (a reassignment moved it away); the
// replica stopped and its log's files were deleted.
type ReplicaDeleted struct {
	Broker int32
	TP     protocol.TopicPartition
}
