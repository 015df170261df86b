package client

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// reqSlab is the produceReqs one allocation holds (sender.reqRoom).
const reqSlab = 16

// produceReq is one ProduceRequest in flight.
type produceReq struct {
	broker  int32
	batches []*pbatch
	// The request and room for one batch of each, in the same allocation: a produceReq is
	// never reused, since the broker may still hold its request after a timeout.
	msg      protocol.ProduceRequest
	oneBatch [1]*pbatch
	onePart  [1]protocol.ProducePartition
	// wire is room for the wire form of a batch first sent in this request: the batch keeps it
	// for its retries, and with it this produceReq.
	wire     protocol.RecordBatch
	wireUsed bool
}

// sender turns the accumulator's ready batches into ProduceRequests and their answers into
// outcomes (Java's Sender with RecordAccumulator.drain): at most one batch per partition per
// request, one request per leader per round, at most max.in.flight.requests.per.connection
// requests in flight per leader; retriable errors go back to the accumulator, the rest
// complete the batch (Sender.completeBatch / canRetry).
type sender struct {
	cfg           *config.Producer
	topic         string
	net           *netClient
	meta          *topicMeta
	acc           *accumulator
	txn           *transactionManager
	out           *outcomes
	inflight      map[int64]*produceReq
	inflightOrder []int64 // inflight's correlation ids, oldest first (they grow: overtaken)
	brokerLoad    map[int32]int
	retried       bool          // a batch was reenqueued by the response being handled
	pending       []*produceReq // drain scratch
	slab          []byte        // where batches are encoded (encode)
	reqRoom       []produceReq  // where new requests are taken from, reqSlab at a time (never reused)
	// retryBackoff spaces the attempts of a batch: retry.backoff.ms doubling up to
	// retry.backoff.max.ms, with jitter (RecordAccumulator's ExponentialBackoff, KIP-580).
	retryBackoff exponentialBackoff
}

// drain sends what is ready, round after round, until a round finds nothing to send
// (RecordAccumulator.ready and drain): a retried batch waits out its back-off unless its
// partition's leader changed since (KIP-951), a new one its linger.ms, and the idempotent
// producer holds back what would break the order of sequences (shouldStopDrain).
func (s *sender) drain(now time.Duration) {
	if !s.meta.known || !s.txn.ready() {
		return
	}
	a := s.acc
	n := len(a.queues)
	for n > 0 {
		s.pending = s.pending[:0]
		// Partitions in turn from drainIndex, round the end: only those with batches waiting
		// (accumulator.busy), which are all the turn does anything for.
		start := a.drainIndex % n
		for part := a.nextBusy(start); part >= 0; part = a.nextBusy(part + 1) {
			s.drainPart(now, int32(part))
		}
		for part := a.nextBusy(0); part >= 0 && part < start; part = a.nextBusy(part + 1) {
			s.drainPart(now, int32(part))
		}
		if len(s.pending) == 0 {
			break
		}
		a.drainIndex++
		for _, req := range s.pending {
			s.send(now, req)
		}
	}
}

// drainPart is one partition's turn in a drain round: its oldest batch joins this round's
// request to its leader, if it is ready and may go.
func (s *sender) drainPart(now time.Duration, part int32) {
	a, env, w := s.acc, s.net.env, &s.net.w
	b := a.head(part)
	if b == nil {
		return
	}
	leader := s.meta.parts[part].leader
	if leader < 0 {
		s.meta.wanted = true
		return
	}
	b.maybeUpdateLeaderEpoch(s.meta.parts[part].epoch)
	if b.retryAt > now && !b.leaderChangedForRetry() {
		w.at(env, now, b.retryAt)
		return
	}
	if s.net.rc.waitFor(env, w, now, leader) {
		return
	}
	if !b.full && now < b.createdAt+s.cfg.Linger {
		w.at(env, now, b.createdAt+s.cfg.Linger)
		return
	}
	if s.txn.shouldStopDrain(b) {
		return
	}
	req := s.requestFor(leader)
	if req == nil {
		return
	}
	a.pop(part)
	s.prepare(b, req)
	req.batches = append(req.batches, b)
}

