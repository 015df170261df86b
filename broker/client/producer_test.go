package client

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

const ms = time.Millisecond

func producerConfig(t *testing.T, kv ...string) config.Producer {
	t.Helper()
	c := config.DefaultProducer()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := c.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	return c
}

func startProducer(t *testing.T, w *world, cfg config.Producer, keys int) *Producer {
	t.Helper()
	p := NewProducer(ProducerOptions{Name: "p1", Topic: "t", Config: cfg, Keys: keys, ValueBase: 100, Bootstrap: []int32{1}}, w.env(), w.now)
	w.node = p
	w.runUntil(10 * ms) // metadata (and producer id) arrive
	return p
}

func TestStickyPartitionerSwitchesAfterBatchSize(t *testing.T) {
	// Reference: KIP-794: unkeyed records stick to one partition until batch.size bytes
	// went to it. 54 bytes = three records of 18 estimated bytes.
	w := newWorld(t)
	newFakeCluster(w, 8, 1)
	p := startProducer(t, w, producerConfig(t, "batch.size", "54", "linger.ms", "0"), 0)
	const n = 30
	for i := 0; i < n; i++ {
		w.input(&SendRecords{Count: 1})
		w.runUntil(w.now + 5*ms)
	}
	ops := w.ops()
	if len(ops) != n {
		t.Fatalf("got %d ops; want %d", len(ops), n)
	}
	byValue := map[int64]int32{}
	for _, op := range ops {
		if op.Outcome != history.OK {
			t.Fatalf("op %v: got outcome %s; want ok", op.Values, op.Outcome)
		}
		byValue[op.Values[0]] = op.Partition
	}
	distinct := map[int32]bool{}
	for i := int64(0); i < n; i++ {
		got, want := byValue[101+i], byValue[101+i-i%3]
		if got != want {
			t.Errorf("record %d: got partition %d; want %d (the sticky partition of its group of 3)", i, got, want)
		}
		distinct[got] = true
	}
	if len(distinct) < 3 {
		t.Errorf("got %d distinct partitions over %d groups; want the sticky partition redrawn (≥3)", len(distinct), n/3)
	}
	if s := p.Stats(); s.Acked != n || s.InFlight != 0 {
		t.Errorf("stats = %+v; want Acked %d InFlight 0", s, n)
	}
}

func TestKeyedRecordsGoToMurmur2Partition(t *testing.T) {
	w := newWorld(t)
	newFakeCluster(w, 5, 1)
	startProducer(t, w, producerConfig(t), 10)
	w.input(&SendRecords{Count: 40})
	w.runUntil(100 * ms)
	ops := w.ops()
	if len(ops) != 40 {
		t.Fatalf("got %d ops; want 40", len(ops))
	}
	// Every produced record sits in the partition murmur2 picks for its key.
	for _, s := range w.produces() {
		for _, pp := range s.msg.(*protocol.ProduceRequest).Partitions {
			for _, r := range pp.Batch.AppendRecords(nil) {
				if want := PartitionForKey(r.Key, 5); pp.TP.Partition != want {
					t.Errorf("key %s: got partition %d; want %d", r.Key, pp.TP.Partition, want)
				}
			}
		}
	}
}

