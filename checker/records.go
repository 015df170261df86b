package checker

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/history"
)

// The report's view of data loss: which acknowledged records the history shows lost, under
// which anomaly names, and which leader election lost them. The checker counts the same
// record once per anomaly name (an overwritten record is inconsistent-offsets, and a record
// nobody read is lost-write and unseen); the report counts records.

// lostRecord is one record the history shows lost.
type lostRecord struct {
	tp     tpKey
	value  int64
	offset int64         // -1 if unknown
	acked  time.Duration // when its send completed (-1: never acknowledged)
	names  []string      // the anomaly names it appears under, sorted
}

// lossNames are the anomalies that say a record was lost.
var lossNames = []string{InconsistentOffsets, LostWrite, Unseen}

// lostRecords lists the records that loss anomalies name, by partition and offset. An
// offset that held several values keeps the one written last (by completion): the others
// are lost.
func lostRecords(h history.History, removed map[tpKey]*removedLog) []lostRecord {
	a := analyse(h)
	a.removed = removed
	var buf history.Op
	byKey := map[tpKey]map[int64]*lostRecord{}
	add := func(k tpKey, v, off int64, name string) {
		m := byKey[k]
		if m == nil {
			m = map[int64]*lostRecord{}
			byKey[k] = m
		}
		r := m[v]
		if r == nil {
			r = &lostRecord{tp: k, value: v, offset: off, acked: -1}
			p := a.parts[k]
			if w, ok := p.writerOf(v); ok {
				var wb history.Op
				op := a.at(w, &wb)
				if op.Outcome == history.OK {
					r.acked = op.Complete
				}
				if r.offset < 0 {
					if j := slices.Index(op.Values, v); j >= 0 && j < len(op.Offsets) {
						r.offset = op.Offsets[j]
					}
				}
			}
			m[v] = r
		}
		if !slices.Contains(r.names, name) {
			r.names = append(r.names, name)
			slices.Sort(r.names)
		}
	}
	for _, k := range a.keys {
		p := a.parts[k]
		for _, x := range slices.Sorted(maps.Keys(p.more)) {
			off, vs := p.offsetAt[x], p.valsAt(int(x))
			last := vs[0]
			var lb, vb history.Op
			for _, v := range vs[1:] {
				if a.at(int(v.src), &vb).Complete > a.at(int(last.src), &lb).Complete {
					last = v
				}
			}
			for _, v := range vs {
				if v != last {
					add(k, v.val, off, InconsistentOffsets)
				}
			}
		}
	}
	for _, an := range a.everyPartition(a.lostWritesIn) {
		op := a.at(an.Ops[0], &buf)
		p := a.parts[keyOf(op)]
		for _, v := range op.Values {
			if !p.read(v) {
				add(p.key, v, -1, LostWrite)
			}
		}
	}
	for _, an := range a.everyPartition(a.unseenIn) {
		op := a.at(an.Ops[0], &buf)
		p := a.parts[keyOf(op)]
		for _, v := range op.Values {
			if !p.read(v) {
				add(p.key, v, -1, Unseen)
			}
		}
	}
	var out []lostRecord
	for _, m := range byKey {
		for _, r := range m {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(x, y lostRecord) int {
		return cmp.Or(compareTP(x.tp, y.tp), cmp.Compare(x.offset, y.offset), cmp.Compare(x.value, y.value))
	})
	return out
}

// lossCause is what lost a set of records: a leader election whose new leader lacked them,
// or, when no election explains them (a bare history), their partition.
type lossCause struct {
	tp       tpKey
	election *Election // nil: not traced to an election
	records  []lostRecord
	missing  int // acknowledged records the new leader lacked when elected (elections only)
}

// names counts the cause's records by anomaly name.
func (c *lossCause) names() map[string]int {
	out := map[string]int{}
	for _, r := range c.records {
		for _, n := range r.names {
			out[n]++
		}
	}
	return out
}

// acked is the span of acknowledgement times of the cause's records.
func (c *lossCause) acked() (first, last time.Duration) {
	first, last = -1, -1
	for _, r := range c.records {
		if r.acked < 0 {
			continue
		}
		if first < 0 || r.acked < first {
			first = r.acked
		}
		last = max(last, r.acked)
	}
	return first, last
}

// offsets is the span of offsets of the cause's records (-1, -1 if none known).
func (c *lossCause) offsets() (lo, hi int64) {
	lo, hi = -1, -1
	for _, r := range c.records {
		if r.offset < 0 {
			continue
		}
		if lo < 0 || r.offset < lo {
			lo = r.offset
		}
		hi = max(hi, r.offset)
	}
	return lo, hi
}

// lossyElections are the elections whose new leader's log ended below an offset already
// acknowledged on the partition: each lost what it lacked (KIP-101's truncation, an unclean
// election, acks=1). missing counts those acknowledged records.
func lossyElections(h history.History, els []Election) map[int]int {
	sends := map[string][]*history.Op{}
	for j := range h {
		if op := &h[j]; op.Type == history.Send && op.Outcome == history.OK && len(op.Offsets) > 0 {
			k := keyOf(op).String()
			sends[k] = append(sends[k], op)
		}
	}
	out := map[int]int{}
	for i, e := range els {
		if e.Leader < 0 || e.LEO < 0 {
			continue
		}
		n := 0
		for _, op := range sends[e.TP] {
			if op.Complete > e.At {
				continue
			}
			for _, o := range op.Offsets {
				if o >= e.LEO {
					n++
				}
			}
		}
		if n > 0 {
			out[i] = n
		}
	}
	return out
}

// lossCauses assigns each lost record to the election that lost it: on its partition, the
// first lossy election at or after its acknowledgement whose new leader's log ended at or
// below its offset; failing that, the last such election before it (a deposed leader that
// went on acknowledging). Records no election explains are grouped by partition.
func lossCauses(h history.History, recs []lostRecord, els []Election) []*lossCause {
	lossy := lossyElections(h, els)
	var out []*lossCause
	byElection := map[int]*lossCause{}
	byTP := map[tpKey]*lossCause{}
	for _, r := range recs {
		best := -1
		for i, e := range els {
			if _, ok := lossy[i]; !ok || e.TP != r.tp.String() || r.offset < e.LEO {
				continue
			}
			if e.At >= r.acked {
				best = i
				break
			}
			best = i
		}
		var c *lossCause
		if best >= 0 {
			if c = byElection[best]; c == nil {
				c = &lossCause{tp: r.tp, election: &els[best], missing: lossy[best]}
				byElection[best] = c
				out = append(out, c)
			}
		} else if c = byTP[r.tp]; c == nil {
			c = &lossCause{tp: r.tp}
			byTP[r.tp] = c
			out = append(out, c)
		}
		c.records = append(c.records, r)
	}
	// The elections that lost acknowledged records the history cannot show lost (no consumer
	// read the partition) are causes too: the online invariants saw them.
	for i := range els {
		if n, ok := lossy[i]; ok && byElection[i] == nil {
			c := &lossCause{tp: tpOf(els[i].TP), election: &els[i], missing: n}
			byElection[i] = c
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(x, y *lossCause) int {
		return cmp.Or(cmp.Compare(causeTime(x), causeTime(y)), compareTP(x.tp, y.tp))
	})
	return out
}

func causeTime(c *lossCause) time.Duration {
	if c.election != nil {
		return c.election.At
	}
	first, _ := c.acked()
	return first
}

// tpOf parses "topic/partition".
func tpOf(s string) tpKey {
	i := len(s) - 1
	for i >= 0 && s[i] != '/' {
		i--
	}
	if i < 0 {
		return tpKey{topic: s}
	}
	n := int32(0)
	for _, ch := range s[i+1:] {
		n = n*10 + int32(ch-'0')
	}
	return tpKey{s[:i], n}
}

// causeIndex finds the cause of a listed finding: the cause whose lost records sit at an
// offset (or are a value) the finding's operations touch.
type causeIndex struct {
	offsets map[tpOffset]int // (partition, offset) → cause
	values  map[tpOffset]int // (partition, value) → cause
	onlyOne map[tpKey]int    // partition → its cause, if it has just one (-1: several)
}

type tpOffset struct {
	tp tpKey
	n  int64
}

func causeOffsets(causes []*lossCause) causeIndex {
	ix := causeIndex{offsets: map[tpOffset]int{}, values: map[tpOffset]int{}, onlyOne: map[tpKey]int{}}
	for i, c := range causes {
		for _, r := range c.records {
			if r.offset >= 0 {
				if _, ok := ix.offsets[tpOffset{r.tp, r.offset}]; !ok {
					ix.offsets[tpOffset{r.tp, r.offset}] = i
				}
			}
			ix.values[tpOffset{r.tp, r.value}] = i
		}
		if _, ok := ix.onlyOne[c.tp]; ok {
			ix.onlyOne[c.tp] = -1
		} else {
			ix.onlyOne[c.tp] = i
		}
	}
	return ix
}

// causeOf is the index of the finding's cause, or -1.
func (ix causeIndex) causeOf(a Anomaly, byIndex map[int]*history.Op) int {
	loss := slices.Contains(lossNames, a.Name)
	var tp tpKey
	seen := false
	for _, i := range a.Ops {
		op := byIndex[i]
		if op == nil {
			continue
		}
		tp, seen = keyOf(op), true
		for _, v := range op.Values {
			if c, ok := ix.values[tpOffset{keyOf(op), v}]; ok && loss {
				return c
			}
		}
		for _, o := range op.Offsets {
			if c, ok := ix.offsets[tpOffset{keyOf(op), o}]; ok {
				return c
			}
		}
	}
	if c, ok := ix.onlyOne[tp]; ok && seen && loss && c >= 0 {
		return c
	}
	return -1
}
