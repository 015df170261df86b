package checker

import "math"

// decide checks a partition's sends against the log model (linModel) directly, in time
// linear in the sends after one sort, with no search and no clock: the same answer porcupine
// gives, decided rather than timed.
//
// Why it is the same answer. Every offset a known send claims belongs to exactly one send
// (linParts marks a partition with two claims on one offset illegal before this runs; the
// claims are sorted by offset), and
// the model lets a send step only when its first offset is the least claimed offset at or
// past the log end. So from any log end at most one send can step: the model admits a single
// sequence of sends, the one decide builds by walking the claimed offsets in order. If that
// walk stops before every send has stepped (a send's offsets interleave with another's, or
// do not increase), no sequence takes them all, and porcupine, which must linearize every
// operation, finds none either: illegal. Otherwise the history is linearizable exactly when
// that one sequence respects real time: no send in it returned before an earlier one was
// invoked. Porcupine orders a call before a return at the same instant (the two overlap),
// so a send may return at the very instant a later one is invoked. Picking each send's
// linearization point as the latest invoke so far (never before the previous point) finds
// such points whenever they exist: the sequence respects real time if and only if every
// send returns at or after every invoke before it in the sequence, its own included.
//
// decided is false only for what this argument does not cover: a send that returns before
// it was invoked (a hand-made history; fold rejects such sends whenever a poll reads them).
// Those go to porcupine.
func (lp *linPart) decide() (result string, decided bool) {
	for i := range lp.sends {
		if lp.sends[i].ret < lp.sends[i].call {
			return "", false
		}
	}
	n := int64(0)                  // the model's state: the log end
	latest := int64(math.MinInt64) // the latest invoke along the sequence so far
	stepped := 0
	for _, c := range lp.claims {
		if c.off < n {
			continue // taken by the send that stepped last, or skipped for good
		}
		if c.at != 0 {
			return LinIllegal, true // no send starts at the next claimed offset: none can step
		}
		s := &lp.sends[c.send]
		ok, end := appendAt(n, lp.sendOffs(int(c.send)))
		if !ok {
			return LinIllegal, true
		}
		n = end
		latest = max(latest, s.call)
		if s.ret < latest {
			return LinIllegal, true // it returned before an earlier send in the sequence began
		}
		stepped++
	}
	if stepped != len(lp.sends) {
		return LinIllegal, true
	}
	return LinOK, true
}
