package checker

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/history"
)

// tpKey names a partition (Jepsen's "key").
type tpKey struct {
	topic string
	part  int32
}

func (k tpKey) String() string { return k.topic + "/" + strconv.Itoa(int(k.part)) }

func compareTP(a, b tpKey) int {
	return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.part, b.part))
}

func keyOf(op *history.Op) tpKey { return tpKey{op.Topic, op.Partition} }

// partLog is what the history says about one partition: the log it implies (Jepsen's
// version-orders: offsets from acknowledged sends and from every poll) and who wrote and read
// each value. Positions are indexes into the history.
//
// It is kept in sorted slices and dense arrays, not maps: a run of half an hour holds millions
// of values, and a map entry per value and fact took ten times the room. Offsets are indexed
// by their place in offsetAt (the dense index), values by their place in values (the value's
// id); the rare facts (a value at several offsets, an offset with several values, a failed
// send) sit in small maps.
type partLog struct {
	key     tpKey
	ops     []int32 // the positions of the partition's operations, in order
	commits bool    // a group committed an offset of the partition

	// sends and sendValues count the sends (and their values) that did not fail: the most
	// that sendOrder and linearizability gather, whose slices are made that size at once.
	sends, sendValues int

	// The implied log, by dense index i: offsetAt[i] the i-th offset known to hold a value,
	// byIndex[i] the first value seen there and srcAt[i] the first op that put it there;
	// more[i] the values seen there after it, first seen first.
	offsetAt []int64
	byIndex  []int64
	srcAt    []int32
	more     map[int32][]valSrc

	// Values, by id: values is every value the partition's operations name, sorted; writer[id]
	// is the value's send (the first, if sent twice), okRead[id] the first ok poll that
	// returned it, firstIdx[id] the first dense index holding it (-1 for none of these).
	values   []int64
	writer   []int32
	okRead   []int32
	firstIdx []int32
	spread   map[int64]*spread // values at more than one dense index
	failed   map[int64]int32   // value → its failed send
}

// valSrc is a value seen at an offset after the first, and the first op that put it there.
type valSrc struct {
	val int64
	src int32
}

// spread is where a value that the log holds at several offsets is: those offsets in order,
// the last dense index, and the last dense index where it is the first value seen (-1 if none).
type spread struct {
	offs          []int64
	last, byValue int32
}

type analysis struct {
	h       history.Reader
	parts   map[tpKey]*partLog
	keys    []tpKey // sorted
	end     time.Duration
	watched map[string]bool       // topics some ok poll returned values of
	pollers map[string]bool       // clients that poll: a processor's sends are values it read
	removed map[tpKey]*removedLog // what retention and the cleaner removed by design (retention.go)

	// The explanation cap (explain): anomalies explained and those only counted, by name.
	explained, counted map[string]int
	judging            tpKey          // the partition the per-partition families read
	countedIn          map[tpKey]bool // partitions with anomalies counted only
}

// at returns the operation at position i, in buf or in place (history.Reader.Load).
func (a *analysis) at(i int, buf *history.Op) *history.Op { return a.h.Load(i, buf) }

// distinct gathers int64s, sorted and without repeats, holding at most about twice as many as
// there are distinct ones (a poll re-reads what sends wrote: most additions repeat).
type distinct struct {
	s       []int64
	compact int
}

func (d *distinct) add(v int64) {
	d.s = append(d.s, v)
	if len(d.s) >= d.compact {
		slices.Sort(d.s)
		d.s = slices.Compact(d.s)
		d.compact = max(2*len(d.s), 1024)
	}
}

// sorted returns the distinct values, sorted, in a slice of their size.
func (d *distinct) sorted() []int64 {
	slices.Sort(d.s)
	out := slices.Clone(slices.Compact(d.s))
	d.s = nil
	return out
}

// filled returns n int32s set to -1.
func filled(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = -1
	}
	return s
}

// analyse reads the history and builds every partition's log at once: the report's loss
// pages (records.go) and the tests look at all of them. CheckOps builds one at a time.
func analyse(h history.Reader) *analysis {
	a := scan(h)
	for _, k := range a.keys {
		a.build(a.parts[k])
	}
	return a
}

