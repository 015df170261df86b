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

type offVal struct{ off, val int64 }

// partLog is what the history says about one partition: the log it implies (Jepsen's
// version-orders: offsets from acknowledged sends and from every poll) and who wrote and read
// each value. Positions are indexes into the history slice.
type partLog struct {
	key    tpKey
	vals   map[int64][]int64 // offset → distinct values seen there, first seen first
	source map[offVal]int    // (offset, value) → the first op that put the value there
	// Dense order (offsets without a known value removed): byIndex[i] is the first value seen
	// at the i-th known offset, offsetAt[i] that offset; byValue maps those values back (a
	// value at several offsets maps to the last). firstIndex and lastIndex map every value to
	// the first and last index it appears at.
	byIndex    []int64
	offsetAt   []int64
	byValue    map[int64]int
	firstIndex map[int64]int
	lastIndex  map[int64]int
	offsets    map[int64][]int64 // value → the offsets that hold it, in order

	writer map[int64]int // value → its send (the first, if sent twice)
	okRead map[int64]int // value → the first ok poll that returned it
	failed map[int64]int // value → its failed send
}

type analysis struct {
	h     history.History
	parts map[tpKey]*partLog
	keys  []tpKey // sorted
	end   time.Duration
}

func (a *analysis) part(k tpKey) *partLog {
	p := a.parts[k]
	if p == nil {
		p = &partLog{key: k, vals: map[int64][]int64{}, source: map[offVal]int{}, byValue: map[int64]int{},
			firstIndex: map[int64]int{}, lastIndex: map[int64]int{}, offsets: map[int64][]int64{}, writer: map[int64]int{}, okRead: map[int64]int{}, failed: map[int64]int{}}
		a.parts[k] = p
		a.keys = append(a.keys, k)
	}
	return p
}

func analyse(h history.History) *analysis {
	a := &analysis{h: h, parts: map[tpKey]*partLog{}}
	for i := range h {
		op := &h[i]
		a.end = max(a.end, op.Complete)
		p := a.part(keyOf(op))
		switch op.Type {
		case history.Send:
			for _, v := range op.Values {
				if _, ok := p.writer[v]; !ok {
					p.writer[v] = i
				}
				if op.Outcome == history.Fail {
					if _, ok := p.failed[v]; !ok {
						p.failed[v] = i
					}
				}
			}
		case history.Poll:
			if op.Outcome == history.OK {
				for _, v := range op.Values {
					if _, ok := p.okRead[v]; !ok {
						p.okRead[v] = i
					}
				}
			}
		}
	}
	slices.SortFunc(a.keys, compareTP)
	// The log: acknowledged sends (and unknown ones proven read), and every poll.
	for i := range h {
		op := &h[i]
		if len(op.Offsets) != len(op.Values) {
			continue
		}
		p := a.parts[keyOf(op)]
		if op.Type == history.Send && !p.mustHaveCommitted(op) {
			continue
		}
		for j, off := range op.Offsets {
			v := op.Values[j]
			if _, ok := p.source[offVal{off, v}]; !ok {
				p.vals[off] = append(p.vals[off], v)
				p.source[offVal{off, v}] = i
			}
		}
	}
	for _, k := range a.keys {
		p := a.parts[k]
		offs := slices.Sorted(maps.Keys(p.vals))
		p.offsetAt = offs
		p.byIndex = make([]int64, len(offs))
		for i, o := range offs {
			vs := p.vals[o]
			p.byIndex[i] = vs[0]
			p.byValue[vs[0]] = i
			for _, v := range vs {
				if _, ok := p.firstIndex[v]; !ok {
					p.firstIndex[v] = i
				}
				p.lastIndex[v] = i
				p.offsets[v] = append(p.offsets[v], o)
			}
		}
	}
	return a
}

// mustHaveCommitted: an ok send, or an unknown one with a value some ok poll returned
// (Jepsen's must-have-committed?).
func (p *partLog) mustHaveCommitted(op *history.Op) bool {
	switch op.Outcome {
	case history.OK:
		return true
	case history.Unknown:
		for _, v := range op.Values {
			if _, ok := p.okRead[v]; ok {
				return true
			}
		}
	}
	return false
}

// index returns a value's dense index (byValue), if it has one.
func (p *partLog) index(v int64) (int, bool) {
	i, ok := p.byValue[v]
	return i, ok
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
	op := &a.h[i]
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
func (p *partLog) offsetsOf(v int64) []int64 { return p.offsets[v] }

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
