package log

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

var nextValue int64

// plain is a non-idempotent producer batch of n records.
// plain is a producer's batch of n records, encoded as a producer does with values padded to
// 8 bytes, so batches of the same count have the same size in bytes.
func plain(n int) *protocol.RecordBatch { return encoded(unencoded(n)) }

func unencoded(n int) *protocol.RecordBatch {
	b := &protocol.RecordBatch{ProducerID: protocol.NoProducerID, ProducerEpoch: -1, BaseSequence: protocol.NoSequence, PartitionLeaderEpoch: -1}
	for i := 0; i < n; i++ {
		nextValue++
		b.Records = append(b.Records, protocol.Record{Key: "k", Value: nextValue})
	}
	return b
}

// encoded gives b its bytes as the producer's sender does.
func encoded(b *protocol.RecordBatch) *protocol.RecordBatch {
	bs, err := record.Encode(b, record.Options{ValueBytes: 8})
	if err != nil {
		panic(err)
	}
	b.Bytes = bs
	return b
}

// idem is an idempotent producer batch of n records.
func idem(pid int64, epoch int16, seq int32, n int) *protocol.RecordBatch {
	b := unencoded(n)
	b.ProducerID, b.ProducerEpoch, b.BaseSequence = pid, epoch, seq
	return encoded(b)
}

func openLog(t testing.TB, d *fakeDisk, cfg config.Topic) *Log {
	t.Helper()
	return Open(d, "orders-0", cfg, 0)
}

func mustAppend(t testing.TB, l *Log, b *protocol.RecordBatch, epoch int32, now time.Duration) *protocol.RecordBatch {
	t.Helper()
	s, _, dup, err := l.AppendAsLeader(b, epoch, now)
	if err != protocol.NONE || dup {
		t.Fatalf("AppendAsLeader: got (dup=%v, %v); want (false, NONE)", dup, err)
	}
	return s
}

func offsets(bs []*protocol.RecordBatch) [][2]int64 {
	out := [][2]int64{}
	for _, b := range bs {
		out = append(out, [2]int64{b.BaseOffset, b.NextOffset()})
	}
	return out
}

func TestAppendAsLeaderStampsOffsetsAndEpoch(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	if got := l.LogEndOffset(); got != 0 {
		t.Fatalf("LEO of a new log: got %d; want 0", got)
	}
	in := plain(3)
	in.BaseOffset = 77 // ignored
	s := mustAppend(t, l, in, 4, time.Second)
	if s == in || in.BaseOffset != 77 {
		t.Fatalf("AppendAsLeader modified the producer's batch")
	}
	if s.BaseOffset != 0 || s.PartitionLeaderEpoch != 4 || s.MaxTimestamp != time.Second {
		t.Fatalf("stamped batch: got (base %d, epoch %d, ts %v); want (0, 4, 1s)", s.BaseOffset, s.PartitionLeaderEpoch, s.MaxTimestamp)
	}
	s2 := mustAppend(t, l, plain(2), 4, 2*time.Second)
	if s2.BaseOffset != 3 || l.LogEndOffset() != 5 {
		t.Fatalf("second append: got base %d LEO %d; want base 3 LEO 5", s2.BaseOffset, l.LogEndOffset())
	}
	if got, want := l.EpochEntries(), []EpochEntry{{4, 0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("epoch cache: got %v; want %v", got, want)
	}
	if got := l.LastBatchEpoch(); got != 4 {
		t.Fatalf("LastBatchEpoch: got %d; want 4", got)
	}
	for _, c := range []struct {
		name string
		bad  *protocol.RecordBatch
	}{{"nil", nil}, {"empty", &protocol.RecordBatch{ProducerID: -1, BaseSequence: -1}}} {
		if _, _, _, err := l.AppendAsLeader(c.bad, 4, 0); err != protocol.INVALID_REQUEST {
			t.Errorf("%s batch: got %v; want INVALID_REQUEST", c.name, err)
		}
	}
}

func TestRead(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	for _, n := range []int{3, 2, 4, 1} { // [0,3) [3,5) [5,9) [9,10)
		mustAppend(t, l, plain(n), 0, 0)
	}
	size := l.Batches()[0].SizeBytes() // batches of 1..4 records: sizes differ; use the first
	tests := []struct {
		name            string
		from, maxOffset int64
		maxBytes        int
		want            [][2]int64
	}{
		{"all", 0, 10, 1 << 20, [][2]int64{{0, 3}, {3, 5}, {5, 9}, {9, 10}}},
		{"mid-batch start returns the whole batch", 4, 10, 1 << 20, [][2]int64{{3, 5}, {5, 9}, {9, 10}}},
		{"maxOffset is the high watermark", 0, 5, 1 << 20, [][2]int64{{0, 3}, {3, 5}}},
		{"maxOffset mid-batch keeps the batch", 0, 6, 1 << 20, [][2]int64{{0, 3}, {3, 5}, {5, 9}}},
		{"nothing below maxOffset", 5, 5, 1 << 20, [][2]int64{}},
		{"at least one batch", 0, 10, 1, [][2]int64{{0, 3}}},
		{"up to maxBytes", 0, 10, int(size) + 1, [][2]int64{{0, 3}}},
		{"maxBytes fits two", 0, 10, int(size + l.Batches()[1].SizeBytes()), [][2]int64{{0, 3}, {3, 5}}},
		{"at the LEO", 10, 20, 1 << 20, [][2]int64{}},
		{"beyond the LEO", 11, 20, 1 << 20, [][2]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := offsets(l.Read(tt.from, tt.maxOffset, tt.maxBytes)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Read(%d, %d, %d): got %v; want %v", tt.from, tt.maxOffset, tt.maxBytes, got, tt.want)
			}
		})
	}
	if b := l.BatchAt(6); b == nil || b.BaseOffset != 5 {
		t.Errorf("BatchAt(6): got %v; want the batch at 5", b)
	}
	if b := l.BatchAt(10); b != nil {
		t.Errorf("BatchAt(LEO): got batch at %d; want nil", b.BaseOffset)
	}
}