// scan lists the partitions and the positions of each one's operations, and notes which
// topics some ok poll read (unseen judges only those) and which partitions have a group's
// commits (groupSkips reads their logs after the others are dropped).
func scan(h history.Reader) *analysis {
	a := &analysis{h: h, parts: map[tpKey]*partLog{}}
	n := h.Len()
	var buf history.Op
	// The partitions and their operations.
	var last *partLog
	for i := range n {
		op := a.at(i, &buf)
		a.end = max(a.end, op.Complete)
		k := keyOf(op)
		p := last
		if p == nil || p.key != k {
			if p = a.parts[k]; p == nil {
				p = &partLog{key: k}
				a.parts[k] = p
			}
			last = p
		}
		p.ops = append(p.ops, int32(i))
		if op.Type == history.Poll && !a.pollers[op.Client] {
			if a.pollers == nil {
				a.pollers = map[string]bool{}
			}
			a.pollers[op.Client] = true
		}
		switch {
		case op.Type == history.Poll && op.Outcome == history.OK && len(op.Values) > 0:
			if a.watched == nil {
				a.watched = map[string]bool{}
			}
			a.watched[op.Topic] = true
		case op.Type == history.Commit:
			p.commits = true
		}
	}
	a.keys = slices.SortedFunc(maps.Keys(a.parts), compareTP)
	return a
}

// build gathers one partition's values and the log its operations imply.
func (a *analysis) build(p *partLog) {
	var buf history.Op
	p.ops = slices.Clip(p.ops)
	var vals, offs distinct
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		for _, v := range op.Values {
			vals.add(v)
		}
		if len(op.Offsets) == len(op.Values) {
			for _, o := range op.Offsets {
				offs.add(o)
			}
		}
		if op.Type == history.Send && op.Outcome != history.Fail && len(op.Values) > 0 {
			p.sends++
			p.sendValues += len(op.Values)
		}
	}
	p.values = vals.sorted()
	p.writer, p.okRead = filled(len(p.values)), filled(len(p.values))
	// Writers, readers and failed sends.
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		switch {
		case op.Type == history.Send:
			for _, v := range op.Values {
				id := p.id(v)
				// A processor sends an input's value again after an aborted transaction
				// (client.Processor): the send that did not fail is the value's writer.
				if w, failed := p.failed[v]; p.writer[id] < 0 || (failed && w == p.writer[id] && op.Outcome != history.Fail) {
					p.writer[id] = i
				}
				if op.Outcome == history.Fail {
					if _, ok := p.failed[v]; !ok {
						if p.failed == nil {
							p.failed = map[int64]int32{}
						}
						p.failed[v] = i
					}
				}
			}
		case op.Type == history.Poll && op.Outcome == history.OK:
			for _, v := range op.Values {
				if id := p.id(v); p.okRead[id] < 0 {
					p.okRead[id] = i
				}
			}
		}
	}
	for v, w := range p.failed { // deletions only: the order does not matter
		if p.writer[p.id(v)] != w {
			delete(p.failed, v) // sent again, not failed: a processor's output (client.Processor)
		}
	}
	// The log: acknowledged sends (and unknown ones proven read), and every poll. The
	// offsets gathered above are those of every operation; those that no operation of the
	// log names are dropped below.
	all := offs.sorted()
	byIndex, srcAt := make([]int64, len(all)), filled(len(all))
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		if len(op.Offsets) != len(op.Values) || op.Type == history.Send && !p.mustHaveCommitted(op) {
			continue
		}
		for j, off := range op.Offsets {
			v := op.Values[j]
			x, _ := slices.BinarySearch(all, off)
			switch {
			case srcAt[x] < 0:
				byIndex[x], srcAt[x] = v, i
			case byIndex[x] == v:
			default:
				if p.more == nil {
					p.more = map[int32][]valSrc{}
				}
				if !slices.ContainsFunc(p.more[int32(x)], func(e valSrc) bool { return e.val == v }) {
					p.more[int32(x)] = append(p.more[int32(x)], valSrc{v, i})
				}
			}
		}
	}
	// Keep the offsets that hold a value; more is keyed by dense index, so renumber it.
	kept := 0
	var more map[int32][]valSrc
	for x := range all {
		if srcAt[x] < 0 {
			continue
		}
		all[kept], byIndex[kept], srcAt[kept] = all[x], byIndex[x], srcAt[x]
		if m, ok := p.more[int32(x)]; ok {
			if more == nil {
				more = map[int32][]valSrc{}
			}
			more[int32(kept)] = m
		}
		kept++
	}
	p.more = more
	if kept == len(all) {
		p.offsetAt, p.byIndex, p.srcAt = all, byIndex, srcAt
	} else {
		p.offsetAt, p.byIndex, p.srcAt = slices.Clone(all[:kept]), slices.Clone(byIndex[:kept]), slices.Clone(srcAt[:kept])
	}
	// Where each value is.
	p.firstIdx = filled(len(p.values))
	for x := range p.offsetAt {
		p.place(int32(x), p.byIndex[x], true)
		for _, e := range p.more[int32(x)] {
			p.place(int32(x), e.val, false)
		}
	}
}

