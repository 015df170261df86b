package checker

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"

	"kafkasim/broker/history"
)

// The linearizability model: one partition's log. Its state is the log end offset n, which
// only grows. A send that returned offsets o… is linearized when the log ends at or below its
// first offset (offsets in between are records the history cannot name: retried duplicates,
// sends whose outcome is unknown and were never read, transaction markers) and leaves the log
// ending after its last. A poll that returned (offset, value) pairs needs, for every offset a
// known send landed at, that send already linearized and its value there; an offset no known
// send landed at only tells that the log reached past it.
//
// Known sends are the acknowledged ones with an offset, plus sends acknowledged without an
// offset (acks=0) or with an unknown outcome whose value some poll returned, placed at the
// first offset it was returned at; those may have happened any time after their invoke, so
// their return is the end of the history. Failed sends are left out (G1a judges reads of
// them).
//
// Polls change nothing but the log end, so they are folded into the sends before porcupine
// runs, as etcd's robustness tests patch their histories: a poll that returned a value no
// known send put at its offset is illegal at once; otherwise a poll that read up to offset m
// by time t forces every send at an offset ≤ m to have happened by t, so those sends' return
// times are clamped to t (a send that then returns before its invoke is illegal at once).
// Two known sends at one offset are illegal at once too. What is left is the sends alone:
// whether they can take their offsets in an order that respects real time. The result is the
// same as stepping the polls, without the blow-up of ordering thousands of polls that change
// nothing.
//
// The model admits one order of the sends at most, so decide (lindirect.go) checks that order
// directly, in linear time and without a clock: the verdict never depends on the machine's
// speed. Porcupine, with its wall-clock budget, searches only what decide cannot decide (a
// hand-made send that returns before its invoke), and only then can a partition be unknown.

// linSend is a send to one partition, and porcupine's input for it. Its offsets and values are
// lp.offs[at:at+n] and lp.vals[at:at+n]: one flat slice each for the partition's sends, not
// two slices a send, so that a partition of millions of sends stays small.
type linSend struct {
	call, ret int64
	pos       int32 // its position in the history
	at, n     int32
}

// appendAt steps a partition log whose end is n by a send acknowledged at offs: each offset
// must be at or past the end, which then moves past it.
func appendAt(n int64, offs []int64) (bool, int64) {
	for _, o := range offs {
		if o < n {
			return false, n
		}
		n = o + 1
	}
	return true, n
}

// linModel is the model of one partition's log end: a send acknowledged at offsets must start
// at the first offset the history's sends claim at or past the end (claimed, sorted). A log may
// have holes — offsets whose records no operation in the history names — but a linearization
// never skips an offset a known send claims; so at each step exactly one send can be next, and
// porcupine's search stays linear where a model that allowed any gap would try every
// increasing subset of concurrent sends. Both accept the same histories: offsets must increase
// along any linearization, so the order is the offsets' order.
func linModel(claimed []int64) porcupine.Model {
	next := func(n int64) int64 {
		i, _ := slices.BinarySearch(claimed, n)
		if i == len(claimed) {
			return math.MaxInt64
		}
		return claimed[i]
	}
	return porcupine.Model{
		Init: func() any { return int64(0) },
		Step: func(state, input, _ any) (bool, any) {
			n := state.(int64)
			offs := input.(*linInput).offs
			if len(offs) == 0 || offs[0] != next(n) {
				return false, n
			}
			return appendAt(n, offs)
		},
		Equal: func(a, b any) bool { return a.(int64) == b.(int64) },
		Hash:  func(s any) uint64 { return uint64(s.(int64)) },
		DescribeOperation: func(input, _ any) string {
			in := input.(*linInput)
			return fmt.Sprintf("send %v → %v (#%d)", in.vals, in.offs, in.idx)
		},
		DescribeState: func(s any) string { return fmt.Sprintf("log end %d", s.(int64)) },
	}
}

// linInput is a send as porcupine's search sees it.
type linInput struct {
	offs, vals []int64
	idx        int // history index, for descriptions
}

type linPart struct {
	sends      []linSend
	offs, vals []int64 // the sends' offsets and values (linSend.at, n)
	claims     []claim // every offset a known send landed at; sorted by offset once gathered
	polls      []linPoll
	bad        bool // illegal without search
}

