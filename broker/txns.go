package broker

import (
	"time"

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
// COORDINATOR); not modelled: the marker waits for acks=all before its answer.

func newTxnCoordinator(b *Broker) *txn.Coordinator {
	return txn.New(txn.Config{
		Partitions:    int32(b.cfg.TransactionStateLogNumPartitions),
		MaxTimeout:    b.cfg.TransactionMaxTimeout,
		AbortInterval: b.cfg.TransactionAbortTimedOutInterval,
		LoadTime:      coordinatorLoadTime,
		MarkerRetry:   100 * time.Millisecond,
		WriteTimeout:  b.cfg.OffsetsCommitTimeout,
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

// handleWriteTxnMarkers appends a COMMIT or ABORT control batch to each partition this broker
// leads (KafkaApis.handleWriteTxnMarkersRequest); a marker of an older producer epoch is
// refused INVALID_PRODUCER_EPOCH by the log.
func (b *Broker) handleWriteTxnMarkers(now time.Duration, from int32, r *protocol.WriteTxnMarkersRequest) {
	resp := &protocol.WriteTxnMarkersResponse{CorrelationID: r.CorrelationID, ProducerID: r.ProducerID, Errors: make([]protocol.ErrorCode, len(r.Partitions))}
	key := protocol.MarkerAbort
	if r.Committed {
		key = protocol.MarkerCommit
	}
	for i, tp := range r.Partitions {
		p := b.parts[tp]
		if p == nil || !p.isLeader {
			resp.Errors[i] = protocol.NOT_LEADER_OR_FOLLOWER
			continue
		}
		marker := &protocol.RecordBatch{ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, BaseSequence: protocol.NoSequence,
			Control: true, Transactional: true, Records: []protocol.Record{{Key: key, Value: int64(r.CoordinatorEpoch)}}}
		if _, _, _, code := p.log.AppendAsLeader(marker, p.leaderEpoch, now); code != protocol.NONE {
			resp.Errors[i] = code
			continue
		}
		p.maybeIncrementHW(now)
		p.wakeFetches(now)
	}
	b.env.Send(from, resp)
}

// LastStableOffset is the replica's last stable offset: its high watermark, or the first offset
// of the oldest ongoing transaction if that is lower (UnifiedLog.lastStableOffset).
func (p *Partition) LastStableOffset() int64 { return p.log.LastStableOffset(p.hw) }
