package txn

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
)

// Handle serves a transaction request or a marker answer; it reports whether msg was one.
func (c *Coordinator) Handle(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case *protocol.InitProducerIdRequest:
		c.handleInitProducerId(now, from, m)
	case *protocol.AddPartitionsToTxnRequest:
		c.handleAddPartitionsToTxn(now, from, m)
	case *protocol.AddOffsetsToTxnRequest:
		c.handleAddOffsetsToTxn(now, from, m)
	case *protocol.EndTxnRequest:
		c.handleEndTxn(now, from, m)
	case *protocol.WriteTxnMarkersResponse:
		c.handleWriteTxnMarkersResponse(now, m)
	default:
		return false
	}
	return true
}

// handleInitProducerId is TransactionCoordinator.handleInitProducerId: a new transactional id
// gets a producer id and epoch 0; a known one in a completed state gets its epoch bumped
// (fencing every older producer of the id: its requests now fail PRODUCER_FENCED); an ongoing
// transaction is first aborted under a bumped epoch (PrepareEpochFence) while the new producer
// is told CONCURRENT_TRANSACTIONS and retries.
func (c *Coordinator) handleInitProducerId(now time.Duration, from int32, r *protocol.InitProducerIdRequest) {
	reply := func(now time.Duration, err protocol.ErrorCode, pid int64, epoch int16) {
		c.host.Send(from, &protocol.InitProducerIdResponse{CorrelationID: r.CorrelationID, Error: err, ProducerID: pid, ProducerEpoch: epoch})
	}
	if r.TransactionTimeout <= 0 || r.TransactionTimeout > c.cfg.MaxTimeout {
		reply(now, protocol.INVALID_TRANSACTION_TIMEOUT, protocol.NoProducerID, -1)
		return
	}
	s, code := c.lookup(r.TransactionalID)
	if code != protocol.NONE {
		reply(now, code, protocol.NoProducerID, -1)
		return
	}
	m := s.txns[r.TransactionalID]
	known := m != nil
	if m == nil {
		pid, ok := c.host.NextProducerID(now)
		if !ok {
			reply(now, protocol.COORDINATOR_LOAD_IN_PROGRESS, protocol.NoProducerID, -1)
			return
		}
		m = &Metadata{ID: r.TransactionalID, ProducerID: pid, Epoch: -1, LastEpoch: -1, State: Empty}
		s.txns[m.ID] = m
		s.order = append(s.order, m.ID)
	}
	if known && r.ProducerID != protocol.NoProducerID && (m.ProducerID != r.ProducerID || (r.ProducerEpoch != m.Epoch && r.ProducerEpoch != m.LastEpoch)) {
		// KIP-588: a producer re-initializing with its id and epoch may bump only from the
		// current epoch or the one before the last bump (its transaction timed out); any other
		// was fenced by a newer instance of its transactional id.
		reply(now, protocol.PRODUCER_FENCED, protocol.NoProducerID, -1)
		return
	}
	if m.pending {
		reply(now, protocol.CONCURRENT_TRANSACTIONS, protocol.NoProducerID, -1)
		return
	}
	switch m.State {
	case PrepareCommit, PrepareAbort, PrepareEpochFence:
		reply(now, protocol.CONCURRENT_TRANSACTIONS, protocol.NoProducerID, -1)
		return
	case Ongoing:
		// TransactionMetadata.prepareFenceProducerEpoch, then endTransaction(ABORT) on
		// behalf of the fenced producer.
		c.abortInternal(now, s, m)
		reply(now, protocol.CONCURRENT_TRANSACTIONS, protocol.NoProducerID, -1)
		return
	}
	next := *m
	next.State, next.Partitions, next.Timeout, next.Start = Empty, nil, r.TransactionTimeout, now
	if m.Epoch == math.MaxInt16-1 {
		pid, ok := c.host.NextProducerID(now)
		if !ok {
			reply(now, protocol.COORDINATOR_LOAD_IN_PROGRESS, protocol.NoProducerID, -1)
			return
		}
		next.ProducerID, next.Epoch, next.LastEpoch = pid, 0, -1
	} else {
		next.Epoch, next.LastEpoch = m.Epoch+1, m.Epoch // TransactionMetadata.prepareIncrementProducerEpoch
	}
	c.transition(now, s, m, next, func(now time.Duration, err protocol.ErrorCode) {
		if err != protocol.NONE {
			reply(now, err, protocol.NoProducerID, -1)
			return
		}
		reply(now, protocol.NONE, next.ProducerID, next.Epoch)
	})
}