// sendOffs and sendVals are send i's offsets and values.
func (lp *linPart) sendOffs(i int) []int64 {
	s := &lp.sends[i]
	return lp.offs[s.at : s.at+s.n : s.at+s.n]
}

func (lp *linPart) sendVals(i int) []int64 {
	s := &lp.sends[i]
	return lp.vals[s.at : s.at+s.n : s.at+s.n]
}

// claim is an offset a send landed at: the send's index in linPart.sends and the offset's
// place in its offsets (and so the value's place in its values).
type claim struct {
	off      int64
	send, at int32
}

// claimAt is the claim on offset o, if any.
func (lp *linPart) claimAt(o int64) (claim, bool) {
	i, ok := slices.BinarySearchFunc(lp.claims, o, func(c claim, o int64) int { return cmp.Compare(c.off, o) })
	if !ok {
		return claim{}, false
	}
	return lp.claims[i], true
}

type linPoll struct {
	max int64
	ret int64
}

// anomalousBudget bounds porcupine's search on a partition where the history analysis already
// found anomalies: its verdict is invalid whatever the search says, and a search over a
// history that contradicts itself can take all the time it is given.
const anomalousBudget = 100 * time.Millisecond

// linCheck checks linearizability one partition at a time (CheckOps builds, judges and drops
// each partition's log in turn): directly where decide can (every history the simulator
// produces); the partitions it cannot decide wait for finish, which searches them with
// porcupine, sharing its budget evenly among those not already found anomalous; those get
// anomalousBudget.
type linCheck struct {
	a         *analysis
	out       map[string]string
	undecided []tpKey
	parts     map[tpKey]*linPart
}

func (a *analysis) linCheck() *linCheck {
	return &linCheck{a: a, out: map[string]string{}, parts: map[tpKey]*linPart{}}
}

// partition judges partition k, whose log (analysis.build) is built.
func (l *linCheck) partition(k tpKey) {
	if k.part < 0 {
		return
	}
	lp := l.a.linPart(k)
	switch {
	case lp.bad || !lp.fold():
		l.out[k.String()] = LinIllegal
	case len(lp.sends) == 0:
		l.out[k.String()] = LinOK
	default:
		if res, decided := lp.decide(); decided {
			l.out[k.String()] = res
		} else {
			l.undecided = append(l.undecided, k)
			l.parts[k] = lp
		}
	}
}

// finish searches the partitions decide could not decide, and returns every partition's
// result.
func (l *linCheck) finish(budget time.Duration, anomalous map[tpKey]bool) map[string]string {
	checked := 0
	for _, k := range l.undecided {
		if !anomalous[k] {
			checked++
		}
	}
	per := max(budget/time.Duration(max(checked, 1)), time.Millisecond)
	var clients map[string]int
	if len(l.undecided) > 0 {
		clients = l.a.clientIDs()
	}
	for _, k := range l.undecided {
		limit := per
		if anomalous[k] {
			limit = min(per, anomalousBudget)
		}
		l.out[k.String()] = l.parts[k].search(l.a, clients, limit)
	}
	return l.out
}

// clientIDs numbers the history's clients in name order: porcupine's client ids.
func (a *analysis) clientIDs() map[string]int {
	clients := map[string]int{}
	var buf history.Op
	for i := range a.h.Len() {
		if op := a.at(i, &buf); clients[op.Client] == 0 {
			clients[op.Client] = 1
		}
	}
	for i, n := range slices.Sorted(maps.Keys(clients)) {
		clients[n] = i
	}
	return clients
}