func TestLingerBatchesRecordsUntilLingerOrFull(t *testing.T) {
	// linger.ms=10: records created at 10ms and 15ms leave together at 20ms; a batch that
	// is full (batch.size = two records) leaves at once.
	w := newWorld(t)
	newFakeCluster(w, 1, 1)
	startProducer(t, w, producerConfig(t, "linger.ms", "10"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(15 * ms)
	w.input(&SendRecords{Count: 1})
	w.runUntil(19 * ms)
	if got := len(w.produces()); got != 0 {
		t.Fatalf("got %d produce requests before linger.ms passed; want 0", got)
	}
	w.runUntil(40 * ms)
	ps := w.produces()
	if len(ps) != 1 {
		t.Fatalf("got %d produce requests; want 1", len(ps))
	}
	req := ps[0].msg.(*protocol.ProduceRequest)
	if ps[0].at != 20*ms || len(req.Partitions) != 1 || req.Partitions[0].Batch.Len() != 2 {
		t.Errorf("got request at %v with %d partitions; want one batch of 2 records at 20ms", ps[0].at, len(req.Partitions))
	}

	w2 := newWorld(t)
	newFakeCluster(w2, 1, 1)
	full := int((&protocol.RecordBatch{Records: make([]protocol.Record, 2)}).SizeBytes())
	startProducer(t, w2, producerConfig(t, "linger.ms", "1000", "batch.size", itoa(full)), 0)
	w2.input(&SendRecords{Count: 3})
	w2.runUntil(500 * ms)
	ps = w2.produces()
	if len(ps) != 1 || ps[0].msg.(*protocol.ProduceRequest).Partitions[0].Batch.Len() != 2 || ps[0].at != 10*ms {
		t.Fatalf("got %d requests; want one full batch of 2 sent at 10ms", len(ps))
	}
	w2.runUntil(1100 * ms)
	if ps = w2.produces(); len(ps) != 2 || ps[1].at != 1010*ms {
		t.Errorf("got %d requests; want the third record sent alone after linger at 1010ms", len(ps))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRetryKeepsSequenceNumbers(t *testing.T) {
	// Reference: KIP-98 idempotent producer: a retried batch keeps its producer id, epoch and sequence.
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		if n == 1 {
			return produceAction{err: protocol.NOT_ENOUGH_REPLICAS}
		}
		return produceAction{}
	}
	startProducer(t, w, producerConfig(t), 0)
	w.input(&SendRecords{Count: 3})
	w.runUntil(1 * time.Second)
	ps := w.produces()
	if len(ps) != 2 {
		t.Fatalf("got %d produce requests; want 2", len(ps))
	}
	a := ps[0].msg.(*protocol.ProduceRequest).Partitions[0].Batch
	b := ps[1].msg.(*protocol.ProduceRequest).Partitions[0].Batch
	if a.ProducerID != b.ProducerID || a.ProducerEpoch != b.ProducerEpoch || a.BaseSequence != b.BaseSequence || a.BaseSequence != 0 {
		t.Errorf("retry got (pid %d, epoch %d, seq %d); want the first attempt's (pid %d, epoch %d, seq 0)",
			b.ProducerID, b.ProducerEpoch, b.BaseSequence, a.ProducerID, a.ProducerEpoch)
	}
	if gap := ps[1].at - ps[0].at; gap < 80*ms {
		t.Errorf("retry came %v after the first attempt; want ≥ retry.backoff.ms (100ms) less its 20%% jitter", gap)
	}
	for i, op := range w.ops() {
		if op.Outcome != history.OK || len(op.Offsets) != 1 || op.Offsets[0] != int64(i) {
			t.Errorf("op %d: got %s offsets %v; want ok at offset %d", i, op.Outcome, op.Offsets, i)
		}
	}
}

func TestLostResponseRetry(t *testing.T) {
	// Reference: KIP-98 (ProducerStateManager deduplication): the first attempt is appended but its answer is lost; the
	// producer times out and retries. With idempotence the leader answers the duplicate with
	// the original offset and the log holds the record once; without it the log holds it twice.
	for _, tc := range []struct {
		idempotence string
		wantLog     []int64
		wantOffset  int64
	}{
		{"true", []int64{101}, 0},
		{"false", []int64{101, 101}, 1},
	} {
		t.Run("idempotence="+tc.idempotence, func(t *testing.T) {
			w := newWorld(t)
			c := newFakeCluster(w, 1, 1)
			c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
				return produceAction{drop: n == 1}
			}
			startProducer(t, w, producerConfig(t, "enable.idempotence", tc.idempotence, "request.timeout.ms", "1000"), 0)
			w.input(&SendRecords{Count: 1})
			w.runUntil(5 * time.Second)
			if got := c.values(0); !equal(got, tc.wantLog) {
				t.Errorf("log = %v; want %v", got, tc.wantLog)
			}
			ops := w.ops()
			if len(ops) != 1 {
				t.Fatalf("got %d ops; want 1", len(ops))
			}
			if ops[0].Outcome != history.OK || len(ops[0].Offsets) != 1 || ops[0].Offsets[0] != tc.wantOffset {
				t.Errorf("op: got %s offsets %v; want ok at %d", ops[0].Outcome, ops[0].Offsets, tc.wantOffset)
			}
		})
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFinalOutcomeFailVersusUnknown(t *testing.T) {
	// Reference: NOT_ENOUGH_REPLICAS_AFTER_APPEND and timeouts may follow an append: fail only if no attempt can have been appended.
	drop := produceAction{drop: true}
	err := func(e protocol.ErrorCode) produceAction { return produceAction{err: e} }
	for _, tc := range []struct {
		name     string
		acks     string
		attempts []produceAction
		want     history.Outcome
		wantErr  string
	}{
		{"refused before append twice", "all", []produceAction{err(protocol.NOT_ENOUGH_REPLICAS), err(protocol.NOT_ENOUGH_REPLICAS)}, history.Fail, "NOT_ENOUGH_REPLICAS"},
		{"appended then refused", "all", []produceAction{{err: protocol.NOT_ENOUGH_REPLICAS_AFTER_APPEND, append: true}, err(protocol.NOT_ENOUGH_REPLICAS)}, history.Unknown, "NOT_ENOUGH_REPLICAS"},
		{"timeout then refused", "all", []produceAction{drop, err(protocol.NOT_ENOUGH_REPLICAS)}, history.Unknown, "NOT_ENOUGH_REPLICAS"},
		{"non-retriable", "all", []produceAction{err(protocol.INVALID_REQUIRED_ACKS)}, history.Fail, "INVALID_REQUIRED_ACKS"},
		{"not leader with acks=1", "1", []produceAction{err(protocol.NOT_LEADER_OR_FOLLOWER), err(protocol.NOT_LEADER_OR_FOLLOWER)}, history.Fail, "NOT_LEADER_OR_FOLLOWER"},
		{"not leader with acks=all (purgatory)", "all", []produceAction{err(protocol.NOT_LEADER_OR_FOLLOWER), err(protocol.NOT_LEADER_OR_FOLLOWER)}, history.Unknown, "NOT_LEADER_OR_FOLLOWER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			c := newFakeCluster(w, 1, 1)
			c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
				if n <= len(tc.attempts) {
					a := tc.attempts[n-1]
					if a.drop {
						a.append = false
					}
					return a
				}
				return produceAction{err: protocol.UNKNOWN_SERVER_ERROR}
			}
			startProducer(t, w, producerConfig(t, "acks", tc.acks, "enable.idempotence", "false", "retries", "1", "request.timeout.ms", "1000"), 0)
			w.input(&SendRecords{Count: 1})
			w.runUntil(10 * time.Second)
			ops := w.ops()
			if len(ops) != 1 {
				t.Fatalf("got %d ops; want 1", len(ops))
			}
			if ops[0].Outcome != tc.want || ops[0].Error != tc.wantErr {
				t.Errorf("got %s (%s); want %s (%s)", ops[0].Outcome, ops[0].Error, tc.want, tc.wantErr)
			}
			if got := len(w.produces()); got != len(tc.attempts) {
				t.Errorf("got %d attempts; want %d", got, len(tc.attempts))
			}
		})
	}
}

func TestDeliveryTimeout(t *testing.T) {
	// delivery.timeout.ms bounds a record's life: an in-flight batch expires as unknown; a
	// batch that never left (no leader) expires as fail. The op's error is the last error a
	// broker gave (here the request timeout), as Java's TimeoutException message says.
	t.Run("in flight", func(t *testing.T) {
		w := newWorld(t)
		c := newFakeCluster(w, 1, 1)
		c.onProduce = func(int, protocol.ProducePartition) produceAction { return produceAction{drop: true} }
		startProducer(t, w, producerConfig(t, "request.timeout.ms", "1000", "delivery.timeout.ms", "2500"), 0)
		w.input(&SendRecords{Count: 1})
		created := w.now
		w.runUntil(10 * time.Second)
		ops := w.ops()
		if len(ops) != 1 {
			t.Fatalf("got %d ops; want 1", len(ops))
		}
		if ops[0].Outcome != history.Unknown || ops[0].Error != "NETWORK_EXCEPTION" || ops[0].Complete != created+2500*ms {
			t.Errorf("got %s (%s) at %v; want unknown (NETWORK_EXCEPTION) at %v", ops[0].Outcome, ops[0].Error, ops[0].Complete, created+2500*ms)
		}
	})
	t.Run("no leader", func(t *testing.T) {
		w := newWorld(t)
		c := newFakeCluster(w, 1, -1)
		startProducer(t, w, producerConfig(t, "request.timeout.ms", "1000", "delivery.timeout.ms", "2500"), 0)
		w.input(&SendRecords{Count: 1})
		w.runUntil(10 * time.Second)
		ops := w.ops()
		if len(ops) != 1 || ops[0].Outcome != history.Fail || len(w.produces()) != 0 {
			t.Fatalf("got %d ops, %d requests; want one fail op and no request", len(ops), len(w.produces()))
		}
		_ = c
	})
}

func TestAcksZeroCompletesAtSendWithoutOffsets(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	startProducer(t, w, producerConfig(t, "acks", "0", "linger.ms", "0"), 0)
	w.input(&SendRecords{Count: 2})
	sentAt := w.now
	w.runUntil(time.Second)
	ops := w.ops()
	if len(ops) != 2 {
		t.Fatalf("got %d ops; want 2", len(ops))
	}
	for _, op := range ops {
		if op.Outcome != history.OK || op.Offsets != nil || op.Complete != sentAt {
			t.Errorf("got %s offsets %v at %v; want ok without offsets at %v", op.Outcome, op.Offsets, op.Complete, sentAt)
		}
	}
	if got := c.values(0); !equal(got, []int64{101, 102}) {
		t.Errorf("log = %v; want [101 102]", got)
	}
}

func TestIdempotentProducerBumpsEpochOnOutOfOrderSequence_KIP360(t *testing.T) {
	// Reference: KIP-360 (TransactionManager.canRetry, requestEpochBumpForPartition,
	// bumpIdempotentEpochAndResetIdIfNeeded, TxnPartitionEntry.startSequencesAtBeginning).
	// Record 101 is acknowledged at sequence 0; then the leader loses the producer's state (an
	// unclean election) and answers OUT_OF_ORDER_SEQUENCE_NUMBER to the two batches in flight.
	// The first is the next after the last acknowledged sequence: the gap is real, so the
	// producer bumps its epoch locally (no InitProducerId), restarts both batches' sequences at
	// 0 and retries them. The second's answer finds its sequence reset and it is retried too.
	// Nothing fails.
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		if n > 1 && pp.Batch.ProducerEpoch == 0 {
			return produceAction{err: protocol.OUT_OF_ORDER_SEQUENCE_NUMBER}
		}
		return produceAction{}
	}
	startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(100 * ms)
	w.input(&SendRecords{Count: 2})
	w.runUntil(2 * time.Second)
	for _, op := range w.ops() {
		if op.Outcome != history.OK {
			t.Errorf("op %v: got %s %s; want ok", op.Values, op.Outcome, op.Error)
		}
	}
	if got := c.values(0); !equal(got, []int64{101, 102, 103}) {
		t.Errorf("log = %v; want [101 102 103]", got)
	}
	if c.pidReqs != 1 {
		t.Errorf("got %d InitProducerId requests; want 1 (the epoch is bumped locally)", c.pidReqs)
	}
	var sent []string
	for _, s := range w.produces() {
		b := s.msg.(*protocol.ProduceRequest).Partitions[0].Batch
		sent = append(sent, fmt.Sprintf("e%d/s%d", b.ProducerEpoch, b.BaseSequence))
	}
	if want := "e0/s0 e0/s1 e0/s2 e1/s0 e1/s1"; strings.Join(sent, " ") != want {
		t.Errorf("batches sent (epoch/sequence) = %v; want %s", sent, want)
	}
}

func TestRateCreatesRecordsAtExactIntervals(t *testing.T) {
	w := newWorld(t)
	newFakeCluster(w, 1, 1)
	p := startProducer(t, w, producerConfig(t), 0)
	start := w.now
	w.input(&SetRate{PerSecond: 300})
	w.runUntil(start + 100*ms)
	w.input(&SetRate{PerSecond: 0})
	w.runUntil(start + time.Second)
	ops := w.ops()
	if len(ops) != 30 {
		t.Fatalf("got %d records in 100ms at 300/s; want 30", len(ops))
	}
	for i, op := range ops {
		want := start + time.Duration(float64(i+1)*float64(time.Second)/300)
		if op.Invoke != want {
			t.Errorf("record %d created at %v; want %v", i, op.Invoke, want)
		}
	}
	if s := p.Stats(); s.Sent != 30 || s.Acked != 30 {
		t.Errorf("stats = %+v; want Sent 30 Acked 30", s)
	}
}

func TestCloseReportsPendingRecords(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(int, protocol.ProducePartition) produceAction { return produceAction{drop: true} }
	p := startProducer(t, w, producerConfig(t, "max.in.flight.requests.per.connection", "1", "batch.size", "79", "linger.ms", "0"), 0)
	w.input(&SendRecords{Count: 2}) // two batches of one record: one in flight, one queued
	w.runUntil(50 * ms)
	p.Close(w.now)
	ops := w.ops()
	if len(ops) != 2 || ops[0].Outcome != history.Unknown || ops[1].Outcome != history.Fail {
		t.Fatalf("got %v; want unknown (in flight) then fail (never sent)", ops)
	}
	if s := p.Stats(); s.InFlight != 0 || s.Unknown != 1 || s.Failed != 1 {
		t.Errorf("stats = %+v; want Unknown 1 Failed 1 InFlight 0", s)
	}
}

func TestMaxInFlightPerBroker(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 4, 1)
	c.onProduce = func(int, protocol.ProducePartition) produceAction { return produceAction{drop: true} }
	startProducer(t, w, producerConfig(t, "max.in.flight.requests.per.connection", "2", "batch.size", "79", "linger.ms", "0", "enable.idempotence", "false"), 0)
	w.input(&SendRecords{Count: 10})
	w.runUntil(50 * ms)
	if got := len(w.produces()); got != 2 {
		t.Errorf("got %d requests in flight to one broker; want 2", got)
	}
}

