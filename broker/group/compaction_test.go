package group

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/log"
	"kafkasim/broker/protocol"
)

// memDisk is a disk that never loses a write: the cleaner's rewrites are what these tests read.
type memDisk map[string][]any

func (d memDisk) Append(f string, e any)                 { d[f] = append(d[f], e) }
func (d memDisk) Truncate(f string, n int)               { d[f] = d[f][:min(n, len(d[f]))] }
func (d memDisk) Read(f string) []any                    { return d[f] }
func (d memDisk) Len(f string) int                       { return len(d[f]) }
func (d memDisk) Write(f string, es []any)               { d[f] = slices.Clone(es) }
func (d memDisk) Flush(string)                           {}
func (d memDisk) Remove(f string)                        { delete(d, f) }
func (d memDisk) Files() []string                        { return slices.Sorted(maps.Keys(d)) }
func (h *logHost) Batches(int32) []*protocol.RecordBatch { return h.l.Batches() }

// logHost is a fake host whose partition of __consumer_offsets is a real compacted log: the
// coordinator's records are encoded as v2 batches and the log cleaner filters their bytes.
type logHost struct {
	fakeHost
	l *log.Log
}

func (h *logHost) Append(_ int32, recs []protocol.Record, now time.Duration) (int64, protocol.ErrorCode) {
	b := &protocol.RecordBatch{ProducerID: protocol.NoProducerID, ProducerEpoch: -1, BaseSequence: protocol.NoSequence, Records: recs}
	_, base, _, code := h.l.AppendAsLeader(b, 0, now)
	if code != protocol.NONE {
		return -1, code
	}
	h.log.batches = h.l.Batches() // commitLog reads the end from here
	return base + int64(len(recs)), protocol.NONE
}

// offsetsTopicConfig is __consumer_offsets as Kafka creates it (groupMetadataTopicConfigs),
// with segments of a few batches so that the cleaner has inactive segments to clean.
func offsetsTopicConfig() config.Topic {
	cfg := config.DefaultTopic()
	cfg.Compact, cfg.Delete = true, false
	cfg.SegmentBytes = 1500
	return cfg
}

// newLogCoord is a coordinator loaded from l in leader epoch epoch, at time now.
func newLogCoord(t *testing.T, l *log.Log, epoch int32, now time.Duration) *coord {
	t.Helper()
	h := &logHost{fakeHost: fakeHost{log: &offsetsLog{batches: l.Batches()}, lead: true, now: now}, l: l}
	k := &coord{t: t, c: New(testConfig(), h), h: &h.fakeHost}
	k.c.Leadership(now, 0, epoch)
	k.advance(time.Second)
	k.c.HighWatermark(k.h.now, 0, l.LogEndOffset())
	return k
}

// state is everything a coordinator holds that its records carry, in words: every group with
// its protocol, generation, leader and members, every committed offset.
func state(c *Coordinator) string {
	var out []string
	s := c.shards[0]
	for _, id := range slices.Sorted(maps.Keys(s.groups)) {
		g := s.groups[id]
		var ms []string
		for _, m := range g.members {
			ms = append(ms, fmt.Sprintf("%s%v", m.ID, m.Assignment))
		}
		out = append(out, fmt.Sprintf("group %s %s/%s gen %d leader %q members %v", id, g.ProtocolType, g.Protocol, g.Generation, g.Leader, ms))
	}
	for _, id := range slices.Sorted(maps.Keys(s.offsets)) {
		for _, tp := range slices.SortedFunc(maps.Keys(s.offsets[id]), compareTP) {
			out = append(out, fmt.Sprintf("offset %s %s = %+v", id, tp, s.offsets[id][tp]))
		}
	}
	return strings.Join(out, "\n")
}