// requestFor returns this round's request to leader, opening one if leader has room.
func (s *sender) requestFor(leader int32) *produceReq {
	for _, r := range s.pending {
		if r.broker == leader {
			return r
		}
	}
	if s.brokerLoad[leader] >= s.cfg.MaxInFlight {
		return nil
	}
	if len(s.reqRoom) == 0 {
		s.reqRoom = make([]produceReq, reqSlab)
	}
	r := &s.reqRoom[0]
	s.reqRoom = s.reqRoom[1:]
	r.broker, r.batches = leader, r.oneBatch[:0]
	s.pending = append(s.pending, r)
	return r
}

// prepare freezes a batch for sending, with its sequence when idempotent, and builds its wire
// form (kept for retries under the same sequence).
func (s *sender) prepare(b *pbatch, req *produceReq) {
	b.full = true
	// ProducerBatch.close, run at every drain, clears reopened: sequenceHasBeenReset holds
	// only for the answer to an attempt that was in flight when the epoch was bumped. A batch
	// sent again under its new sequence and refused OUT_OF_ORDER_SEQUENCE_NUMBER is judged by
	// isNextSequence again, so a real gap bumps the epoch once more instead of retrying the
	// same sequence until delivery.timeout.ms.
	b.reopened = false
	if s.txn.assignSequence(b) {
		b.wire = nil
	}
	if b.wire == nil {
		w := &req.wire
		if req.wireUsed {
			w = &protocol.RecordBatch{}
		}
		req.wireUsed = true
		*w = protocol.RecordBatch{
			ProducerID: b.pid, ProducerEpoch: b.pepoch, BaseSequence: b.seq,
			MaxTimestamp: b.createdAt, PartitionLeaderEpoch: protocol.UnknownEpoch,
		}
		b.setRecords(w)
		b.wire = w
		s.encode(b.wire)
		// The compression ratio (ProducerStats.Bytes, Plain): per batch built, not per attempt.
		n := int64(len(w.Bytes))
		s.out.stats.Bytes += n
		if s.cfg.Compression == record.None {
			s.out.stats.Plain += n
		} else {
			s.out.stats.Plain += b.size
		}
	}
}

// encode writes the batch's bytes once, as ProducerBatch.close has MemoryRecordsBuilder do,
// compressed with compression.type and every value padded to value.bytes; retries send the same
// bytes.
// The bytes are cut from a slab of byteSlab bytes, one allocation for many batches: they are
// immutable once written (the leader stamps a copy), so runs never overlap and the slab lives
// while any batch written in it does.
func (s *sender) encode(w *protocol.RecordBatch) {
	if cap(s.slab)-len(s.slab) < byteSlab/8 {
		s.slab = make([]byte, 0, byteSlab)
	}
	k := len(s.slab)
	bs, err := record.Append(s.slab[k:k:cap(s.slab)], w, record.Options{Codec: s.cfg.Compression, ValueBytes: s.cfg.ValueBytes})
	if err != nil { // the codec was checked when the configuration was read
		panic(fmt.Sprintf("producer: encoding a batch: %v", err))
	}
	if len(bs) <= cap(s.slab)-k { // written in place
		s.slab = s.slab[:k+len(bs)]
	}
	w.Bytes = bs[:len(bs):len(bs)]
}

// byteSlab is the bytes of the slab batches are encoded in.
const byteSlab = 32 << 10

// encodeBatch gives w its bytes in the producer's compression.type and value.bytes, and returns it.
func encodeBatch(cfg *config.Producer, w *protocol.RecordBatch) *protocol.RecordBatch {
	bs, err := record.Encode(w, record.Options{Codec: cfg.Compression, ValueBytes: cfg.ValueBytes})
	if err != nil { // the codec was checked when the configuration was read
		panic(fmt.Sprintf("producer: encoding a batch: %v", err))
	}
	w.Bytes = bs
	return w
}

