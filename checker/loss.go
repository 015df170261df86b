package checker

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"kafkasim/broker/history"
)

// inconsistentOffsets: one offset observed with more than one value (Jepsen's
// version-orders errors): the log was rewritten under someone who had seen it.
func (a *analysis) inconsistentOffsetsIn(p *partLog) []Anomaly {
	var out []Anomaly
	k := p.key
	for _, x := range slices.Sorted(maps.Keys(p.more)) {
		off := p.offsetAt[x]
		var who []string
		var pos []int
		for _, e := range p.valsAt(int(x)) {
			pos = append(pos, int(e.src))
			who = append(who, fmt.Sprintf("%d (%s)", e.val, a.describe(int(e.src))))
		}
		if a.explain(InconsistentOffsets) {
			out = append(out, Anomaly{Name: InconsistentOffsets, Ops: a.ops(pos...),
				Explanation: fmt.Sprintf("%s offset %d held different values: %s", k, off, strings.Join(who, " and "))})
		}
	}
	return out
}

// duplicates: one value at more than one offset of a partition.
func (a *analysis) duplicatesIn(p *partLog) []Anomaly {
	var out []Anomaly
	k := p.key
	for _, v := range p.spreadInLogOrder() {
		offs := p.offsetsOf(v)
		var pos []int
		w, sent := p.writerOf(v)
		if sent {
			pos = append(pos, w)
		}
		for _, o := range offs {
			pos = append(pos, p.sourceOf(o, v))
		}
		slices.Sort(pos)
		pos = slices.Compact(pos)
		by := "an unknown client"
		if sent {
			by = a.describe(w)
		}
		if a.explain(Duplicate) {
			out = append(out, Anomaly{Name: Duplicate, Ops: a.ops(pos...),
				Explanation: fmt.Sprintf("%d, sent once by %s, appears %d times in %s, at offsets %v", v, by, len(offs), k, offs)})
		}
	}
	return out
}

// spreadInLogOrder lists the values the implied log holds at more than one offset, by first
// index (then by their order at that offset).
func (p *partLog) spreadInLogOrder() []int64 {
	out := slices.Collect(maps.Keys(p.spread))
	slices.SortFunc(out, func(x, y int64) int {
		fx, _ := p.firstIndex(x)
		fy, _ := p.firstIndex(y)
		return cmp.Or(cmp.Compare(fx, fy), cmp.Compare(p.placeAt(fx, x), p.placeAt(fy, y)))
	})
	return out
}

// placeAt is v's place among the values seen at dense index x (0: the first seen).
func (p *partLog) placeAt(x int, v int64) int {
	if p.byIndex[x] == v {
		return 0
	}
	return 1 + slices.IndexFunc(p.more[int32(x)], func(e valSrc) bool { return e.val == v })
}

// sourceOf is the first op that put v at offset off (which holds it).
func (p *partLog) sourceOf(off, v int64) int {
	x, _ := slices.BinarySearch(p.offsetAt, off)
	if p.byIndex[x] == v {
		return int(p.srcAt[x])
	}
	for _, e := range p.more[int32(x)] {
		if e.val == v {
			return int(e.src)
		}
	}
	return -1
}

// valuesInLogOrder lists every value the implied log holds at dense indexes up to bound
// once, by first index (then by their order at that index).
func (p *partLog) valuesInLogOrder(bound int) []int64 {
	var out []int64
	for x := 0; x <= bound && x < len(p.offsetAt); x++ {
		for _, e := range p.valsAt(x) {
			if f, _ := p.firstIndex(e.val); f == x {
				out = append(out, e.val)
			}
		}
	}
	return out
}

// lostWrites (Jepsen's lost-write-cases): take the highest index any ok poll read (by each
// read value's earliest index); every committed value whose last appearance is at or below
// it should have been read by some ok poll. Those never read are lost.
func (a *analysis) lostWritesIn(p *partLog) []Anomaly {
	var out []Anomaly
	k := p.key
	bound, boundVal := -1, int64(0)
	for id, r := range p.okRead {
		v := p.values[id]
		if i := int(p.firstIdx[id]); r >= 0 && i >= 0 && (i > bound || i == bound && v < boundVal) {
			bound, boundVal = i, v
		}
	}
	if bound < 0 {
		return nil
	}
	maxReader, _ := p.readerOf(boundVal)
	var buf history.Op
	for _, v := range p.valuesInLogOrder(bound) {
		if p.lastIndex(v) > bound || p.read(v) || a.allRemoved(p, p.offsetsOf(v)) {
			continue // retention or compaction may remove it (retention.go)
		}
		w, ok := p.writerOf(v)
		if !ok {
			continue
		}
		op := a.at(w, &buf)
		if !p.mustHaveCommitted(op) {
			continue
		}
		at := "at offsets " + fmt.Sprint(p.offsetsOf(v))
		if len(op.Offsets) == 1 {
			at = fmt.Sprintf("at offset %d", op.Offsets[0])
		}
		if a.explain(LostWrite) {
			out = append(out, Anomaly{Name: LostWrite, Ops: a.ops(w, maxReader),
				Explanation: fmt.Sprintf("%s sent %d to %s %s (acknowledged %s, op #%d); no poll ever returned it, though polls returned offsets up to %d (%s)",
					op.Client, v, k, at, seconds(op.Complete), op.Index, p.offsetAt[bound], a.describe(maxReader))})
		}
	}
	return out
}

// unseen (Jepsen's unseen): ok sends none of whose values any ok poll returned by the end
// of the history. One anomaly per send. A value that retention or compaction removed by
// design is not expected to be seen (retention.go). Jepsen's histories end with final polls of every
// key; ours have polls only where a consumer ran, so a topic no ok poll ever read is not
// judged (nobody watched it: the run has no consumer of it).
func (a *analysis) unseenIn(p *partLog) []Anomaly {
	k := p.key
	if !a.watched[k.topic] {
		return nil
	}
	var pos []int
	var buf history.Op
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		if op.Type != history.Send || op.Outcome != history.OK {
			continue
		}
		for j, v := range op.Values {
			if w, _ := p.writerOf(v); !p.read(v) && w == int(i) && !a.sentRemoved(p, op, j) {
				pos = append(pos, int(i))
				break
			}
		}
	}
	var out []Anomaly
	for _, i := range pos {
		if a.explain(Unseen) {
			out = append(out, Anomaly{Name: Unseen, Ops: a.ops(i),
				Explanation: fmt.Sprintf("%s was acknowledged but no poll of %s returned it by the end (%d such sends to %s)", a.describe(i), k, len(pos), k)})
		}
	}
	return out
}
