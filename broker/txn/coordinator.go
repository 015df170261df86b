// Package txn is the transaction coordinator (Kafka's TransactionCoordinator,
// TransactionStateManager and TransactionMarkerChannelManager) for transaction.version 1
// (KIP-98: the producer adds partitions, its epoch is kept across transactions) and 2 (KIP-890:
// partition leaders add them, EndTxn bumps the epoch): one shard per partition of __transaction_state this broker leads; every state
// change is a record of that partition, written as the leader and answered once the high
// watermark passes it (acks=all); a new leader replays the partition and resumes the markers of
// transactions it finds half-completed.
package txn

import (
	"cmp"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"kafkasim/broker/protocol"
)

// State is TransactionState.
type State uint8

// Transaction states (TransactionState.java).
const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
	Dead
	PrepareEpochFence
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

func (s State) String() string { return stateNames[s] }

// ended reports whether the state is one an EndTxn has moved the transaction to: PrepareCommit,
// PrepareAbort, CompleteCommit, CompleteAbort (those in which a TV2 EndTxn retry carries the
// epoch before the bump).
func (s State) ended() bool {
	return s == PrepareCommit || s == PrepareAbort || s == CompleteCommit || s == CompleteAbort
}

// Config is the coordinator's configuration.
type Config struct {
	Partitions    int32         // transaction.state.log.num.partitions
	MaxTimeout    time.Duration // transaction.max.timeout.ms
	AbortInterval time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms
	LoadTime      time.Duration // how long replaying a partition takes (the simulator's)
	MarkerRetry   time.Duration // back-off before a marker is sent again
	// WriteTimeout bounds a write of a transaction with no transaction.timeout.ms; any other
	// waits its transaction's timeout, as TransactionStateManager.appendTransactionToLog calls
	// ReplicaManager.appendRecords with timeout txnTimeoutMs.
	WriteTimeout time.Duration
	// OffsetsPartitions is offsets.topic.num.partitions: AddOffsetsToTxn adds the group's
	// partition of __consumer_offsets.
	OffsetsPartitions int32
	// IDExpiration is transactional.id.expiration.ms, checked every RemoveExpiredInterval
	// (transaction.remove.expired.transaction.cleanup.interval.ms) on the abort timer's runs;
	// 0: Kafka's defaults (7 days, 1 hour).
	IDExpiration, RemoveExpiredInterval time.Duration
}

// Host is what the coordinator needs from its broker.
type Host interface {
	// Append writes records to the leader's log of __transaction_state partition part and
	// returns the offset after them.
	Append(part int32, recs []protocol.Record, now time.Duration) (next int64, err protocol.ErrorCode)
	Batches(part int32) []*protocol.RecordBatch
	// Leader is the leader of tp as the broker's metadata has it, -1 if none.
	Leader(tp protocol.TopicPartition) int32
	// NextProducerID takes a producer id from the broker's block (false: none yet, one is
	// being asked for).
	NextProducerID(now time.Duration) (int64, bool)
	Send(to int32, msg any)
	After(d time.Duration, payload any)
	Observe(ev any)
}

// Timer is the coordinator's timer payload.
type Timer struct {
	Part  int32
	Epoch int32
	Kind  uint8 // timerLoad, timerAbortExpired, timerMarkers, timerWrite
	ID    string
	Seq   uint64
}

// TraceArg puts the partition in the trace.
func (t Timer) TraceArg() int64 { return int64(t.Part) }

const (
	timerLoad uint8 = iota + 1
	timerAbortExpired
	timerMarkers
	timerWrite
)

// PartitionFor is TransactionStateManager.partitionFor: Utils.abs(transactionalId.hashCode()) %
// transaction.state.log.num.partitions, with Java's String.hashCode.
func PartitionFor(id string, partitions int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(id)) {
		h = 31*h + int32(u)
	}
	if h == math.MinInt32 {
		h = 0
	} else if h < 0 {
		h = -h
	}
	return h % partitions
}

// Metadata is TransactionMetadata, as its record (TransactionLogValue) carries it.
type Metadata struct {
	ID         string                    `json:"id"`
	ProducerID int64                     `json:"pid"`
	Epoch      int16                     `json:"epoch"`
	Timeout    time.Duration             `json:"timeout"`
	State      State                     `json:"state"`
	Partitions []protocol.TopicPartition `json:"partitions"`
	Start      time.Duration             `json:"start"` // txnStartTimestamp
	// Version is the transaction's transaction.version (clientTransactionVersion): 2 when its
	// partitions are added by their leaders and EndTxn bumps the epoch (KIP-890).
	Version int8 `json:"tv,omitempty"`
	// LastEpoch is lastProducerEpoch: the epoch before the last bump, which a producer fenced
	// by its own transaction's timeout (not by another instance) may still re-initialize from
	// (KIP-588); -1 with none.
	LastEpoch int16 `json:"last"`
	// Updated is txnLastUpdateTimestamp: when the last transition was written, from which
	// transactional.id.expiration.ms counts.
	Updated  time.Duration             `json:"updated"`
	pending  bool                      // a transition is being written (pendingState)
	markers  []protocol.TopicPartition // partitions whose marker is not acknowledged yet
	inflight int                       // WriteTxnMarkers requests unanswered
	sentAt   time.Duration
}