func TestReadViewSurvivesTruncationAndAppends(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	for i := 0; i < 4; i++ {
		mustAppend(t, l, plain(1), 0, 0)
	}
	view := l.Read(0, 4, 1<<20)
	before := append([]*protocol.RecordBatch(nil), view...)
	l.TruncateTo(2)
	mustAppend(t, l, plain(1), 1, 0)
	mustAppend(t, l, plain(1), 1, 0)
	for i := range view {
		if view[i] != before[i] {
			t.Fatalf("Read view changed at %d after truncation and appends: got epoch %d; want epoch %d", i, view[i].PartitionLeaderEpoch, before[i].PartitionLeaderEpoch)
		}
	}
	_ = append(view, plain(1)) // a caller appending to a view must not write into the log
	if got := l.Batches()[2].PartitionLeaderEpoch; got != 1 {
		t.Fatalf("log batch 2 after a caller appended to a view: got epoch %d; want 1", got)
	}
}

func TestSegmentRollBySegmentBytes(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	one := plain(1).SizeBytes()
	cfg.SegmentBytes = 3 * one
	l := openLog(t, d, cfg)
	for i := 0; i < 7; i++ {
		mustAppend(t, l, plain(1), 0, 0)
	}
	want := []SegmentInfo{
		{BaseOffset: 0, NextOffset: 3, SizeBytes: 3 * one, Batches: 3},
		{BaseOffset: 3, NextOffset: 6, SizeBytes: 3 * one, Batches: 3},
		{BaseOffset: 6, NextOffset: 7, SizeBytes: one, Batches: 1},
	}
	if got := l.Segments(); !reflect.DeepEqual(got, want) {
		t.Fatalf("segments: got %+v; want %+v", got, want)
	}
	// Rolled segments are flushed, the active one is not (flush.messages defaults to never).
	for _, c := range []struct {
		file string
		want int
	}{{"orders-0/00000000000000000000.log", 3}, {"orders-0/00000000000000000003.log", 3}, {"orders-0/00000000000000000006.log", 0}} {
		if got := d.durableLen(c.file); got != c.want {
			t.Errorf("durable entries of %s: got %d; want %d", c.file, got, c.want)
		}
	}
	if got := l.UnflushedMessages(); got != 1 {
		t.Errorf("UnflushedMessages: got %d; want 1", got)
	}
}

