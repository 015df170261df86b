package broker

import (
	"maps"
	"slices"
	"time"

	"kafkasim/broker/log"
	"kafkasim/broker/protocol"
	"kafkasim/broker/txn"
)

// Behavior: the broker's side of the transaction coordinator (KIP-98). FindCoordinator with
// key type TRANSACTION answers the leader of the transactional id's partition of
// __transaction_state, created on first use through the active controller with
// transaction.state.log.num.partitions and transaction.state.log.replication.factor (capped
// by the number of registered brokers), COORDINATOR_NOT_AVAILABLE meanwhile. The partitions of
// __transaction_state this broker leads are the coordinator's shards. WriteTxnMarkers appends a
// control batch to each partition this broker leads (ReplicaManager.appendRecords with origin
// COORDINATOR) and answers once the markers are replicated (acks=all). With transaction.version
// 2 (KIP-890) a leader adds a partition to a producer's transaction itself before it appends the
// transaction's first batch there (addPartitionsFirst). The hanging-transaction invariant reads
// each leader's oldest open transaction (OpenTransaction).

func newTxnCoordinator(b *Broker) *txn.Coordinator {
	return txn.New(txn.Config{
		Partitions:    int32(b.cfg.TransactionStateLogNumPartitions),
		MaxTimeout:    b.cfg.TransactionMaxTimeout,
		AbortInterval: b.cfg.TransactionAbortTimedOutInterval,
		LoadTime:      coordinatorLoadTime,
		MarkerRetry:   100 * time.Millisecond,
		WriteTimeout:  b.cfg.OffsetsCommitTimeout,
		// AddOffsetsToTxn adds a group's partition of __consumer_offsets.
		OffsetsPartitions:     int32(b.cfg.OffsetsTopicNumPartitions),
		IDExpiration:          b.cfg.TransactionalIDExpiration,
		RemoveExpiredInterval: b.cfg.TransactionRemoveExpiredInterval,
	}, txnHost{topicWriter{b, protocol.TransactionStateTopic}})
}

// TxnCoordinator is the broker's transaction coordinator.
func (b *Broker) TxnCoordinator() *txn.Coordinator { return b.txns }

// txnHost gives the coordinator the broker's partitions of __transaction_state
// (TransactionStateManager.appendTransactionToLog writes through it).
type txnHost struct{ topicWriter }

func (h txnHost) Leader(tp protocol.TopicPartition) int32 {
	mp := h.b.image.Partition(tp.Topic, tp.Partition)
	if mp == nil {
		return -1
	}
	return mp.Leader
}

// NextProducerID takes an id from the broker's block, asking the controller for one when it is
// used up (ProducerIdManager.generateProducerId).
func (h txnHost) NextProducerID(now time.Duration) (int64, bool) {
	b := h.b
	if id, ok := b.pids.take(); ok {
		return id, true
	}
	if !b.pids.requested {
		if c := b.activeController(); c >= 0 && b.lifecycle.registered() {
			b.pids.requested, b.pids.sent = true, now
			b.env.Send(c, &protocol.AllocateProducerIdsRequest{CorrelationID: b.nextCorr(), BrokerID: b.id, BrokerEpoch: b.lifecycle.epoch})
		}
	}
	return 0, false
}

func (h txnHost) Observe(ev any) {
	if e, ok := ev.(*txn.TransactionStateChanged); ok {
		e.Coordinator = h.b.id
	}
	h.b.env.Observe(ev)
}

// markerAppendTimeout bounds a marker's wait for acks=all: the broker's request.timeout.ms, with
// which KafkaApis.handleWriteTxnMarkersRequest calls ReplicaManager.appendRecords.
const markerAppendTimeout = 30 * time.Second

