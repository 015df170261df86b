package group

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// AppendTransactional writes the producer's batch to the fake log, as the broker's
// CoordinatorPartitionWriter does.
func (h *fakeHost) AppendTransactional(_ int32, pid int64, epoch int16, recs []protocol.Record, _ time.Duration) (int64, protocol.ErrorCode) {
	if !h.lead {
		return -1, protocol.NOT_LEADER_OR_FOLLOWER
	}
	b := &protocol.RecordBatch{BaseOffset: h.log.end(), ProducerID: pid, ProducerEpoch: epoch, BaseSequence: protocol.NoSequence, Transactional: true, Records: recs}
	h.log.batches = append(h.log.batches, b)
	return b.NextOffset(), protocol.NONE
}

// marker writes producer pid's COMMIT or ABORT marker to the fake log and tells the
// coordinator, as handleWriteTxnMarkers does.
func (k *coord) marker(pid int64, committed bool) { k.markerAt(pid, 0, committed) }

func (k *coord) markerAt(pid int64, epoch int16, committed bool) {
	key := protocol.MarkerAbort
	if committed {
		key = protocol.MarkerCommit
	}
	k.h.log.batches = append(k.h.log.batches, &protocol.RecordBatch{BaseOffset: k.h.log.end(), ProducerID: pid, ProducerEpoch: epoch, Control: true,
		Transactional: true, Records: []protocol.Record{{Key: key}}})
	k.c.CompleteTransaction(0, pid, epoch, committed)
	k.commitLog()
}

func txnCommit(member string, gen int32, pid int64, off int64) *protocol.TxnOffsetCommitRequest {
	return &protocol.TxnOffsetCommitRequest{CorrelationID: 11, TransactionalID: "t1", GroupID: "g1", ProducerID: pid, ProducerEpoch: 0,
		GenerationID: gen, MemberID: member, Partitions: []protocol.OffsetCommitPartition{{TP: orders0, Offset: off, LeaderEpoch: 0}}}
}

func (k *coord) txnCommitted(req *protocol.TxnOffsetCommitRequest) protocol.ErrorCode {
	k.t.Helper()
	r := k.request(req)
	if len(r) == 0 {
		n := len(k.h.sent)
		k.commitLog()
		r = k.answers(n)
	}
	if len(r) != 1 {
		k.t.Fatalf("%d answers; want one TxnOffsetCommitResponse", len(r))
	}
	return r[0].(*protocol.TxnOffsetCommitResponse).Partitions[0].Error
}

// fetch asks for g1's committed offset of orders/0, requireStable as the Java consumer does.
func (k *coord) fetch(stable bool) *protocol.OffsetFetchResponse {
	k.t.Helper()
	n := len(k.h.sent)
	k.c.Handle(k.h.now, 100, &protocol.OffsetFetchRequest{CorrelationID: 12, GroupID: "g1", Partitions: []protocol.TopicPartition{orders0}, RequireStable: stable})
	k.commitLog()
	r := k.answers(n)
	if len(r) != 1 {
		k.t.Fatalf("%d answers; want one OffsetFetchResponse", len(r))
	}
	return r[0].(*protocol.OffsetFetchResponse)
}

func fetched(r *protocol.OffsetFetchResponse) int64 {
	if r.Error != protocol.NONE || len(r.Partitions) != 1 {
		return -2
	}
	return r.Partitions[0].Offset
}

// Reference: GroupMetadata.prepareTxnOffsetCommit / completePendingTxnOffsetCommit (Kafka
// 3.x), OffsetMetadataManager.replayEndTransactionMarker (4.x), and KIP-447's requireStable:
// a transactional offset is invisible until its COMMIT marker; meanwhile OffsetFetch with
// requireStable answers UNSTABLE_OFFSET_COMMIT and without it the previous offset.
func TestTxnOffsetCommitVisibleOnlyAfterCommitMarker(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	id := k.stableGroup()
	if err := commitError(t, func() []any { k.request(commitReq(id, 1, 5)); n := len(k.h.sent); k.commitLog(); return k.answers(n) }()); err != protocol.NONE {
		t.Fatalf("plain commit: %v", err)
	}
	if err := k.txnCommitted(txnCommit(id, 1, 7, 20)); err != protocol.NONE {
		t.Fatalf("TxnOffsetCommit: %v; want NONE", err)
	}
	if r := k.fetch(true); r.Error != protocol.UNSTABLE_OFFSET_COMMIT {
		t.Errorf("requireStable fetch while pending: %v; want UNSTABLE_OFFSET_COMMIT", r.Error)
	}
	if got := fetched(k.fetch(false)); got != 5 {
		t.Errorf("fetch without requireStable while pending: %d; want 5 (the pending 20 invisible)", got)
	}
	k.marker(7, true)
	if got := fetched(k.fetch(true)); got != 20 {
		t.Errorf("after the COMMIT marker: %d; want 20", got)
	}
}