func TestSegmentRollBySegmentMs(t *testing.T) {
	cfg := config.DefaultTopic()
	cfg.SegmentRoll = time.Minute
	l := openLog(t, newFakeDisk(), cfg)
	for _, now := range []time.Duration{0, 30 * time.Second, 59 * time.Second, time.Minute, 90 * time.Second, 2 * time.Minute} {
		mustAppend(t, l, plain(1), 0, now)
	}
	// Rolls when now − first append ≥ segment.ms: at 1m (segment of 0s) and 2m (segment of 1m).
	var got [][2]int64
	for _, s := range l.Segments() {
		got = append(got, [2]int64{s.BaseOffset, s.NextOffset})
	}
	if want := [][2]int64{{0, 3}, {3, 5}, {5, 6}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("segments: got %v; want %v", got, want)
	}
}

// rollEvery makes a log with one batch of one record per segment, at times 0, 1m, 2m, ….
func rollEvery(t *testing.T, d *fakeDisk, cfg config.Topic, n int) *Log {
	t.Helper()
	cfg.SegmentBytes = plain(1).SizeBytes()
	l := openLog(t, d, cfg)
	for i := 0; i < n; i++ {
		mustAppend(t, l, plain(1), int32(i), time.Duration(i)*time.Minute)
	}
	return l
}

