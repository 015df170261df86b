package txn

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// fakeBroker is the coordinator's host: one log per __transaction_state partition, whose HW
// the test moves; messages sent and timers set are collected.
type fakeBroker struct {
	logs   map[int32][]*protocol.RecordBatch
	next   int64
	sent   []sentMsg
	timers []Timer
	moved  map[int32]int32 // partition -> its leader, when not 10+partition
}

type sentMsg struct {
	to  int32
	msg any
}

func (f *fakeBroker) Append(part int32, recs []protocol.Record, now time.Duration) (int64, protocol.ErrorCode) {
	ls := f.logs[part]
	base := int64(0)
	if len(ls) > 0 {
		base = ls[len(ls)-1].NextOffset()
	}
	f.logs[part] = append(ls, &protocol.RecordBatch{BaseOffset: base, Records: recs})
	return base + int64(len(recs)), protocol.NONE
}
func (f *fakeBroker) Batches(part int32) []*protocol.RecordBatch { return f.logs[part] }

// Leader: partition p of any topic is led by broker 10+p.
func (f *fakeBroker) Leader(tp protocol.TopicPartition) int32 {
	if l, ok := f.moved[tp.Partition]; ok {
		return l
	}
	return 10 + tp.Partition
}
func (f *fakeBroker) NextProducerID(time.Duration) (int64, bool) {
	f.next++
	return 1000 + f.next, true
}
func (f *fakeBroker) Send(to int32, msg any)       { f.sent = append(f.sent, sentMsg{to, msg}) }
func (f *fakeBroker) After(_ time.Duration, p any) { f.timers = append(f.timers, p.(Timer)) }
func (f *fakeBroker) Observe(any)                  {}

const (
	testID      = "payer"
	testTimeout = 10 * time.Second
)

// newCoordinator leads every __transaction_state partition and has loaded them.
func newCoordinator(t *testing.T) (*Coordinator, *fakeBroker) {
	f := &fakeBroker{logs: map[int32][]*protocol.RecordBatch{}}
	c := New(Config{Partitions: 1, MaxTimeout: 15 * time.Minute, AbortInterval: 10 * time.Second,
		LoadTime: time.Millisecond, MarkerRetry: 100 * time.Millisecond, WriteTimeout: 30 * time.Second}, f)
	c.Leadership(0, 0, 1)
	c.OnTimer(0, f.timers[0])
	return c, f
}

// replicate moves the HW of partition 0 to its end: the pending writes complete.
func (f *fakeBroker) replicate(c *Coordinator, now time.Duration) {
	ls := f.logs[0]
	if len(ls) > 0 {
		c.HighWatermark(now, 0, ls[len(ls)-1].NextOffset())
	}
}

// take returns the messages sent since the last take.
func (f *fakeBroker) take() []sentMsg {
	s := f.sent
	f.sent = nil
	return s
}

func initPid(t *testing.T, c *Coordinator, f *fakeBroker, now time.Duration) *protocol.InitProducerIdResponse {
	t.Helper()
	c.Handle(now, 1, &protocol.InitProducerIdRequest{CorrelationID: 1, TransactionalID: testID, ProducerID: protocol.NoProducerID, ProducerEpoch: -1, TransactionTimeout: testTimeout})
	f.replicate(c, now)
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.InitProducerIdResponse); ok {
			return r
		}
	}
	t.Fatal("no InitProducerIdResponse")
	return nil
}

func tps(parts ...int32) []protocol.TopicPartition {
	var out []protocol.TopicPartition
	for _, p := range parts {
		out = append(out, protocol.TopicPartition{Topic: "payments", Partition: p})
	}
	return out
}

