package checker

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/history"
)

// maxSkipped bounds the skipped values an explanation lists.
const maxSkipped = 8

// delta is the distance in the implied log from v1 to v2 (Jepsen: 1 when either has no
// index, so that nothing is claimed without evidence).
func (p *partLog) delta(v1, v2 int64) (d, i1, i2 int) {
	i1, ok1 := p.index(v1)
	i2, ok2 := p.index(v2)
	if !ok1 || !ok2 {
		return 1, i1, i2
	}
	return i2 - i1, i1, i2
}

func listText(s []int64) string {
	if len(s) > maxSkipped {
		return fmt.Sprintf("%v and %d more", s[:maxSkipped], len(s)-maxSkipped)
	}
	return fmt.Sprint(s)
}

// skipped is what a poll that jumped from index i1 to i2 of p's implied log should have read:
// every value between, except, for a read_committed poll, the records of aborted transactions
// (the fetch drops them; their markers hold no value). Jepsen's checker, too, knows which
// writes aborted.
//
// A read_committed poll need not read either a record whose send's outcome is unknown (the
// producer was killed or stopped mid-transaction, or its send is not in the history at all)
// when no read_committed poll ever returned it: its transaction may have been aborted, as the
// coordinator aborts a dead producer's open transaction at transaction.timeout.ms
// (TransactionCoordinator.abortTimedOutTransactions), and then every read_committed consumer
// skips it. Once one read_committed poll returned it, its transaction committed, and skipping
// it is a poll-skip again; an acknowledged send of a committed transaction is never excused.
//
// Nor need it read the records that retention or compaction removed by design before the
// poll completed (retention.go): why counts those, in removalText's words.
func (a *analysis) skipped(op *history.Op, p *partLog, i1, i2 int) (out []int64, why string) {
	s := p.byIndex[i1+1 : i2]
	rl := a.removed[p.key]
	if op.Isolation != history.ReadCommitted && rl == nil {
		return s, ""
	}
	var byRet, byComp int
	var wb history.Op
	var unknown map[int64]bool // values of unknown outcome no read_committed poll returned
	if op.Isolation == history.ReadCommitted {
		unknown = a.unknownUnread(p, s)
	}
	for x, v := range s {
		if w, ok := p.failed[v]; ok && op.Isolation == history.ReadCommitted && a.at(int(w), &wb).Txn == history.TxnAborted {
			continue
		}
		if unknown[v] {
			continue
		}
		switch rl.removedBy(p.offsetAt[i1+1+x], op.Complete) {
		case byRetention:
			byRet++
			continue
		case byCompaction:
			byComp++
			continue
		}
		out = append(out, v)
	}
	return out, removalText(byRet, byComp)
}

// unknownUnread are the values of s whose send's outcome is unknown (no send in the history,
// or one neither acknowledged nor failed) and that no ok read_committed poll of p returned.
func (a *analysis) unknownUnread(p *partLog, s []int64) map[int64]bool {
	var out map[int64]bool
	var wb history.Op
	for _, v := range s {
		if w, ok := p.writerOf(v); ok {
			if o := a.at(w, &wb).Outcome; o == history.OK || o == history.Fail {
				continue
			}
		}
		if out == nil {
			out = map[int64]bool{}
		}
		out[v] = true
	}
	if out == nil {
		return nil
	}
	var buf history.Op
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		if op.Type != history.Poll || op.Outcome != history.OK || op.Isolation != history.ReadCommitted {
			continue
		}
		for _, v := range op.Values {
			delete(out, v)
		}
	}
	return out
}

// pollOrder (Jepsen's poll-skip+nonmonotonic-cases): each client's successive ok polls of a
// partition must continue exactly where the last one ended: a jump over known values is
// poll-skip, a step back (or a repeat) nonmonotonic-poll.
func (a *analysis) pollOrderIn(p *partLog) []Anomaly {
	type ck struct {
		client  string
		session string // a group consumer's member, generation and seeks: a rebalance starts anew
	}
	var out []Anomaly
	var buf, prevBuf history.Op
	k := p.key
	last := map[ck]int32{}
	for _, i32 := range p.ops {
		i := int(i32)
		op := a.at(i, &buf)
		if op.Type != history.Poll || op.Outcome != history.OK || len(op.Values) == 0 {
			continue
		}
		key := ck{op.Client, op.Session}
		if j32, ok := last[key]; ok {
			j := int(j32)
			prev := a.at(j, &prevBuf)
			v, v2 := prev.Values[len(prev.Values)-1], op.Values[0]
			d, i1, i2 := p.delta(v, v2)
			switch {
			case d > 1:
				if s, why := a.skipped(op, p, i1, i2); len(s) > 0 {
					if a.explain(PollSkip) {
						out = append(out, Anomaly{Name: PollSkip, Ops: a.ops(j, i),
							Explanation: fmt.Sprintf("%s's poll of %s ended at %d (%s), its next began at %d (%s), skipping %d values it should have read: %s%s",
								op.Client, k, v, a.describe(j), v2, a.describe(i), len(s), listText(s), why)})
					}
				}
			case d < 1:
				if a.explain(NonmonotonicPoll) {
					out = append(out, Anomaly{Name: NonmonotonicPoll, Ops: a.ops(j, i),
						Explanation: fmt.Sprintf("%s's poll of %s ended at %d (offset %d, %s), its next began at %d (offset %d, %s): %d back in the log",
							op.Client, k, v, p.offsetAt[i1], a.describe(j), v2, p.offsetAt[i2], a.describe(i), 1-d)})
				}
			}
		}
		last[key] = i32
	}
	return out
}