// linPart gathers a partition's known sends, with the polls checked against them and listed
// for fold.
func (a *analysis) linPart(k tpKey) *linPart {
	p := a.parts[k]
	lp := &linPart{sends: make([]linSend, 0, p.sends), offs: make([]int64, 0, p.sendValues),
		vals: make([]int64, 0, p.sendValues), claims: make([]claim, 0, p.sendValues)}
	never := int64(math.MaxInt64)
	var buf history.Op
	// Known sends.
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		if op.Type != history.Send || op.Outcome == history.Fail || len(op.Values) == 0 {
			continue
		}
		in := linSend{pos: i, call: int64(op.Invoke), ret: int64(op.Complete), at: int32(len(lp.offs)), n: int32(len(op.Values))}
		if op.Outcome == history.OK && len(op.Offsets) == len(op.Values) {
			lp.offs = append(lp.offs, op.Offsets...)
		} else {
			// Acknowledged without offsets, or unknown: placed where a poll saw it, if any.
			in.ret = never
			for _, v := range op.Values {
				offs := p.offsetsOf(v)
				if len(offs) == 0 {
					break
				}
				lp.offs = append(lp.offs, offs[0])
			}
			if len(lp.offs) != int(in.at+in.n) {
				lp.offs = lp.offs[:in.at]
				continue
			}
		}
		lp.vals = append(lp.vals, op.Values...)
		for j := range in.n {
			lp.claims = append(lp.claims, claim{lp.offs[in.at+j], int32(len(lp.sends)), j})
		}
		lp.sends = append(lp.sends, in)
	}
	// Two claims on one offset are illegal at once.
	slices.SortStableFunc(lp.claims, func(x, y claim) int { return cmp.Compare(x.off, y.off) })
	for i := 1; i < len(lp.claims); i++ {
		if lp.claims[i].off == lp.claims[i-1].off {
			lp.bad = true
		}
	}
	// Polls: values checked against the known sends, then folded into return times.
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		if op.Type != history.Poll || op.Outcome != history.OK || len(op.Offsets) == 0 || len(op.Offsets) != len(op.Values) {
			continue
		}
		for j, o := range op.Offsets {
			if c, ok := lp.claimAt(o); ok && lp.vals[lp.sends[c.send].at+c.at] != op.Values[j] {
				lp.bad = true
			}
		}
		lp.polls = append(lp.polls, linPoll{max: slices.Max(op.Offsets), ret: int64(op.Complete)})
	}
	return lp
}

// search checks the partition's sends with porcupine, which gives up after limit: the
// fallback for what decide cannot decide.
func (lp *linPart) search(a *analysis, clients map[string]int, limit time.Duration) string {
	claimed := make([]int64, len(lp.claims))
	ops := make([]porcupine.Operation, len(lp.sends))
	for i, c := range lp.claims {
		claimed[i] = c.off
	}
	var buf history.Op
	for i := range lp.sends {
		s := &lp.sends[i]
		op := a.at(int(s.pos), &buf)
		in := &linInput{offs: lp.sendOffs(i), vals: lp.sendVals(i), idx: op.Index}
		ops[i] = porcupine.Operation{ClientId: clients[op.Client], Input: in, Call: s.call, Return: s.ret}
	}
	switch porcupine.CheckOperationsTimeout(linModel(slices.Compact(claimed)), ops, limit) {
	case porcupine.Ok:
		return LinOK
	case porcupine.Illegal:
		return LinIllegal
	}
	return LinUnknown
}

// fold clamps each send's return to the earliest return of a poll that read at or past its
// first offset; false if a send then returns before it was invoked.
func (lp *linPart) fold() bool {
	if len(lp.polls) == 0 {
		return true
	}
	slices.SortFunc(lp.polls, func(x, y linPoll) int { return cmp.Compare(x.max, y.max) })
	// suffix[i]: the earliest return among polls[i:].
	suffix := make([]int64, len(lp.polls))
	for i := len(lp.polls) - 1; i >= 0; i-- {
		suffix[i] = lp.polls[i].ret
		if i+1 < len(lp.polls) {
			suffix[i] = min(suffix[i], suffix[i+1])
		}
	}
	for i := range lp.sends {
		s := &lp.sends[i]
		first := slices.Min(lp.sendOffs(i))
		j, _ := slices.BinarySearchFunc(lp.polls, first, func(p linPoll, o int64) int { return cmp.Compare(p.max, o) })
		if j < len(lp.polls) {
			s.ret = min(s.ret, suffix[j])
		}
		if s.ret < s.call {
			return false
		}
	}
	return true
}

// linParts gathers every partition's linPart at once, keys in order (linCheck holds one at a
// time; the tests compare decide with porcupine on all of them).
func (a *analysis) linParts() ([]tpKey, map[tpKey]*linPart) {
	parts := map[tpKey]*linPart{}
	var keys []tpKey
	for _, k := range a.keys {
		if k.part >= 0 {
			keys = append(keys, k)
			parts[k] = a.linPart(k)
		}
	}
	return keys, parts
}
