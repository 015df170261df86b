package group

import (
	"math"
	"strings"
	"time"
	"unicode/utf16"

	"kafkasim/broker/protocol"
)

// Config is the group coordinator's configuration (GroupCoordinatorConfig).
type Config struct {
	Partitions            int32         // offsets.topic.num.partitions
	MinSessionTimeout     time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout     time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay time.Duration // group.initial.rebalance.delay.ms
	CommitTimeout         time.Duration // offsets.commit.timeout.ms: bounds every coordinator write
	NewMemberJoinTimeout  time.Duration // CLASSIC_GROUP_NEW_MEMBER_JOIN_TIMEOUT_MS (300 s)
	LoadTime              time.Duration // how long replaying a partition takes (the simulator's)
	IgnoreOffsetCommits   bool          // planted bug: OffsetCommit is acknowledged but not stored
	// ExposePendingTxnOffsets is a planted bug: a TxnOffsetCommit's offsets are committed at
	// once, before (and whatever) the transaction's marker (txnoffsets.go).
	ExposePendingTxnOffsets bool

	// KIP-848 consumer groups.
	ConsumerSessionTimeout    time.Duration // group.consumer.session.timeout.ms
	ConsumerHeartbeatInterval time.Duration // group.consumer.heartbeat.interval.ms
	AssignBeforeRevoke        bool          // planted bug: a partition is given before its owner revoked it

	// OffsetsRetention is offsets.retention.minutes, checked every OffsetsRetentionCheckInterval
	// (offsets.retention.check.interval.ms) when the broker calls CleanupGroupMetadata; 0:
	// Kafka's defaults (7 days, 10 minutes).
	OffsetsRetention, OffsetsRetentionCheckInterval time.Duration

	// MigrationPolicy is group.consumer.migration.policy (ConsumerGroupMigrationPolicy):
	// bidirectional (also ""), upgrade, downgrade or disabled.
	MigrationPolicy string
}

// Host is what the coordinator needs from its broker: the partitions of __consumer_offsets
// it leads, its clock's timers, the network, and randomness for member ids.
type Host interface {
	// Append writes records to the leader's log of __consumer_offsets partition part (as
	// CoordinatorPartitionWriter does, acks=1) and returns the offset after them.
	Append(part int32, recs []protocol.Record, now time.Duration) (next int64, err protocol.ErrorCode)
	Batches(part int32) []*protocol.RecordBatch
	Send(to int32, msg any)
	After(d time.Duration, payload any)
	Rand() uint64
}

// Timer is the coordinator's timer payload: Kafka's keyed timer (CoordinatorTimer.schedule
// replaces the timer of the same key), one shard incarnation.
type Timer struct {
	Part  int32
	Epoch int32
	Kind  timerKind
	Key   string // the timer's key: a kind and the group (and member) it is for
	Seq   uint64
	Arg   int64 // the generation (sync), the remaining delay (initial rebalance), the write id
}

type timerKind uint8

const (
	timerLoad timerKind = iota + 1
	timerWrite
	timerJoin
	timerInitialRebalance
	timerSync
	timerHeartbeat
	timerRevocation  // a KIP-848 member's rebalance timeout
	timerClassicJoin // a classic member of a consumer group told to rejoin (migration.go)
	timerClassicSync // a classic member of a consumer group that must sync (migration.go)
)

// TraceArg puts the partition in the trace.
func (t Timer) TraceArg() int64 { return int64(t.Part) }