func (s *sender) send(now time.Duration, req *produceReq) {
	s.net.corr++
	corr := s.net.corr
	parts := req.onePart[:0]
	for _, b := range req.batches {
		parts = append(parts, protocol.ProducePartition{TP: protocol.TopicPartition{Topic: s.topic, Partition: b.part}, Batch: b.wire})
		b.sent = true
		b.attempts++
	}
	req.msg = protocol.ProduceRequest{CorrelationID: corr, Acks: s.cfg.Acks, Timeout: s.cfg.RequestTimeout, Partitions: parts}
	s.net.env.Send(req.broker, &req.msg)
	if s.cfg.Acks == protocol.AcksNone {
		// No response comes: the records complete at send time, without offsets.
		for _, b := range req.batches {
			s.complete(now, b, -1)
		}
		return
	}
	for _, b := range req.batches {
		b.inflight = true
	}
	s.inflight[corr] = req
	s.inflightOrder = append(s.inflightOrder, corr)
	s.brokerLoad[req.broker]++
	s.net.tmo.add(s.net.env, now, s.cfg.RequestTimeout, corr)
}

// timedOut handles the timeout of request corr: a broken connection. Java fails the in-flight
// batches with NetworkException and refreshes metadata; the batches may have been appended.
func (s *sender) timedOut(now time.Duration, corr int64) {
	req := s.inflight[corr]
	if req == nil {
		return
	}
	s.finishRequest(corr, req)
	s.meta.wanted = true
	for _, b := range req.batches {
		s.result(now, b, protocol.NETWORK_EXCEPTION, -1, -1)
	}
}

// overtaken reports whether the answer to request corr from broker `from` came while an
// earlier ProduceRequest to that broker is still unanswered. A connection answers in the order it
// was asked (the broker reads a client's next request only once it has answered the one it is
// handling: SocketServer mutes the channel meanwhile), and NetworkClient pairs each answer with
// the oldest request in flight on its connection (InFlightRequests.completeNext), refusing one
// whose correlation id does not match (CorrelationIdMismatchException). An answer that overtook
// an earlier one therefore means the earlier answer was lost, which TCP allows only by breaking
// the connection: the producer takes the connection as broken, as a timeout would have it do
// later. Taking the answer while the earlier request waits for its timeout let the partition's
// acknowledged sequences move past a batch that may have been appended, which the retry then
// cannot deduplicate: once the broker's five cached batches no longer hold it, the retry is
// out of order, and the epoch bump that follows rewrites it as new data (a duplicate).
// Only ProduceRequests are compared: they are the requests whose answers the world's broker
// returns strictly in order (its other answers do not wait for a produce parked in purgatory).
func (s *sender) overtaken(from int32, corr int64) bool {
	if s.inflight[corr] == nil {
		return false
	}
	for _, c := range s.inflightOrder {
		if c >= corr {
			return false
		}
		if s.inflight[c].broker == from {
			return true
		}
	}
	return false
}

// inflightTo lists the requests in flight to peer, oldest first.
func (s *sender) inflightTo(peer int32) []int64 {
	var corrs []int64
	for _, corr := range slices.Sorted(maps.Keys(s.inflight)) {
		if s.inflight[corr].broker == peer {
			corrs = append(corrs, corr)
		}
	}
	return corrs
}

func (s *sender) finishRequest(corr int64, req *produceReq) {
	delete(s.inflight, corr)
	if i := slices.Index(s.inflightOrder, corr); i >= 0 {
		s.inflightOrder = slices.Delete(s.inflightOrder, i, i+1)
	}
	if s.brokerLoad[req.broker] <= 1 {
		delete(s.brokerLoad, req.broker)
	} else {
		s.brokerLoad[req.broker]--
	}
	for _, b := range req.batches {
		b.inflight = false
	}
}

