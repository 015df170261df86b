package checker

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

// Records that retention and the log cleaner remove by design are not lost. Retention moves a
// partition's log start offset (UnifiedLog.deleteOldSegments, maybeIncrementLogStartOffset):
// the records below it are gone, and a consumer that fell behind jumps past them
// (OFFSET_OUT_OF_RANGE, auto.offset.reset). The log cleaner removes a record once a later
// record of its key supersedes it (LogCleaner): the log becomes sparse, and a consumer reads
// past the gaps. Jepsen's poll-skip, int-poll-skip, unseen and lost-write would name every such
// record. The online checker watches the leader of each partition and writes down what went
// by design, and when; the history analysis forgives those records and no others:
//
//   - retention: an offset below the leader's log start, from the time the log start passed
//     it, unless the log start passed the leader's HW then (records deleted before they were
//     committed: logstart-le-lso-le-hw fires, and the history sees them lost);
//   - compaction: an offset whose key a later committed record superseded, from the time that
//     record was committed, unless the offset held its key's latest committed record when it
//     went (compaction-lost-key fires, and the history sees it lost).
//
// A history saved by a run carries these notes after its operations (Report.Removals,
// history.WriteRemovals), so that kafkasim check HISTORY forgives what the run forgave.

// removedLog is what one partition may have lost by design, as the online checker saw it.
type removedLog struct {
	starts     []startAt      // the leader's log start each time it moved forward
	superseded []supersededAt // compacted topics: records a later committed record of their key supersedes
	sorted     int            // superseded[:sorted] is sorted by offset
	illegal    []offRange     // offsets removed against the rules: never forgiven
}

type startAt struct {
	at    time.Duration
	start int64
}

type supersededAt struct {
	offset int64
	at     time.Duration
}

type offRange struct{ from, to int64 } // [from, to)

// now is the world's virtual time, or 0 for a source without a clock (a test's).
func (o *Online) now() time.Duration {
	if c, ok := o.src.(interface{ Now() time.Duration }); ok {
		return c.Now()
	}
	return 0
}

func (o *Online) removedLog(tp protocol.TopicPartition) *removedLog {
	ps := o.part(tp)
	if ps.removed == nil {
		ps.removed = &removedLog{}
	}
	return ps.removed
}

// logStartMoved notes the log start offset of the partition's leader l.
func (o *Online) logStartMoved(tp protocol.TopicPartition, l replica) {
	start := l.LogStart()
	if start <= 0 {
		return
	}
	if ps := o.part(tp); ps.removed != nil && start <= ps.removed.start() {
		return
	}
	rl := o.removedLog(tp)
	if hw := l.HW(); start > hw {
		rl.illegal = append(rl.illegal, offRange{max(rl.start(), hw), start})
	}
	rl.starts = append(rl.starts, startAt{o.now(), start})
}

// start is the highest log start seen.
func (rl *removedLog) start() int64 {
	if len(rl.starts) == 0 {
		return 0
	}
	return rl.starts[len(rl.starts)-1].start
}

// supersede notes that a committed record of a compacted topic may go from time at on: a
// later record of its key was committed then, or, for a tombstone, delete.retention.ms passed.
func (o *Online) supersede(tp protocol.TopicPartition, off int64, at time.Duration) {
	rl := o.removedLog(tp)
	rl.superseded = append(rl.superseded, supersededAt{off, at})
}

// lostAgainstRules notes an offset whose record went against the rules.
func (o *Online) lostAgainstRules(tp protocol.TopicPartition, off int64) {
	rl := o.removedLog(tp)
	if !slices.Contains(rl.illegal, offRange{off, off + 1}) {
		rl.illegal = append(rl.illegal, offRange{off, off + 1})
	}
}

// removals is what every partition may have lost by design so far, for the history analysis.
func (o *Online) removals() map[tpKey]*removedLog {
	out := map[tpKey]*removedLog{}
	for tp, ps := range o.parts {
		if rl := ps.removed; rl != nil {
			if rl.sorted < len(rl.superseded) {
				slices.SortStableFunc(rl.superseded, func(x, y supersededAt) int {
					return cmp.Or(cmp.Compare(x.offset, y.offset), cmp.Compare(x.at, y.at))
				})
				rl.sorted = len(rl.superseded)
			}
			out[tpKey{tp.Topic, tp.Partition}] = rl
		}
	}
	return out
}

// Why a record is gone by design.
const (
	notRemoved = iota
	byRetention
	byCompaction
)