// markerRequestTimeout: a WriteTxnMarkers unanswered this long is taken as lost and sent again
// (the inter-broker request.timeout.ms).
const markerRequestTimeout = 30 * time.Second

// Coordinator is a broker's transaction coordinator.
type Coordinator struct {
	cfg    Config
	host   Host
	shards map[int32]*shard
	corr   int64
	sent   map[int64]markerReq // WriteTxnMarkers in flight, by correlation id
	buf    []byte              // a record's key being encoded (appendMetadata)
}

type markerReq struct {
	part  int32
	epoch int32 // the coordinator epoch it was sent in
	id    string
	tps   []protocol.TopicPartition
	to    int32 // the leader it went to
}

type shard struct {
	part    int32
	epoch   int32
	loading bool
	txns    map[string]*Metadata
	order   []string // transactional ids in creation order
	written int64
	hw      int64
	pending []write
	seq     uint64
	expired time.Duration // when removeExpiredTransactionalIDs last ran
}

type write struct {
	end  int64
	seq  uint64
	done func(now time.Duration, err protocol.ErrorCode)
}

// New builds a coordinator with no shards.
func New(cfg Config, host Host) *Coordinator {
	return &Coordinator{cfg: cfg, host: host, shards: map[int32]*shard{}, sent: map[int64]markerReq{}}
}

// Transaction is the state of id as this coordinator has it, or nil.
func (c *Coordinator) Transaction(id string) *Metadata {
	s := c.shards[PartitionFor(id, c.cfg.Partitions)]
	if s == nil || s.loading {
		return nil
	}
	return s.txns[id]
}

// Pending reports whether a transition of m is being written (TransactionMetadata.pendingState).
func (m *Metadata) Pending() bool { return m.pending }

// ByProducerID is the transaction of producer id pid in this coordinator's loaded shards, with
// the shard's coordinator epoch; nil if none holds it (DescribeProducers answers with the
// producer id, the tools then ask the coordinator: KIP-664).
func (c *Coordinator) ByProducerID(pid int64) (*Metadata, int32) {
	for _, part := range slices.Sorted(maps.Keys(c.shards)) {
		s := c.shards[part]
		if s.loading {
			continue
		}
		for _, id := range s.order {
			if m := s.txns[id]; m.ProducerID == pid {
				return m, s.epoch
			}
		}
	}
	return nil, -1
}

// Leadership tells the coordinator that this broker leads partition part in epoch (load), or
// no longer does (epoch < 0: unload, every waiting answer fails NOT_COORDINATOR).
func (c *Coordinator) Leadership(now time.Duration, part, epoch int32) {
	s := c.shards[part]
	if s != nil && epoch >= 0 && s.epoch >= epoch {
		return
	}
	if s != nil {
		delete(c.shards, part)
		for _, w := range s.pending {
			w.done(now, protocol.NOT_COORDINATOR)
		}
	}
	if epoch < 0 {
		return
	}
	s = &shard{part: part, epoch: epoch, loading: true, txns: map[string]*Metadata{}}
	c.shards[part] = s
	c.host.After(c.cfg.LoadTime, Timer{Part: part, Epoch: epoch, Kind: timerLoad})
}

// HighWatermark: partition part's HW moved; writes below it complete.
func (c *Coordinator) HighWatermark(now time.Duration, part int32, hw int64) {
	s := c.shards[part]
	if s == nil || hw <= s.hw {
		return
	}
	s.hw = hw
	n := 0
	for n < len(s.pending) && s.pending[n].end <= hw {
		n++
	}
	done := s.pending[:n:n]
	s.pending = s.pending[n:]
	for _, w := range done {
		w.done(now, protocol.NONE)
	}
}