// TransactionCoordinator.handleInitProducerId: a second InitProducerId of the same
// transactional id bumps the epoch; the first producer's requests then fail PRODUCER_FENCED.
func TestInitProducerIdFencesPreviousProducer(t *testing.T) {
	c, f := newCoordinator(t)
	first := initPid(t, c, f, time.Second)
	second := initPid(t, c, f, 2*time.Second)
	if first.Error != protocol.NONE || second.Error != protocol.NONE {
		t.Fatalf("InitProducerId: %v, %v", first.Error, second.Error)
	}
	if second.ProducerID != first.ProducerID || second.ProducerEpoch != first.ProducerEpoch+1 {
		t.Fatalf("second InitProducerId: pid %d epoch %d; want pid %d epoch %d", second.ProducerID, second.ProducerEpoch, first.ProducerID, first.ProducerEpoch+1)
	}
	c.Handle(3*time.Second, 1, &protocol.AddPartitionsToTxnRequest{CorrelationID: 2, TransactionalID: testID, ProducerID: first.ProducerID, ProducerEpoch: first.ProducerEpoch, Partitions: tps(0)})
	f.replicate(c, 3*time.Second)
	sent := f.take()
	if len(sent) != 1 {
		t.Fatalf("sent %+v; want one answer", sent)
	}
	if r, ok := sent[0].msg.(*protocol.AddPartitionsToTxnResponse); !ok || r.Error != protocol.PRODUCER_FENCED {
		t.Errorf("the fenced producer's AddPartitionsToTxn: %+v; want PRODUCER_FENCED", sent[0].msg)
	}
}

// begin opens a transaction on partitions parts; it returns the producer.
func begin(t *testing.T, c *Coordinator, f *fakeBroker, now time.Duration, parts ...int32) *protocol.InitProducerIdResponse {
	t.Helper()
	p := initPid(t, c, f, now)
	c.Handle(now, 1, &protocol.AddPartitionsToTxnRequest{CorrelationID: 2, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Partitions: tps(parts...)})
	f.replicate(c, now)
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.AddPartitionsToTxnResponse); !ok || r.Error != protocol.NONE {
			t.Fatalf("AddPartitionsToTxn: %+v", m.msg)
		}
	}
	return p
}

// markers collects the WriteTxnMarkers requests sent, by partition.
func markers(sent []sentMsg) map[int32]*protocol.WriteTxnMarkersRequest {
	out := map[int32]*protocol.WriteTxnMarkersRequest{}
	for _, m := range sent {
		if r, ok := m.msg.(*protocol.WriteTxnMarkersRequest); ok {
			for _, tp := range r.Partitions {
				if m.to != 10+tp.Partition {
					panic("marker sent to a broker that does not lead the partition")
				}
				out[tp.Partition] = r
			}
		}
	}
	return out
}

// TransactionMarkerChannelManager: EndTxn has the coordinator write a marker (COMMIT here)
// into every partition the transaction added, each to its leader; once all are written the
// transaction is CompleteCommit.
func TestEndTxnWritesMarkersToEveryPartition(t *testing.T) {
	c, f := newCoordinator(t)
	p := begin(t, c, f, time.Second, 0, 1, 2)
	c.Handle(2*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true})
	f.replicate(c, 2*time.Second)
	sent := f.take()
	ms := markers(sent)
	if len(ms) != 3 {
		t.Fatalf("markers for partitions %v; want 0, 1 and 2 (sent %+v)", ms, sent)
	}
	for part, r := range ms {
		if !r.Committed || r.ProducerID != p.ProducerID || r.ProducerEpoch != p.ProducerEpoch {
			t.Errorf("partition %d's marker %+v; want COMMIT for pid %d epoch %d", part, r, p.ProducerID, p.ProducerEpoch)
		}
	}
	if m := c.Transaction(testID); m.State != PrepareCommit {
		t.Errorf("before the markers are written: %s; want PrepareCommit", m.State)
	}
	answered := map[int64]bool{}
	for _, r := range ms {
		if !answered[r.CorrelationID] {
			answered[r.CorrelationID] = true
			c.Handle(3*time.Second, r.Partitions[0].Partition+10, &protocol.WriteTxnMarkersResponse{CorrelationID: r.CorrelationID, ProducerID: r.ProducerID, Errors: make([]protocol.ErrorCode, len(r.Partitions))})
		}
	}
	f.replicate(c, 3*time.Second)
	if m := c.Transaction(testID); m.State != CompleteCommit {
		t.Errorf("after every marker: %s; want CompleteCommit", m.State)
	}
}