func TestRoundRobinSkipsPartitionsWithoutLeader(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 4, 1)
	c.leaders[2] = -1
	startProducer(t, w, producerConfig(t, "partitioner", "round-robin", "linger.ms", "0"), 0)
	for i := 0; i < 6; i++ {
		w.input(&SendRecords{Count: 1})
		w.runUntil(w.now + 5*ms)
	}
	var got []int64
	for _, op := range w.ops() {
		got = append(got, int64(op.Partition))
	}
	if want := []int64{0, 1, 3, 0, 1, 3}; !equal(got, want) {
		t.Errorf("partitions = %v; want %v", got, want)
	}
}

func TestOutOfOrderBehindUnresolvedBatchIsRetried(t *testing.T) {
	// Reference: KIP-98 (Java's TransactionManager.canRetry): batch 2 is answered
	// OUT_OF_ORDER_SEQUENCE_NUMBER because batch 1's request was lost; batch 1 is still
	// unresolved, so batch 2 keeps its sequence and is retried after batch 1, with no epoch bump.
	// Batch 1 went to broker 1, which lost it and then its leadership; batch 2 to broker 2, the
	// leader the producer learnt of meanwhile (each on its own connection: an answer that
	// overtook batch 1's on one connection would break it, sender.overtaken).
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	w.handle = func(to int32, msg any) {
		c.handle(to, msg)
		if c.produceN == 1 && c.leaders[0] == 1 {
			c.leaders[0], c.epochs[0] = 2, 2
		}
	}
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		switch n {
		case 1:
			return produceAction{drop: true, err: protocol.REQUEST_TIMED_OUT} // lost, not appended
		case 2:
			return produceAction{err: protocol.OUT_OF_ORDER_SEQUENCE_NUMBER}
		}
		return produceAction{}
	}
	startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1000", "metadata.max.age.ms", "20"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(300 * ms)
	w.input(&SendRecords{Count: 1})
	w.runUntil(5 * time.Second)
	if got := c.values(0); !equal(got, []int64{101, 102}) {
		t.Errorf("log = %v; want [101 102] in order", got)
	}
	if c.pidReqs != 1 {
		t.Errorf("got %d InitProducerId requests; want 1 (no epoch bump)", c.pidReqs)
	}
	var seqs []int64
	var to []int32
	for _, s := range w.produces() {
		b := s.msg.(*protocol.ProduceRequest).Partitions[0].Batch
		seqs = append(seqs, int64(b.BaseSequence))
		to = append(to, s.to)
		if b.ProducerEpoch != 0 {
			t.Errorf("a batch sent at epoch %d; want 0 (no epoch bump, not even a local one)", b.ProducerEpoch)
		}
	}
	if want := []int64{0, 1, 0, 1}; !equal(seqs, want) || fmt.Sprint(to) != "[1 2 2 2]" {
		t.Errorf("sequences sent = %v to brokers %v; want %v to [1 2 2 2]", seqs, to, want)
	}
	for _, op := range w.ops() {
		if op.Outcome != history.OK {
			t.Errorf("op %v: got %s; want ok", op.Values, op.Outcome)
		}
	}
}