// partitionAnomalies runs the anomaly families that read one partition: their anomalies,
// family by family. (Check sorts them by name and first operation, and a name comes from one
// family, so judging partition by partition finds them in the order judging family by family
// did.)
func (a *analysis) partitionAnomalies(p *partLog) []Anomaly {
	var out []Anomaly
	for _, f := range []func(*partLog) []Anomaly{
		a.inconsistentOffsetsIn, a.duplicatesIn, a.lostWritesIn, a.unseenIn,
		a.pollOrderIn, a.intPollsIn, a.sendOrderIn, a.intSendsIn,
	} {
		out = append(out, f(p)...)
	}
	return out
}

// everyPartition runs a family that reads one partition over every partition, in order.
func (a *analysis) everyPartition(f func(*partLog) []Anomaly) []Anomaly {
	var out []Anomaly
	for _, k := range a.keys {
		out = append(out, f(a.parts[k])...)
	}
	return out
}

// release drops what only the anomaly families that read one partition need, keeping what
// linearizability reads (the partition's operations and where each value is) and what the
// families that read across partitions do (failed sends, the offsets).
func (p *partLog) release() {
	p.writer, p.okRead = nil, nil
	p.byIndex, p.srcAt, p.more = nil, nil, nil
}

// releaseLog drops the rest once linearizability is judged, but the failed sends (G1a reads
// them) and, if a group committed in the partition, its offsets (groupSkips reads them).
func (p *partLog) releaseLog() {
	p.release()
	p.ops, p.values, p.firstIdx, p.spread = nil, nil, nil, nil
	if !p.commits {
		p.offsetAt = nil
	}
}

// place records that dense index x holds v (as the first value seen there, if first).
func (p *partLog) place(x int32, v int64, first bool) {
	id := p.id(v)
	f := p.firstIdx[id]
	if f < 0 {
		p.firstIdx[id] = x
		return
	}
	s := p.spread[v]
	if s == nil {
		s = &spread{offs: []int64{p.offsetAt[f]}, last: f, byValue: -1}
		if p.byIndex[f] == v {
			s.byValue = f
		}
		if p.spread == nil {
			p.spread = map[int64]*spread{}
		}
		p.spread[v] = s
	}
	s.offs = append(s.offs, p.offsetAt[x])
	s.last = x
	if first {
		s.byValue = x
	}
}

// id is the value's place in values; every value of the partition's operations has one.
func (p *partLog) id(v int64) int {
	i, _ := slices.BinarySearch(p.values, v)
	return i
}

// lookup is the value's id, if an operation of the partition names it.
func (p *partLog) lookup(v int64) (int, bool) {
	return slices.BinarySearch(p.values, v)
}

// writerOf is the value's send (the first, if sent twice).
func (p *partLog) writerOf(v int64) (int, bool) {
	if id, ok := p.lookup(v); ok && p.writer[id] >= 0 {
		return int(p.writer[id]), true
	}
	return -1, false
}

// readerOf is the first ok poll that returned the value.
func (p *partLog) readerOf(v int64) (int, bool) {
	if id, ok := p.lookup(v); ok && p.okRead[id] >= 0 {
		return int(p.okRead[id]), true
	}
	return -1, false
}

// read: some ok poll returned the value.
func (p *partLog) read(v int64) bool {
	_, ok := p.readerOf(v)
	return ok
}

// firstIndex and lastIndex are the first and last dense index holding the value.
func (p *partLog) firstIndex(v int64) (int, bool) {
	if id, ok := p.lookup(v); ok && p.firstIdx[id] >= 0 {
		return int(p.firstIdx[id]), true
	}
	return -1, false
}

func (p *partLog) lastIndex(v int64) int {
	if s := p.spread[v]; s != nil {
		return int(s.last)
	}
	i, _ := p.firstIndex(v)
	return i
}

// valsAt lists the values seen at dense index x, first seen first, with the first op that
// put each there.
func (p *partLog) valsAt(x int) []valSrc {
	return append([]valSrc{{p.byIndex[x], p.srcAt[x]}}, p.more[int32(x)]...)
}

// mustHaveCommitted: an ok send, or an unknown one with a value some ok poll returned
// (Jepsen's must-have-committed?).
func (p *partLog) mustHaveCommitted(op *history.Op) bool {
	switch op.Outcome {
	case history.OK:
		return true
	case history.Unknown:
		for _, v := range op.Values {
			if p.read(v) {
				return true
			}
		}
	}
	return false
}