// handleWriteTxnMarkers is KafkaApis.handleWriteTxnMarkersRequest: a COMMIT or ABORT control
// batch is appended to each partition this broker leads (ReplicaManager.appendRecords with
// requiredAcks -1 and origin COORDINATOR), and the answer waits until every one is replicated:
// the high watermark past the marker, as an acks=all produce waits (DelayedProduce). So the
// coordinator completes a transaction only once its markers are committed; a marker an
// unclean election could still drop keeps the transaction in PrepareCommit or PrepareAbort and
// is sent again. Per partition: NOT_LEADER_OR_FOLLOWER off the leader, NOT_ENOUGH_REPLICAS
// below min.insync.replicas (Partition.appendRecordsToLeader), INVALID_PRODUCER_EPOCH or
// TRANSACTION_COORDINATOR_FENCED from the log (ProducerAppendInfo.appendEndTxnMarker),
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT after markerAppendTimeout, or
// NOT_LEADER_OR_FOLLOWER when leadership is lost while waiting.
func (b *Broker) handleWriteTxnMarkers(now time.Duration, from int32, r *protocol.WriteTxnMarkersRequest) {
	key := protocol.MarkerAbort
	if r.Committed {
		key = protocol.MarkerCommit
	}
	dp := &delayedProduce{client: from, corr: r.CorrelationID, parts: make([]produceStatus, len(r.Partitions))}
	dp.answer = func(dp *delayedProduce) {
		resp := &protocol.WriteTxnMarkersResponse{CorrelationID: r.CorrelationID, ProducerID: r.ProducerID, Errors: make([]protocol.ErrorCode, len(dp.parts))}
		for i, st := range dp.parts {
			resp.Errors[i] = st.err
		}
		b.env.Send(from, resp)
	}
	for i, tp := range r.Partitions {
		st := &dp.parts[i]
		st.tp, st.baseOffset = tp, -1
		p := b.parts[tp]
		switch {
		case p == nil || !p.isLeader:
			st.err, st.done = protocol.NOT_LEADER_OR_FOLLOWER, true
		case len(p.isr) < p.effectiveMinIsr():
			st.err, st.done = protocol.NOT_ENOUGH_REPLICAS, true
		case r.TransactionVersion >= 2 && lateMarker(p, r.ProducerID, r.ProducerEpoch):
			st.err, st.done = protocol.INVALID_PRODUCER_EPOCH, true
		case b.cfg.Bugs.DropTxnMarkers && !r.Committed:
			st.done = true // the planted bug: answered, never written
		default:
			marker := &protocol.RecordBatch{ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, BaseSequence: protocol.NoSequence,
				Control: true, Transactional: true, Records: []protocol.Record{{Key: key, Value: int64(r.CoordinatorEpoch)}}}
			_, base, _, code := p.log.AppendAsLeader(marker, p.leaderEpoch, now)
			if code != protocol.NONE {
				st.err, st.done = code, true
				break
			}
			st.baseOffset, st.required = base, base+1
			if tp.Topic == protocol.OffsetsTopic {
				// GroupCoordinator.onTransactionCompleted: the group's pending transactional
				// offsets are committed or dropped (group/txnoffsets.go).
				b.groups.CompleteTransaction(tp.Partition, r.ProducerID, r.ProducerEpoch, r.Committed)
			}
			p.maybeIncrementHW(now)
			p.wakeFetches(now)
			if p.hw >= st.required {
				p.finishStatus(st)
			} else {
				p.produceWaiters = append(p.produceWaiters, dp)
			}
		}
		if !st.done {
			dp.remaining++
		}
	}
	if dp.remaining == 0 {
		b.respondProduce(dp)
		return
	}
	b.delayedSeq++
	dp.id = b.delayedSeq
	b.expireProduceAt(now, now+markerAppendTimeout, dp)
}

// lateMarker is KIP-1228's check of a transaction.version 2 marker
// (ProducerAppendInfo.checkProducerEpoch with the marker's transaction version): the coordinator
// bumps the producer epoch before it writes a TV2 transaction's markers, so a marker's epoch must
// be above the epoch of the producer's batches here. A marker whose epoch equals it belongs to
// the transaction before: arriving late, while the producer's next transaction (written with
// that same epoch) is open on the partition, it would end that transaction, which its coordinator
// has not decided. With no transaction open, an equal epoch is the same marker sent again (its
// answer was lost, or a new coordinator resends it) and is written as before (KAFKA-19999). A
// TV1 marker carries the epoch of the transaction's batches, so a late one cannot be told apart:
// it ends whatever transaction the producer has open (the check is epoch >= current).
func lateMarker(p *Partition, pid int64, epoch int16) bool {
	cur, open := p.log.OngoingTxn(pid)
	return epoch < cur || (epoch == cur && open)
}

// LastStableOffset is the replica's last stable offset: its high watermark, or the first offset
// of the oldest ongoing transaction if that is lower (UnifiedLog.lastStableOffset).
func (p *Partition) LastStableOffset() int64 { return p.log.LastStableOffset(p.hw) }

// OpenTransaction is the oldest transaction still open in the replica's log: its producer id,
// its first offset (the first unstable offset) and when that record was appended; ok false
// with none (ProducerStateManager.firstUnstableOffset, as DescribeProducers reports it, KIP-664).
func (p *Partition) OpenTransaction() (pid, first int64, since time.Duration, ok bool) {
	f := p.log.FirstUnstableOffset()
	if f < 0 {
		return 0, 0, 0, false
	}
	b := p.log.BatchAt(f)
	if b == nil {
		return 0, 0, 0, false
	}
	return b.ProducerID, f, b.MaxTimestamp, true
}