// checkProducer is the producer id and epoch check every transactional request passes
// (TransactionCoordinator: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS
// while a transition is pending).
func (c *Coordinator) checkProducer(id string, pid int64, epoch int16) (*shard, *Metadata, protocol.ErrorCode) {
	s, code := c.lookup(id)
	if code != protocol.NONE {
		return nil, nil, code
	}
	m := s.txns[id]
	switch {
	case m == nil || m.ProducerID != pid:
		return nil, nil, protocol.INVALID_PRODUCER_ID_MAPPING
	case epoch < m.Epoch:
		return nil, nil, protocol.PRODUCER_FENCED
	case epoch > m.Epoch:
		return nil, nil, protocol.INVALID_PRODUCER_EPOCH
	case m.pending:
		return nil, nil, protocol.CONCURRENT_TRANSACTIONS
	}
	return s, m, protocol.NONE
}

// handleAddPartitionsToTxn is TransactionCoordinator.handleAddPartitionsToTransaction: the
// partitions join the transaction, which becomes Ongoing (its start time set when it begins).
// From a partition leader (FromBroker, transaction.version 2) the transaction is a TV2 one; a
// producer epoch older than the coordinator's (the producer aborted and bumped it since the
// produce was sent: KAFKA-14402's late produce) is refused here, so the late batch is never
// appended.
func (c *Coordinator) handleAddPartitionsToTxn(now time.Duration, from int32, r *protocol.AddPartitionsToTxnRequest) {
	reply := func(_ time.Duration, err protocol.ErrorCode) {
		c.host.Send(from, &protocol.AddPartitionsToTxnResponse{CorrelationID: r.CorrelationID, Error: err})
	}
	s, m, code := c.checkProducer(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if code != protocol.NONE {
		reply(now, code)
		return
	}
	if m.State == PrepareCommit || m.State == PrepareAbort || m.State == PrepareEpochFence {
		reply(now, protocol.CONCURRENT_TRANSACTIONS)
		return
	}
	version := int8(1)
	if r.FromBroker {
		version = 2
	}
	c.addPartitions(now, s, m, r.Partitions, version, reply)
}

// addPartitions adds tps to m's transaction, which becomes Ongoing with the given
// transaction.version if it was not yet (TransactionMetadata.prepareAddPartitions).
func (c *Coordinator) addPartitions(now time.Duration, s *shard, m *Metadata, tps []protocol.TopicPartition, version int8, reply func(time.Duration, protocol.ErrorCode)) {
	next := *m
	if m.State != Ongoing {
		next.Partitions, next.Start = nil, now
		next.Version = version
	}
	next.Partitions = slices.Clone(next.Partitions)
	for _, tp := range tps {
		if !slices.Contains(next.Partitions, tp) {
			next.Partitions = append(next.Partitions, tp)
		}
	}
	if m.State == Ongoing && len(next.Partitions) == len(m.Partitions) {
		reply(now, protocol.NONE)
		return
	}
	next.State = Ongoing
	c.transition(now, s, m, next, reply)
}

// handleAddOffsetsToTxn is TransactionCoordinator.handleAddPartitionsToTransaction called from
// KafkaApis.handleAddOffsetsToTxnRequest: the group's partition of __consumer_offsets
// (GroupCoordinator.partitionFor) joins the transaction, so its marker completes the offsets the
// producer then commits there with TxnOffsetCommit (KIP-98).
func (c *Coordinator) handleAddOffsetsToTxn(now time.Duration, from int32, r *protocol.AddOffsetsToTxnRequest) {
	reply := func(_ time.Duration, err protocol.ErrorCode) {
		c.host.Send(from, &protocol.AddOffsetsToTxnResponse{CorrelationID: r.CorrelationID, Error: err})
	}
	if r.GroupID == "" {
		reply(now, protocol.INVALID_GROUP_ID)
		return
	}
	s, m, code := c.checkProducer(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if code != protocol.NONE {
		reply(now, code)
		return
	}
	if m.State == PrepareCommit || m.State == PrepareAbort || m.State == PrepareEpochFence {
		reply(now, protocol.CONCURRENT_TRANSACTIONS)
		return
	}
	tp := protocol.TopicPartition{Topic: protocol.OffsetsTopic, Partition: group.PartitionFor(r.GroupID, c.cfg.OffsetsPartitions)}
	version := r.TransactionVersion
	if version < 1 {
		version = 1
	}
	c.addPartitions(now, s, m, []protocol.TopicPartition{tp}, version, reply)
}

// handleEndTxn is TransactionCoordinator.handleEndTransaction: an ongoing transaction goes to
// PrepareCommit or PrepareAbort; once that is written the producer is answered and the markers
// go out; a retry of a completed EndTxn succeeds again. With transaction.version 2 the
// prepare also bumps the producer epoch (KIP-890): the markers carry the new epoch, which
// fences every batch of the ended transaction still on its way, and the answer gives the new
// epoch to the producer. A TV2 retry, sent with the epoch before the bump, is recognised and
// answered with the current one.
//
// The retry is recognised before any pending transition, as TransactionCoordinator.endTransaction
// checks the epoch (endTxnEpochBumped) before pendingTransitionInProgress: a retry that arrives
// while CompleteCommit is being written (a new coordinator finishing the transaction it loaded
// in PrepareCommit) is answered CONCURRENT_TRANSACTIONS and retried, not PRODUCER_FENCED. Fenced,
// the producer took its committed transaction for lost, and reported its sends failed while
// read_committed consumers read them.
func (c *Coordinator) handleEndTxn(now time.Duration, from int32, r *protocol.EndTxnRequest) {
	reply := func(_ time.Duration, err protocol.ErrorCode, pid int64, epoch int16) {
		c.host.Send(from, &protocol.EndTxnResponse{CorrelationID: r.CorrelationID, Error: err, ProducerID: pid, ProducerEpoch: epoch})
	}
	if r.TransactionVersion >= 2 {
		if s, _ := c.lookup(r.TransactionalID); s != nil {
			m := s.txns[r.TransactionalID]
			if m != nil && m.ProducerID == r.ProducerID && r.ProducerEpoch == m.Epoch-1 && m.Version >= 2 && m.State.ended() {
				switch {
				case m.pending:
					reply(now, protocol.CONCURRENT_TRANSACTIONS, protocol.NoProducerID, -1)
				case m.State == CompleteCommit && r.Committed, m.State == CompleteAbort && !r.Committed:
					reply(now, protocol.NONE, m.ProducerID, m.Epoch)
				case m.State == PrepareCommit && r.Committed, m.State == PrepareAbort && !r.Committed:
					reply(now, protocol.CONCURRENT_TRANSACTIONS, protocol.NoProducerID, -1)
				default:
					// A retry of the other outcome (logInvalidStateTransitionAndReturnError).
					reply(now, protocol.INVALID_TXN_STATE, protocol.NoProducerID, -1)
				}
				return
			}
		}
	}
	s, m, code := c.checkProducer(r.TransactionalID, r.ProducerID, r.ProducerEpoch)
	if code != protocol.NONE {
		reply(now, code, protocol.NoProducerID, -1)
		return
	}
	switch {
	case m.State == Ongoing:
	case r.TransactionVersion >= 2 && !r.Committed && (m.State == Empty || m.State == CompleteCommit || m.State == CompleteAbort):
		// A TV2 producer aborts a transaction no leader has added a partition to yet (its
		// batches are still on their way): the abort still bumps the epoch, which fences them.
		// With no partitions it has no markers and completes at once. This comes before the
		// retry case: a TV2 retry carries the epoch before the bump and was answered above, so
		// with the current epoch even CompleteAbort is the producer's next transaction
		// (TransactionCoordinator.endTransaction: "If the epoch is the same it actually
		// indicates the next endTransaction call"). Answered as a retry, a second abort in a
		// row kept the epoch, and its batches still on their way passed the leader's
		// verification later and opened a transaction under it, which the producer's next
		// transaction then joined, its batches taken for duplicates of theirs.
	case r.TransactionVersion >= 2 && m.Version >= 2 && r.Committed && m.State == CompleteCommit:
		// Not a retry either (that carries the epoch before the bump): a commit of the
		// producer's next transaction, of which this coordinator knows nothing. It happens when
		// the coordinator is stale: the leadership of its __transaction_state partition moved
		// and it has not heard yet, while the new coordinator holds the transaction Ongoing.
		// Answered as a retry, the producer took its transaction for committed, and the new
		// coordinator aborted it at transaction.timeout.ms (TransactionCoordinator.endTransaction
		// with TV2: "same epoch is not sufficient to determine if a retry transition is valid";
		// not a retry, a commit in CompleteCommit is an invalid transition).
		reply(now, protocol.INVALID_TXN_STATE, protocol.NoProducerID, -1)
		return
	case m.State == CompleteCommit && r.Committed, m.State == CompleteAbort && !r.Committed:
		reply(now, protocol.NONE, m.ProducerID, m.Epoch)
		return
	case m.State == PrepareCommit && r.Committed, m.State == PrepareAbort && !r.Committed:
		reply(now, protocol.CONCURRENT_TRANSACTIONS, protocol.NoProducerID, -1)
		return
	default:
		reply(now, protocol.INVALID_TXN_STATE, protocol.NoProducerID, -1)
		return
	}
	next := *m
	next.State = PrepareAbort
	if r.Committed {
		next.State = PrepareCommit
	}
	if r.TransactionVersion >= 2 && m.Epoch < math.MaxInt16-1 {
		next.Epoch, next.LastEpoch, next.Version = m.Epoch+1, m.Epoch, 2 // TransactionMetadata.prepareAbortOrCommit with a bump
	}
	c.transition(now, s, m, next, func(now time.Duration, err protocol.ErrorCode) {
		if err != protocol.NONE {
			reply(now, err, protocol.NoProducerID, -1)
			return
		}
		reply(now, protocol.NONE, next.ProducerID, next.Epoch)
		m.markers = slices.Clone(m.Partitions)
		c.sendMarkers(now, s, m)
	})
}

// abortInternal aborts m under a bumped epoch, fencing its producer (a timed-out transaction,
// TransactionCoordinator.abortTimedOutTransactions, or an InitProducerId that found it ongoing).
func (c *Coordinator) abortInternal(now time.Duration, s *shard, m *Metadata) {
	if m.pending || m.State != Ongoing {
		return
	}
	next := *m
	next.State = PrepareAbort
	if m.Epoch < math.MaxInt16 {
		next.Epoch, next.LastEpoch = m.Epoch+1, m.Epoch // prepareFenceProducerEpoch
	}
	c.host.Observe(&TransactionStateChanged{Coordinator: -1, TransactionalID: m.ID, ProducerID: m.ProducerID, Epoch: next.Epoch, From: Ongoing, To: PrepareEpochFence})
	c.transition(now, s, m, next, func(now time.Duration, err protocol.ErrorCode) {
		if err == protocol.NONE {
			m.markers = slices.Clone(m.Partitions)
			c.sendMarkers(now, s, m)
		}
	})
}

// abortTimedOutTransactions runs every transaction.abort.timed.out.transaction.cleanup.interval.ms:
// an ongoing transaction older than its transaction.timeout.ms is aborted and its producer fenced.
func (c *Coordinator) abortTimedOutTransactions(now time.Duration, s *shard) {
	for _, id := range s.order {
		m := s.txns[id]
		if m.State == Ongoing && !m.pending && now > m.Start+m.Timeout {
			c.abortInternal(now, s, m)
		}
	}
}

// removeExpiredTransactionalIDs is TransactionStateManager.removeExpiredTransactionalIds: a
// transactional id idle for transactional.id.expiration.ms (no transaction open, none being
// written) gets a tombstone, so that compaction of __transaction_state forgets it, and is
// removed from the cache once the tombstone is committed. A producer using the id afterwards
// starts anew with InitProducerId.
func (c *Coordinator) removeExpiredTransactionalIDs(now time.Duration, s *shard) {
	expiration := cmp.Or(c.cfg.IDExpiration, 7*24*time.Hour)
	for _, id := range slices.Clone(s.order) { // a committed tombstone removes its id at once
		m := s.txns[id]
		switch {
		case m == nil, m.pending, m.State != Empty && m.State != CompleteCommit && m.State != CompleteAbort:
			continue
		case now-m.Updated < expiration:
			continue
		}
		end, err := c.host.Append(s.part, []protocol.Record{{Key: recordPrefix + id, Value: -1, Tombstone: true}}, now)
		if err != protocol.NONE {
			return
		}
		s.written = end
		m.pending = true
		remove := func(now time.Duration, err protocol.ErrorCode) {
			m.pending = false
			if err != protocol.NONE || c.shards[s.part] != s || s.txns[id] != m {
				return
			}
			prev := m.State
			m.State = Dead
			delete(s.txns, id)
			s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
			c.host.Observe(&TransactionStateChanged{Coordinator: -1, TransactionalID: id, ProducerID: m.ProducerID, Epoch: m.Epoch, From: prev, To: Dead})
		}
		if s.hw >= end {
			remove(now, protocol.NONE)
			continue
		}
		s.seq++
		s.pending = append(s.pending, write{end: end, seq: s.seq, done: remove})
		c.host.After(c.cfg.WriteTimeout, Timer{Part: s.part, Epoch: s.epoch, Kind: timerWrite, Seq: s.seq})
	}
}

// sendMarkers is TransactionMarkerChannelManager.addTxnMarkersToSend: one WriteTxnMarkers per
// leader of the transaction's partitions still without a marker; a partition with no leader is
// tried again later. Once every marker is written the transaction completes
// (CompleteCommit or CompleteAbort).
func (c *Coordinator) sendMarkers(now time.Duration, s *shard, m *Metadata) {
	if len(m.markers) == 0 {
		c.completeTransaction(now, s, m)
		return
	}
	// Sent again in full (every earlier request answered, or the last unanswered past
	// markerRequestTimeout): a request still in flight is forgotten, its answer dropped.
	for corr, req := range c.sent {
		if req.part == s.part && req.id == m.ID {
			delete(c.sent, corr)
		}
	}
	m.inflight = 0
	leaders, retry := c.markersTo(now, s, m, m.markers)
	if retry || leaders > 0 {
		// A partition without a leader, or an answer that never comes (a leader cut off), is
		// covered by sending again.
		c.host.After(c.cfg.MarkerRetry, Timer{Part: s.part, Epoch: s.epoch, Kind: timerMarkers, ID: m.ID})
	}
}

// markersTo is TransactionMarkerChannelManager.addTxnMarkersToBrokerQueue: the markers of tps go
// to their leaders as the broker's metadata names them, one request per leader; it returns how
// many requests went, and whether a partition had no leader.
func (c *Coordinator) markersTo(now time.Duration, s *shard, m *Metadata, tps []protocol.TopicPartition) (int, bool) {
	byLeader := map[int32][]protocol.TopicPartition{}
	var leaders []int32
	retry := false
	for _, tp := range tps {
		l := c.host.Leader(tp)
		if l < 0 {
			retry = true
			continue
		}
		if byLeader[l] == nil {
			leaders = append(leaders, l)
		}
		byLeader[l] = append(byLeader[l], tp)
	}
	m.inflight += len(leaders)
	m.sentAt = now
	for _, l := range leaders {
		c.corr++
		c.sent[c.corr] = markerReq{part: s.part, epoch: s.epoch, id: m.ID, tps: byLeader[l], to: l}
		c.host.Send(l, &protocol.WriteTxnMarkersRequest{
			CorrelationID: c.corr, ProducerID: m.ProducerID, ProducerEpoch: m.Epoch, Committed: m.State == PrepareCommit,
			CoordinatorEpoch: s.epoch, Partitions: byLeader[l], TransactionalID: m.ID, TransactionVersion: max(m.Version, 1),
		})
	}
	return len(leaders), retry
}

// Disconnected is TransactionMarkerRequestCompletionHandler.onComplete for a response that
// wasDisconnected: the connection to peer broke (its process died), and each WriteTxnMarkers in
// flight to it is re-enqueued at once, to the leaders the metadata names now, unless the
// coordinator lost the transaction's partition or its epoch changed (removeMarkersForTxn). A
// partition whose leader is still peer waits for the marker timer (MarkerRetry), as the
// inter-broker NetworkClient tries a node that failed no faster than its reconnect back-off.
// Before, the request stayed in flight until the inter-broker request.timeout.ms (30 s): a
// transaction committing when a leader died held its partitions' LSO, and its producer's next
// EndTxn got CONCURRENT_TRANSACTIONS, that long.
func (c *Coordinator) Disconnected(now time.Duration, peer int32) {
	for _, corr := range slices.Sorted(maps.Keys(c.sent)) {
		req := c.sent[corr]
		if req.to != peer {
			continue
		}
		delete(c.sent, corr)
		s := c.shards[req.part]
		if s == nil || s.loading || s.epoch != req.epoch {
			continue
		}
		m := s.txns[req.id]
		if m == nil || len(m.markers) == 0 {
			continue
		}
		m.inflight = max(m.inflight-1, 0)
		var moved []protocol.TopicPartition
		for _, tp := range req.tps {
			if slices.Contains(m.markers, tp) && c.host.Leader(tp) != peer {
				moved = append(moved, tp)
			}
		}
		if len(moved) > 0 {
			c.markersTo(now, s, m, moved)
		}
	}
}

// handleWriteTxnMarkersResponse is TransactionMarkerRequestCompletionHandler: a partition whose
// marker is written (and, the leader having waited for acks=all, replicated) is done; the
// retriable errors (NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND,
// REQUEST_TIMED_OUT, UNKNOWN_TOPIC_OR_PARTITION) leave it for the next round, to the leader the
// metadata names then; INVALID_PRODUCER_EPOCH and TRANSACTION_COORDINATOR_FENCED mean a newer
// producer epoch or coordinator owns the partition: sending stops (removeMarkersForTxn). An
// answer from an earlier coordinator epoch, or for a transaction already complete (a late
// duplicate), is dropped.
func (c *Coordinator) handleWriteTxnMarkersResponse(now time.Duration, r *protocol.WriteTxnMarkersResponse) {
	req, ok := c.sent[r.CorrelationID]
	if !ok {
		return
	}
	delete(c.sent, r.CorrelationID)
	s := c.shards[req.part]
	if s == nil || s.loading || s.epoch != req.epoch {
		return
	}
	m := s.txns[req.id]
	if m == nil || len(m.markers) == 0 {
		return
	}
	m.inflight--
	for i, tp := range req.tps {
		if i >= len(r.Errors) {
			break
		}
		switch r.Errors[i] {
		case protocol.NONE:
			if j := slices.Index(m.markers, tp); j >= 0 {
				m.markers = slices.Delete(m.markers, j, j+1)
			}
		case protocol.INVALID_PRODUCER_EPOCH, protocol.TRANSACTION_COORDINATOR_FENCED:
			m.markers, m.inflight = nil, 0
			return
		}
	}
	if len(m.markers) == 0 {
		c.completeTransaction(now, s, m)
	}
}

// completeTransaction writes CompleteCommit or CompleteAbort
// (TransactionMetadata.prepareComplete).
func (c *Coordinator) completeTransaction(now time.Duration, s *shard, m *Metadata) {
	if m.pending || (m.State != PrepareCommit && m.State != PrepareAbort) {
		return
	}
	next := *m
	next.State = CompleteAbort
	if m.State == PrepareCommit {
		next.State = CompleteCommit
	}
	next.Partitions = nil
	c.transition(now, s, m, next, func(time.Duration, protocol.ErrorCode) {})
}
