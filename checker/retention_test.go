package checker

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

// The history analysis forgives what retention and the log cleaner remove by design
// (retention.go), and nothing else: each test runs a consumer that falls behind the log start
// (paused for ten seconds, then auto.offset.reset=earliest) once with Kafka's rules, where no
// anomaly may fire though the history alone shows hundreds, and once with a planted bug that
// removes records it must not, where the history still shows them lost.

// lossNamesIn counts the anomalies that say records went missing.
func lossNamesIn(r *Report) int {
	n := 0
	for _, name := range []string{LostWrite, Unseen, PollSkip, IntPollSkip} {
		n += r.Counts[name]
	}
	return n
}

// fallBehind runs producer p1 and a consumer paused from 2s to 12s, and judges the history
// with the online checker's knowledge and without it.
func fallBehind(t *testing.T, r *run) (*Report, *Report) {
	t.Helper()
	r.consumer("c1", "orders")
	r.c.RunFor(2 * time.Second)
	id, ok := r.c.Client("c1")
	if !ok {
		t.Fatal("no consumer c1")
	}
	if err := r.c.World.Pause(id); err != nil {
		t.Fatal(err)
	}
	r.c.RunFor(10 * time.Second)
	if err := r.c.World.Resume(id); err != nil {
		t.Fatal(err)
	}
	r.c.RunFor(3 * time.Second)
	rep := r.finish(Config{}, []string{"p1"}, "c1")
	return rep, Check(r.c.History(), Config{})
}

// UnifiedLog.deleteRetentionSizeBreachedSegments: the records below the new log start offset
// are gone by design; a consumer that jumps past them (OFFSET_OUT_OF_RANGE, auto.offset.reset)
// skips nothing it should have read. With retention deleting above the HW (a planted bug), the
// records deleted before they were committed are still reported lost.
func TestUnifiedLogRetentionDeletesAreNotLoss(t *testing.T) {
	for _, planted := range []bool{false, true} {
		name := map[bool]string{false: "kafka", true: "planted"}[planted]
		t.Run(name, func(t *testing.T) {
			r := newRun(t, 3, 7, func(s *cluster.Spec) {
				_ = s.Broker.Set("log.retention.check.interval.ms", "1s")
				s.Broker.Bugs.LogStartPastHW = planted
			})
			r.topic(orders(map[string]string{"internal.segment.bytes": "16KB", "retention.bytes": "48KB"}, 1, 2, 3))
			r.c.World.Slow(3, 200*time.Millisecond) // keeps the HW of acks=1 writes behind the LEO
			r.producer("p1", "orders", 200, "acks", "1", "value.bytes", "500")
			rep, bare := fallBehind(t, r)
			leader := r.c.Replica(r.c.Leader(p0), p0)
			if leader == nil || leader.LogStart() < 1000 {
				t.Fatalf("retention did not move the log start: %v", leader)
			}
			t.Logf("judged %v; the history alone %v", rep.Counts, bare.Counts)
			if planted {
				r.wantViolation(LogStartAtMostLSO)
				if lossNamesIn(rep) == 0 {
					t.Fatalf("records deleted above the HW are not reported lost: %v", rep.Counts)
				}
				return
			}
			if len(rep.Counts) > 0 || len(rep.Invariants) > 0 {
				t.Fatalf("anomalies on a retention run: %s", rep.Text())
			}
			if lossNamesIn(bare) == 0 {
				t.Fatalf("the history alone shows no loss: the consumer did not fall behind the log start (%v)", bare.Counts)
			}
		})
	}
}

// LogCleaner: a record a later record of its key supersedes may go; a consumer that reads past
// the gaps skips nothing it should have read. With a cleaner that also removes a key's latest
// record (a planted bug), the history still shows those records lost.
func TestLogCleanerSupersededRecordsAreNotLoss(t *testing.T) {
	for _, planted := range []bool{false, true} {
		name := map[bool]string{false: "kafka", true: "planted"}[planted]
		t.Run(name, func(t *testing.T) {
			r := newRun(t, 3, 61, func(s *cluster.Spec) {
				_ = s.Broker.Set("log.retention.check.interval.ms", "1s")
				s.Broker.Bugs.CleanerDropsLatest = planted
			})
			r.topic(orders(map[string]string{"cleanup.policy": "compact", "internal.segment.bytes": "4KB", "min.cleanable.dirty.ratio": "0.1"}, 1, 2, 3))
			p := config.DefaultProducer()
			if _, err := r.c.AddProducer(cluster.ProducerSpec{Name: "p1", Topic: "orders", Config: p, Rate: 200, Keys: 10}); err != nil {
				t.Fatal(err)
			}
			rep, bare := fallBehind(t, r)
			t.Logf("judged %v; the history alone %v", rep.Counts, bare.Counts)
			if planted {
				r.wantViolation(CompactionLostKey)
				if lossNamesIn(rep) == 0 {
					t.Fatalf("a key's latest records removed by the cleaner are not reported lost: %v", rep.Counts)
				}
				return
			}
			if len(rep.Counts) > 0 || len(rep.Invariants) > 0 {
				t.Fatalf("anomalies on a compacted run: %s", rep.Text())
			}
			if lossNamesIn(bare) == 0 {
				t.Fatalf("the history alone shows no loss: the cleaner removed nothing the consumer missed (%v)", bare.Counts)
			}
		})
	}
}