// onProduce handles a ProduceResponse; it reports whether a batch goes back to be retried.
func (s *sender) onProduce(now time.Duration, r *protocol.ProduceResponse) (retrying bool) {
	req := s.inflight[r.CorrelationID]
	if req == nil {
		return false
	}
	s.retried = false
	s.finishRequest(r.CorrelationID, req)
	for _, b := range req.batches {
		var pr *protocol.ProducePartitionResponse
		for i := range r.Partitions {
			if r.Partitions[i].TP.Partition == b.part && r.Partitions[i].TP.Topic == s.topic {
				pr = &r.Partitions[i]
				break
			}
		}
		if pr == nil {
			s.result(now, b, protocol.UNKNOWN_SERVER_ERROR, -1, -1)
			continue
		}
		if pr.Error == protocol.NOT_LEADER_OR_FOLLOWER || pr.Error == protocol.FENCED_LEADER_EPOCH {
			s.meta.hint(b.part, pr.CurrentLeader, pr.CurrentLeaderEp)
		}
		s.result(now, b, pr.Error, pr.BaseOffset, pr.LogStartOffset)
	}
	return s.retried
}

// notAppended reports whether err is raised before the leader appends, so that an attempt
// answered with it certainly left no record (Partition.appendRecordsToLeader checks these
// first). Everything else — timeouts, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT from
// purgatory, unknown errors — may follow an append. NOT_LEADER_OR_FOLLOWER is ambiguous with
// acks=all: a delayed produce completes with it when leadership moves after the append
// (KAFKA-13574).
func notAppended(err protocol.ErrorCode, acks int16) bool {
	switch err {
	case protocol.NOT_ENOUGH_REPLICAS, protocol.UNKNOWN_TOPIC_OR_PARTITION, protocol.LEADER_NOT_AVAILABLE,
		protocol.INVALID_REQUIRED_ACKS, protocol.INVALID_REQUEST, protocol.INVALID_PRODUCER_EPOCH,
		protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, protocol.UNKNOWN_PRODUCER_ID, protocol.PRODUCER_FENCED,
		protocol.FENCED_LEADER_EPOCH, protocol.UNKNOWN_LEADER_EPOCH, protocol.CONCURRENT_TRANSACTIONS,
		protocol.INVALID_CONFIG, protocol.INVALID_PARTITIONS:
		return true
	case protocol.NOT_LEADER_OR_FOLLOWER:
		return acks != protocol.AcksAll
	}
	return false
}

// result handles one attempt's outcome for batch b (Sender.completeBatch): success completes
// it; an error is retried if canRetry allows, else the batch fails (failBatch).
func (s *sender) result(now time.Duration, b *pbatch, err protocol.ErrorCode, base, logStartOffset int64) {
	if b.done {
		// Expired by delivery.timeout.ms while in flight. A late success still moves the
		// partition's last acknowledged sequence (Java's completeBatch calls
		// handleCompletedBatch before it finds the batch done).
		if err == protocol.NONE {
			s.txn.handleCompletedBatch(b, base)
		}
		return
	}
	if err == protocol.NONE {
		s.complete(now, b, base)
		return
	}
	b.lastErr = err
	if !notAppended(err, s.cfg.Acks) && !s.cfg.ReportsAppendedAsFailed {
		b.landed = true
	}
	if err.RefreshesMetadata() {
		s.meta.wanted = true
	}
	switch {
	case s.canRetry(now, b, err, logStartOffset):
		s.acc.reenqueue(b, now+s.retryBackoff.backoff(s.net.env, int64(b.attempts-1)))
		s.retried = true
	case err == protocol.DUPLICATE_SEQUENCE_NUMBER:
		// The sequence is already in the log, at offsets the broker no longer remembers.
		s.complete(now, b, base)
	default:
		// Sequences are adjusted (the epoch bumped) only if the batch did not exhaust its
		// retries: otherwise nobody knows whether its sequence was accepted.
		s.fail(now, b, outcomeOf(b), err.String(), err, b.attempts <= s.cfg.Retries)
	}
}