func TestRetryBackoffIsExponential_KIP580(t *testing.T) {
	// Reference: KIP-580 (RecordAccumulator.shouldBackoff with ExponentialBackoff(retry.backoff.ms,
	// 2, retry.backoff.max.ms, 0.2)): the attempts of a batch the leader keeps refusing come
	// 100ms, 200ms, 400ms, 800ms, then 1s apart, each within ±20%.
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		return produceAction{err: protocol.NOT_ENOUGH_REPLICAS}
	}
	startProducer(t, w, producerConfig(t, "linger.ms", "0"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(10 * time.Second)
	ps := w.produces()
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second, time.Second}
	if len(ps) < len(want)+1 {
		t.Fatalf("got %d attempts in 10s; want at least %d", len(ps), len(want)+1)
	}
	for i, d := range want {
		gap := ps[i+1].at - ps[i].at - w.latency // the answer takes one latency
		lo, hi := d*8/10, min(d*12/10, time.Second)
		if gap < lo || gap > hi {
			t.Errorf("attempt %d came %v after the answer to attempt %d; want %v..%v", i+2, gap, i+1, lo, hi)
		}
	}
	if n := len(ps); n > 14 {
		t.Errorf("%d attempts in 10s; want about 12 (every 100ms would be 100)", n)
	}
}

