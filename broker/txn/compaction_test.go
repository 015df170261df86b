package txn

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

// memDisk is a disk that never loses a write.
type memDisk map[string][]any

func (d memDisk) Append(f string, e any)   { d[f] = append(d[f], e) }
func (d memDisk) Truncate(f string, n int) { d[f] = d[f][:min(n, len(d[f]))] }
func (d memDisk) Read(f string) []any      { return d[f] }
func (d memDisk) Len(f string) int         { return len(d[f]) }
func (d memDisk) Write(f string, es []any) { d[f] = slices.Clone(es) }
func (d memDisk) Flush(string)             {}
func (d memDisk) Remove(f string)          { delete(d, f) }
func (d memDisk) Files() []string          { return slices.Sorted(maps.Keys(d)) }

// txnState is the coordinator's transactions in words.
func txnState(c *Coordinator) string {
	var out []string
	s := c.shards[0]
	for _, id := range slices.Sorted(maps.Keys(s.txns)) {
		m := s.txns[id]
		out = append(out, fmt.Sprintf("%s pid %d epoch %d %v %v updated %v", id, m.ProducerID, m.Epoch, m.State, m.Partitions, m.Updated))
	}
	return strings.Join(out, "\n")
}

// compacted copies the coordinator's partition into a compacted log (segments of a few
// records, as transaction.state.log.segment.bytes would roll them on a busy broker) and runs the
// cleaner over it across delete.retention.ms.
func compacted(t *testing.T, batches []*protocol.RecordBatch, now time.Duration, bugs log.CleanerBugs) *log.Log {
	t.Helper()
	cfg := config.DefaultTopic()
	cfg.Compact, cfg.Delete = true, false
	cfg.SegmentBytes = 800
	l := log.Open(memDisk{}, "__transaction_state-0", cfg, 0)
	for _, b := range batches {
		c := *b
		c.PartitionLeaderEpoch, c.MaxTimestamp = 1, now
		if err := l.AppendAsFollower([]*protocol.RecordBatch{&c}, now); err != nil {
			t.Fatal(err)
		}
	}
	removed := 0
	for at := now; at <= now+2*cfg.DeleteRetention; at += 5 * time.Minute {
		removed += l.Clean(at, l.LogEndOffset(), bugs)
	}
	if removed == 0 {
		t.Fatalf("the cleaner removed nothing from %d batches", len(batches))
	}
	return l
}

// Reference: TransactionStateManager.loadTransactionsForTxnTopicPartition over a log compacted
// by the LogCleaner, and removeExpiredTransactionalIds. TransactionLogKey is the transactional
// id, so compaction keeps each id's latest state; an id idle for transactional.id.expiration.ms
// gets a tombstone, which compaction removes with the id's records after delete.retention.ms. A
// new coordinator replaying the cleaned log has the same transactions; with a cleaner that
// drops each key's latest record it does not.
func TestTransactionalIdsSurviveCompactionAndExpire(t *testing.T) {
	c, f := newCoordinator(t)
	now := time.Second
	for _, id := range []string{"old", "busy", "other"} {
		for range 5 {
			c.Handle(now, 1, &protocol.InitProducerIdRequest{CorrelationID: 1, TransactionalID: id, ProducerID: protocol.NoProducerID, ProducerEpoch: -1, TransactionTimeout: testTimeout})
			f.replicate(c, now)
			now += time.Second
		}
	}
	// Eight days on, "busy" and "other" are used again; "old" is not, and expires.
	now += 8 * 24 * time.Hour
	for _, id := range []string{"busy", "other"} {
		c.Handle(now, 1, &protocol.InitProducerIdRequest{CorrelationID: 1, TransactionalID: id, ProducerID: protocol.NoProducerID, ProducerEpoch: -1, TransactionTimeout: testTimeout})
		f.replicate(c, now)
	}
	c.OnTimer(now, Timer{Part: 0, Epoch: 1, Kind: timerAbortExpired})
	f.replicate(c, now)
	if c.Transaction("old") != nil {
		t.Fatalf("transactional id old still cached 8 days after its last use; want it expired")
	}
	// More writes, so that the tombstone rolls out of the active segment.
	for range 10 {
		c.Handle(now, 1, &protocol.InitProducerIdRequest{CorrelationID: 1, TransactionalID: "busy", ProducerID: protocol.NoProducerID, ProducerEpoch: -1, TransactionTimeout: testTimeout})
		f.replicate(c, now)
		now += time.Second
	}
	want := txnState(c)

	reload := func(l *log.Log) string {
		f2 := &fakeBroker{logs: map[int32][]*protocol.RecordBatch{0: l.Batches()}}
		c2 := New(c.cfg, f2)
		c2.Leadership(now, 0, 2)
		c2.OnTimer(now, f2.timers[0])
		return txnState(c2)
	}
	l := compacted(t, f.logs[0], now, log.CleanerBugs{})
	active := l.Segments()[len(l.Segments())-1].BaseOffset
	for _, b := range l.Batches() {
		for _, r := range b.Records {
			if r.Key == recordPrefix+"old" && b.NextOffset() <= active {
				t.Errorf("a record of the expired id %q still in a cleaned segment after delete.retention.ms", r.Key)
			}
		}
	}
	if got := reload(l); got != want {
		t.Errorf("transactions rebuilt from the compacted log:\n%s\nwant:\n%s", got, want)
	}
	if got := reload(compacted(t, f.logs[0], now, log.CleanerBugs{DropLatest: true})); got == want {
		t.Errorf("a cleaner that drops each key's latest record left a log that rebuilds the same state; the test cannot see a lost key")
	}
}
