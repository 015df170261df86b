package broker

import (
	"testing"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

func markerAnswers(env *sendsEnv) []*protocol.WriteTxnMarkersResponse {
	var out []*protocol.WriteTxnMarkersResponse
	for _, m := range env.sent {
		if r, ok := m.(*protocol.WriteTxnMarkersResponse); ok {
			out = append(out, r)
		}
	}
	return out
}

func followerFetch(corr, offset int64) *protocol.FetchRequest {
	return &protocol.FetchRequest{CorrelationID: corr, ReplicaID: 1, ReplicaEpoch: -1, MaxBytes: 1 << 20, Partitions: []protocol.FetchPartition{{
		TP: protocol.TopicPartition{Topic: "orders", Partition: 0}, FetchOffset: offset, LogStartOffset: 0,
		CurrentLeaderEpoch: 1, LastFetchedEpoch: protocol.UnknownEpoch}}}
}

// KafkaApis.handleWriteTxnMarkersRequest appends the markers with requiredAcks -1: the
// coordinator hears back only once the marker is replicated to the ISR, so it never completes
// a transaction (CompleteCommit) whose marker an election could still drop.
func TestWriteTxnMarkersWaitsForAllReplicas(t *testing.T) {
	b, p, env := leaderAwaitingFollower(t)
	tp := protocol.TopicPartition{Topic: "orders", Partition: 0}
	b.Step(time.Millisecond, testClient, &protocol.WriteTxnMarkersRequest{CorrelationID: 9, ProducerID: 7, ProducerEpoch: 0,
		Committed: true, CoordinatorEpoch: 1, Partitions: []protocol.TopicPartition{tp}})
	if got := markerAnswers(env); len(got) != 0 {
		t.Fatalf("answered %d WriteTxnMarkers before broker 1 fetched the marker; want none", len(got))
	}
	if leo := p.LEO(); leo != 1 {
		t.Fatalf("LEO %d; want 1 (the marker appended)", leo)
	}
	b.Step(2*time.Millisecond, 1, followerFetch(1, 1)) // broker 1 now holds the marker
	got := markerAnswers(env)
	if len(got) != 1 || got[0].CorrelationID != 9 || got[0].Errors[0] != protocol.NONE {
		t.Fatalf("answers %+v; want one NONE for correlation 9 once the HW passed the marker", got)
	}
}

// A marker waiting for acks=all on a leader that loses leadership fails NOT_LEADER_OR_FOLLOWER
// (a retriable error for TransactionMarkerRequestCompletionHandler: the marker goes to the new
// leader).
func TestWriteTxnMarkersFailsWhenLeadershipMoves(t *testing.T) {
	b, p, env := leaderAwaitingFollower(t)
	tp := protocol.TopicPartition{Topic: "orders", Partition: 0}
	b.Step(time.Millisecond, testClient, &protocol.WriteTxnMarkersRequest{CorrelationID: 9, ProducerID: 7, ProducerEpoch: 0,
		Committed: false, CoordinatorEpoch: 1, Partitions: []protocol.TopicPartition{tp}})
	p.failProduces(2*time.Millisecond, protocol.NOT_LEADER_OR_FOLLOWER)
	got := markerAnswers(env)
	if len(got) != 1 || got[0].Errors[0] != protocol.NOT_LEADER_OR_FOLLOWER {
		t.Fatalf("answers %+v; want one NOT_LEADER_OR_FOLLOWER", got)
	}
}

// ProducerAppendInfo.checkCoordinatorEpoch: a late marker from a coordinator older than the one
// that wrote the producer's last marker is TRANSACTION_COORDINATOR_FENCED; a late duplicate
// from the same coordinator is appended and changes nothing (no transaction is open).
func TestLateMarkerFromOldCoordinatorIsFenced(t *testing.T) {
	b, _, env := leaderAwaitingFollower(t)
	tp := protocol.TopicPartition{Topic: "orders", Partition: 0}
	send := func(now time.Duration, corr int64, coordEpoch int32) {
		b.Step(now, testClient, &protocol.WriteTxnMarkersRequest{CorrelationID: corr, ProducerID: 7, ProducerEpoch: 0,
			Committed: true, CoordinatorEpoch: coordEpoch, Partitions: []protocol.TopicPartition{tp}})
		b.Step(now+time.Millisecond, 1, followerFetch(corr, b.parts[tp].LEO()))
	}
	send(time.Millisecond, 1, 5)
	send(10*time.Millisecond, 2, 5) // the duplicate: appended, harmless
	send(20*time.Millisecond, 3, 4) // a zombie coordinator's
	got := markerAnswers(env)
	if len(got) != 3 {
		t.Fatalf("%d answers; want 3", len(got))
	}
	want := []protocol.ErrorCode{protocol.NONE, protocol.NONE, protocol.TRANSACTION_COORDINATOR_FENCED}
	for i, r := range got {
		if r.Errors[0] != want[i] {
			t.Errorf("marker %d: got %v; want %v", r.CorrelationID, r.Errors[0], want[i])
		}
	}
	if lso := b.parts[tp].LastStableOffset(); lso != b.parts[tp].HW() {
		t.Errorf("LSO %d; want the HW %d: no transaction is open", lso, b.parts[tp].HW())
	}
}

func txnProduce(corr int64, epoch int16, seq int32) *protocol.ProduceRequest {
	batch := &protocol.RecordBatch{ProducerID: 7, ProducerEpoch: epoch, BaseSequence: seq, Transactional: true, Records: []protocol.Record{{Value: int64(seq)}}}
	return &protocol.ProduceRequest{CorrelationID: corr, Acks: protocol.AcksAll, Timeout: 30 * time.Second, TransactionalID: "payer", TransactionVersion: 2,
		Partitions: []protocol.ProducePartition{{TP: protocol.TopicPartition{Topic: "orders", Partition: 0}, Batch: batch}}}
}

func addRequests(env *sendsEnv) []*protocol.AddPartitionsToTxnRequest {
	var out []*protocol.AddPartitionsToTxnRequest
	for _, m := range env.sent {
		if r, ok := m.(*protocol.AddPartitionsToTxnRequest); ok {
			out = append(out, r)
		}
	}
	return out
}

// KIP-890 (transaction.version 2): the leader adds the partition to the producer's transaction
// itself (AddPartitionsToTxn from the broker) before it appends the transaction's first batch
// there; nothing is appended until the coordinator says yes. A produce the coordinator refuses
// (its epoch is older: the producer aborted since) is never appended and fails
// INVALID_PRODUCER_EPOCH, so it cannot open a transaction nobody closes (KAFKA-14402).
func TestLeaderAddsPartitionToTransactionBeforeAppend(t *testing.T) {
	for _, c := range []struct {
		answer  protocol.ErrorCode
		wantLEO int64
		wantErr protocol.ErrorCode
	}{
		{protocol.NONE, 1, protocol.NONE},
		{protocol.PRODUCER_FENCED, 0, protocol.INVALID_PRODUCER_EPOCH},
	} {
		b, p, env := leaderAwaitingFollower(t)
		coordinatorOn(b, 2)
		b.Step(time.Millisecond, testClient, txnProduce(1, 0, 0))
		adds := addRequests(env)
		if len(adds) != 1 || !adds[0].FromBroker || adds[0].ProducerEpoch != 0 {
			t.Fatalf("AddPartitionsToTxn sent %+v; want one from the broker with epoch 0", adds)
		}
		if leo := p.LEO(); leo != 0 {
			t.Fatalf("LEO %d before the coordinator answered; want 0", leo)
		}
		b.Step(2*time.Millisecond, 0, &protocol.AddPartitionsToTxnResponse{CorrelationID: adds[0].CorrelationID, Error: c.answer})
		b.Step(3*time.Millisecond, 1, followerFetch(1, p.LEO()))
		if leo := p.LEO(); leo != c.wantLEO {
			t.Errorf("coordinator answered %v: LEO %d; want %d", c.answer, leo, c.wantLEO)
		}
		_, errs := env.answered()
		if len(errs) != 1 || errs[0] != c.wantErr {
			t.Errorf("coordinator answered %v: produce answers %v; want [%v]", c.answer, errs, c.wantErr)
		}
	}
}

// Reference: KIP-1228 (WriteTxnMarkers v2 carries the transaction version), KAFKA-19999.
// Producer 7 ends transaction A on orders/0; the coordinator's marker for A is held up, sent
// again (its answer was lost) and written; then the producer opens transaction B there; then
// the first copy of A's COMMIT marker lands. With transaction.version 1 the marker carries the
// epoch of A's batches, which B's batches share, so the leader takes it: B is ended by a commit
// nobody decided, its record becomes readable under read_committed, and B's own ABORT, when it
// comes, finds no transaction open: the aborted record stays visible (Jepsen's G1a). With
// transaction.version 2 every marker carries the epoch the coordinator bumped, which B's batches
// then use: the late copy's epoch is not above B's, and the leader refuses it
// INVALID_PRODUCER_EPOCH (ProducerAppendInfo.checkProducerEpoch); B stays open, its ABORT (one
// epoch higher again) puts it in the aborted index. The same marker sent again with no
// transaction open is a retry and is written as before (KAFKA-19999).
func TestLateMarkerEndsTheNextTransactionUnlessTransactionVersion2(t *testing.T) {
	tp := protocol.TopicPartition{Topic: "orders", Partition: 0}
	for _, tv := range []int8{1, 2} {
		b, p, env := leaderAwaitingFollower(t)
		now := time.Millisecond
		step := func(from int32, msg any) {
			now += time.Millisecond
			b.Step(now, from, msg)
			b.Step(now, 1, followerFetch(now.Microseconds(), p.LEO())) // the follower keeps up
		}
		produce := func(corr int64, epoch int16) {
			req := txnProduce(corr, epoch, 0)
			req.TransactionVersion = 1 // appended at once: this test is about the markers
			step(testClient, req)
		}
		var corr int64 = 100
		marker := func(epoch int16, committed bool) protocol.ErrorCode {
			corr++
			step(testClient, &protocol.WriteTxnMarkersRequest{CorrelationID: corr, ProducerID: 7, ProducerEpoch: epoch,
				Committed: committed, CoordinatorEpoch: 1, Partitions: []protocol.TopicPartition{tp}, TransactionVersion: tv})
			for _, r := range markerAnswers(env) {
				if r.CorrelationID == corr {
					return r.Errors[0]
				}
			}
			t.Fatalf("TV%d: marker %d not answered", tv, corr)
			return 0
		}
		// The epochs: TV1 keeps 0 throughout; TV2 bumps at every end (A's marker 1, B's
		// batches 1, B's marker 2).
		aEpoch, bEpoch, bEnd := int16(0), int16(0), int16(0)
		if tv == 2 {
			aEpoch, bEpoch, bEnd = 1, 1, 2
		}
		produce(1, 0) // transaction A: offset 0
		if got := marker(aEpoch, true); got != protocol.NONE {
			t.Fatalf("TV%d: A's COMMIT: got %v; want NONE", tv, got)
		}
		if got := marker(aEpoch, true); got != protocol.NONE {
			t.Fatalf("TV%d: A's COMMIT sent again with no transaction open: got %v; want NONE (a retry)", tv, got)
		}
		produce(2, bEpoch) // transaction B
		bFirst := p.LEO() - 1
		late := marker(aEpoch, true) // A's first copy, late
		lsoAfterLate := p.LastStableOffset()
		if got := marker(bEnd, false); got != protocol.NONE {
			t.Fatalf("TV%d: B's ABORT: got %v; want NONE", tv, got)
		}
		aborted := p.log.AbortedTransactions(0, p.HW())
		bAborted := len(aborted) == 1 && aborted[0].FirstOffset == bFirst
		switch tv {
		case 1:
			if late != protocol.NONE || lsoAfterLate <= bFirst || bAborted {
				t.Errorf("TV1: the late marker got %v, LSO after it %d (B starts at %d), B in the aborted index %v; want it taken (NONE), the LSO past B, B not aborted: the harm KIP-1228 closes",
					late, lsoAfterLate, bFirst, bAborted)
			}
		case 2:
			if late != protocol.INVALID_PRODUCER_EPOCH || lsoAfterLate != bFirst || !bAborted {
				t.Errorf("TV2: the late marker got %v, LSO after it %d, B in the aborted index %v; want INVALID_PRODUCER_EPOCH, the LSO held at B's first offset %d, B aborted",
					late, lsoAfterLate, bAborted, bFirst)
			}
		}
	}
}

// coordinatorOn gives b a __transaction_state whose every partition broker id leads: every
// transactional id's coordinator (payer's in these tests).
func coordinatorOn(b *Broker, id int32) {
	ts := &metadata.Topic{Name: protocol.TransactionStateTopic}
	for i := range b.cfg.TransactionStateLogNumPartitions {
		ts.Partitions = append(ts.Partitions, &metadata.Partition{Topic: ts.Name, Index: int32(i), Leader: id, Replicas: []int32{id}, ISR: []int32{id}})
	}
	b.image.Topics[ts.Name] = ts
}