// LogCleaner with tombstones (KIP-534's delete horizon): a key's tombstone stays
// delete.retention.ms after the cleaner first passed it, then goes, and the key is expected
// absent from then on; a consumer that fell behind misses the deleted key's records by design.
// A cleaner that drops tombstones at once (a planted bug) breaks compaction-lost-key.
func TestLogCleanerTombstonesExpireAfterDeleteRetention(t *testing.T) {
	for _, planted := range []bool{false, true} {
		name := map[bool]string{false: "kafka", true: "planted"}[planted]
		t.Run(name, func(t *testing.T) {
			r := newRun(t, 3, 5, func(s *cluster.Spec) {
				_ = s.Broker.Set("log.retention.check.interval.ms", "1s")
				s.Broker.Bugs.CleanerDropsTombstones = planted
			})
			r.topic(orders(map[string]string{"cleanup.policy": "compact", "internal.segment.bytes": "1KB", "min.cleanable.dirty.ratio": "0.1", "delete.retention.ms": "3s"}, 1, 2, 3))
			if _, err := r.c.AddProducer(cluster.ProducerSpec{Name: "p1", Topic: "orders", Config: config.DefaultProducer(), Rate: 20, Keys: 50, Tombstones: 0.5}); err != nil {
				t.Fatal(err)
			}
			rep, bare := fallBehind(t, r)
			leader := r.c.Replica(r.c.Leader(p0), p0)
			keys, tombs := map[string]bool{}, 0
			for _, b := range leader.Log().Batches() {
				for _, rec := range b.AppendRecords(nil) {
					keys[rec.Key] = true
					if rec.Tombstone {
						tombs++
					}
				}
			}
			t.Logf("judged %v; the history alone %v; the leader holds %d keys, %d tombstones", rep.Counts, bare.Counts, len(keys), tombs)
			if planted {
				r.wantViolation(CompactionLostKey)
				return
			}
			if len(rep.Counts) > 0 || len(rep.Invariants) > 0 {
				t.Fatalf("anomalies on a compacted run with tombstones: %s", rep.Text())
			}
			if len(keys) >= 50 || tombs == 0 {
				t.Fatalf("the leader holds %d keys and %d tombstones: want deleted keys gone and recent tombstones kept", len(keys), tombs)
			}
		})
	}
}

// A poll that jumps over records retention deleted and records it did not is a poll-skip of
// the latter only, and its explanation counts the former; once the log start passes every
// skipped record (by the time of the poll), there is no poll-skip, and lost-write and unseen
// forgive them too.
func TestPollSkipOverRetentionNamesOnlyWhatWasNotDeleted(t *testing.T) {
	b := new(hist).sendAll(10).poll("c1", 0, 1, 1, 2)
	b.now = 10 * time.Second
	b.poll("c1", 9, 10)
	judge := func(start int64, at time.Duration) []Anomaly {
		a := analyse(b.h)
		a.removed = map[tpKey]*removedLog{{"orders", 0}: {starts: []startAt{{at, start}}}}
		p := a.parts[tpKey{"orders", 0}]
		return slices.Concat(a.pollOrderIn(p), a.lostWritesIn(p), a.unseenIn(p))
	}
	got := judge(5, time.Second)
	// Offsets 2..4 (values 3, 4, 5) are below the log start, 5..8 (values 6 to 9) are not.
	if len(got) == 0 || got[0].Name != PollSkip || !strings.Contains(got[0].Explanation, "skipping 4 values it should have read: [6 7 8 9]; 3 more were deleted by retention") {
		t.Fatalf("log start 5: %v; want a poll-skip of 6 to 9 counting 3 more deleted by retention", got)
	}
	if got := judge(9, time.Second); len(got) > 0 {
		t.Fatalf("log start 9 before the poll: %v; want nothing", got)
	}
	if got := judge(9, 11*time.Second); len(got) == 0 || got[0].Name != PollSkip {
		t.Fatalf("log start 9 only after the poll: %v; want a poll-skip", got)
	}
}