// canRetry is Sender.canRetry: within delivery.timeout.ms and retries, and, for the idempotent
// producer, as TransactionManager.canRetry decides (which may request an epoch bump); else if
// the error is retriable.
func (s *sender) canRetry(now time.Duration, b *pbatch, err protocol.ErrorCode, logStartOffset int64) bool {
	if now >= b.createdAt+s.cfg.DeliveryTimeout || b.attempts > s.cfg.Retries || b.done {
		return false
	}
	if s.cfg.EnableIdempotence {
		return s.txn.canRetry(err, b, logStartOffset)
	}
	return err.Retriable()
}

func outcomeOf(b *pbatch) history.Outcome {
	if b.landed {
		return history.Unknown
	}
	return history.Fail
}

// expire handles delivery.timeout.ms for batch b (Java expires queued and in-flight batches,
// failBatch with a TimeoutException and no sequence adjustment). A batch that was retried may
// hold a sequence the log has or not: its partition's sequences are unresolved until its
// unfinished batches are done (markSequenceUnresolved).
func (s *sender) expire(now time.Duration, b *pbatch) {
	if b.done {
		return
	}
	if b.inflight {
		b.landed = true
	} else {
		s.acc.remove(b)
	}
	s.fail(now, b, outcomeOf(b), timeoutErr(b), protocol.REQUEST_TIMED_OUT, false)
	if b.retry {
		s.txn.markSequenceUnresolved(b)
	}
}

// complete ends b acknowledged (Sender.completeBatch).
func (s *sender) complete(now time.Duration, b *pbatch, base int64) {
	b.done = true
	s.txn.handleCompletedBatch(b, base)
	s.out.batch(now, b, history.OK, base, "")
	b.wire = nil // its delivery.timeout.ms timer keeps b until it fires: let the bytes go now
}

// fail ends b in error (Sender.failBatch): its records' outcome, and the idempotent producer's
// handleFailedBatch.
func (s *sender) fail(now time.Duration, b *pbatch, out history.Outcome, errName string, err protocol.ErrorCode, adjustSequenceNumbers bool) {
	b.done = true
	s.txn.handleFailedBatch(b, err, adjustSequenceNumbers)
	s.out.batch(now, b, out, -1, errName)
	b.wire = nil // as in complete
}

// close reports every batch still pending at the end of a run: unknown if in flight (an
// attempt may have been appended), else as outcomeOf says.
func (s *sender) close(now time.Duration) {
	for _, c := range slices.Sorted(maps.Keys(s.inflight)) {
		for _, b := range s.inflight[c].batches {
			if !b.done {
				b.landed = true
				s.fail(now, b, history.Unknown, closeErr(b), protocol.NETWORK_EXCEPTION, false)
			}
		}
	}
	for part := range s.acc.queues {
		for _, b := range s.acc.queues[part] {
			if !b.done {
				s.fail(now, b, outcomeOf(b), closeErr(b), protocol.NETWORK_EXCEPTION, false)
			}
		}
		s.acc.set(int32(part), nil)
	}
}

// timeoutErr names why a batch ran out of delivery.timeout.ms: the last error a broker gave
// it, as the Java producer's TimeoutException message carries it, else DELIVERY_TIMEOUT.
func timeoutErr(b *pbatch) string {
	if b.lastErr != protocol.NONE {
		return b.lastErr.String()
	}
	return "DELIVERY_TIMEOUT"
}

func closeErr(b *pbatch) string {
	if b.lastErr != protocol.NONE {
		return b.lastErr.String()
	}
	return "CLOSED"
}