// busyOffsetsLog has a coordinator write a compacted log full of superseded records: a Stable
// group committing many times, a simple group whose offsets expire (tombstones and the group's
// deletion) and one whose do not. It returns the log and the coordinator's state.
func busyOffsetsLog(t *testing.T) (*log.Log, string, time.Duration) {
	t.Helper()
	l := log.Open(memDisk{}, "__consumer_offsets-0", offsetsTopicConfig(), 0)
	k := newLogCoord(t, l, 0, 0)
	id := k.stableGroup()
	orders1 := protocol.TopicPartition{Topic: "orders", Partition: 1}
	simple := func(group string, tp protocol.TopicPartition, off int64) {
		k.request(&protocol.OffsetCommitRequest{CorrelationID: 7, GroupID: group, GenerationID: -1,
			Partitions: []protocol.OffsetCommitPartition{{TP: tp, Offset: off, LeaderEpoch: 3}}})
	}
	simple("gone", orders0, 5)
	simple("gone", orders1, 6)
	k.commitLog()
	for i := range 40 {
		k.request(commitReq(id, 1, int64(100+i)))
		k.advance(time.Second) // the member's heartbeats keep it in the group
		k.request(&protocol.HeartbeatRequest{CorrelationID: 8, GroupID: "g1", GenerationID: 1, MemberID: id})
		if i%10 == 0 {
			simple("kept", orders1, int64(i))
		}
		k.commitLog()
	}
	// A week later (offsets.retention.minutes) "gone" has expired: its offsets and the group get
	// tombstones. "kept" commits once more and stays; g1, whose member stopped heartbeating in
	// time, became Empty and expires too.
	for range 7 * 24 {
		k.advance(time.Hour)
		k.request(&protocol.HeartbeatRequest{CorrelationID: 8, GroupID: "g1", GenerationID: 1, MemberID: id})
		if k.h.now > 6*24*time.Hour && k.h.now < 6*24*time.Hour+2*time.Hour {
			simple("kept", orders1, 999)
		}
		k.commitLog()
	}
	k.c.CleanupGroupMetadata(k.h.now)
	k.commitLog()
	if k.c.shards[0].groups["gone"] != nil {
		t.Fatalf("group gone still there after a week without a commit; want it deleted (maybeDeleteGroup)")
	}
	// Some more commits, so that the tombstones are below the active segment.
	for i := range 20 {
		simple("kept", orders0, int64(200+i))
		k.commitLog()
	}
	return l, state(k.c), k.h.now
}

// clean runs the log cleaner the way the broker does (on its retention tick), across
// delete.retention.ms, so that tombstones go too.
func clean(l *log.Log, from time.Duration, bugs log.CleanerBugs) (removed int) {
	for at := from; at <= from+2*l.Config().DeleteRetention; at += 5 * time.Minute {
		removed += l.Clean(at, l.LogEndOffset(), bugs)
	}
	return removed
}

// Reference: CoordinatorLoaderImpl.load over a log compacted by the LogCleaner. Kafka keys the
// coordinator's records (OffsetCommitKey: group, topic, partition; GroupMetadataKey: group) so
// that compaction keeps exactly each key's latest record and the tombstones of deleted offsets
// and groups until delete.retention.ms: a new coordinator replaying the cleaned log rebuilds the
// state the old one had. With a cleaner that drops a key's latest record the rebuilt state
// differs, which this test must see.
func TestCoordinatorReloadsTheSameStateFromACompactedLog(t *testing.T) {
	l, want, now := busyOffsetsLog(t)
	before := l.SizeBytes()
	if removed := clean(l, now, log.CleanerBugs{}); removed == 0 {
		t.Fatalf("the cleaner removed no batch; want the superseded commits gone")
	}
	if l.SizeBytes() >= before/2 {
		t.Errorf("cleaned log %d bytes of %d; want less than half", l.SizeBytes(), before)
	}
	for _, b := range l.Batches() {
		for _, r := range b.Records {
			if strings.Contains(r.Key, "gone") && b.NextOffset() <= l.Segments()[len(l.Segments())-1].BaseOffset {
				t.Errorf("record %q of the deleted group still in a cleaned segment after delete.retention.ms", r.Key)
			}
		}
	}
	k := newLogCoord(t, l, 1, now+time.Hour)
	if got := state(k.c); got != want {
		t.Errorf("state rebuilt from the compacted log:\n%s\nwant:\n%s", got, want)
	}

	bad, want, now := busyOffsetsLog(t)
	clean(bad, now, log.CleanerBugs{DropLatest: true})
	if got := state(newLogCoord(t, bad, 1, now+time.Hour).c); got == want {
		t.Errorf("a cleaner that drops each key's latest record left a log that rebuilds the same state; the test cannot see a lost key")
	}
}
