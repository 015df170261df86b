package checker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/protocol"
)

// compaction-lost-key: on a compacted topic (cleanup.policy=compact) the log may drop a record
// only when a later record of its key supersedes it (LogCleaner), or, for a tombstone, once it
// has stayed delete.retention.ms (the key is then expected absent), so the leader must hold every
// key's latest committed record, unless retention (compact,delete) removed it below the log
// start. The invariant follows each key's latest record below the leader's HW as the records
// are committed, and checks after every event that the leader still holds it. A compacted
// log's replicas differ (each cleans on its own), so strong-isr and committed-never-truncated,
// which compare records offset by offset, leave compacted topics to this invariant.

// compactState follows one compacted partition's keys.
type compactState struct {
	scanned int64                // committed offsets below it have been read
	latest  map[string]keyRecord // each key's latest committed record
}

type keyRecord struct {
	offset, value int64
	tombstone     bool          // a null value: the key's deletion
	at            time.Duration // when the checker saw it committed
}

// compacted reports whether the replica's topic is compacted.
func compacted(r replica) bool {
	c, ok := r.(interface{ Compacted() bool })
	return ok && c.Compacted()
}

// Compacted reports whether the replica's topic has cleanup.policy=compact.
func (r liveReplica) Compacted() bool { return r.p.Log().Config().Compact }

// DeleteRetention is the topic's delete.retention.ms.
func (r liveReplica) DeleteRetention() time.Duration { return r.p.Log().Config().DeleteRetention }

// deleteRetention is how long a tombstone must stay, at least (0 for a replica that does not say).
func deleteRetention(r replica) time.Duration {
	if d, ok := r.(interface{ DeleteRetention() time.Duration }); ok {
		return d.DeleteRetention()
	}
	return 0
}

func (o *Online) compactionKept(tp protocol.TopicPartition, lb int32, l replica) {
	ps := o.part(tp)
	cs := ps.compact
	if cs == nil {
		cs = &compactState{scanned: l.LogStart(), latest: map[string]keyRecord{}}
		ps.compact = cs
	}
	hw := l.HW()
	if t, ok := l.(txnReplica); ok {
		// An open transaction's records are judged once its marker says whether they count:
		// the cleaner never passes the first unstable offset.
		hw = min(hw, t.LastStable())
	}
	off := max(cs.scanned, l.LogStart())
	internal := strings.HasPrefix(tp.Topic, "__") // no client's history reads them
	for off < hw {
		b := l.BatchAt(off)
		if b == nil {
			if off < l.LEO() {
				// Records compacted before they were read here (a new leader cleaned its own
				// copy): the keys they held are followed from the next record on.
				off = hw
			}
			break
		}
		aborted := abortedBatch(l, b)
		for ; off < min(b.NextOffset(), hw); off++ {
			if i := b.IndexOf(off); i >= 0 && aborted {
				o.supersede(tp, off, o.now()) // an aborted transaction's record: the cleaner removes it
			} else if i >= 0 && !b.Control {
				r := b.Record(i)
				if prev, ok := cs.latest[r.Key]; ok && !internal {
					o.supersede(tp, prev.offset, o.now()) // the cleaner may remove it from now on (retention.go)
				}
				cs.latest[r.Key] = keyRecord{off, r.Value, r.Tombstone, o.now()}
			}
		}
	}
	cs.scanned = max(cs.scanned, off)
	start, leo := l.LogStart(), l.LEO()
	missing := false
	for _, kr := range cs.latest {
		if kr.offset >= start && kr.offset < leo && !holds(l, kr.offset) {
			missing = true
			break
		}
	}
	if !missing {
		return
	}
	for _, key := range slices.Sorted(maps.Keys(cs.latest)) {
		kr := cs.latest[key]
		if kr.offset >= start && kr.offset < leo && !holds(l, kr.offset) {
			if kr.tombstone && o.now()-kr.at >= deleteRetention(l) {
				// The key was deleted, and its tombstone kept delete.retention.ms: the key is
				// expected absent from now on. (The cleaner's removal changes neither HW nor LEO,
				// so the checker may notice it late: the tombstone may go from its horizon on.)
				o.supersede(tp, kr.offset, kr.at+deleteRetention(l))
				delete(cs.latest, key)
				continue
			}
			o.lostAgainstRules(tp, kr.offset) // the history sees it lost (retention.go)
			if kr.tombstone {
				o.violate(fmt.Sprintf("%s %s", tp, key), CompactionLostKey, "leader %d of %s no longer holds key %q's tombstone (value %d at offset %d), committed %s ago: the log cleaner removed it before delete.retention.ms (%s)",
					lb, tp, key, kr.value, kr.offset, o.now()-kr.at, deleteRetention(l))
				continue
			}
			o.violate(fmt.Sprintf("%s %s", tp, key), CompactionLostKey, "leader %d of %s no longer holds key %q's latest committed record, value %d at offset %d: the log cleaner removed it though no later record of the key supersedes it",
				lb, tp, key, kr.value, kr.offset)
		}
	}
}

// txnReplica is a replica that knows its transactions: its last stable offset and which
// batches an aborted transaction wrote (the log cleaner removes those; CleanedTransactionMetadata).
type txnReplica interface {
	LastStable() int64
	Aborted(b *protocol.RecordBatch) bool
}

func abortedBatch(r replica, b *protocol.RecordBatch) bool {
	t, ok := r.(txnReplica)
	return ok && t.Aborted(b)
}

// LastStable is the replica's last stable offset (UnifiedLog.lastStableOffset).
func (r liveReplica) LastStable() int64 { return r.p.Log().LastStableOffset(r.p.HW()) }

// Aborted reports whether b holds an aborted transaction's records.
func (r liveReplica) Aborted(b *protocol.RecordBatch) bool { return r.p.Log().AbortedBatch(b) }

// holds reports whether the replica holds a record at off: a batch covers it and the cleaner did
// not remove the record from inside the batch.
func holds(r replica, off int64) bool {
	b := r.BatchAt(off)
	return b != nil && b.IndexOf(off) >= 0
}

// valueAt is the value of b's record at off, -1 when the batch holds none there (a record the
// cleaner removed from inside the batch; workload values are never negative).
func valueAt(b *protocol.RecordBatch, off int64) int64 {
	if i := b.IndexOf(off); i >= 0 {
		return b.Value(i)
	}
	return -1
}