// OnTimer runs a fired timer.
func (c *Coordinator) OnTimer(now time.Duration, t Timer) {
	s := c.shards[t.Part]
	if s == nil || s.epoch != t.Epoch {
		return
	}
	switch t.Kind {
	case timerLoad:
		c.load(now, s)
	case timerAbortExpired:
		c.abortTimedOutTransactions(now, s)
		if now-s.expired >= cmp.Or(c.cfg.RemoveExpiredInterval, time.Hour) {
			s.expired = now
			c.removeExpiredTransactionalIDs(now, s)
		}
		c.host.After(c.cfg.AbortInterval, t)
	case timerMarkers:
		if m := s.txns[t.ID]; m != nil && len(m.markers) > 0 {
			if m.inflight > 0 && now < m.sentAt+markerRequestTimeout {
				c.host.After(c.cfg.MarkerRetry, t)
				return
			}
			c.sendMarkers(now, s, m)
		}
	case timerWrite:
		for i, w := range s.pending {
			if w.seq == t.Seq {
				s.pending = slices.Delete(s.pending, i, i+1)
				w.done(now, protocol.COORDINATOR_NOT_AVAILABLE)
				return
			}
		}
	}
}

// recordPrefix starts a record's key: TransactionLogKey is the transactional id, so that
// compaction of __transaction_state keeps each id's latest state; the TransactionLogValue is
// JSON in the record's Data, and a tombstone (a null value) removes an expired id.
const recordPrefix = "txn\x00"

// load is TransactionStateManager.loadTransactionsForTxnTopicPartition: the last record of each
// transactional id wins, a tombstone removes the id; a transaction found in PrepareCommit or
// PrepareAbort has its markers sent again (TransactionMarkerChannelManager.addTxnMarkersToSend).
func (c *Coordinator) load(now time.Duration, s *shard) {
	for _, b := range c.host.Batches(s.part) {
		if b.Control {
			continue
		}
		for i := range b.Len() {
			r := b.Record(i)
			id, ok := strings.CutPrefix(r.Key, recordPrefix)
			if !ok {
				continue
			}
			if r.Tombstone {
				if s.txns[id] != nil {
					delete(s.txns, id)
					s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
				}
				continue
			}
			var m Metadata
			if json.Unmarshal([]byte(r.Data), &m) != nil || m.ID != id {
				continue
			}
			if s.txns[m.ID] == nil {
				s.order = append(s.order, m.ID)
			}
			s.txns[m.ID] = &m
		}
		s.written = b.NextOffset()
	}
	s.expired = now
	s.loading = false
	for _, id := range s.order {
		m := s.txns[id]
		if m.State == PrepareCommit || m.State == PrepareAbort {
			m.markers = slices.Clone(m.Partitions)
			c.sendMarkers(now, s, m)
		}
	}
	c.host.After(c.cfg.AbortInterval, Timer{Part: s.part, Epoch: s.epoch, Kind: timerAbortExpired})
}

// transition writes m's new state (TransactionStateManager.appendTransactionToLog) and calls
// done once it is committed; the in-memory state changes only then
// (TransactionMetadata.completeTransitionTo).
func (c *Coordinator) transition(now time.Duration, s *shard, m *Metadata, next Metadata, done func(time.Duration, protocol.ErrorCode)) {
	m.pending = true
	next.Updated = now
	c.buf = appendMetadata(c.buf[:0], &next)
	end, err := c.host.Append(s.part, []protocol.Record{{Key: recordPrefix + next.ID, Value: int64(next.State), Data: string(c.buf)}}, now)
	finish := func(now time.Duration, err protocol.ErrorCode) {
		m.pending = false
		if err == protocol.NONE && c.shards[s.part] == s {
			prev := m.State
			m.ProducerID, m.Epoch, m.Timeout, m.State, m.Partitions, m.Start, m.Version, m.LastEpoch, m.Updated = next.ProducerID, next.Epoch, next.Timeout, next.State, next.Partitions, next.Start, next.Version, next.LastEpoch, next.Updated
			if prev != m.State {
				c.host.Observe(&TransactionStateChanged{Coordinator: -1, TransactionalID: m.ID, ProducerID: m.ProducerID, Epoch: m.Epoch, From: prev, To: m.State})
			}
		}
		done(now, err)
	}
	if err != protocol.NONE {
		finish(now, protocol.NOT_COORDINATOR)
		return
	}
	s.written = end
	if s.hw >= end {
		finish(now, protocol.NONE)
		return
	}
	s.seq++
	s.pending = append(s.pending, write{end: end, seq: s.seq, done: finish})
	timeout := next.Timeout
	if timeout <= 0 {
		timeout = c.cfg.WriteTimeout
	}
	c.host.After(timeout, Timer{Part: s.part, Epoch: s.epoch, Kind: timerWrite, Seq: s.seq})
}

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

// TransactionStateChanged is recorded in the trace when a transaction's state is committed.
type TransactionStateChanged struct {
	Coordinator     int32
	TransactionalID string
	ProducerID      int64
	Epoch           int16
	From, To        State
}

// TraceArg puts the new state in the trace.
func (e *TransactionStateChanged) TraceArg() int64 { return int64(e.To) }
