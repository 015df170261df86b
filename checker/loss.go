package checker

import (
	"fmt"
	"slices"
	"strings"

	"kafkasim/broker/history"
)

// inconsistentOffsets: one offset observed with more than one value (Jepsen's
// version-orders errors): the log was rewritten under someone who had seen it.
func (a *analysis) inconsistentOffsets() []Anomaly {
	var out []Anomaly
	for _, k := range a.keys {
		p := a.parts[k]
		for _, off := range p.offsetAt {
			vs := p.vals[off]
			if len(vs) < 2 {
				continue
			}
			var who []string
			var pos []int
			for _, v := range vs {
				s := p.source[offVal{off, v}]
				pos = append(pos, s)
				who = append(who, fmt.Sprintf("%d (%s)", v, a.describe(s)))
			}
			out = append(out, Anomaly{Name: InconsistentOffsets, Ops: a.ops(pos...),
				Explanation: fmt.Sprintf("%s offset %d held different values: %s", k, off, strings.Join(who, " and "))})
		}
	}
	return out
}

// duplicates: one value at more than one offset of a partition.
func (a *analysis) duplicates() []Anomaly {
	var out []Anomaly
	for _, k := range a.keys {
		p := a.parts[k]
		for _, v := range p.valuesInLogOrder() {
			if p.firstIndex[v] == p.lastIndex[v] {
				continue
			}
			offs := p.offsetsOf(v)
			if len(offs) < 2 {
				continue
			}
			var pos []int
			if w, ok := p.writer[v]; ok {
				pos = append(pos, w)
			}
			for _, o := range offs {
				pos = append(pos, p.source[offVal{o, v}])
			}
			slices.Sort(pos)
			pos = slices.Compact(pos)
			by := "an unknown client"
			if w, ok := p.writer[v]; ok {
				by = a.describe(w)
			}
			out = append(out, Anomaly{Name: Duplicate, Ops: a.ops(pos...),
				Explanation: fmt.Sprintf("%d, sent once by %s, appears %d times in %s, at offsets %v", v, by, len(offs), k, offs)})
		}
	}
	return out
}

// valuesInLogOrder lists every value in the implied log once, by first index.
func (p *partLog) valuesInLogOrder() []int64 {
	var out []int64
	seen := map[int64]bool{}
	for _, off := range p.offsetAt {
		for _, v := range p.vals[off] {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// lostWrites (Jepsen's lost-write-cases): take the highest index any ok poll read (by each
// read value's earliest index); every committed value whose last appearance is at or below
// it should have been read by some ok poll. Those never read are lost.
func (a *analysis) lostWrites() []Anomaly {
	var out []Anomaly
	for _, k := range a.keys {
		p := a.parts[k]
		bound, boundVal := -1, int64(0)
		for v := range p.okRead {
			if i, ok := p.firstIndex[v]; ok && (i > bound || i == bound && v < boundVal) {
				bound, boundVal = i, v
			}
		}
		if bound < 0 {
			continue
		}
		maxReader := p.okRead[boundVal]
		for _, v := range p.valuesInLogOrder() {
			if p.lastIndex[v] > bound {
				continue
			}
			if _, read := p.okRead[v]; read {
				continue
			}
			w, ok := p.writer[v]
			if !ok || !p.mustHaveCommitted(&a.h[w]) {
				continue
			}
			op := &a.h[w]
			at := "at offsets " + fmt.Sprint(p.offsetsOf(v))
			if len(op.Offsets) == 1 {
				at = fmt.Sprintf("at offset %d", op.Offsets[0])
			}
			out = append(out, Anomaly{Name: LostWrite, Ops: a.ops(w, maxReader),
				Explanation: fmt.Sprintf("%s sent %d to %s %s (acknowledged %s, op #%d); no poll ever returned it, though polls returned offsets up to %d (%s)",
					op.Client, v, k, at, seconds(op.Complete), op.Index, p.offsetAt[bound], a.describe(maxReader))})
		}
	}
	return out
}

// unseen (Jepsen's unseen): ok sends none of whose values any ok poll returned by the end
// of the history. One anomaly per send. Jepsen's histories end with final polls of every
// key; ours have polls only where a consumer ran, so a topic no ok poll ever read is not
// judged (nobody watched it: the run has no consumer of it).
func (a *analysis) unseen() []Anomaly {
	watched := map[string]bool{}
	for i := range a.h {
		if op := &a.h[i]; op.Type == history.Poll && op.Outcome == history.OK && len(op.Values) > 0 {
			watched[op.Topic] = true
		}
	}
	var pos []int
	count := map[tpKey]int{}
	for i := range a.h {
		op := &a.h[i]
		if op.Type != history.Send || op.Outcome != history.OK || !watched[op.Topic] {
			continue
		}
		p := a.parts[keyOf(op)]
		for _, v := range op.Values {
			if _, read := p.okRead[v]; !read && p.writer[v] == i {
				pos = append(pos, i)
				count[p.key]++
				break
			}
		}
	}
	out := make([]Anomaly, 0, len(pos))
	for _, i := range pos {
		k := keyOf(&a.h[i])
		out = append(out, Anomaly{Name: Unseen, Ops: a.ops(i),
			Explanation: fmt.Sprintf("%s was acknowledged but no poll of %s returned it by the end (%d such sends to %s)", a.describe(i), k, count[k], k)})
	}
	return out
}