func TestRetentionMsDeletesOldSegmentsBelowHighWatermark(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	cfg.Retention = 150 * time.Second
	l := rollEvery(t, d, cfg, 6) // segments at offsets 0..5, timestamps 0..5 min
	now := 5 * time.Minute
	// Segments 0, 1, 2 (timestamps 0, 1m, 2m) are older than 2.5m at now=5m; the HW lets only
	// segments whose next offset ≤ 2 go.
	if got := l.DeleteOldSegments(now, 2); got != 2 {
		t.Fatalf("deleted below HW 2: got %d; want 2", got)
	}
	if got := l.LogStartOffset(); got != 2 {
		t.Fatalf("log start: got %d; want 2", got)
	}
	if got := l.DeleteOldSegments(now, 6); got != 1 {
		t.Fatalf("deleted below HW 6: got %d; want 1", got)
	}
	if got, want := l.LogStartOffset(), int64(3); got != want {
		t.Fatalf("log start: got %d; want %d", got, want)
	}
	if _, ok := d.files["orders-0/00000000000000000002.log"]; ok {
		t.Errorf("segment file 2 still on disk after deletion")
	}
	// truncateFromStart keeps the epoch in force at the log start.
	if got, want := l.EpochEntries(), []EpochEntry{{3, 3}, {4, 4}, {5, 5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("epoch cache: got %v; want %v", got, want)
	}
	if got := l.Read(2, 6, 1<<20); got != nil {
		t.Errorf("Read below log start: got %v; want nil", offsets(got))
	}
	// The active segment is never deleted, however old.
	if got := l.DeleteOldSegments(time.Hour, 6); got != 2 {
		t.Fatalf("deleted at 1h: got %d; want 2 (all but the active segment)", got)
	}
	if got := len(l.Segments()); got != 1 {
		t.Errorf("segments left: got %d; want 1", got)
	}
	// The log start is checkpointed: a reopen keeps it.
	if got := openLog(t, d, cfg).LogStartOffset(); got != 5 {
		t.Errorf("log start after reopen: got %d; want 5", got)
	}
}

func TestRetentionBytes(t *testing.T) {
	cfg := config.DefaultTopic()
	one := plain(1).SizeBytes()
	cfg.RetentionBytes = 2*one + 1 // keep the segments that fit, plus what exceeds by less than one
	l := rollEvery(t, newFakeDisk(), cfg, 5)
	if got := l.DeleteOldSegments(0, 1); got != 1 {
		t.Fatalf("deleted below HW 1: got %d; want 1", got)
	}
	if got := l.DeleteOldSegments(0, 5); got != 1 {
		t.Fatalf("deleted below HW 5: got %d; want 1", got)
	}
	if got, want := l.SizeBytes(), 3*one; got != want {
		t.Fatalf("size after retention.bytes: got %d; want %d", got, want)
	}
	// 3 segments of `one`: deleting one more would leave 2*one < 2*one+1.
	if got := l.DeleteOldSegments(0, 5); got != 0 {
		t.Fatalf("second pass: got %d deleted; want 0", got)
	}
}

func TestFlushMessages(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	cfg.FlushMessages = 3
	l := openLog(t, d, cfg)
	file := "orders-0/00000000000000000000.log"
	mustAppend(t, l, plain(1), 0, 0)
	mustAppend(t, l, plain(1), 0, 0)
	if got := d.durableLen(file); got != 0 {
		t.Fatalf("durable after 2 messages: got %d; want 0", got)
	}
	mustAppend(t, l, plain(1), 0, 0)
	if got := d.durableLen(file); got != 3 {
		t.Fatalf("durable after 3 messages: got %d; want 3", got)
	}
	if got := l.UnflushedMessages(); got != 0 {
		t.Fatalf("UnflushedMessages: got %d; want 0", got)
	}
}

func TestFlushMs(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	cfg.FlushInterval = time.Second
	l := openLog(t, d, cfg)
	mustAppend(t, l, plain(1), 0, 500*time.Millisecond)
	if l.MaybeFlush(900 * time.Millisecond) {
		t.Fatalf("MaybeFlush at 0.9s: got flushed; want not yet")
	}
	if !l.MaybeFlush(time.Second) {
		t.Fatalf("MaybeFlush at 1s: got not flushed; want flushed")
	}
	if got := d.durableLen("orders-0/00000000000000000000.log"); got != 1 {
		t.Fatalf("durable entries: got %d; want 1", got)
	}
}

func TestAppendAsFollower(t *testing.T) {
	leader := openLog(t, newFakeDisk(), config.DefaultTopic())
	for _, e := range []int32{1, 1, 3} {
		mustAppend(t, leader, plain(2), e, 0)
	}
	bs := leader.Batches() // [0,2)e1 [2,4)e1 [4,6)e3
	f := openLog(t, newFakeDisk(), config.DefaultTopic())
	if err := f.AppendAsFollower(bs[:2], 0); err != nil {
		t.Fatalf("AppendAsFollower: %v", err)
	}
	// A re-sent batch below the LEO is skipped.
	if err := f.AppendAsFollower(bs[1:], 0); err != nil {
		t.Fatalf("AppendAsFollower overlapping: %v", err)
	}
	if got := f.LogEndOffset(); got != 6 {
		t.Fatalf("follower LEO: got %d; want 6", got)
	}
	if got, want := f.EpochEntries(), []EpochEntry{{1, 0}, {3, 4}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("follower epoch cache: got %v; want %v", got, want)
	}
	// A gap is refused and nothing is appended.
	mustAppend(t, leader, plain(1), 3, 0)
	mustAppend(t, leader, plain(1), 3, 0)
	all := leader.Batches()
	if err := f.AppendAsFollower(all[4:], 0); !errors.Is(err, ErrOffsetGap) {
		t.Fatalf("gap: got %v; want ErrOffsetGap", err)
	}
	if err := f.AppendAsFollower([]*protocol.RecordBatch{all[3], nil}, 0); !errors.Is(err, ErrInvalidBatch) {
		t.Fatalf("nil batch: got %v; want ErrInvalidBatch", err)
	}
	if got := f.LogEndOffset(); got != 6 {
		t.Fatalf("follower LEO after refused appends: got %d; want 6", got)
	}
}

func TestTruncateTo(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	cfg.SegmentBytes = 2 * plain(2).SizeBytes()
	l := openLog(t, d, cfg)
	for _, e := range []int32{1, 1, 2, 2, 3} { // batches of 2: [0,2)e1 [2,4)e1 | [4,6)e2 [6,8)e2 | [8,10)e3
		mustAppend(t, l, plain(2), e, 0)
	}
	l.AssignEpochStartOffset(4, 10) // makeLeader in epoch 4 at the LEO
	l.TruncateTo(10)                // no-op at the LEO
	if got := len(l.EpochEntries()); got != 4 {
		t.Fatalf("TruncateTo(LEO) changed the epoch cache: got %d entries; want 4", got)
	}
	l.TruncateTo(7) // mid-batch: the batch [6,8) goes too
	if got := l.LogEndOffset(); got != 6 {
		t.Fatalf("LEO after TruncateTo(7): got %d; want 6", got)
	}
	if got, want := l.EpochEntries(), []EpochEntry{{1, 0}, {2, 4}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("epoch cache: got %v; want %v", got, want)
	}
	var segs [][2]int64
	for _, s := range l.Segments() {
		segs = append(segs, [2]int64{s.BaseOffset, s.NextOffset})
	}
	if want := [][2]int64{{0, 4}, {4, 6}}; !reflect.DeepEqual(segs, want) {
		t.Fatalf("segments: got %v; want %v", segs, want)
	}
	if _, ok := d.files["orders-0/00000000000000000008.log"]; ok {
		t.Fatalf("segment 8 still on disk")
	}
	// The truncation is durable: a crash does not bring [6,8) back.
	// Segment 0 was flushed on roll, segment 4 by the truncation: [4,6) survives, [6,8) does not.
	d.Crash()
	l = openLog(t, d, cfg)
	if got := l.LogEndOffset(); got != 6 {
		t.Fatalf("LEO after crash: got %d; want 6", got)
	}
	l.TruncateTo(4) // at a segment boundary: segment 4 stays, empty
	mustAppend(t, l, plain(1), 5, 0)
	if got, want := offsets(l.Batches()), [][2]int64{{0, 2}, {2, 4}, {4, 5}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("batches: got %v; want %v", got, want)
	}
}

func TestTruncateFullyAndStartAt(t *testing.T) {
	d := newFakeDisk()
	l := openLog(t, d, config.DefaultTopic())
	mustAppend(t, l, idem(7, 0, 0, 3), 1, 0)
	l.TruncateFullyAndStartAt(100)
	if l.LogStartOffset() != 100 || l.LogEndOffset() != 100 || len(l.Batches()) != 0 || len(l.EpochEntries()) != 0 {
		t.Fatalf("after TruncateFullyAndStartAt(100): got start %d LEO %d batches %d epochs %v; want 100 100 0 []",
			l.LogStartOffset(), l.LogEndOffset(), len(l.Batches()), l.EpochEntries())
	}
	if _, _, ok := l.ProducerLastSequence(7); ok {
		t.Fatalf("producer state survived TruncateFullyAndStartAt")
	}
	if err := l.AppendAsFollower([]*protocol.RecordBatch{plain(2).Stamp(100, 2, 0)}, 0); err != nil {
		t.Fatalf("AppendAsFollower at 100: %v", err)
	}
	d.Crash() // the appended batch was never flushed
	r := openLog(t, d, config.DefaultTopic())
	if r.LogStartOffset() != 100 || r.LogEndOffset() != 100 {
		t.Fatalf("after crash and reopen: got start %d LEO %d; want 100 100", r.LogStartOffset(), r.LogEndOffset())
	}
	if got := r.EpochEntries(); len(got) != 0 {
		t.Fatalf("epoch cache after reopen: got %v; want empty (truncated to the LEO)", got)
	}
}

// Reference: KIP-101 / LogLoader. A broker that loses its page cache in a power failure comes
// back with what was flushed only: the LEO, an epoch cache truncated to the LEO (the epoch
// assigned at makeLeader beyond it is dropped) and the producer state of the surviving batches.
func TestReopenAfterCrashLosesUnflushedWrites(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	l := openLog(t, d, cfg)
	l.AssignEpochStartOffset(1, 0)
	mustAppend(t, l, idem(9, 0, 0, 2), 1, 0) // [0,2)
	mustAppend(t, l, idem(9, 0, 2, 2), 1, 0) // [2,4)
	l.Flush()
	l.AssignEpochStartOffset(2, 4)
	mustAppend(t, l, idem(9, 0, 4, 2), 2, 0) // [4,6) lost below
	l.AssignEpochStartOffset(3, 6)           // checkpoint is fsynced: survives, beyond the durable LEO

	// A process kill keeps the page cache: every batch is still there. LogLoader's
	// truncateFromEnd(LEO) drops the epoch that starts at the LEO with no record behind it.
	k := openLog(t, d, cfg)
	if got := k.LogEndOffset(); got != 6 {
		t.Fatalf("LEO after kill: got %d; want 6", got)
	}
	if got, want := k.EpochEntries(), []EpochEntry{{1, 0}, {2, 4}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("epochs after kill: got %v; want %v", got, want)
	}

	d.Crash()
	r := openLog(t, d, cfg)
	if got := r.LogEndOffset(); got != 4 {
		t.Fatalf("LEO after crash: got %d; want 4", got)
	}
	if got, want := r.EpochEntries(), []EpochEntry{{1, 0}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("epochs after crash: got %v; want %v", got, want)
	}
	if got := d.durableLen(r.epochFile); got != 1 {
		t.Fatalf("checkpointed epochs after reopen: got %d entries; want 1", got)
	}
	if ep, seq, ok := r.ProducerLastSequence(9); !ok || ep != 0 || seq != 3 {
		t.Fatalf("producer 9 after crash: got (%d, %d, %v); want (0, 3, true)", ep, seq, ok)
	}
	// The retry of the surviving batch is a duplicate; the lost one is appended fresh.
	if _, off, dup, err := r.AppendAsLeader(idem(9, 0, 2, 2), 4, 0); !dup || off != 2 || err != protocol.NONE {
		t.Fatalf("retry of [2,4): got (off %d, dup %v, %v); want (2, true, NONE)", off, dup, err)
	}
	if _, off, dup, err := r.AppendAsLeader(idem(9, 0, 4, 2), 4, 0); dup || off != 4 || err != protocol.NONE {
		t.Fatalf("retry of the lost batch: got (off %d, dup %v, %v); want (4, false, NONE)", off, dup, err)
	}
}

func TestReopenAfterCrashDropsSegmentsAfterAGap(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	cfg.SegmentBytes = plain(1).SizeBytes()
	l := openLog(t, d, cfg)
	for i := 0; i < 3; i++ {
		mustAppend(t, l, plain(1), 0, 0)
	}
	// Lose segment 1's content from the page cache as a disk fault might, keeping segment 2.
	d.files["orders-0/00000000000000000001.log"].cache = nil
	r := openLog(t, d, cfg)
	if got := r.LogEndOffset(); got != 1 {
		t.Fatalf("LEO: got %d; want 1", got)
	}
	if _, ok := d.files["orders-0/00000000000000000002.log"]; ok {
		t.Fatalf("segment after the gap still on disk")
	}
}

// Reference: LogSegment.recover re-assigns epochs from the batches it reads, so a lost
// leader-epoch checkpoint is rebuilt from the log (KIP-279 notes the weakness with compaction).
func TestReopenRebuildsEpochCacheFromBatches(t *testing.T) {
	d := newFakeDisk()
	cfg := config.DefaultTopic()
	l := openLog(t, d, cfg)
	for _, e := range []int32{2, 2, 5, 7} {
		mustAppend(t, l, plain(1), e, 0)
	}
	l.Flush()
	d.Remove(l.epochFile)
	d.Append("orders-0/notes.txt", "not a segment") // other files in the directory are left alone
	d.Append("orders-00/00000000000000000000.log", plain(1).Stamp(0, 9, 0))
	r := openLog(t, d, cfg)
	if got, want := r.EpochEntries(), []EpochEntry{{2, 0}, {5, 2}, {7, 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("epochs rebuilt: got %v; want %v", got, want)
	}
	if got := r.LatestEpoch(); got != 7 {
		t.Fatalf("LatestEpoch: got %d; want 7", got)
	}
	if got := r.Dir(); got != "orders-0" {
		t.Fatalf("Dir: got %q; want orders-0", got)
	}
	if _, ok := d.files["orders-0/notes.txt"]; !ok {
		t.Fatalf("a non-segment file was removed")
	}
}

func TestNewLogIsEmpty(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	if l.LogStartOffset() != 0 || l.LogEndOffset() != 0 || l.LatestEpoch() != -1 || l.LastBatchEpoch() != -1 || l.UnflushedMessages() != 0 {
		t.Fatalf("new log: got start %d LEO %d latest epoch %d last batch epoch %d unflushed %d; want 0 0 -1 -1 0",
			l.LogStartOffset(), l.LogEndOffset(), l.LatestEpoch(), l.LastBatchEpoch(), l.UnflushedMessages())
	}
	if got := l.Read(0, 10, 100); got != nil {
		t.Fatalf("Read on an empty log: got %v; want nil", offsets(got))
	}
	if e, off := l.EndOffsetForEpoch(0); e != -1 || off != -1 {
		t.Fatalf("EndOffsetForEpoch on an empty log: got (%d, %d); want (-1, -1)", e, off)
	}
}

func TestSetConfigAppliesToTheNextAppend(t *testing.T) {
	l := openLog(t, newFakeDisk(), config.DefaultTopic())
	mustAppend(t, l, plain(1), 0, 0)
	cfg := l.Config()
	cfg.SegmentBytes = 1
	l.SetConfig(cfg)
	mustAppend(t, l, plain(1), 0, 0)
	if got := len(l.Segments()); got != 2 {
		t.Fatalf("segments after lowering segment.bytes: got %d; want 2", got)
	}
}