func TestMetadataRefreshBacksOffExponentially_KIP580(t *testing.T) {
	// Reference: KIP-580 (Metadata.timeToAllowUpdate): a partition without a leader makes the
	// producer ask for metadata again, but answers that teach nothing new (equivalent responses)
	// space the requests out to retry.backoff.max.ms: about 130 in 120s, not 1,200.
	w := newWorld(t)
	newFakeCluster(w, 1, -1)
	startProducer(t, w, producerConfig(t), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(120 * time.Second)
	n := 0
	for _, s := range w.sent {
		if _, ok := s.msg.(*protocol.MetadataRequest); ok {
			n++
		}
	}
	if n < 100 || n > 140 {
		t.Errorf("%d MetadataRequests in 120s without a leader; want about 125 (retry.backoff.max.ms apart)", n)
	}
}

// seqBroker validates idempotent appends as ProducerAppendInfo.checkSequence does since
// KIP-360 (a producer the partition has no state for may start at any sequence; a new epoch
// must start at 0; a known epoch continues at lastSeq+1), and with firstSeqZero as KAFKA-15591
// does (a never-written log takes only sequence 0 from an unknown producer). Errors are
// answered at once and appends after ackDelay, as a leader with acks=all answers only once the
// followers have the batch.
type seqBroker struct {
	c            *fakeCluster
	ackDelay     time.Duration
	firstSeqZero bool
	epoch        map[int64]int16
	lastSeq      map[int64]int32
}

func (s *seqBroker) check(b *protocol.RecordBatch) protocol.ErrorCode {
	s.c.w.latency = ms
	for _, x := range s.c.logs[0] {
		if x.ProducerID == b.ProducerID && x.ProducerEpoch == b.ProducerEpoch && x.BaseSequence == b.BaseSequence {
			return protocol.NONE // a retry the fake cluster deduplicates
		}
	}
	ep, known := s.epoch[b.ProducerID]
	switch {
	case known && b.ProducerEpoch == ep && b.BaseSequence != s.lastSeq[b.ProducerID]+1,
		known && b.ProducerEpoch != ep && b.BaseSequence != 0,
		s.firstSeqZero && len(s.c.logs[0]) == 0 && b.BaseSequence != 0:
		return protocol.OUT_OF_ORDER_SEQUENCE_NUMBER
	}
	s.epoch[b.ProducerID], s.lastSeq[b.ProducerID] = b.ProducerEpoch, b.LastSequence()
	s.c.w.latency = s.ackDelay
	return protocol.NONE
}

func TestBatchDrainedAgainAfterEpochBumpIsNoLongerReset_ProducerBatchClose(t *testing.T) {
	// Reference: ProducerBatch.close, which RecordAccumulator.drainBatchesForOneNode calls at
	// every drain, clears reopened: sequenceHasBeenReset holds only for the answer to an
	// attempt that was in flight when the epoch was bumped (TransactionManager.canRetry).
	// Record 101's first attempt is refused before append; 102, behind it, is appended by
	// broker 1, a leader that has no state for the producer, whose answer is slow (a second).
	// Leadership then moves to broker 2, which has the log and the producer's state (the fake's
	// replicas share them). 101's retry is out of order there and the next sequence: the epoch
	// is bumped (KIP-360) while 102 is still in flight, and 101 lands under epoch 1. Leadership
	// moves on to broker 3. 103 follows at epoch 1, sequence 2, which the leader never saw (102
	// landed under epoch 0): a real gap, so the epoch is bumped again while 101's answer is on
	// its way and 103 restarts at epoch 2, sequence 1. The leader knows epoch 1 only: out of
	// order again, and again the next sequence, so a third bump restarts 103 at sequence 0. A
	// batch still marked reset would retry the same sequence until delivery.timeout.ms.
	// Each answer that comes while another is awaited comes from another broker: a connection
	// answers in order (the broker mutes it while it handles a request), and an answer that
	// overtook an earlier one on its connection would break it (sender.overtaken).
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	w.handle = func(to int32, msg any) {
		w.latency = ms
		c.handle(to, msg)
		if c.produceN == 2 && c.leaders[0] == 1 { // 102 is appended: broker 2 takes over
			c.leaders[0], c.epochs[0] = 2, 2
		}
	}
	sb := &seqBroker{c: c, ackDelay: time.Second, epoch: map[int64]int16{}, lastSeq: map[int64]int32{}}
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		if n == 1 {
			// Refused before append, and answered after the producer learnt of broker 2.
			w.latency = 50 * ms
			return produceAction{err: protocol.NOT_ENOUGH_REPLICAS}
		}
		return produceAction{err: sb.check(pp.Batch)}
	}
	// metadata.max.age.ms of 20ms: the producer learns of each leader within about 100ms
	// (retry.backoff.ms spaces the refreshes, KIP-580).
	startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "metadata.max.age.ms", "20"), 0)
	w.input(&SendRecords{Count: 2})
	w.runUntil(950 * ms)
	c.leaders[0], c.epochs[0] = 3, 3
	w.runUntil(1100 * ms)
	w.input(&SendRecords{Count: 1})
	w.runUntil(10 * time.Second)
	for _, op := range w.ops() {
		if op.Outcome != history.OK {
			t.Errorf("op %v: got %s %s; want ok", op.Values, op.Outcome, op.Error)
		}
	}
	if got := c.values(0); !equal(got, []int64{102, 101, 103}) {
		t.Errorf("log = %v; want [102 101 103]", got)
	}
	var sent []string
	for _, s := range w.produces() {
		b := s.msg.(*protocol.ProduceRequest).Partitions[0].Batch
		sent = append(sent, fmt.Sprintf("e%d/s%d>%d", b.ProducerEpoch, b.BaseSequence, s.to))
	}
	if want := "e0/s0>1 e0/s1>1 e0/s0>2 e1/s0>2 e1/s2>3 e2/s1>3 e3/s0>3"; strings.Join(sent, " ") != want {
		t.Errorf("batches sent (epoch/sequence>broker) = %v; want %s", sent, want)
	}
	if len(w.closed) != 0 {
		t.Errorf("connections closed to %v; want none (every connection answered in order)", w.closed)
	}
}