// PartitionFor is the __consumer_offsets partition that holds a group:
// Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions (GroupCoordinatorService.partitionFor),
// with Java's String.hashCode over UTF-16 code units.
func PartitionFor(groupID string, partitions int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(groupID)) {
		h = 31*h + int32(u)
	}
	if h == math.MinInt32 {
		h = 0 // Utils.abs(Integer.MIN_VALUE) is 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

// Coordinator is a broker's group coordinator: one shard per __consumer_offsets partition it
// leads.
type Coordinator struct {
	cfg    Config
	host   Host
	shards map[int32]*shard
	watch  watch // the groups as Watch last saw them (events.go)

	// touched: an entry point that can change a group ran since Watch last looked (Handle,
	// OnTimer, Leadership, HighWatermark, CompleteTransaction). The groups live only here, so
	// an input that touched none of them changed nothing Watch would observe, and Watch skips
	// its walk. A new entry point that changes a group sets it too.
	touched bool
}

// New builds a coordinator with no shards.
func New(cfg Config, host Host) *Coordinator {
	return &Coordinator{cfg: cfg, host: host, shards: map[int32]*shard{}}
}

// Config is the coordinator's configuration.
func (c *Coordinator) Config() Config { return c.cfg }

// shard is the state of one partition of __consumer_offsets (CoordinatorRuntime's
// CoordinatorContext with its GroupMetadataManager and OffsetMetadataManager).
type shard struct {
	c       *Coordinator
	part    int32
	epoch   int32 // the partition's leader epoch this shard was loaded in
	loading bool
	groups  map[string]*Group
	order   []string // group ids in creation order, for deterministic iteration
	offsets map[string]map[protocol.TopicPartition]Offset
	pending []write
	written int64 // offset after the last record written (or replayed)
	hw      int64
	timers  map[string]uint64
	seq     uint64
	txn     txnOffsets    // pending transactional offsets (txnoffsets.go)
	cleaned time.Duration // when cleanupGroupMetadata last ran (offsets.go)
}

// Offset is a committed offset (OffsetCommitValue).
type Offset struct {
	Offset      int64
	LeaderEpoch int32
	CommitTime  time.Duration
}

// write is a coordinator write waiting for the high watermark (CoordinatorRuntime's deferred
// event queue).
type write struct {
	end  int64
	id   uint64
	done func(now time.Duration, err protocol.ErrorCode)
}

// Leadership tells the coordinator that this broker leads __consumer_offsets partition part
// in leader epoch epoch (scheduleLoadOperation), or no longer does (epoch < 0:
// scheduleUnloadOperation).
func (c *Coordinator) Leadership(now time.Duration, part, epoch int32) {
	c.touched = true
	s := c.shards[part]
	if epoch < 0 {
		if s != nil {
			s.unload(now)
			delete(c.shards, part)
		}
		return
	}
	if s != nil && s.epoch >= epoch {
		return
	}
	if s != nil {
		s.unload(now)
	}
	s = &shard{c: c, part: part, epoch: epoch, loading: true, groups: map[string]*Group{},
		offsets: map[string]map[protocol.TopicPartition]Offset{}, timers: map[string]uint64{}}
	c.shards[part] = s
	s.schedule(timerLoad, "load", c.cfg.LoadTime, 0)
}

// HighWatermark tells the coordinator that partition part's HW moved: writes below it complete.
func (c *Coordinator) HighWatermark(now time.Duration, part int32, hw int64) {
	c.touched = true
	s := c.shards[part]
	if s == nil || hw <= s.hw {
		return
	}
	s.hw = hw
	s.complete(now)
}

// OnTimer runs a fired timer.
func (c *Coordinator) OnTimer(now time.Duration, t Timer) {
	c.touched = true
	s := c.shards[t.Part]
	if s == nil || s.epoch != t.Epoch || s.timers[t.Key] != t.Seq {
		return // unloaded, or rescheduled or cancelled since
	}
	delete(s.timers, t.Key)
	s.fire(now, t)
}

// Groups lists the groups of every loaded shard, by group id.
func (c *Coordinator) Group(id string) *Group {
	s := c.shards[PartitionFor(id, c.cfg.Partitions)]
	if s == nil || s.loading {
		return nil
	}
	return s.groups[id]
}

// Committed is a group's committed offset for tp as this coordinator has it.
func (c *Coordinator) Committed(id string, tp protocol.TopicPartition) (Offset, bool) {
	s := c.shards[PartitionFor(id, c.cfg.Partitions)]
	if s == nil || s.loading {
		return Offset{}, false
	}
	o, ok := s.offsets[id][tp]
	return o, ok
}

// Active reports whether the coordinator serves group id now (loaded shard).
func (c *Coordinator) Active(id string) bool {
	s := c.shards[PartitionFor(id, c.cfg.Partitions)]
	return s != nil && !s.loading
}

// schedule arms key's timer d from now, replacing any earlier one of that key.
func (s *shard) schedule(kind timerKind, key string, d time.Duration, arg int64) {
	s.seq++
	s.timers[key] = s.seq
	s.c.host.After(d, Timer{Part: s.part, Epoch: s.epoch, Kind: kind, Key: key, Seq: s.seq, Arg: arg})
}

func (s *shard) cancel(key string) { delete(s.timers, key) }

// lookup finds the shard serving group id, or the error to answer (CoordinatorRuntime: no
// context → NOT_COORDINATOR; LOADING → COORDINATOR_LOAD_IN_PROGRESS).
func (c *Coordinator) lookup(id string) (*shard, protocol.ErrorCode) {
	s := c.shards[PartitionFor(id, c.cfg.Partitions)]
	switch {
	case s == nil:
		return nil, protocol.NOT_COORDINATOR
	case s.loading:
		return nil, protocol.COORDINATOR_LOAD_IN_PROGRESS
	}
	return s, protocol.NONE
}

// append writes records and calls done once they are committed, or with the mapped error
// (CoordinatorOperationExceptionHelper.handleOperationException). With no records it waits for
// every earlier write.
func (s *shard) append(now time.Duration, recs []protocol.Record, done func(time.Duration, protocol.ErrorCode)) {
	if len(recs) > 0 {
		next, err := s.c.host.Append(s.part, recs, now)
		if err != protocol.NONE {
			done(now, mapAppendError(err))
			return
		}
		s.written = next
	}
	if s.hw >= s.written {
		done(now, protocol.NONE)
		return
	}
	s.seq++
	w := write{end: s.written, id: s.seq, done: done}
	s.pending = append(s.pending, w)
	s.schedule(timerWrite, writeKey(w.id), s.c.cfg.CommitTimeout, int64(w.id))
}

func writeKey(id uint64) string { return "write\x00" + itoa(int64(id)) }

func mapAppendError(err protocol.ErrorCode) protocol.ErrorCode {
	switch err {
	case protocol.NOT_LEADER_OR_FOLLOWER, protocol.KAFKA_STORAGE_ERROR:
		return protocol.NOT_COORDINATOR
	case protocol.UNKNOWN_TOPIC_OR_PARTITION, protocol.NOT_ENOUGH_REPLICAS, protocol.REQUEST_TIMED_OUT:
		return protocol.COORDINATOR_NOT_AVAILABLE
	}
	return protocol.UNKNOWN_SERVER_ERROR
}

// complete answers the writes the HW has passed, in order.
func (s *shard) complete(now time.Duration) {
	n := 0
	for n < len(s.pending) && s.pending[n].end <= s.hw {
		n++
	}
	done := s.pending[:n:n]
	s.pending = s.pending[n:]
	for _, w := range done {
		s.cancel(writeKey(w.id))
		w.done(now, protocol.NONE)
	}
}

// timeoutWrite: the write did not commit within offsets.commit.timeout.ms; its in-memory
// effect stays (it may still commit), its answer is COORDINATOR_NOT_AVAILABLE.
func (s *shard) timeoutWrite(now time.Duration, id uint64) {
	for i, w := range s.pending {
		if w.id == id {
			s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
			w.done(now, protocol.COORDINATOR_NOT_AVAILABLE)
			return
		}
	}
}

// unload drops the shard: every waiting answer fails with NOT_COORDINATOR
// (CoordinatorContext.unload), and parked joins and syncs with it.
func (s *shard) unload(now time.Duration) {
	pending := s.pending
	s.pending = nil
	s.timers = map[string]uint64{}
	for _, w := range pending {
		w.done(now, protocol.NOT_COORDINATOR)
	}
	for _, id := range s.order {
		g := s.groups[id]
		for _, m := range g.members {
			if m.join != nil {
				s.c.host.Send(m.join.node, &protocol.JoinGroupResponse{CorrelationID: m.join.corr, Error: protocol.NOT_COORDINATOR, MemberID: m.ID})
				m.join = nil
			}
			if m.sync != nil {
				s.c.host.Send(m.sync.node, &protocol.SyncGroupResponse{CorrelationID: m.sync.corr, Error: protocol.NOT_COORDINATOR})
				m.sync = nil
			}
		}
		g.state = Dead
	}
}

func (s *shard) fire(now time.Duration, t Timer) {
	if t.Kind == timerLoad {
		s.load(now)
		return
	}
	if t.Kind == timerWrite {
		s.timeoutWrite(now, uint64(t.Arg))
		return
	}
	_, rest, _ := strings.Cut(t.Key, "\x00")
	gid, mid, _ := strings.Cut(rest, "\x00")
	g := s.groups[gid]
	if g == nil {
		return
	}
	if g.modern != nil {
		switch t.Kind {
		case timerHeartbeat, timerRevocation, timerClassicJoin, timerClassicSync:
			s.expireConsumerMember(now, g, mid, t.Kind, t.Arg)
		}
		return
	}
	switch t.Kind {
	case timerJoin:
		s.completeJoin(now, g)
	case timerInitialRebalance:
		s.tryCompleteInitialRebalanceElseSchedule(now, g, time.Duration(t.Arg))
	case timerSync:
		s.expirePendingSync(now, g, int32(t.Arg))
	case timerHeartbeat:
		s.expireHeartbeat(now, g, mid)
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func atoi(s string) int64 {
	var n int64
	neg := false
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			neg = true
			continue
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}
