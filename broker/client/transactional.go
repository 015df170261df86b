package client

import (
	"slices"
	"time"

	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Behavior: the transactional producer (transactional.id, KIP-98) as Java's TransactionManager
// drives it: FindCoordinator (key type TRANSACTION), then InitProducerId with the transactional
// id, which fences every earlier producer of the id; then transaction after transaction of
// transaction.records records (fewer for the last, once the rate drops to 0) spread
// round-robin over the topic's partitions: one idempotent batch per partition (Transactional),
// and EndTxn committing it, or aborting it with probability transaction.abort (the client's
// seeded stream). With transaction.version=1 the producer adds the partitions first
// (AddPartitionsToTxn) and keeps its epoch; with 2 (KIP-890, the default) the leaders add them as
// the batches arrive and EndTxn answers with a bumped epoch, the next transaction's sequences
// starting at 0. Each record's history op is completed at EndTxn: ok and committed, or fail
// and aborted. A batch unanswered past delivery.timeout.ms makes the transaction abortable: it
// is aborted (the request may still land: KAFKA-14402), and a TV1 producer then bumps its epoch
// with InitProducerId (KIP-360). A fenced producer (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH),
// or one whose EndTxn was refused INVALID_TXN_STATE (fatal in EndTxnHandler), fails its open
// transaction's records (unknown instead if an EndTxn(commit) of it went unanswered: the
// coordinator may have committed it) and starts over with InitProducerId, as an application
// would with a new producer. A processor (processor.go) drives it through txnHook: its records
// are the inputs it polled, and before committing it sends the consumer's offsets to the
// transaction (sendOffsetsToTransaction: AddOffsetsToTxn to the transaction coordinator,
// FindCoordinator for the group, TxnOffsetCommit with the consumer's group metadata, KIP-447);
// a TxnOffsetCommit refused for the group metadata (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID: a rebalance fenced the member) makes the transaction abort.
//
// Driven by hand (TxnControl: the scenario's begin, commit and abort, as an application calls
// KafkaProducer.beginTransaction, commitTransaction and abortTransaction), a transaction holds
// every record sent between begin and its end, sent as they come: a send while the
// transaction's earlier batches are in flight waits for them and goes in one more batch per
// partition (sequences continuing, one batch of a partition in flight at a time). Commit and
// abort wait for the batches in flight, then EndTxn; a transaction with no record ends at once,
// with no request (TransactionManager completes it locally). An abort the producer makes by
// itself (a batch expired, fenced) ends the transaction's records so far; later sends open the
// next one, and the next commit or abort by hand ends that. A begin, commit or abort out of
// order (the scenario's parser refuses them; a producer restarted since its begin knows none)
// is ignored.

type txnPhase uint8

const (
	txnFindCoordinator txnPhase = iota
	txnInit
	txnReady
	txnAdding
	txnProducing
	txnEnding
	txnFenced // fenced for good: sends nothing more
	// sendOffsetsToTransaction (a processor's): AddOffsetsToTxn, then TxnOffsetCommit to the
	// group coordinator, then EndTxn.
	txnAddOffsets
	txnCommitOffsets
)

// txnOffsets is what sendOffsetsToTransaction sends: the offsets and the consumer's group
// metadata (ConsumerGroupMetadata, KIP-447).
type txnOffsets struct {
	group      string
	generation int32
	member     string
	instance   string
	parts      []protocol.OffsetCommitPartition
}

// txnHook is the application driving a transactional producer record by record (a processor).
type txnHook interface {
	// began: the transaction opened with the first n records handed to the producer.
	began(n int)
	// offsets is what to send to the transaction before committing it; nil: nothing.
	offsets() *txnOffsets
	// ended: the open transaction committed or aborted.
	ended(now time.Duration, committed bool)
}

// txnBatch is one partition's batch of the open transaction.
type txnBatch struct {
	part    int32
	records []protocol.Record
	created []time.Duration
	seq     int32
	corr    int64 // in flight, 0 when not
	to      int32 // the broker its request in flight went to
	acked   bool
	base    int64

	// A batch whose connection broke is retried after retry.backoff.ms
	// (RecordAccumulator.reenqueue), at once if metadata names a newer leader than the one it
	// went to (KIP-951, ProducerBatch.hasLeaderChangedForTheOngoingRetry).
	retryAt     time.Duration
	leaderEpoch int32 // the partition's leader epoch when it was last sent
}

// wire is b as sent by producer pid at epoch: each attempt builds it anew, in the compact form
// when b's records are one run of keyless values (protocol.RecordBatch.SetRecords).
func (b *txnBatch) wire(pid int64, epoch int16) *protocol.RecordBatch {
	w := &protocol.RecordBatch{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: b.seq, Transactional: true, PartitionLeaderEpoch: protocol.UnknownEpoch}
	w.SetRecords(b.records)
	return w
}

type transactional struct {
	p       *Producer
	id      string
	phase   txnPhase
	coord   int32
	corr    int64 // the coordinator request in flight, 0 when none
	corrTo  int32 // the broker it went to
	retryAt time.Duration
	pid     int64
	epoch   int16
	seqs    map[int32]int32
	next    int32 // the partition the next transaction starts at
	buf     []pendingRecord
	open    []*txnBatch
	commit  bool
	expired bool // a batch passed delivery.timeout.ms: the open transaction is being aborted
	// An EndTxn(commit) of the open transaction went unanswered (its connection broke, or
	// request.timeout.ms passed): the coordinator may have committed the transaction, so a
	// later fenced answer to its retry does not say it aborted.
	endLost bool
	dead    string // the fatal error once fenced for good

	hand handTxn // a transaction driven by hand (TxnControl), handNone when none

	hook       txnHook     // the processor driving the producer, nil for a workload
	sendOffs   *txnOffsets // the offsets of the open transaction (txnAddOffsets, txnCommitOffsets)
	groupCoord int32       // the group coordinator TxnOffsetCommit goes to, -1 unknown
}

// TxnControl drives a transactional producer's transaction by hand (the world delivers it
// from == 0, as SendRecords): Begin opens one (KafkaProducer.beginTransaction), the records
// sent until Commit (commitTransaction) or Abort (abortTransaction) are in it.
type TxnControl struct{ Op TxnOp }

// TxnOp is what TxnControl asks.
type TxnOp uint8

// The operations of TxnControl.
const (
	TxnBegin TxnOp = iota + 1
	TxnCommit
	TxnAbort
)

// handTxn is the state of a transaction driven by hand.
type handTxn uint8

const (
	handNone   handTxn = iota
	handOpen           // begun: every record sent goes into it
	handCommit         // commit asked: EndTxn(commit) once its batches are acknowledged
	handAbort          // abort asked
)

// control takes a TxnControl.
func (t *transactional) control(op TxnOp) {
	if t.hook != nil || t.dead != "" {
		return
	}
	switch {
	case op == TxnBegin && t.hand == handNone:
		t.hand = handOpen
	case op == TxnCommit && t.hand == handOpen:
		t.hand = handCommit
	case op == TxnAbort && t.hand == handOpen:
		t.hand = handAbort
	}
}

// HandTransaction reports whether a transaction driven by hand is open (begun, not yet ended).
func (p *Producer) HandTransaction() bool { return p.tx != nil && p.tx.hand != handNone }

func newTransactional(p *Producer) *transactional {
	return &transactional{p: p, id: p.cfg.TransactionalID, coord: -1, pid: protocol.NoProducerID, epoch: -1, seqs: map[int32]int32{}, groupCoord: -1}
}

// version is the transaction.version the producer uses (KIP-890).
func (t *transactional) version() int8 {
	if t.p.cfg.TransactionVersion == 1 {
		return 1
	}
	return 2
}

func (t *transactional) records() int {
	if t.p.cfg.TransactionRecords > 0 {
		return t.p.cfg.TransactionRecords
	}
	return 10
}

// step handles one input of a transactional producer.
func (t *transactional) step(now time.Duration, from int32, msg any) {
	p := t.p
	switch m := msg.(type) {
	case *SendRecords:
		for i := 0; i < m.Count; i++ {
			t.newRecord(now)
		}
	case *TxnControl:
		t.control(m.Op)
	case *SetRate:
		t.createDue(now)
		p.workload.setRate(now, m.PerSecond)
	case rateTick:
		if !p.workload.live(m) {
			return
		}
		t.createDue(now)
		p.workload.schedule(now)
	case wake:
		p.net.w.fired(m.at)
	case metadataAge:
		p.meta.aged(m.gen)
	case timeoutTick:
		for _, corr := range p.net.tmo.due(p.net.env, now, m) {
			t.timedOut(now, corr)
		}
	case *protocol.MetadataResponse:
		p.meta.handle(p.net.env, now, p.cfg.MetadataMaxAge, m)
	case *protocol.FindCoordinatorResponse:
		// Also the answer to findAgain, in the middle of a transaction: the coordinator is
		// known again and the phase's request goes to it (ignoring it left the producer
		// asking again every request.timeout.ms, its transaction never ended).
		if m.CorrelationID == t.corr && t.phase == txnCommitOffsets && t.groupCoord < 0 {
			t.corr = 0
			if m.Error == protocol.NONE {
				t.groupCoord = m.NodeID
			} else {
				t.backoff(now)
			}
		} else if m.CorrelationID == t.corr {
			t.corr = 0
			if m.Error == protocol.NONE {
				t.coord = m.NodeID
				if t.phase == txnFindCoordinator {
					t.phase = txnInit
				}
			} else {
				t.backoff(now)
			}
		}
	case *protocol.InitProducerIdResponse:
		if m.CorrelationID == t.corr && t.phase == txnInit {
			t.corr = 0
			switch {
			case m.Error == protocol.NONE:
				t.pid, t.epoch, t.phase = m.ProducerID, m.ProducerEpoch, txnReady
				clear(t.seqs) // a new epoch starts every partition's sequences at 0
			case m.Error == protocol.PRODUCER_FENCED:
				t.fatal(now, m.Error)
			default:
				t.coordinatorError(now, m.Error)
			}
		}
	case *protocol.AddPartitionsToTxnResponse:
		if m.CorrelationID == t.corr && t.phase == txnAdding {
			t.corr = 0
			if m.Error == protocol.NONE {
				t.phase = txnProducing
			} else if !t.fenced(now, m.Error) {
				t.coordinatorError(now, m.Error)
			}
		}
	case *protocol.AddOffsetsToTxnResponse:
		if m.CorrelationID == t.corr && t.phase == txnAddOffsets {
			t.corr = 0
			if m.Error == protocol.NONE {
				t.phase = txnCommitOffsets
			} else if !t.fenced(now, m.Error) {
				t.coordinatorError(now, m.Error)
			}
		}
	case *protocol.TxnOffsetCommitResponse:
		if m.CorrelationID == t.corr && t.phase == txnCommitOffsets {
			t.corr = 0
			t.onTxnOffsetCommit(now, m)
		}
	case *protocol.ProduceResponse:
		if t.overtaken(from, m.CorrelationID) {
			// An earlier answer on the connection was lost: it is broken (sender.overtaken).
			closeConnection(p.net.env, from)
			t.connectionReset(now, from)
			break
		}
		p.net.rc.answered(from)
		t.onProduce(now, m)
	case *protocol.EndTxnResponse:
		if m.CorrelationID == t.corr && t.phase == txnEnding {
			t.corr = 0
			if m.Error == protocol.NONE {
				expired := t.expired
				out := history.Fail
				if t.commit {
					out = history.OK
				}
				t.finish(now, out, "")
				switch {
				case t.version() >= 2 && m.ProducerEpoch >= 0:
					// KIP-890: EndTxn bumped the epoch; the next transaction uses it, its
					// sequences from 0.
					t.pid, t.epoch = m.ProducerID, m.ProducerEpoch
					clear(t.seqs)
				case expired:
					// TransactionManager: after aborting for an expired batch, a TV1 producer
					// bumps its epoch with InitProducerId (KIP-360), its sequences unresolved.
					t.phase = txnInit
				}
			} else if m.Error == protocol.INVALID_TXN_STATE {
				// EndTxnHandler: fatal (fatalError), not retried. The coordinator refused the
				// transition (a stale coordinator, whose partition of __transaction_state has a
				// new leader holding the transaction Ongoing): the application closes the
				// producer and starts a new one, whose InitProducerId aborts the transaction.
				t.abandon(now, m.Error)
			} else if !t.fenced(now, m.Error) {
				t.coordinatorError(now, m.Error)
			}
		}
	case *node.ConnectionReset:
		t.connectionReset(now, m.Peer)
	default:
		return
	}
	t.run(now)
}

// connectionReset is NetworkClient.processDisconnection as the transactional producer sees it,
// as the idempotent producer's onReset: the connection to peer broke and every request in
// flight on it failed. The node is not tried again before its reconnect back-off (reconnects,
// ClusterConnectionStates), and metadata is asked for, the disconnect perhaps coming from
// stale metadata (DefaultMetadataUpdater.handleServerDisconnect): a MetadataRequest in flight
// to peer fails too (without it the producer waited request.timeout.ms for an answer the dead
// broker never sent, still producing to it). A coordinator request in flight to peer is sent
// again, the coordinator looked up again if it was peer; a batch in flight to peer goes back
// to be retried after retry.backoff.ms (Sender.completeBatch, RecordAccumulator.reenqueue),
// at once to a new leader (KIP-951). Requests to other brokers stay in flight.
func (t *transactional) connectionReset(now time.Duration, peer int32) {
	p := t.p
	p.net.rc.failed(p.net.env, now, peer)
	p.meta.wanted = true
	if p.meta.corr != 0 && p.meta.to == peer {
		p.meta.timedOut(p.net.env, now, p.meta.corr)
	}
	if t.corr != 0 && t.corrTo == peer {
		t.lostEnd()
		t.corr = 0
	}
	if peer == t.coord {
		t.coord = -1
		t.reset()
	}
	if peer == t.groupCoord {
		t.groupCoord = -1
	}
	for _, b := range t.open {
		if b.corr != 0 && b.to == peer {
			b.corr = 0
			b.retryAt = now + p.cfg.RetryBackoff
		}
	}
}

// overtaken reports whether the answer to produce request corr from broker `from` came while an
// earlier ProduceRequest of the transaction to that broker is still unanswered: the earlier
// answer was lost, so the connection is broken (sender.overtaken gives the reasons).
func (t *transactional) overtaken(from int32, corr int64) bool {
	answered := false
	earlier := false
	for _, b := range t.open {
		switch {
		case b.corr == corr:
			answered = true
		case b.corr != 0 && b.corr < corr && b.to == from:
			earlier = true
		}
	}
	return answered && earlier
}

func (t *transactional) createDue(now time.Duration) {
	for _, ok := t.p.workload.nextDue(now); ok; _, ok = t.p.workload.nextDue(now) {
		t.newRecord(now)
	}
}

func (t *transactional) newRecord(now time.Duration) {
	rec := t.p.workload.record()
	t.p.out.stats.Sent++
	if t.dead != "" {
		t.p.out.record(now, -1, rec.Value, -1, now, history.Fail, t.dead)
		return
	}
	t.buf = append(t.buf, pendingRecord{rec: rec, created: now})
}

func (t *transactional) backoff(now time.Duration) {
	t.retryAt = now + t.p.cfg.RetryBackoff
	t.p.net.w.at(t.p.net.env, now, t.retryAt)
}

// coordinatorError: a coordinator moved or is loading: find it again (NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE) or retry after retry.backoff.ms.
func (t *transactional) coordinatorError(now time.Duration, err protocol.ErrorCode) {
	if err == protocol.NOT_COORDINATOR || err == protocol.COORDINATOR_NOT_AVAILABLE {
		t.coord = -1
		t.reset()
	}
	t.backoff(now)
}

// reset goes back to finding the coordinator, keeping the open transaction's phase.
func (t *transactional) reset() {
	if t.phase == txnInit {
		t.phase = txnFindCoordinator
	}
}

// lostEnd notes that the coordinator request in flight, if an EndTxn(commit), went unanswered.
func (t *transactional) lostEnd() {
	if t.phase == txnEnding && t.commit {
		t.endLost = true
	}
}

// fenced handles PRODUCER_FENCED and INVALID_PRODUCER_EPOCH: the open transaction is lost. If
// an earlier EndTxn(commit) of it went unanswered, the coordinator may have committed it before
// the fence (a newer instance's InitProducerId completes a transaction in PrepareCommit), so
// its records' outcome is unknown, not failed: as in Java, where commitTransaction throws
// ProducerFencedException while the send futures of the acknowledged batches have already
// completed (Sender.completeBatch; only TransactionManager's abort fails undrained batches).
func (t *transactional) fenced(now time.Duration, err protocol.ErrorCode) bool {
	if err != protocol.PRODUCER_FENCED && err != protocol.INVALID_PRODUCER_EPOCH && err != protocol.INVALID_PRODUCER_ID_MAPPING {
		return false
	}
	t.abandon(now, err)
	return true
}

// abandon ends the open transaction after an error the producer cannot go on from (fenced, or
// fatal), and starts over with InitProducerId as an application would with a new producer.
func (t *transactional) abandon(now time.Duration, err protocol.ErrorCode) {
	out := history.Fail
	if t.phase == txnEnding && t.commit && t.endLost {
		out = history.Unknown
	}
	t.finish(now, out, err.String())
	t.phase, t.coord = txnFindCoordinator, -1
	t.backoff(now)
}

// fatal: the coordinator refused to bump this producer's epoch (KIP-588: a newer instance of
// the transactional id fenced it). As the Java application must close a producer after
// ProducerFencedException, it stops: every record it holds, and every later one, fails.
func (t *transactional) fatal(now time.Duration, err protocol.ErrorCode) {
	t.dead = err.String()
	t.phase = txnFenced
	for _, r := range t.buf {
		t.p.out.record(now, -1, r.rec.Value, -1, r.created, history.Fail, t.dead)
	}
	t.buf = nil
}

// run sends what the phase calls for.
func (t *transactional) run(now time.Duration) {
	p := t.p
	p.meta.maybeSend(p.net.env, &p.net.w, &p.net.tmo, now, &p.net.corr, p.cfg.RequestTimeout)
	if now < t.retryAt {
		// The waker keeps one wake, the earliest: one due before the retry (metadata's) fired
		// and left none for it, so it is asked again (without it a producer with no rate
		// waited for its next record to retry).
		p.net.w.at(p.net.env, now, t.retryAt)
		return
	}
	switch t.phase {
	case txnFindCoordinator:
		if t.corr == 0 {
			if to := p.meta.pick(p.net.env, now, -1); to >= 0 {
				t.request(now, to, func(c int64) any {
					return &protocol.FindCoordinatorRequest{CorrelationID: c, Key: t.id, KeyType: protocol.CoordinatorTransaction}
				})
			}
		}
	case txnInit:
		if t.corr == 0 {
			t.request(now, t.coord, func(c int64) any {
				// With an id and epoch already (a re-initialization after an abortable error or a
				// fence), they go along: KIP-588 lets the coordinator tell a producer whose
				// transaction timed out from one a newer instance fenced.
				return &protocol.InitProducerIdRequest{CorrelationID: c, TransactionalID: t.id, ProducerID: t.pid, ProducerEpoch: t.epoch, TransactionTimeout: p.cfg.TransactionTimeout}
			})
		}
	case txnReady:
		if t.hand != handNone {
			switch {
			case len(t.buf) > 0 && p.meta.known && len(p.meta.parts) > 0:
				t.begin(now)
				t.run(now)
			case len(t.buf) == 0 && t.hand != handOpen:
				t.hand = handNone // nothing was sent: the transaction ends with no request
			}
			return
		}
		// A transaction is full at transaction.records records; when the application stops
		// producing (rate 0), it commits what it has, as one calls commitTransaction before
		// close, so no record waits forever for a transaction that never fills.
		full := len(t.buf) >= t.records() || (len(t.buf) > 0 && p.workload.rate <= 0)
		if full && p.meta.known && len(p.meta.parts) > 0 {
			t.begin(now)
			t.run(now) // AddPartitionsToTxn now, not at the next record (there may be none)
		}
	case txnAdding:
		if t.corr == 0 {
			if t.coord < 0 {
				t.findAgain(now)
				return
			}
			tps := make([]protocol.TopicPartition, 0, len(t.open))
			for _, b := range t.open {
				tp := protocol.TopicPartition{Topic: p.meta.topic, Partition: b.part}
				if !slices.Contains(tps, tp) {
					tps = append(tps, tp)
				}
			}
			t.request(now, t.coord, func(c int64) any {
				return &protocol.AddPartitionsToTxnRequest{CorrelationID: c, TransactionalID: t.id, ProducerID: t.pid, ProducerEpoch: t.epoch, Partitions: tps}
			})
		}
	case txnProducing:
		done := true
		for i, b := range t.open {
			if !b.acked {
				done = false
				if b.corr == 0 && !t.earlierUnacked(i) {
					t.produce(now, b)
				}
			}
		}
		if done && t.hand != handNone {
			// By hand: more records join the transaction; it ends when asked to.
			if len(t.buf) > 0 {
				if p.meta.known && len(p.meta.parts) > 0 {
					t.extend(now)
					t.run(now)
				}
				return
			}
			if t.hand == handOpen {
				return
			}
			t.commit = t.hand == handCommit
			t.phase, t.expired = txnEnding, false
			t.run(now)
			return
		}
		if done {
			t.commit = float64(p.net.env.Rand()>>11)/(1<<53) >= p.cfg.TransactionAbort
			t.phase, t.expired = txnEnding, false
			if t.hook != nil {
				// The application sent its offsets before deciding (transaction.abort) to
				// abort: an aborted transaction's offsets are dropped with its records.
				if t.sendOffs = t.hook.offsets(); t.sendOffs != nil {
					t.phase = txnAddOffsets
				}
			}
			t.run(now)
		}
	case txnAddOffsets:
		if t.corr == 0 {
			if t.coord < 0 {
				t.findAgain(now)
				return
			}
			t.request(now, t.coord, func(c int64) any {
				return &protocol.AddOffsetsToTxnRequest{CorrelationID: c, TransactionalID: t.id, ProducerID: t.pid, ProducerEpoch: t.epoch,
					GroupID: t.sendOffs.group, TransactionVersion: t.version()}
			})
		}
	case txnCommitOffsets:
		if t.corr != 0 {
			return
		}
		o := t.sendOffs
		if t.groupCoord < 0 {
			if to := p.meta.pick(p.net.env, now, -1); to >= 0 {
				t.request(now, to, func(c int64) any {
					return &protocol.FindCoordinatorRequest{CorrelationID: c, Key: o.group, KeyType: protocol.CoordinatorGroup}
				})
			}
			return
		}
		t.request(now, t.groupCoord, func(c int64) any {
			return &protocol.TxnOffsetCommitRequest{CorrelationID: c, TransactionalID: t.id, GroupID: o.group, ProducerID: t.pid, ProducerEpoch: t.epoch,
				GenerationID: o.generation, MemberID: o.member, GroupInstanceID: o.instance, Partitions: o.parts}
		})
	case txnEnding:
		if t.corr == 0 {
			if t.coord < 0 {
				t.findAgain(now)
				return
			}
			t.request(now, t.coord, func(c int64) any {
				return &protocol.EndTxnRequest{CorrelationID: c, TransactionalID: t.id, ProducerID: t.pid, ProducerEpoch: t.epoch, Committed: t.commit, TransactionVersion: t.version()}
			})
		}
	}
}

// onTxnOffsetCommit is TransactionManager.TxnOffsetCommitHandler: every partition NONE and the
// transaction is committed; a coordinator moved or loading is looked up or retried; a fenced
// producer loses the transaction; a refusal of the group metadata (the member was fenced by a
// rebalance, KIP-447) makes the transaction abortable, and it is aborted.
func (t *transactional) onTxnOffsetCommit(now time.Duration, m *protocol.TxnOffsetCommitResponse) {
	err := protocol.NONE
	for _, p := range m.Partitions {
		if p.Error != protocol.NONE {
			err = p.Error
			break
		}
	}
	switch err {
	case protocol.NONE:
		t.phase = txnEnding
	case protocol.NOT_COORDINATOR, protocol.COORDINATOR_NOT_AVAILABLE, protocol.REQUEST_TIMED_OUT:
		t.groupCoord = -1
		t.backoff(now)
	case protocol.COORDINATOR_LOAD_IN_PROGRESS, protocol.CONCURRENT_TRANSACTIONS, protocol.UNSTABLE_OFFSET_COMMIT:
		t.backoff(now)
	default:
		if !t.fenced(now, err) {
			t.commit, t.phase = false, txnEnding
		}
	}
}

// findAgain looks the coordinator up again in the middle of a transaction.
func (t *transactional) findAgain(now time.Duration) {
	p := t.p
	if to := p.meta.pick(p.net.env, now, -1); to >= 0 {
		t.request(now, to, func(c int64) any {
			return &protocol.FindCoordinatorRequest{CorrelationID: c, Key: t.id, KeyType: protocol.CoordinatorTransaction}
		})
	}
}

func (t *transactional) request(now time.Duration, to int32, build func(corr int64) any) {
	p := t.p
	// A node within its reconnect back-off is not asked (NetworkClient.ready): a coordinator
	// whose process died is looked up and asked again no faster than the back-off allows.
	if to < 0 || p.net.rc.waitFor(p.net.env, &p.net.w, now, to) {
		return
	}
	p.net.corr++
	t.corr, t.corrTo = p.net.corr, to
	p.net.env.Send(to, build(p.net.corr))
	p.net.tmo.add(p.net.env, now, p.cfg.RequestTimeout, p.net.corr)
}

// earlierUnacked reports whether a batch before t.open[i] of the same partition waits for its
// answer (a transaction driven by hand has several batches per partition, sent in order).
func (t *transactional) earlierUnacked(i int) bool {
	if t.hand == handNone {
		return false // one batch per partition
	}
	for _, b := range t.open[:i] {
		if b.part == t.open[i].part && !b.acked {
			return true
		}
	}
	return false
}

// extend adds the records sent since to the open transaction driven by hand, in new batches;
// under transaction.version=1 a partition new to the transaction is added first.
func (t *transactional) extend(now time.Duration) {
	known := len(t.open)
	fresh := false
	for _, b := range t.batches(t.buf) {
		fresh = fresh || !slices.ContainsFunc(t.open[:known], func(o *txnBatch) bool { return o.part == b.part })
		t.open = append(t.open, b)
	}
	t.buf = t.buf[:0]
	t.phase = txnProducing
	if fresh && t.version() < 2 {
		t.phase = txnAdding
	}
}

// begin opens a transaction of the next records (every record sent, by hand), spread
// round-robin over the partitions.
func (t *transactional) begin(now time.Duration) {
	take := t.buf[:min(len(t.buf), t.records())]
	if t.hand != handNone {
		take = t.buf
	}
	t.open = append(t.open[:0], t.batches(take)...)
	if t.hook != nil {
		t.hook.began(len(take))
	}
	// The rest stays where it is: shifting it down cost a copy of the whole backlog per
	// transaction (quadratic once the rate outruns the transactions); append reallocates
	// what is left when the array fills.
	if len(take) == len(t.buf) {
		t.buf = t.buf[:0]
	} else {
		t.buf = t.buf[len(take):]
	}
	t.phase = txnAdding
	if t.version() >= 2 {
		t.phase = txnProducing // the leaders add the partitions (KIP-890)
	}
}

// batches spreads records round-robin over the partitions from t.next, one batch per
// partition, each batch's sequence following the partition's last.
func (t *transactional) batches(take []pendingRecord) []*txnBatch {
	n := int32(len(t.p.meta.parts))
	byPart := map[int32]*txnBatch{}
	var out []*txnBatch
	for i, r := range take {
		part := (t.next + int32(i)) % n
		b := byPart[part]
		if b == nil {
			per := len(take)/int(n) + 1 // each partition's share: no regrowing
			b = &txnBatch{part: part, base: -1, records: make([]protocol.Record, 0, per), created: make([]time.Duration, 0, per)}
			byPart[part] = b
			out = append(out, b)
		}
		b.records = append(b.records, r.rec)
		b.created = append(b.created, r.created)
	}
	t.next = (t.next + 1) % n
	for _, b := range out {
		b.seq = t.seqs[b.part]
		t.seqs[b.part] += int32(len(b.records))
	}
	return out
}

func (t *transactional) produce(now time.Duration, b *txnBatch) {
	p := t.p
	pm := p.meta.parts[b.part]
	leader := pm.leader
	if leader < 0 {
		p.meta.wanted = true
		return
	}
	// As Sender.sendProducerData and RecordAccumulator.drain (the idempotent producer's
	// drainPart): a batch backing off waits unless the leader changed, and no request goes to
	// a node within its reconnect back-off (NetworkClient.ready), which the metadata asked for
	// at the disconnect may move the partition away from. Sent at once, a batch to a dead
	// leader came back at once, resent to it every few milliseconds.
	if now < b.retryAt && (pm.epoch < 0 || pm.epoch <= b.leaderEpoch) {
		p.net.w.at(p.net.env, now, b.retryAt)
		return
	}
	if p.net.rc.waitFor(p.net.env, &p.net.w, now, leader) {
		return
	}
	p.net.corr++
	b.corr, b.to, b.leaderEpoch = p.net.corr, leader, pm.epoch
	p.net.env.Send(leader, &protocol.ProduceRequest{CorrelationID: b.corr, Acks: -1, Timeout: p.cfg.RequestTimeout,
		TransactionalID: t.id, TransactionVersion: t.version(), Partitions: []protocol.ProducePartition{{
			TP:    protocol.TopicPartition{Topic: p.meta.topic, Partition: b.part},
			Batch: encodeBatch(&p.cfg, b.wire(t.pid, t.epoch)),
		}}})
	p.net.tmo.add(p.net.env, now, p.cfg.RequestTimeout, b.corr)
}

func (t *transactional) onProduce(now time.Duration, m *protocol.ProduceResponse) {
	for _, b := range t.open {
		if b.corr != m.CorrelationID || len(m.Partitions) == 0 {
			continue
		}
		b.corr = 0
		r := m.Partitions[0]
		switch {
		case r.Error == protocol.NONE:
			b.acked, b.base = true, r.BaseOffset
		case t.fenced(now, r.Error):
		default:
			// NOT_LEADER_OR_FOLLOWER and the like: fresh metadata, then the same batch again.
			t.p.meta.wanted = true
			t.p.meta.hint(b.part, r.CurrentLeader, r.CurrentLeaderEp)
			t.backoff(now)
		}
	}
}

// timedOut: request corr went unanswered; it is sent again (the same batch keeps its sequence).
func (t *transactional) timedOut(now time.Duration, corr int64) {
	p := t.p
	if p.meta.timedOut(p.net.env, now, corr) {
		return
	}
	if corr == t.corr {
		t.lostEnd()
		t.corr = 0
		t.coord = -1
		if t.phase == txnCommitOffsets {
			t.groupCoord = -1
		}
		if t.phase == txnInit {
			t.phase = txnFindCoordinator
		}
		return
	}
	for _, b := range t.open {
		if b.corr == corr {
			b.corr = 0
			p.meta.wanted = true
			if t.phase == txnProducing && now-b.created[0] >= p.cfg.DeliveryTimeout {
				// The batch expired (delivery.timeout.ms): TransactionManager makes the
				// transaction abortable and the application aborts it. The request itself
				// may still reach the leader (KAFKA-14402).
				t.commit, t.expired, t.phase = false, true, txnEnding
				t.run(now)
				return
			}
		}
	}
}

// finish completes the open transaction's records: ok and committed, fail and aborted, or
// unknown (a commit that may have landed; for the application driving the producer it did not
// commit: a processor goes back to its group's committed offsets, which tell).
func (t *transactional) finish(now time.Duration, out history.Outcome, errName string) {
	committed := out == history.OK
	for _, b := range t.open {
		// One observation per batch, as the idempotent producer's (outcomes.batch): the
		// history stores it as a batch, not an op per record.
		s := &t.p.out.sends
		s.Client, s.Topic, s.Partition, s.Complete, s.Invokes = t.p.out.name, t.p.out.topic, b.part, now, b.created
		s.Values = s.Values[:0]
		for _, r := range b.records {
			s.Values = append(s.Values, r.Value)
		}
		switch out {
		case history.OK:
			s.Outcome, s.Txn, s.Base, s.Error = history.OK, history.TxnCommitted, b.base, ""
		case history.Unknown:
			s.Outcome, s.Txn, s.Base, s.Error = history.Unknown, "", -1, errName
			if b.acked {
				s.Base = b.base
			}
		default:
			s.Outcome, s.Txn, s.Base, s.Error = history.Fail, history.TxnAborted, -1, errName
			if s.Error == "" {
				s.Error = "TRANSACTION_ABORTED"
			}
		}
		t.p.out.env.Observe(s)
		s.Invokes, s.Txn = nil, ""
		t.p.out.count(out, int64(len(b.records)))
	}
	open := len(t.open) > 0
	if open {
		if committed {
			t.p.out.stats.Committed++
		} else {
			t.p.out.stats.Aborted++
		}
	}
	t.open = t.open[:0]
	t.phase, t.expired, t.endLost, t.sendOffs = txnReady, false, false, nil
	if t.hand == handCommit || t.hand == handAbort {
		t.hand = handNone // the end asked by hand is done (or the producer aborted first)
	}
	if open && t.hook != nil {
		t.hook.ended(now, committed)
	}
}

// idle reports whether no transaction is open (the processor may rewind its consumer).
func (t *transactional) idle() bool {
	return len(t.open) == 0 && t.phase != txnAdding && t.phase != txnProducing && t.phase != txnEnding &&
		t.phase != txnAddOffsets && t.phase != txnCommitOffsets
}

// newValue hands the producer a record the application made (a processor's output).
func (t *transactional) newValue(now time.Duration, rec protocol.Record) {
	t.p.out.stats.Sent++
	if t.dead != "" {
		t.p.out.record(now, -1, rec.Value, -1, now, history.Fail, t.dead)
		return
	}
	t.buf = append(t.buf, pendingRecord{rec: rec, created: now})
}

// close fails every record not committed; the records of a transaction whose commit was
// asked for (EndTxn sent, no answer yet) may be committed: their outcome is unknown.
func (t *transactional) close(now time.Duration) {
	if t.phase == txnEnding && t.commit {
		for _, b := range t.open {
			for i, r := range b.records {
				off := int64(-1)
				if b.acked {
					off = b.base + int64(i)
				}
				t.p.out.record(now, b.part, r.Value, off, b.created[i], history.Unknown, "CLOSED")
			}
		}
		t.open = t.open[:0]
	}
	t.finish(now, history.Fail, "CLOSED")
	for _, r := range t.buf {
		t.p.out.record(now, -1, r.rec.Value, -1, r.created, history.Fail, "CLOSED")
	}
	t.buf = nil
}