// OpenTransactions lists the transactions open in the replica's log, oldest first.
func (p *Partition) OpenTransactions() []log.OpenTxn { return p.log.OpenTransactions() }

// txnAdd is a produce request held while the leader adds its partitions to the producer's
// transaction (AddPartitionsToTxnManager, transaction.version 2).
type txnAdd struct {
	from     int32
	conn     *clientConn
	req      *protocol.ProduceRequest
	add      *protocol.AddPartitionsToTxnRequest
	deadline time.Duration // the produce request's timeout
	backoff  time.Duration // before the next retry of CONCURRENT_TRANSACTIONS
	to       int32         // the coordinator its AddPartitionsToTxn went to, -1 none in flight
}

// The broker retries an AddPartitionsToTxn answered CONCURRENT_TRANSACTIONS (the previous
// transaction's markers are still being written, or another leader's add is being written)
// within the produce request's timeout (AddPartitionsToTxnConfig:
// add.partitions.to.txn.retry.backoff.ms, doubling up to add.partitions.to.txn.retry.backoff.max.ms).
const (
	addPartitionsRetryBackoff    = 20 * time.Millisecond
	addPartitionsRetryBackoffMax = 100 * time.Millisecond
)

// txnAddRetry sends a held request's AddPartitionsToTxn again.
type txnAddRetry struct{ corr int64 }

// txnAdds are the held produce requests by the correlation id of their AddPartitionsToTxn.
type txnAdds struct {
	held  map[int64]*txnAdd
	added *protocol.ProduceRequest // the request being appended now that its partitions are added
}

// txnAddTimeout fires when the coordinator has not answered an AddPartitionsToTxn in the
// produce request's timeout.
type txnAddTimeout struct{ corr int64 }

// addPartitionsFirst is ReplicaManager.appendRecords with transaction verification (KIP-890):
// a transactional batch of a transaction.version 2 producer that has no transaction open on a
// partition this broker leads is appended only once the leader has added the partition to the
// producer's transaction at its coordinator (AddPartitionsToTxn from the broker). The request
// is held meanwhile, its connection muted. A producer whose epoch the coordinator has moved
// past (it aborted since, and the abort bumped the epoch) is refused, so a produce delayed past
// its transaction's end cannot open a transaction nobody will close (KAFKA-14402). It reports
// whether it holds m.
func (b *Broker) addPartitionsFirst(now time.Duration, from int32, c *clientConn, m *protocol.ProduceRequest) bool {
	if m.TransactionVersion < 2 || m.TransactionalID == "" {
		return false
	}
	if b.txnAdds.added == m {
		b.txnAdds.added = nil
		return false
	}
	var tps []protocol.TopicPartition
	var pid int64
	var epoch int16
	for _, pp := range m.Partitions {
		p := b.parts[pp.TP]
		if p == nil || !p.isLeader || pp.Batch == nil || !pp.Batch.Transactional {
			continue
		}
		if e, ongoing := p.log.OngoingTxn(pp.Batch.ProducerID); ongoing && e == pp.Batch.ProducerEpoch {
			continue
		}
		tps = append(tps, pp.TP)
		pid, epoch = pp.Batch.ProducerID, pp.Batch.ProducerEpoch
	}
	if len(tps) == 0 {
		return false
	}
	coord := int32(-1)
	part := txn.PartitionFor(m.TransactionalID, int32(b.cfg.TransactionStateLogNumPartitions))
	if mp := b.image.Partition(protocol.TransactionStateTopic, part); mp != nil {
		coord = mp.Leader
	}
	c.muted = true
	corr := b.nextCorr()
	if b.txnAdds.held == nil {
		b.txnAdds.held = map[int64]*txnAdd{}
	}
	b.txnAdds.held[corr] = &txnAdd{from: from, conn: c, req: m, deadline: now + m.Timeout, backoff: addPartitionsRetryBackoff,
		add: &protocol.AddPartitionsToTxnRequest{CorrelationID: corr, TransactionalID: m.TransactionalID,
			ProducerID: pid, ProducerEpoch: epoch, Partitions: tps, FromBroker: true}}
	if coord < 0 {
		b.handleTxnAddAnswer(now, corr, protocol.COORDINATOR_NOT_AVAILABLE)
		return true
	}
	b.txnAdds.held[corr].to = coord
	b.env.Send(coord, b.txnAdds.held[corr].add)
	b.env.After(m.Timeout, txnAddTimeout{corr: corr})
	return true
}