// Reference: GroupMetadata.completePendingTxnOffsetCommit with isCommit false: an aborted
// transaction's offsets are dropped, the committed offset stays.
func TestTxnOffsetCommitDiscardedOnAbort(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	id := k.stableGroup()
	if err := k.txnCommitted(txnCommit(id, 1, 7, 20)); err != protocol.NONE {
		t.Fatalf("TxnOffsetCommit: %v", err)
	}
	k.marker(7, false)
	if r := k.fetch(true); r.Error != protocol.NONE || r.Partitions[0].Offset != -1 {
		t.Errorf("after ABORT: %+v; want no committed offset (-1) and no error", r)
	}
	if n := k.c.PendingTxnOffsets("g1"); n != 0 {
		t.Errorf("%d pending offsets after the ABORT marker; want 0", n)
	}
}

// Reference: GroupMetadataManager.loadGroupsAndOffsets (pendingOffsets per producer id, completed
// by the markers in the log): a new coordinator keeps a transaction's offsets pending until
// its marker, and applies markers already written.
func TestTxnOffsetsReplayedOnCoordinatorFailover(t *testing.T) {
	log := &offsetsLog{}
	k := newCoord(t, log, 0)
	id := k.stableGroup()
	k.txnCommitted(txnCommit(id, 1, 7, 20)) // committed below
	k.marker(7, true)
	k.txnCommitted(txnCommit(id, 1, 8, 30)) // aborted below
	k.marker(8, false)
	k.txnCommitted(txnCommit(id, 1, 9, 40)) // still pending at the failover
	k2 := newCoord(t, log, 1)
	if got := fetched(k2.fetch(false)); got != 20 {
		t.Errorf("new coordinator: committed %d; want 20 (30 aborted, 40 pending)", got)
	}
	if r := k2.fetch(true); r.Error != protocol.UNSTABLE_OFFSET_COMMIT {
		t.Errorf("new coordinator, requireStable: %v; want UNSTABLE_OFFSET_COMMIT (producer 9's offset pending)", r.Error)
	}
	k2.marker(9, true)
	if got := fetched(k2.fetch(true)); got != 40 {
		t.Errorf("after producer 9's COMMIT on the new coordinator: %d; want 40", got)
	}
}

// Reference: KIP-447, ClassicGroup.validateOffsetCommit with isTransactional: a TxnOffsetCommit
// carrying the consumer's group metadata is refused when the member is unknown or its
// generation is not the group's (a zombie processor fenced by a rebalance), and accepted from a
// producer that sends none.
func TestTxnOffsetCommitChecksGroupMetadata(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	id := k.stableGroup()
	if err := k.txnCommitted(txnCommit(id, 0, 7, 20)); err != protocol.ILLEGAL_GENERATION {
		t.Errorf("generation 0 in generation 1: %v; want ILLEGAL_GENERATION", err)
	}
	if err := k.txnCommitted(txnCommit("stranger", 1, 7, 20)); err != protocol.UNKNOWN_MEMBER_ID {
		t.Errorf("unknown member: %v; want UNKNOWN_MEMBER_ID", err)
	}
	if n := k.c.PendingTxnOffsets("g1"); n != 0 {
		t.Errorf("%d pending offsets after refused commits; want 0", n)
	}
	if err := k.txnCommitted(txnCommit("", -1, 7, 20)); err != protocol.NONE {
		t.Errorf("without group metadata: %v; want NONE", err)
	}
}

// The planted bug ExposePendingTxnOffsets commits the offsets at once: an abort keeps them.
func TestExposePendingTxnOffsetsBugKeepsAbortedOffsets(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	k.c.cfg.ExposePendingTxnOffsets = true
	id := k.stableGroup()
	k.txnCommitted(txnCommit(id, 1, 7, 20))
	k.marker(7, false)
	if got := fetched(k.fetch(true)); got != 20 {
		t.Errorf("with the bug, after ABORT: %d; want 20 (the aborted offset kept)", got)
	}
}

// Reference: ProducerAppendInfo.checkProducerEpoch on the coordinator's append: once a
// transaction is fenced (its ABORT marker written under a bumped epoch), the zombie's late
// TxnOffsetCommit is INVALID_PRODUCER_EPOCH; it must not wait for, and be committed by, the
// new instance's COMMIT marker.
func TestTxnOffsetCommitFromFencedEpochRefused(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	id := k.stableGroup()
	k.markerAt(7, 1, false) // the fence: producer 7's transaction aborted under epoch 1
	if err := k.txnCommitted(txnCommit(id, 1, 7, 99)); err != protocol.INVALID_PRODUCER_EPOCH {
		t.Errorf("TxnOffsetCommit of epoch 0 after the epoch-1 marker: %v; want INVALID_PRODUCER_EPOCH", err)
	}
	k.markerAt(7, 1, true)
	if got := fetched(k.fetch(true)); got != -1 {
		t.Errorf("committed %d after the new instance's COMMIT; want none (-1): the zombie's offset was refused", got)
	}
}
