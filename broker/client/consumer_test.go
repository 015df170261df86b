package client

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

func consumerConfig(t *testing.T, kv ...string) config.Consumer {
	t.Helper()
	c := config.DefaultConsumer()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := c.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func startConsumer(t *testing.T, w *world, cfg config.Consumer) *Consumer {
	t.Helper()
	c := NewConsumer(ConsumerOptions{Name: "c1", Topic: "t", Config: cfg, Bootstrap: []int32{1}}, w.env(), w.now)
	w.node = c
	return c
}

// batch builds a stamped batch of values at base in epoch.
func batch(base int64, epoch int32, values ...int64) *protocol.RecordBatch {
	b := &protocol.RecordBatch{BaseOffset: base, PartitionLeaderEpoch: epoch, ProducerID: -1, BaseSequence: -1}
	for _, v := range values {
		b.Records = append(b.Records, protocol.Record{Value: v})
	}
	return b
}

func polls(w *world) []*history.Op {
	var out []*history.Op
	for _, op := range w.ops() {
		if op.Type == history.Poll {
			out = append(out, op)
		}
	}
	return out
}

func TestConsumerStartsPerAutoOffsetResetAndSkipsBelowPosition(t *testing.T) {
	// A fetch returns whole batches; records below the position are skipped (Java's
	// CompletedFetch.nextFetchedRecord).
	for _, tc := range []struct {
		name       string
		reset      string
		listAt     int64 // what ListOffsets answers (-1: the fake's default)
		wantValues []int64
		wantOffs   []int64
	}{
		{"earliest", "earliest", -1, []int64{10, 11, 12, 13, 14}, []int64{0, 1, 2, 3, 4}},
		{"mid-batch position", "latest", 3, []int64{13, 14}, []int64{3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			fc := newFakeCluster(w, 1, 1)
			fc.logs[0] = []*protocol.RecordBatch{batch(0, 1, 10, 11, 12, 13, 14)}
			if tc.listAt >= 0 {
				fc.listAt = func(protocol.TopicPartition, int64) (int64, protocol.ErrorCode) { return tc.listAt, protocol.NONE }
			}
			c := startConsumer(t, w, consumerConfig(t, "auto.offset.reset", tc.reset))
			w.runUntil(100 * ms)
			ps := polls(w)
			if len(ps) != 1 {
				t.Fatalf("got %d polls; want 1", len(ps))
			}
			if !equal(ps[0].Values, tc.wantValues) || !equal(ps[0].Offsets, tc.wantOffs) {
				t.Errorf("poll got values %v offsets %v; want %v %v", ps[0].Values, ps[0].Offsets, tc.wantValues, tc.wantOffs)
			}
			tp := protocol.TopicPartition{Topic: "t", Partition: 0}
			if got := c.Positions()[tp]; got != 5 {
				t.Errorf("position = %d; want 5", got)
			}
			if !c.CaughtUp() {
				t.Errorf("CaughtUp() = false; want true at HW 5")
			}
		})
	}
}

func TestConsumerPositionUnknownUntilListOffsetsAnswers(t *testing.T) {
	// Reference: KIP-207: OFFSET_NOT_AVAILABLE while the new leader's HW lags; retry later.
	w := newWorld(t)
	fc := newFakeCluster(w, 2, 1)
	calls := 0
	fc.listAt = func(tp protocol.TopicPartition, ts int64) (int64, protocol.ErrorCode) {
		calls++
		if tp.Partition == 1 && calls < 4 {
			return -1, protocol.OFFSET_NOT_AVAILABLE
		}
		return 0, protocol.NONE
	}
	c := startConsumer(t, w, consumerConfig(t))
	w.runUntil(20 * ms)
	pos := c.Positions()
	if p0, p1 := pos[protocol.TopicPartition{Topic: "t", Partition: 0}], pos[protocol.TopicPartition{Topic: "t", Partition: 1}]; p0 != 0 || p1 != -1 {
		t.Fatalf("positions = %d, %d; want 0, -1 while partition 1 answers OFFSET_NOT_AVAILABLE", p0, p1)
	}
	if c.CaughtUp() {
		t.Errorf("CaughtUp() = true with an unknown position; want false")
	}
	w.runUntil(time.Second)
	if p1 := c.Positions()[protocol.TopicPartition{Topic: "t", Partition: 1}]; p1 != 0 {
		t.Errorf("position of partition 1 = %d; want 0 after the retry", p1)
	}
}

func TestConsumerDetectsTruncationWithOffsetForLeaderEpoch(t *testing.T) {
	// Reference: KIP-320, KAFKA-7747 (unclean election after ISR collapse): the consumer read offsets 0..4 in epoch 1; an
	// unclean election makes broker 2 leader in epoch 2 with a log ending at 3 for epoch 1.
	// The consumer validates, observes the truncation, seeks to 3 and reads the new records.
	w := newWorld(t)
	fc := newFakeCluster(w, 1, 1)
	fc.logs[0] = []*protocol.RecordBatch{batch(0, 1, 10, 11, 12, 13, 14)}
	var asked []int32
	fc.epochEnd = func(tp protocol.TopicPartition, epoch int32) protocol.OffsetForLeaderEpochPartitionResponse {
		asked = append(asked, epoch)
		return protocol.OffsetForLeaderEpochPartitionResponse{TP: tp, LeaderEpoch: 1, EndOffset: 3}
	}
	c := startConsumer(t, w, consumerConfig(t, "auto.offset.reset", "earliest"))
	w.runUntil(100 * ms)
	if n := len(polls(w)); n != 1 {
		t.Fatalf("got %d polls before the election; want 1", n)
	}
	// Unclean election: broker 2 leads epoch 2 with offsets 0..2 of epoch 1, then new records.
	fc.leaders[0], fc.epochs[0] = 2, 2
	fc.logs[0] = []*protocol.RecordBatch{batch(0, 1, 10, 11, 12), batch(3, 2, 20, 21, 22)}
	w.runUntil(2 * time.Second)

	var td []*TruncationDetected
	for _, ev := range w.observed {
		if x, ok := ev.(*TruncationDetected); ok {
			td = append(td, x)
		}
	}
	want := TruncationDetected{Client: "c1", TP: protocol.TopicPartition{Topic: "t", Partition: 0}, Position: 5, EndOffset: 3}
	if len(td) != 1 || *td[0] != want {
		t.Fatalf("got truncations %v; want [%+v]", td, want)
	}
	if len(asked) != 1 || asked[0] != 1 {
		t.Errorf("OffsetForLeaderEpoch asked for epochs %v; want [1] (the last consumed record's)", asked)
	}
	ps := polls(w)
	if len(ps) != 2 || !equal(ps[1].Values, []int64{20, 21, 22}) || !equal(ps[1].Offsets, []int64{3, 4, 5}) {
		t.Fatalf("got polls %v; want a second poll of 20,21,22 at 3..5", ps)
	}
	if s := c.Stats(); s.TruncationsDetected != 1 || s.Consumed != 8 || s.Polls != 2 {
		t.Errorf("stats = %+v; want 1 truncation, 8 consumed, 2 polls", s)
	}
}

func TestConsumerValidationWithoutTruncationKeepsPosition(t *testing.T) {
	// A clean leader change: the end offset of the consumed epoch is ≥ the position.
	w := newWorld(t)
	fc := newFakeCluster(w, 1, 1)
	fc.logs[0] = []*protocol.RecordBatch{batch(0, 1, 10, 11)}
	fc.epochEnd = func(tp protocol.TopicPartition, epoch int32) protocol.OffsetForLeaderEpochPartitionResponse {
		return protocol.OffsetForLeaderEpochPartitionResponse{TP: tp, LeaderEpoch: 1, EndOffset: 2}
	}
	c := startConsumer(t, w, consumerConfig(t, "auto.offset.reset", "earliest"))
	w.runUntil(100 * ms)
	fc.leaders[0], fc.epochs[0] = 3, 2
	fc.logs[0] = append(fc.logs[0], batch(2, 2, 12))
	w.runUntil(2 * time.Second)
	if s := c.Stats(); s.TruncationsDetected != 0 || s.Consumed != 3 {
		t.Errorf("stats = %+v; want no truncation and 3 consumed", s)
	}
}

func TestConsumerResetsOnOffsetOutOfRange(t *testing.T) {
	w := newWorld(t)
	fc := newFakeCluster(w, 1, 1)
	fc.logs[0] = []*protocol.RecordBatch{batch(0, 1, 10, 11, 12)}
	c := startConsumer(t, w, consumerConfig(t, "auto.offset.reset", "latest"))
	w.runUntil(100 * ms)
	// Retention-like shrink: the log restarts below the consumer's position.
	fc.logs[0] = []*protocol.RecordBatch{batch(0, 1, 30)}
	w.runUntil(2 * time.Second)
	if s := c.Stats(); s.Resets != 1 {
		t.Errorf("Resets = %d; want 1", s.Resets)
	}
	if got := c.Positions()[protocol.TopicPartition{Topic: "t", Partition: 0}]; got != 1 {
		t.Errorf("position = %d; want 1 (latest after the reset)", got)
	}
}

// walksAtTicks steps the consumer and counts its timeout ticks and the walks over every
// partition they made.
type walksAtTicks struct {
	c            *Consumer
	ticks, walks int
}

func (s *walksAtTicks) Step(now time.Duration, from int32, msg any) {
	n := s.c.walks
	s.c.Step(now, from, msg)
	if _, ok := msg.(timeoutTick); ok {
		s.ticks++
		s.walks += s.c.walks - n
	}
}

func TestConsumerAnsweredRequestDeadlineKeepsPartitionsParked(t *testing.T) {
	// Every request's deadline stays in the consumer's timeouts after its answer; when it comes
	// due (request.timeout.ms after the send) it times nothing out, and the walk after it passes
	// over the parked partitions instead of visiting every one (a consumer of 30,000 partitions
	// walked them all at each fetch's deadline). verifyParked checks each such walk.
	w := newWorld(t)
	newFakeCluster(w, 4, 1)
	c := startConsumer(t, w, consumerConfig(t, "request.timeout.ms", "2000", "fetch.max.wait.ms", "500"))
	s := &walksAtTicks{c: c}
	w.node = s
	w.runUntil(10 * time.Second)
	if len(w.closed) != 0 {
		t.Fatalf("the consumer closed connections %v; want none (every request answered)", w.closed)
	}
	if s.ticks == 0 {
		t.Fatal("no timeout tick in 10s; want the deadlines of the answered fetches")
	}
	if s.walks != 0 {
		t.Errorf("%d of %d timeout ticks of answered requests walked every partition; want none", s.walks, s.ticks)
	}
}

// A group member's timeouts: the deadline of a request answered long since (a correlation id
// neither the consumer nor its group has in flight) changes nothing and leaves the parked
// partitions parked; the deadline of a group request still in flight times it out.
func TestGroupMemberAnsweredRequestDeadlineChangesNothing(t *testing.T) {
	w := newWorld(t)
	cfg := config.DefaultConsumer()
	cfg.Group = "g1"
	fc := newFakeCluster(w, 2, 1)
	w.handle = func(to int32, msg any) {
		if _, ok := msg.(*protocol.FindCoordinatorRequest); !ok {
			fc.handle(to, msg)
		} // no answer: the FindCoordinator stays in flight
	}
	c := startConsumer(t, w, cfg)
	w.runUntil(100 * time.Millisecond)
	var find int64
	for _, s := range w.sent {
		if m, ok := s.msg.(*protocol.FindCoordinatorRequest); ok {
			find = m.CorrelationID
		}
	}
	if find == 0 {
		t.Fatal("no FindCoordinator sent")
	}
	if c.onRequestTimeout(find + 1000) {
		t.Error("the deadline of a request no one has in flight changed the consumer's state; want nothing changed")
	}
	if !c.onRequestTimeout(find) {
		t.Error("the deadline of the FindCoordinator in flight timed nothing out; want it timed out")
	}
}