// TransactionCoordinator.abortTimedOutTransactions: a transaction open longer than its
// transaction.timeout.ms is aborted by the coordinator (ABORT markers), and its producer is
// fenced by the bumped epoch.
func TestTransactionTimeoutAborts(t *testing.T) {
	c, f := newCoordinator(t)
	p := begin(t, c, f, time.Second, 0, 1)
	var abort Timer
	for _, tm := range f.timers {
		if tm.Kind == timerAbortExpired {
			abort = tm
		}
	}
	if abort.Kind == 0 {
		t.Fatalf("no abort-timed-out timer among %+v", f.timers)
	}
	c.OnTimer(time.Second+testTimeout/2, abort)
	f.replicate(c, time.Second+testTimeout/2)
	if m := c.Transaction(testID); m.State != Ongoing {
		t.Fatalf("before the timeout: %s; want Ongoing", m.State)
	}
	now := time.Second + testTimeout + time.Millisecond
	c.OnTimer(now, abort)
	f.replicate(c, now)
	ms := markers(f.take())
	if len(ms) != 2 || ms[0].Committed || ms[1].Committed {
		t.Fatalf("markers %+v; want ABORT to partitions 0 and 1", ms)
	}
	if ms[0].ProducerEpoch <= p.ProducerEpoch {
		t.Errorf("abort marker epoch %d; want above the producer's %d (fenced)", ms[0].ProducerEpoch, p.ProducerEpoch)
	}
	c.Handle(now, 1, &protocol.EndTxnRequest{CorrelationID: 9, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true})
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.EndTxnResponse); !ok || r.Error != protocol.PRODUCER_FENCED {
			t.Errorf("the timed-out producer's commit: %+v; want PRODUCER_FENCED", m.msg)
		}
	}
}

// TransactionMarkerRequestCompletionHandler: a retriable error (NOT_ENOUGH_REPLICAS here: the
// leader would not append the marker below min.insync.replicas) keeps the transaction in
// PrepareCommit and the marker is sent again on the next round; a late duplicate answer to the
// first request changes nothing once the transaction is complete.
func TestMarkerRetriedAfterRetriableError(t *testing.T) {
	c, f := newCoordinator(t)
	p := begin(t, c, f, time.Second, 0)
	c.Handle(2*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true})
	f.replicate(c, 2*time.Second)
	first := markers(f.take())[0]
	c.Handle(2100*time.Millisecond, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: first.CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NOT_ENOUGH_REPLICAS}})
	if m := c.Transaction(testID); m.State != PrepareCommit {
		t.Fatalf("after NOT_ENOUGH_REPLICAS: %s; want PrepareCommit", m.State)
	}
	var retry Timer
	for _, tm := range f.timers {
		if tm.Kind == timerMarkers {
			retry = tm
		}
	}
	c.OnTimer(2200*time.Millisecond, retry)
	again := markers(f.take())[0]
	if again == nil || again.CorrelationID == first.CorrelationID {
		t.Fatalf("no marker sent again after the retriable error")
	}
	c.Handle(2300*time.Millisecond, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: again.CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	f.replicate(c, 2300*time.Millisecond)
	if m := c.Transaction(testID); m.State != CompleteCommit {
		t.Fatalf("after the marker: %s; want CompleteCommit", m.State)
	}
	c.Handle(2400*time.Millisecond, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: first.CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	f.replicate(c, 2400*time.Millisecond)
	if m := c.Transaction(testID); m.State != CompleteCommit {
		t.Fatalf("after a late duplicate answer: %s; want CompleteCommit", m.State)
	}
}

// TransactionMarkerRequestCompletionHandler: INVALID_PRODUCER_EPOCH (a newer epoch of the
// producer wrote to the partition) cancels the transaction's markers (removeMarkersForTxn):
// nothing is sent again.
func TestMarkerCancelledOnInvalidProducerEpoch(t *testing.T) {
	c, f := newCoordinator(t)
	p := begin(t, c, f, time.Second, 0)
	c.Handle(2*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: false})
	f.replicate(c, 2*time.Second)
	first := markers(f.take())[0]
	c.Handle(2100*time.Millisecond, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: first.CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.INVALID_PRODUCER_EPOCH}})
	for _, tm := range f.timers {
		if tm.Kind == timerMarkers {
			c.OnTimer(2200*time.Millisecond, tm)
		}
	}
	if ms := markers(f.take()); len(ms) != 0 {
		t.Fatalf("markers sent again after INVALID_PRODUCER_EPOCH: %+v", ms)
	}
}