// removedBy says whether the record at off was removed by design by time at (retention or
// compaction), and which.
func (rl *removedLog) removedBy(off int64, at time.Duration) int {
	if rl == nil {
		return notRemoved
	}
	for _, r := range rl.illegal {
		if off >= r.from && off < r.to {
			return notRemoved
		}
	}
	i, _ := slices.BinarySearchFunc(rl.starts, off, func(s startAt, o int64) int {
		if s.start > o {
			return 1
		}
		return -1
	})
	if i < len(rl.starts) && rl.starts[i].at <= at {
		return byRetention
	}
	j, ok := slices.BinarySearchFunc(rl.superseded[:rl.sorted], off, func(s supersededAt, o int64) int { return cmp.Compare(s.offset, o) })
	if ok && rl.superseded[j].at <= at {
		return byCompaction
	}
	return notRemoved
}

// forever is a time after every run's end.
const forever = time.Duration(1<<63 - 1)

// removedAt says whether the record at offset off of p was removed by design by time at.
func (a *analysis) removedAt(p *partLog, off int64, at time.Duration) int {
	return a.removed[p.key].removedBy(off, at)
}

// allRemoved reports whether every offset holds a record removed by design by the end.
func (a *analysis) allRemoved(p *partLog, offs []int64) bool {
	if len(offs) == 0 || a.removed[p.key] == nil {
		return false
	}
	for _, o := range offs {
		if a.removedAt(p, o, forever) == notRemoved {
			return false
		}
	}
	return true
}

// removalText says why n skipped values were not expected: "; 12 more were removed by
// retention", or "".
func removalText(byRet, byComp int) string {
	switch {
	case byRet > 0 && byComp > 0:
		return fmt.Sprintf("; %d more were deleted by retention and %d removed by compaction, as they may be", byRet, byComp)
	case byRet > 0:
		return fmt.Sprintf("; %d more were deleted by retention (below the log start offset), as they may be", byRet)
	case byComp > 0:
		return fmt.Sprintf("; %d more were removed by compaction (a later record of their key supersedes them), as they may be", byComp)
	}
	return ""
}

// sentRemoved reports whether the j-th value of send op sits at an offset removed by design
// by the end.
func (a *analysis) sentRemoved(p *partLog, op *history.Op, j int) bool {
	return len(op.Offsets) == len(op.Values) && a.allRemoved(p, op.Offsets[j:j+1])
}

// Removals is what the report forgave (and refused to forgive) as removed by design, per
// partition in topic-partition order, for a saved history (history.WriteRemovals): the log start
// each time it moved, the superseded offsets grouped by the time they may go from, and the
// ranges removed against the rules.
func (r *Report) Removals() []history.Removal {
	var out []history.Removal
	for _, k := range slices.SortedFunc(maps.Keys(r.removed), compareTP) {
		rl := r.removed[k]
		for _, s := range rl.starts {
			out = append(out, history.Removal{Kind: history.RetentionRemoval, Topic: k.topic, Partition: k.part, At: s.at, Start: s.start})
		}
		out = append(out, supersededRemovals(k, rl.superseded)...)
		for _, ill := range rl.illegal {
			out = append(out, history.Removal{Kind: history.IllegalRemoval, Topic: k.topic, Partition: k.part, From: ill.from, To: ill.to})
		}
	}
	return out
}

// supersededRemovals groups superseded offsets by the time they may go from, in time order.
func supersededRemovals(k tpKey, ss []supersededAt) []history.Removal {
	byTime := map[time.Duration][]int64{}
	for _, s := range ss {
		byTime[s.at] = append(byTime[s.at], s.offset)
	}
	var out []history.Removal
	for _, at := range slices.Sorted(maps.Keys(byTime)) {
		out = append(out, history.Removal{Kind: history.CompactionRemoval, Topic: k.topic, Partition: k.part, At: at, Offsets: byTime[at]})
	}
	return out
}

// removalsFrom rebuilds what a run's online checker noted from a saved history's removals.
func removalsFrom(rs []history.Removal) map[tpKey]*removedLog {
	out := map[tpKey]*removedLog{}
	for _, r := range rs {
		k := tpKey{r.Topic, r.Partition}
		rl := out[k]
		if rl == nil {
			rl = &removedLog{}
			out[k] = rl
		}
		switch r.Kind {
		case history.RetentionRemoval:
			if r.Start > rl.start() { // log starts only move forward
				rl.starts = append(rl.starts, startAt{r.At, r.Start})
			}
		case history.CompactionRemoval:
			for _, o := range r.Offsets {
				rl.superseded = append(rl.superseded, supersededAt{o, r.At})
			}
		case history.IllegalRemoval:
			rl.illegal = append(rl.illegal, offRange{r.From, r.To})
		}
	}
	for _, rl := range out {
		slices.SortStableFunc(rl.superseded, func(x, y supersededAt) int {
			return cmp.Or(cmp.Compare(x.offset, y.offset), cmp.Compare(x.at, y.at))
		})
		rl.sorted = len(rl.superseded)
	}
	return out
}