// intPolls (Jepsen's int-poll-skip+nonmonotonic-cases): within one poll, each record must
// follow the previous one in the log.
func (a *analysis) intPollsIn(p *partLog) []Anomaly {
	var out []Anomaly
	var buf history.Op
	k := p.key
	for _, i32 := range p.ops {
		i := int(i32)
		op := a.at(i, &buf)
		if op.Type != history.Poll {
			continue
		}
		for j := 1; j < len(op.Values); j++ {
			v1, v2 := op.Values[j-1], op.Values[j]
			d, i1, i2 := p.delta(v1, v2)
			switch {
			case d > 1:
				if s, why := a.skipped(op, p, i1, i2); len(s) > 0 {
					if a.explain(IntPollSkip) {
						out = append(out, Anomaly{Name: IntPollSkip, Ops: a.ops(i),
							Explanation: fmt.Sprintf("%s returned %d then %d, skipping %d values of %s between them: %s%s",
								a.describe(i), v1, v2, len(s), k, listText(s), why)})
					}
				}
			case d < 1:
				if a.explain(IntNonmonotonicPoll) {
					out = append(out, Anomaly{Name: IntNonmonotonicPoll, Ops: a.ops(i),
						Explanation: fmt.Sprintf("%s returned %d then %d, which the log of %s orders %d back",
							a.describe(i), v1, v2, k, 1-d)})
				}
			}
		}
	}
	return out
}

// sendOrder (Jepsen's nonmonotonic-send-cases): each client's successive sends to a
// partition, in the order the application handed them over (invoke time, then value), must
// land in that order. Sends whose place in the log is unknown are not judged, nor two sends a
// processor (a client that also polls) handed over at one instant: it sends the values it
// read, in the order it read them, which value order does not tell.
func (a *analysis) sendOrderIn(p *partLog) []Anomaly {
	// A partition's sends, by the order they were handed over: records handed over at the same
	// instant are taken in value order (our producers number values in creation order).
	type send struct {
		invoke time.Duration
		first  int64
		pos    int32
	}
	var out []Anomaly
	var buf, prevBuf history.Op
	k := p.key
	sends := make([]send, 0, p.sends)
	for _, i := range p.ops {
		op := a.at(int(i), &buf)
		if op.Type == history.Send && op.Outcome != history.Fail && len(op.Values) > 0 {
			sends = append(sends, send{op.Invoke, op.Values[0], i})
		}
	}
	slices.SortStableFunc(sends, func(x, y send) int {
		return cmp.Or(cmp.Compare(x.invoke, y.invoke), cmp.Compare(x.first, y.first))
	})
	last := map[string]int{}
	for _, s := range sends {
		i := int(s.pos)
		op := a.at(i, &buf)
		if j, ok := last[op.Client]; ok {
			prev := a.at(j, &prevBuf)
			v, v2 := prev.Values[len(prev.Values)-1], op.Values[0]
			if a.pollers[op.Client] && prev.Invoke == op.Invoke {
				// a processor's order at one instant is unknown here: see above
			} else if d, i1, i2 := p.delta(v, v2); d < 1 {
				if a.explain(NonmonotonicSend) {
					out = append(out, Anomaly{Name: NonmonotonicSend, Ops: a.ops(j, i),
						Explanation: fmt.Sprintf("%s sent %d (%s) before %d (%s), but %s holds %d at offset %d, %d before %d at offset %d",
							op.Client, v, a.describe(j), v2, a.describe(i), k, v2, p.offsetAt[i2], 1-d, v, p.offsetAt[i1])})
				}
			}
		}
		last[op.Client] = i
	}
	return out
}

// intSends (Jepsen's int-send-skip+nonmonotonic-cases): the records of one send operation
// must land next to each other, in order. Our producers record one operation per record, so
// only histories with multi-record sends can show these.
func (a *analysis) intSendsIn(p *partLog) []Anomaly {
	var out []Anomaly
	var buf history.Op
	k := p.key
	for _, i32 := range p.ops {
		i := int(i32)
		op := a.at(i, &buf)
		if op.Type != history.Send || op.Outcome == history.Fail {
			continue
		}
		for j := 1; j < len(op.Values); j++ {
			v1, v2 := op.Values[j-1], op.Values[j]
			d, i1, i2 := p.delta(v1, v2)
			switch {
			case d > 1:
				if a.explain(IntSendSkip) {
					out = append(out, Anomaly{Name: IntSendSkip, Ops: a.ops(i),
						Explanation: fmt.Sprintf("%s: %d and %d landed %d apart in %s, with %s between them",
							a.describe(i), v1, v2, d, k, listText(p.byIndex[i1+1:i2]))})
				}
			case d < 1:
				if a.explain(IntNonmonotonicSend) {
					out = append(out, Anomaly{Name: IntNonmonotonicSend, Ops: a.ops(i),
						Explanation: fmt.Sprintf("%s: %d was sent before %d but landed %d after it in %s",
							a.describe(i), v1, v2, 1-d, k)})
				}
			}
		}
	}
	return out
}