// KIP-890 (transaction.version 2): EndTxn bumps the producer epoch at the prepare step; the
// markers carry the new epoch and the answer hands it to the producer. A retry of the same
// EndTxn, sent with the old epoch after the answer was lost, is answered with the new one.
func TestEndTxnBumpsEpochWithTransactionVersion2(t *testing.T) {
	c, f := newCoordinator(t)
	p := initPid(t, c, f, time.Second)
	c.Handle(time.Second, 5, &protocol.AddPartitionsToTxnRequest{CorrelationID: 2, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Partitions: tps(0), FromBroker: true})
	f.replicate(c, time.Second)
	f.take()
	end := &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true, TransactionVersion: 2}
	c.Handle(2*time.Second, 1, end)
	f.replicate(c, 2*time.Second)
	sent := f.take()
	var resp *protocol.EndTxnResponse
	for _, m := range sent {
		if r, ok := m.msg.(*protocol.EndTxnResponse); ok {
			resp = r
		}
	}
	if resp == nil || resp.Error != protocol.NONE || resp.ProducerEpoch != p.ProducerEpoch+1 {
		t.Fatalf("EndTxn answer %+v; want NONE with epoch %d", resp, p.ProducerEpoch+1)
	}
	if mk := markers(sent)[0]; mk == nil || mk.ProducerEpoch != p.ProducerEpoch+1 {
		t.Fatalf("marker %+v; want the bumped epoch %d", mk, p.ProducerEpoch+1)
	}
	c.Handle(3*time.Second, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: markers(sent)[0].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	f.replicate(c, 3*time.Second)
	c.Handle(4*time.Second, 1, end) // the retry, with the old epoch
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.EndTxnResponse); !ok || r.Error != protocol.NONE || r.ProducerEpoch != p.ProducerEpoch+1 {
			t.Errorf("EndTxn retry: %+v; want NONE with epoch %d", m.msg, p.ProducerEpoch+1)
		}
	}
	// A produce of the ended transaction arriving late: its leader's AddPartitionsToTxn has
	// the old epoch and is refused.
	c.Handle(5*time.Second, 5, &protocol.AddPartitionsToTxnRequest{CorrelationID: 4, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Partitions: tps(1), FromBroker: true})
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.AddPartitionsToTxnResponse); !ok || r.Error != protocol.PRODUCER_FENCED {
			t.Errorf("a late produce's AddPartitionsToTxn: %+v; want PRODUCER_FENCED", m.msg)
		}
	}
}

// transaction.version 1 keeps the epoch across transactions: EndTxn answers with the same one.
func TestEndTxnKeepsEpochWithTransactionVersion1(t *testing.T) {
	c, f := newCoordinator(t)
	p := begin(t, c, f, time.Second, 0)
	c.Handle(2*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: false, TransactionVersion: 1})
	f.replicate(c, 2*time.Second)
	sent := f.take()
	if mk := markers(sent)[0]; mk == nil || mk.ProducerEpoch != p.ProducerEpoch {
		t.Fatalf("marker %+v; want epoch %d", mk, p.ProducerEpoch)
	}
}