// retryTxnAdd sends a held request's AddPartitionsToTxn again, to the coordinator as the
// metadata has it now.
func (b *Broker) retryTxnAdd(now time.Duration, corr int64) {
	a := b.txnAdds.held[corr]
	if a == nil {
		return
	}
	part := txn.PartitionFor(a.req.TransactionalID, int32(b.cfg.TransactionStateLogNumPartitions))
	if mp := b.image.Partition(protocol.TransactionStateTopic, part); mp != nil && mp.Leader >= 0 {
		a.to = mp.Leader
		b.env.Send(mp.Leader, a.add)
		return
	}
	b.handleTxnAddAnswer(now, corr, protocol.COORDINATOR_NOT_AVAILABLE)
}

// txnAddsDisconnected is AddPartitionsToTxnManager.AddPartitionsToTxnHandler.onComplete for a
// response that wasDisconnected: the connection to the coordinator peer broke (its process
// died), and every held produce whose AddPartitionsToTxn went to it is answered
// NETWORK_EXCEPTION, which ReplicaManager turns into NOT_ENOUGH_REPLICAS: the producer retries
// after retry.backoff.ms, and the leader asks the coordinator the metadata names then. Before,
// the produce was held until its request timeout (30 s): a transactional producer whose
// coordinator died wrote nothing meanwhile, even after the coordinator moved.
func (b *Broker) txnAddsDisconnected(now time.Duration, peer int32) {
	if len(b.txnAdds.held) == 0 {
		return
	}
	for _, corr := range slices.Sorted(maps.Keys(b.txnAdds.held)) {
		if a := b.txnAdds.held[corr]; a != nil && a.to == peer {
			b.handleTxnAddAnswer(now, corr, protocol.NETWORK_EXCEPTION)
		}
	}
}

// handleTxnAddAnswer takes the coordinator's answer for a held produce: on NONE the request is
// appended; otherwise every partition fails with the error as ReplicaManager translates it
// (the retriable coordinator errors become NOT_ENOUGH_REPLICAS, PRODUCER_FENCED becomes
// INVALID_PRODUCER_EPOCH).
func (b *Broker) handleTxnAddAnswer(now time.Duration, corr int64, code protocol.ErrorCode) {
	a := b.txnAdds.held[corr]
	if a == nil {
		return
	}
	a.to = -1
	if code == protocol.CONCURRENT_TRANSACTIONS && now+a.backoff < a.deadline {
		b.env.After(a.backoff, txnAddRetry{corr: corr})
		a.backoff = min(2*a.backoff, addPartitionsRetryBackoffMax)
		return
	}
	delete(b.txnAdds.held, corr)
	if b.conns[a.from] != a.conn {
		return // the client closed its connection
	}
	if code == protocol.NONE {
		b.txnAdds.added = a.req
		b.processProduce(now, a.from, a.conn, a.req)
		return
	}
	switch code {
	case protocol.CONCURRENT_TRANSACTIONS, protocol.COORDINATOR_LOAD_IN_PROGRESS, protocol.COORDINATOR_NOT_AVAILABLE,
		protocol.NOT_COORDINATOR, protocol.REQUEST_TIMED_OUT, protocol.NETWORK_EXCEPTION:
		code = protocol.NOT_ENOUGH_REPLICAS
	case protocol.PRODUCER_FENCED:
		code = protocol.INVALID_PRODUCER_EPOCH
	}
	dp := &delayedProduce{client: a.from, conn: a.conn, corr: a.req.CorrelationID, parts: make([]produceStatus, len(a.req.Partitions))}
	for i, pp := range a.req.Partitions {
		dp.parts[i] = produceStatus{tp: pp.TP, err: code, baseOffset: -1, done: true}
	}
	b.respondProduce(dp)
}

// AppendTransactional writes a group coordinator's transactional offset commit as the
// producer's batch (CoordinatorPartitionWriter.append with the producer id and epoch,
// isTransactional): no sequence, so the partition's producer state opens no transaction and its
// LSO stays at the HW; the marker that ends the transaction completes the offsets
// (group/txnoffsets.go).
func (h coordinatorHost) AppendTransactional(part int32, pid int64, epoch int16, recs []protocol.Record, now time.Duration) (int64, protocol.ErrorCode) {
	p := h.leader(part)
	if p == nil {
		return -1, protocol.NOT_LEADER_OR_FOLLOWER
	}
	batch := &protocol.RecordBatch{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: protocol.NoSequence, Transactional: true, Records: recs}
	_, base, _, code := p.log.AppendAsLeader(batch, p.leaderEpoch, now)
	if code != protocol.NONE {
		return -1, code
	}
	p.maybeIncrementHW(now)
	p.wakeFetches(now)
	return base + int64(len(recs)), protocol.NONE
}
