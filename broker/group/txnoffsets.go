package group

import (
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: transactional offset commits (KIP-98, KIP-447), as Kafka 4.x's
// OffsetMetadataManager keeps them (GroupMetadata.prepareTxnOffsetCommit and
// completePendingTxnOffsetCommit in 3.x). TxnOffsetCommit is checked against the group like an
// OffsetCommit (the consumer's group metadata: member id, generation or member epoch,
// group.instance.id), then written to the group's partition of __consumer_offsets as a batch
// of the producer's transaction (its producer id and epoch, Transactional). The offsets are
// pending, per producer id, and invisible to OffsetFetch, until the transaction's marker is
// written to that partition (replayEndTransactionMarker): COMMIT makes them the committed
// offsets, ABORT discards them. A coordinator loading the partition replays the same: the
// transactional batches into pending offsets, the markers completing them, so a failover
// keeps the offsets of a transaction whose outcome is still unknown pending. OffsetFetch with
// RequireStable answers UNSTABLE_OFFSET_COMMIT while one of the partitions asked for has a
// pending offset. A TxnOffsetCommit from an epoch older than the producer's latest (its markers
// and commits) is INVALID_PRODUCER_EPOCH. Not modelled: the commit-time ordering against a later plain OffsetCommit
// (a COMMIT marker's offsets always win).

// TxnAppender is what a host offers to write a transactional batch (CoordinatorPartitionWriter
// appending with the producer's id and epoch, origin COORDINATOR).
type TxnAppender interface {
	AppendTransactional(part int32, pid int64, epoch int16, recs []protocol.Record, now time.Duration) (next int64, err protocol.ErrorCode)
}

// txnOffset is one pending transactional offset.
type txnOffset struct {
	group string
	tp    protocol.TopicPartition
	o     Offset
}

// txnOffsets are a shard's pending transactional offsets (OffsetMetadataManager's
// pendingTransactionalOffsets), in the order they were written, per producer id.
type txnOffsets struct {
	pending map[int64][]txnOffset
	epochs  map[int64]int16 // the highest producer epoch seen per producer id (its markers, its commits)
}

// sawEpoch notes producer pid at epoch.
func (t *txnOffsets) sawEpoch(pid int64, epoch int16) {
	if t.epochs == nil {
		t.epochs = map[int64]int16{}
	}
	if e, ok := t.epochs[pid]; !ok || epoch > e {
		t.epochs[pid] = epoch
	}
}

// fenced reports whether epoch is older than the producer's latest (ProducerAppendInfo's
// checkProducerEpoch on the coordinator's append: a zombie's TxnOffsetCommit after its
// transaction was fenced and aborted must not wait for the new instance's COMMIT marker).
func (t *txnOffsets) fenced(pid int64, epoch int16) bool {
	e, ok := t.epochs[pid]
	return ok && epoch < e
}

func (t *txnOffsets) add(pid int64, o txnOffset) {
	if t.pending == nil {
		t.pending = map[int64][]txnOffset{}
	}
	t.pending[pid] = append(t.pending[pid], o)
}

// hasPending reports whether group has a pending offset for tp (any producer).
func (t *txnOffsets) hasPending(group string, tp protocol.TopicPartition) bool {
	for _, offs := range t.pending { // existence only: the order does not matter
		for _, o := range offs {
			if o.group == group && o.tp == tp {
				return true
			}
		}
	}
	return false
}

// hasGroup reports whether group has a pending transactional offset (openTransactionsByGroup).
func (t *txnOffsets) hasGroup(group string) bool {
	for _, offs := range t.pending { // existence only: the order does not matter
		for _, o := range offs {
			if o.group == group {
				return true
			}
		}
	}
	return false
}

// complete is replayEndTransactionMarker: COMMIT stores the producer's pending offsets in the
// order written, ABORT drops them.
func (s *shard) completeTxnOffsets(pid int64, epoch int16, committed bool) {
	s.txn.sawEpoch(pid, epoch)
	offs := s.txn.pending[pid]
	delete(s.txn.pending, pid)
	if !committed {
		return
	}
	for _, o := range offs {
		s.storeOffset(o.group, o.tp, o.o)
	}
}

// CompleteTransaction tells the coordinator that a transaction marker of producer pid was
// written to partition part (GroupCoordinator.onTransactionCompleted, through
// CoordinatorRuntime.scheduleTransactionCompletion). A shard still loading reads the marker
// from the log.
func (c *Coordinator) CompleteTransaction(part int32, pid int64, epoch int16, committed bool) {
	c.touched = true
	if s := c.shards[part]; s != nil && !s.loading {
		s.completeTxnOffsets(pid, epoch, committed)
	}
}

// PendingTxnOffsets is how many transactional offsets of group wait for their marker.
func (c *Coordinator) PendingTxnOffsets(group string) int {
	s := c.shards[PartitionFor(group, c.cfg.Partitions)]
	if s == nil || s.loading {
		return 0
	}
	n := 0
	for _, offs := range s.txn.pending { // a count: the order does not matter
		for _, o := range offs {
			if o.group == group {
				n++
			}
		}
	}
	return n
}

// replayTxnBatch replays a transactional batch or a marker while loading; it reports whether b
// was one.
func (s *shard) replayTxnBatch(b *protocol.RecordBatch) bool {
	switch {
	case b.Control && b.ProducerID >= 0:
		committed := b.Len() > 0 && b.Key(0) == protocol.MarkerCommit
		s.completeTxnOffsets(b.ProducerID, b.ProducerEpoch, committed)
		return true
	case b.Transactional && b.ProducerID >= 0:
		s.txn.sawEpoch(b.ProducerID, b.ProducerEpoch)
		for i := range b.Len() {
			if g, tp, o, ok := parseOffsetRecord(b.Record(i)); ok {
				s.txn.add(b.ProducerID, txnOffset{group: g, tp: tp, o: o})
			}
		}
		return true
	}
	return false
}

func txnCommitAnswer(r *protocol.TxnOffsetCommitRequest, err protocol.ErrorCode) *protocol.TxnOffsetCommitResponse {
	resp := &protocol.TxnOffsetCommitResponse{CorrelationID: r.CorrelationID, Partitions: make([]protocol.OffsetCommitPartitionResponse, len(r.Partitions))}
	for i, p := range r.Partitions {
		resp.Partitions[i] = protocol.OffsetCommitPartitionResponse{TP: p.TP, Error: err}
	}
	return resp
}

// validateTxnOffsetCommit is OffsetMetadataManager.validateTransactionalOffsetCommit:
// ClassicGroup.validateOffsetCommit and ConsumerGroup.validateOffsetCommit with isTransactional
// set. A producer without group metadata (generation -1, no member: a pre-KIP-447 client) is let
// through; otherwise the member must be in the group at its generation (or member epoch:
// ILLEGAL_GENERATION, not STALE_MEMBER_EPOCH, for a transactional commit); the rebalance state
// is not checked.
func (s *shard) validateTxnOffsetCommit(r *protocol.TxnOffsetCommitRequest) protocol.ErrorCode {
	g := s.groups[r.GroupID]
	if g == nil {
		if r.GenerationID >= 0 {
			return protocol.ILLEGAL_GENERATION
		}
		g = s.group(r.GroupID) // a simple group
		g.state = Empty
		return protocol.NONE
	}
	if g.state == Dead {
		return protocol.COORDINATOR_NOT_AVAILABLE
	}
	if r.GenerationID < 0 && r.MemberID == "" && r.GroupInstanceID == "" {
		return protocol.NONE
	}
	if g.modern != nil {
		err := validateConsumerOffsetCommit(g, &protocol.OffsetCommitRequest{GroupID: r.GroupID, GenerationID: r.GenerationID, MemberID: r.MemberID})
		if err == protocol.STALE_MEMBER_EPOCH {
			err = protocol.ILLEGAL_GENERATION
		}
		return err
	}
	if err := g.validateMember(r.MemberID, r.GroupInstanceID); err != protocol.NONE {
		return err
	}
	if r.GenerationID != g.Generation {
		return protocol.ILLEGAL_GENERATION
	}
	return protocol.NONE
}

// handleTxnOffsetCommit is OffsetMetadataManager.commitTransactionalOffset: the offsets are
// written as the producer's transactional records and kept pending until the marker; the
// answer waits for the write to commit.
func (s *shard) handleTxnOffsetCommit(now time.Duration, from int32, r *protocol.TxnOffsetCommitRequest) {
	if err := s.validateTxnOffsetCommit(r); err != protocol.NONE {
		s.c.host.Send(from, txnCommitAnswer(r, err))
		return
	}
	if s.txn.fenced(r.ProducerID, r.ProducerEpoch) {
		s.c.host.Send(from, txnCommitAnswer(r, protocol.INVALID_PRODUCER_EPOCH))
		return
	}
	w, ok := s.c.host.(TxnAppender)
	if !ok {
		s.c.host.Send(from, txnCommitAnswer(r, protocol.UNKNOWN_SERVER_ERROR))
		return
	}
	recs := make([]protocol.Record, 0, len(r.Partitions))
	offs := make([]txnOffset, 0, len(r.Partitions))
	for _, p := range r.Partitions {
		o := Offset{Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, CommitTime: now}
		recs = append(recs, offsetCommitRecord(r.GroupID, p.TP, o))
		offs = append(offs, txnOffset{group: r.GroupID, tp: p.TP, o: o})
	}
	next, err := w.AppendTransactional(s.part, r.ProducerID, r.ProducerEpoch, recs, now)
	if err != protocol.NONE {
		s.c.host.Send(from, txnCommitAnswer(r, mapAppendError(err)))
		return
	}
	s.written = next
	s.txn.sawEpoch(r.ProducerID, r.ProducerEpoch)
	for _, o := range offs {
		if s.c.cfg.ExposePendingTxnOffsets {
			s.storeOffset(o.group, o.tp, o.o) // planted bug: visible before the marker
			continue
		}
		s.txn.add(r.ProducerID, o)
	}
	s.append(now, nil, func(_ time.Duration, err protocol.ErrorCode) {
		s.c.host.Send(from, txnCommitAnswer(r, err))
	})
}

// unstable reports whether one of the partitions r asks for has a pending transactional offset.
func (s *shard) unstable(r *protocol.OffsetFetchRequest) bool {
	return r.RequireStable && slices.ContainsFunc(r.Partitions, func(tp protocol.TopicPartition) bool {
		return s.txn.hasPending(r.GroupID, tp)
	})
}