// index returns a value's dense index (a value at several offsets maps to the last at which
// it is the first value seen), if it has one.
func (p *partLog) index(v int64) (int, bool) {
	if s := p.spread[v]; s != nil {
		return int(s.byValue), s.byValue >= 0
	}
	if i, ok := p.firstIndex(v); ok && p.byIndex[i] == v {
		return i, true
	}
	return -1, false
}

// seconds renders a virtual time as seconds with up to millisecond precision: "12.4s".
func seconds(d time.Duration) string {
	ms := d.Round(time.Millisecond).Milliseconds()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	frac := strings.TrimRight(fmt.Sprintf("%03d", ms%1000), "0")
	if frac == "" {
		return fmt.Sprintf("%s%ds", sign, ms/1000)
	}
	return fmt.Sprintf("%s%d.%ss", sign, ms/1000, frac)
}

// describe renders an operation briefly, for explanations, naming the value, the offset
// and the time plainly:
// "p1's send of value 1843 (op #17, acknowledged at offset 912 at 12.4s)",
// "c1's poll of orders/0 (op #40, read offsets 900..950 at 13.1s)".
func (a *analysis) describe(i int) string {
	var buf history.Op
	op := a.at(i, &buf)
	switch op.Type {
	case history.Send:
		vals := "value " + valuesText(op.Values)
		if len(op.Values) != 1 {
			vals = "values " + valuesText(op.Values)
		}
		switch {
		case op.Outcome == history.OK && len(op.Offsets) == 1:
			return fmt.Sprintf("%s's send of %s (op #%d, acknowledged at offset %d at %s)", op.Client, vals, op.Index, op.Offsets[0], seconds(op.Complete))
		case op.Outcome == history.OK && len(op.Offsets) > 0:
			return fmt.Sprintf("%s's send of %s (op #%d, acknowledged at offsets %s at %s)", op.Client, vals, op.Index, valuesText(op.Offsets), seconds(op.Complete))
		case op.Outcome == history.OK:
			return fmt.Sprintf("%s's send of %s (op #%d, acknowledged without an offset at %s)", op.Client, vals, op.Index, seconds(op.Complete))
		case op.Outcome == history.Fail:
			return fmt.Sprintf("%s's send of %s (op #%d, failed%s at %s)", op.Client, vals, op.Index, errText(op.Error), seconds(op.Complete))
		default:
			return fmt.Sprintf("%s's send of %s (op #%d, outcome unknown%s at %s)", op.Client, vals, op.Index, errText(op.Error), seconds(op.Complete))
		}
	default:
		rng := "read nothing"
		switch n := len(op.Offsets); {
		case n == 1:
			rng = fmt.Sprintf("read offset %d", op.Offsets[0])
		case n > 1:
			rng = fmt.Sprintf("read offsets %d..%d", op.Offsets[0], op.Offsets[n-1])
		}
		return fmt.Sprintf("%s's poll of %s (op #%d, %s at %s)", op.Client, keyOf(op), op.Index, rng, seconds(op.Complete))
	}
}

func errText(e string) string {
	if e == "" {
		return ""
	}
	return " " + e
}

// maxListed bounds the values or offsets of one operation that its description lists: an
// explanation stays short however many records a hostile history puts in one operation.
const maxListed = 8

func valuesText(vs []int64) string {
	if len(vs) == 1 {
		return strconv.FormatInt(vs[0], 10)
	}
	n := min(len(vs), maxListed)
	s := make([]string, n, n+1)
	for i, v := range vs[:n] {
		s[i] = strconv.FormatInt(v, 10)
	}
	if len(vs) > n {
		s = append(s, fmt.Sprintf("… (%d in all)", len(vs)))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// offsetsOf lists the offsets (in the implied log) that hold v.
// The slice is shared: callers must not modify it.
func (p *partLog) offsetsOf(v int64) []int64 {
	if s := p.spread[v]; s != nil {
		return s.offs
	}
	if i, ok := p.firstIndex(v); ok {
		return p.offsetAt[i : i+1 : i+1]
	}
	return nil
}

// ops lists the operations an anomaly names by their positions in the history (negative
// positions, "none", left out). Check turns them into history indexes (Op.Index) once it has
// used them: a history read from a file may number its operations any way it likes.
func (a *analysis) ops(pos ...int) []int {
	out := make([]int, 0, len(pos))
	for _, p := range pos {
		if p >= 0 {
			out = append(out, p)
		}
	}
	return out
}
