package checker

import (
	"fmt"
	"slices"

	"kafkasim/broker/history"
)

// abortedReads (Jepsen's g1a-cases): an ok poll returned a value whose send failed. A failed
// send certainly did not take effect, so nobody may read it. Our producer reports fail only
// when the broker refused the batch before appending, so this fires on a broken broker or
// client, not on a configuration.
func (a *analysis) abortedReads() []Anomaly {
	var out []Anomaly
	for i := range a.h {
		op := &a.h[i]
		if op.Type != history.Poll || op.Outcome != history.OK {
			continue
		}
		p := a.parts[keyOf(op)]
		for _, v := range op.Values {
			if w, ok := p.failed[v]; ok {
				out = append(out, Anomaly{Name: G1a, Ops: a.idx(w, i),
					Explanation: fmt.Sprintf("%s returned %d, whose send failed: %s", a.describe(i), v, a.describe(w))})
			}
		}
	}
	return out
}

// precommittedReads (Jepsen's precommitted-read-cases): a transaction observed its own
// sends, which Kafka's model forbids (a record is invisible until its transaction commits).
// Our history has no transactions; a client operation is the run of consecutive history
// entries of one client with the same invoke and complete times (a fetch over several
// partitions is recorded that way). Producers and consumers are separate clients, so real
// runs cannot show this; hand-made histories can.
func (a *analysis) precommittedReads() []Anomaly {
	var out []Anomaly
	for start := 0; start < len(a.h); {
		end := start + 1
		for end < len(a.h) && a.h[end].Client == a.h[start].Client &&
			a.h[end].Invoke == a.h[start].Invoke && a.h[end].Complete == a.h[start].Complete {
			end++
		}
		out = append(out, a.precommittedIn(start, end)...)
		start = end
	}
	return out
}

func (a *analysis) precommittedIn(start, end int) []Anomaly {
	var out []Anomaly
	for i := start; i < end; i++ {
		w := &a.h[i]
		if w.Type != history.Send {
			continue
		}
		for j := start; j < end; j++ {
			r := &a.h[j]
			if r.Type != history.Poll || keyOf(r) != keyOf(w) {
				continue
			}
			for _, v := range w.Values {
				if slices.Contains(r.Values, v) {
					out = append(out, Anomaly{Name: PrecommittedRead, Ops: a.idx(i, j),
						Explanation: fmt.Sprintf("%s read %d, which the same operation was still sending (%s)", a.describe(j), v, a.describe(i))})
				}
			}
		}
	}
	return out
}