// KIP-588: a producer re-initializing with its producer id and epoch may bump from the epoch
// its own timed-out transaction left (lastProducerEpoch); a zombie whose epoch a newer instance
// of the transactional id moved past is told PRODUCER_FENCED.
func TestInitProducerIdWithEpochFencesZombie(t *testing.T) {
	c, f := newCoordinator(t)
	old := begin(t, c, f, time.Second, 0)
	reinit := func(now time.Duration, epoch int16) *protocol.InitProducerIdResponse {
		c.Handle(now, 1, &protocol.InitProducerIdRequest{CorrelationID: 7, TransactionalID: testID, ProducerID: old.ProducerID, ProducerEpoch: epoch, TransactionTimeout: testTimeout})
		f.replicate(c, now)
		for _, m := range f.take() {
			if r, ok := m.msg.(*protocol.InitProducerIdResponse); ok {
				return r
			}
		}
		return nil
	}
	// A new instance (no producer id) fences the ongoing transaction, then gets its epoch.
	c.Handle(2*time.Second, 2, &protocol.InitProducerIdRequest{CorrelationID: 8, TransactionalID: testID, ProducerID: protocol.NoProducerID, ProducerEpoch: -1, TransactionTimeout: testTimeout})
	f.replicate(c, 2*time.Second)
	for _, mk := range markers(f.take()) {
		c.Handle(2*time.Second, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: mk.CorrelationID, ProducerID: mk.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	}
	f.replicate(c, 2*time.Second)
	if second := initPid(t, c, f, 3*time.Second); second.Error != protocol.NONE || second.ProducerEpoch != old.ProducerEpoch+2 {
		t.Fatalf("the new instance: %+v; want epoch %d", second, old.ProducerEpoch+2)
	}
	if r := reinit(4*time.Second, old.ProducerEpoch); r == nil || r.Error != protocol.PRODUCER_FENCED {
		t.Fatalf("the zombie's InitProducerId with its old epoch: %+v; want PRODUCER_FENCED", r)
	}
	// The current instance re-initializing from its own epoch is bumped.
	cur := c.Transaction(testID).Epoch
	if r := reinit(5*time.Second, cur); r == nil || r.Error != protocol.NONE || r.ProducerEpoch != cur+1 {
		t.Fatalf("re-initializing from the current epoch: %+v; want epoch %d", r, cur+1)
	}
}

// endTxnV2 sends an EndTxn with transaction.version 2 and returns its answer.
func endTxnV2(t *testing.T, c *Coordinator, f *fakeBroker, now time.Duration, pid int64, epoch int16, commit bool) *protocol.EndTxnResponse {
	t.Helper()
	c.Handle(now, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: pid, ProducerEpoch: epoch, Committed: commit, TransactionVersion: 2})
	f.replicate(c, now) // the Prepare state
	f.replicate(c, now) // the Complete state: no partition, no marker
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.EndTxnResponse); ok {
			return r
		}
	}
	t.Fatal("no EndTxnResponse")
	return nil
}

// TransactionCoordinator.endTransaction with transaction.version 2: two aborts in a row of
// transactions no leader added a partition to (their produces held up on the way) each bump
// the epoch. The second arrives in CompleteAbort with the current epoch: that is the next
// transaction's abort, not a retry (a retry carries the epoch before the bump). Answered as a
// retry it kept the epoch, and the held-up produce of the second transaction, landing later,
// passed its leader's verification and opened a transaction the producer's next one joined.
func TestEndTxnV2SecondEmptyAbortBumpsEpoch(t *testing.T) {
	c, f := newCoordinator(t)
	p := initPid(t, c, f, time.Second)
	first := endTxnV2(t, c, f, 2*time.Second, p.ProducerID, p.ProducerEpoch, false)
	if first.Error != protocol.NONE || first.ProducerEpoch != p.ProducerEpoch+1 {
		t.Fatalf("first abort: %+v; want NONE with epoch %d", first, p.ProducerEpoch+1)
	}
	second := endTxnV2(t, c, f, 3*time.Second, p.ProducerID, first.ProducerEpoch, false)
	if second.Error != protocol.NONE || second.ProducerEpoch != first.ProducerEpoch+1 {
		t.Fatalf("second abort: %+v; want NONE with epoch %d", second, first.ProducerEpoch+1)
	}
	// The second transaction's produce lands: its leader's AddPartitionsToTxn carries the
	// epoch the second abort moved past.
	c.Handle(4*time.Second, 5, &protocol.AddPartitionsToTxnRequest{CorrelationID: 4, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: first.ProducerEpoch, Partitions: tps(0), FromBroker: true})
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.AddPartitionsToTxnResponse); !ok || r.Error != protocol.PRODUCER_FENCED {
			t.Errorf("the late produce's AddPartitionsToTxn: %+v; want PRODUCER_FENCED", m.msg)
		}
	}
	// A retry of the second abort (the epoch before its bump) is still answered as one.
	if r := endTxnV2(t, c, f, 5*time.Second, p.ProducerID, first.ProducerEpoch, false); r.Error != protocol.NONE || r.ProducerEpoch != second.ProducerEpoch {
		t.Errorf("retry of the second abort: %+v; want NONE with epoch %d", r, second.ProducerEpoch)
	}
}