func TestBatchThatOvertookARefusedOneWaitsForIt_KAFKA15591(t *testing.T) {
	// Reference: KAFKA-15591 (ProducerAppendInfo.checkSequence) with TransactionManager.canRetry.
	// Record 101's first attempt is refused before append (a leader that lost leadership); 102,
	// behind it, reaches the leader first. A never-written log takes only sequence 0 from a
	// producer it has no state for, so 102 is out of order; it is not the next sequence after
	// the last acknowledged one, so it keeps its sequence (no epoch bump) and is retried once 101
	// is in. Before KAFKA-15591 the leader appended 102 and 101 was lost: out of order from then
	// on, and never the next sequence, it was retried until delivery.timeout.ms (its outcome
	// unknown: with acks=all a NOT_LEADER_OR_FOLLOWER may follow an append, KAFKA-13574).
	for _, tt := range []struct {
		name         string
		firstSeqZero bool
		log          []int64
		sent         string
		outcomes     string
	}{
		{"KAFKA-15591", true, []int64{101, 102}, "e0/s0 e0/s1 e0/s0 e0/s1", "ok ok"},
		{"before", false, []int64{102}, "e0/s0 e0/s1 e0/s0", "ok unknown"}, // 102 acknowledged, 101 expired
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			c := newFakeCluster(w, 1, 1)
			sb := &seqBroker{c: c, ackDelay: ms, firstSeqZero: tt.firstSeqZero, epoch: map[int64]int16{}, lastSeq: map[int64]int32{}}
			c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
				if n == 1 {
					return produceAction{err: protocol.NOT_LEADER_OR_FOLLOWER}
				}
				return produceAction{err: sb.check(pp.Batch)}
			}
			startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79", "request.timeout.ms", "1000", "delivery.timeout.ms", "5000"), 0)
			w.input(&SendRecords{Count: 2})
			w.runUntil(10 * time.Second)
			if got := c.values(0); !equal(got, tt.log) {
				t.Errorf("log = %v; want %v", got, tt.log)
			}
			var outs []string
			for _, op := range w.ops() {
				outs = append(outs, string(op.Outcome))
			}
			if got := strings.Join(outs, " "); got != tt.outcomes {
				t.Errorf("outcomes = %s; want %s", got, tt.outcomes)
			}
			if c.pidReqs != 1 {
				t.Errorf("got %d InitProducerId requests; want 1", c.pidReqs)
			}
			var sent []string
			for _, s := range w.produces() {
				b := s.msg.(*protocol.ProduceRequest).Partitions[0].Batch
				sent = append(sent, fmt.Sprintf("e%d/s%d", b.ProducerEpoch, b.BaseSequence))
			}
			if got := strings.Join(sent, " "); tt.sent != "" && !strings.HasPrefix(got, tt.sent) {
				t.Errorf("batches sent (epoch/sequence) = %s; want %s first", got, tt.sent)
			}
		})
	}
}