// TransactionCoordinator.endTransaction with transaction.version 2: a commit with the current
// epoch in CompleteCommit is not a retry (a retry carries the epoch before the bump) but the
// commit of a transaction this coordinator does not know: a stale coordinator, whose
// __transaction_state partition has a new leader holding the transaction Ongoing. Answered
// NONE as a retry, the producer believed its transaction committed while the new coordinator
// aborted it at transaction.timeout.ms (read_committed consumers then skipped records the
// producer had seen committed).
func TestEndTxnV2CommitWithCurrentEpochInCompleteCommitIsNoRetry(t *testing.T) {
	c, f := newCoordinator(t)
	p := initPid(t, c, f, time.Second)
	c.Handle(time.Second, 5, &protocol.AddPartitionsToTxnRequest{CorrelationID: 2, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Partitions: tps(0), FromBroker: true})
	f.replicate(c, time.Second)
	f.take()
	c.Handle(2*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true, TransactionVersion: 2})
	f.replicate(c, 2*time.Second)
	sent := f.take()
	var commit *protocol.EndTxnResponse
	for _, m := range sent {
		if r, ok := m.msg.(*protocol.EndTxnResponse); ok {
			commit = r
		}
	}
	if commit == nil || commit.Error != protocol.NONE || commit.ProducerEpoch != p.ProducerEpoch+1 {
		t.Fatalf("commit: %+v; want NONE with epoch %d", commit, p.ProducerEpoch+1)
	}
	// The markers are written: the transaction completes.
	c.Handle(3*time.Second, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: markers(sent)[0].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	f.replicate(c, 3*time.Second)
	f.take()
	// The producer's next transaction, committed at this (stale) coordinator.
	if r := endTxnV2(t, c, f, 4*time.Second, p.ProducerID, commit.ProducerEpoch, true); r.Error != protocol.INVALID_TXN_STATE {
		t.Errorf("commit of an unknown transaction with the current epoch: %+v; want INVALID_TXN_STATE", r)
	}
	// The retry of the first commit (the epoch before the bump) is still answered NONE.
	if r := endTxnV2(t, c, f, 5*time.Second, p.ProducerID, p.ProducerEpoch, true); r.Error != protocol.NONE || r.ProducerEpoch != commit.ProducerEpoch {
		t.Errorf("retry of the commit: %+v; want NONE with epoch %d", r, commit.ProducerEpoch)
	}
}

// TransactionCoordinator.endTransaction with transaction.version 2 checks the epoch before a
// pending transition: a retry of EndTxn (the epoch before the bump) that arrives while the
// coordinator is writing CompleteCommit (here after the markers; in a run, a new coordinator
// finishing the transaction it loaded in PrepareCommit) is answered CONCURRENT_TRANSACTIONS,
// and once CompleteCommit is written, NONE with the bumped epoch. Answered PRODUCER_FENCED
// (the epoch check of a request with no pending transition), the producer took its committed
// transaction for lost and reported its sends failed while read_committed consumers read them
// (a G1a in txn-safe under a nemesis, seed 316).
func TestEndTxnV2RetryDuringPendingCompleteIsConcurrentTransactions(t *testing.T) {
	c, f := newCoordinator(t)
	p := initPid(t, c, f, time.Second)
	c.Handle(time.Second, 5, &protocol.AddPartitionsToTxnRequest{CorrelationID: 2, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Partitions: tps(0), FromBroker: true})
	f.replicate(c, time.Second)
	f.take()
	end := &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true, TransactionVersion: 2}
	c.Handle(2*time.Second, 1, end)
	f.replicate(c, 2*time.Second)
	sent := f.take()
	// The markers are written; CompleteCommit is appended but not yet replicated.
	c.Handle(3*time.Second, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: markers(sent)[0].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	answer := func(now time.Duration, r *protocol.EndTxnRequest) *protocol.EndTxnResponse {
		t.Helper()
		c.Handle(now, 1, r)
		for _, m := range f.take() {
			if r, ok := m.msg.(*protocol.EndTxnResponse); ok {
				return r
			}
		}
		t.Fatal("no EndTxnResponse")
		return nil
	}
	if r := answer(4*time.Second, end); r.Error != protocol.CONCURRENT_TRANSACTIONS {
		t.Fatalf("retry while CompleteCommit is written: %+v; want CONCURRENT_TRANSACTIONS", r)
	}
	// A retry of the other outcome is an invalid transition, not a fence.
	abort := *end
	abort.Committed = false
	f.replicate(c, 5*time.Second)
	if r := answer(5*time.Second, &abort); r.Error != protocol.INVALID_TXN_STATE {
		t.Errorf("abort retried in CompleteCommit: %+v; want INVALID_TXN_STATE", r)
	}
	if r := answer(6*time.Second, end); r.Error != protocol.NONE || r.ProducerEpoch != p.ProducerEpoch+1 {
		t.Errorf("retry once CompleteCommit is written: %+v; want NONE with epoch %d", r, p.ProducerEpoch+1)
	}
}

// sentMarkers returns the WriteTxnMarkers requests sent since the last take, by destination.
func sentMarkers(f *fakeBroker) map[int32]*protocol.WriteTxnMarkersRequest {
	out := map[int32]*protocol.WriteTxnMarkersRequest{}
	for _, m := range f.take() {
		if r, ok := m.msg.(*protocol.WriteTxnMarkersRequest); ok {
			out[m.to] = r
		}
	}
	return out
}

// TransactionMarkerRequestCompletionHandler.onComplete with wasDisconnected: a WriteTxnMarkers
// whose connection broke (its leader died) is re-enqueued at once to the leader the metadata
// names now (TransactionMarkerChannelManager.addTxnMarkersToBrokerQueue), not after the
// inter-broker request.timeout.ms; a partition whose leader is still the dead broker waits for
// the marker timer (the reconnect back-off) and goes again then; a request to another broker
// stays in flight.
func TestWriteTxnMarkersRequeuedOnDisconnect(t *testing.T) {
	c, f := newCoordinator(t)
	p := begin(t, c, f, time.Second, 0, 1, 2)
	c.Handle(2*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true})
	f.replicate(c, 2*time.Second)
	first := sentMarkers(f)
	if len(first) != 3 {
		t.Fatalf("markers to %v; want brokers 10, 11, 12", first)
	}
	// Broker 10 dies; the metadata already names 13 the leader of partition 0. Broker 11 dies
	// too, still the leader of partition 1.
	f.moved = map[int32]int32{0: 13}
	c.Disconnected(2100*time.Millisecond, 10)
	c.Disconnected(2100*time.Millisecond, 11)
	again := sentMarkers(f)
	if r := again[13]; len(again) != 1 || r == nil || len(r.Partitions) != 1 || r.Partitions[0].Partition != 0 || !r.Committed {
		t.Fatalf("after the disconnects, markers to %v; want partition 0's COMMIT to its new leader 13 at once", again)
	}
	// Partition 0's and 2's markers are written; partition 1's waits for the marker timer.
	c.Handle(2200*time.Millisecond, 13, &protocol.WriteTxnMarkersResponse{CorrelationID: again[13].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	c.Handle(2200*time.Millisecond, 12, &protocol.WriteTxnMarkersResponse{CorrelationID: first[12].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	// A late answer from the dead broker's lost request is not counted.
	c.Handle(2200*time.Millisecond, 10, &protocol.WriteTxnMarkersResponse{CorrelationID: first[10].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	var retry Timer
	for _, tm := range f.timers {
		if tm.Kind == timerMarkers {
			retry = tm
		}
	}
	f.moved[1] = 14 // the controller elected a new leader for partition 1
	c.OnTimer(2300*time.Millisecond, retry)
	last := sentMarkers(f)
	if r := last[14]; len(last) != 1 || r == nil || len(r.Partitions) != 1 || r.Partitions[0].Partition != 1 {
		t.Fatalf("at the marker timer, markers to %v; want partition 1's to 14 only", last)
	}
	c.Handle(2400*time.Millisecond, 14, &protocol.WriteTxnMarkersResponse{CorrelationID: last[14].CorrelationID, ProducerID: p.ProducerID, Errors: []protocol.ErrorCode{protocol.NONE}})
	f.replicate(c, 2400*time.Millisecond)
	if m := c.Transaction(testID); m.State != CompleteCommit {
		t.Fatalf("after every marker: %s; want CompleteCommit within half a second of the disconnects", m.State)
	}
}