// NetworkClient.handleTimedOutRequests: a request unanswered within request.timeout.ms closes
// the connection to its broker (processTimeoutDisconnection), so that the broker, which handles
// one request of a connection at a time, never reads the requests pipelined behind it; the
// retry goes on a new connection.
func TestRequestTimeoutClosesTheConnection_NetworkClientProcessTimeoutDisconnection(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		return produceAction{drop: n == 1}
	}
	startProducer(t, w, producerConfig(t, "request.timeout.ms", "1000"), 0)
	w.input(&SendRecords{Count: 1})
	w.runUntil(5 * time.Second)
	if len(w.closed) != 1 || w.closed[0] != 1 {
		t.Errorf("connections closed: %v; want the one to broker 1, once", w.closed)
	}
	if ops := w.ops(); len(ops) != 1 || ops[0].Outcome != history.OK {
		t.Errorf("ops %v; want the record acknowledged after the retry", ops)
	}
}

// Reference: NetworkClient pairs each answer with the oldest request in flight on its
// connection (InFlightRequests.completeNext; CorrelationIdMismatchException otherwise), and the
// broker answers a connection's requests in order. An answer that overtakes an earlier one
// means the earlier was lost, which a TCP connection allows only by breaking: the producer
// closes the connection and retries everything that was in flight on it at once, under the
// same sequences, which the leader deduplicates. Taking the later answer let the partition's
// acknowledged sequence pass the lost one, whose retry after request.timeout.ms the leader,
// holding only its last five batches, could then no longer match (nemesis seed 98 of the safe
// configuration in ZooKeeper mode: a duplicate).
func TestAnswerOvertakingAnEarlierOneBreaksTheConnection_InFlightRequestsCompleteNext(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.onProduce = func(n int, pp protocol.ProducePartition) produceAction {
		return produceAction{drop: n == 1} // appended; the answer is lost
	}
	startProducer(t, w, producerConfig(t, "linger.ms", "0", "batch.size", "79"), 0)
	w.input(&SendRecords{Count: 2})
	w.runUntil(time.Second) // request.timeout.ms is 30s
	if len(w.closed) != 1 || w.closed[0] != 1 {
		t.Errorf("connections closed: %v; want the one to broker 1, once", w.closed)
	}
	var sent []string
	for _, s := range w.produces() {
		b := s.msg.(*protocol.ProduceRequest).Partitions[0].Batch
		sent = append(sent, fmt.Sprintf("e%d/s%d", b.ProducerEpoch, b.BaseSequence))
	}
	if want := "e0/s0 e0/s1 e0/s0 e0/s1"; strings.Join(sent, " ") != want {
		t.Errorf("batches sent (epoch/sequence) = %v; want %s (both retried, sequences kept)", sent, want)
	}
	if got := c.values(0); !equal(got, []int64{101, 102}) {
		t.Errorf("log = %v; want [101 102], each once", got)
	}
	ops := w.ops()
	if len(ops) != 2 {
		t.Fatalf("%d ops completed within a second; want 2", len(ops))
	}
	for i, op := range ops {
		if op.Outcome != history.OK || len(op.Offsets) != 1 || op.Offsets[0] != int64(i) {
			t.Errorf("op %v: %s at %v; want ok at offset %d (the retry deduplicated)", op.Values, op.Outcome, op.Offsets, i)
		}
	}
}
