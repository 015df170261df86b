package checker

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/history"
)

// abortedReads (Jepsen's g1a-cases): an ok poll returned a value whose send failed. A failed
// send certainly did not take effect, so nobody may read it. Our producer reports fail only
// when the broker refused the batch before appending, or when the send's transaction aborted
// (Op.Txn): those records are in the log, and only a read_committed poll must not see them
// (a read_uncommitted consumer reads them by design).
func (a *analysis) abortedReads() []Anomaly {
	var out []Anomaly
	var buf, wbuf history.Op
	for i := range a.h.Len() {
		op := a.at(i, &buf)
		if op.Type != history.Poll || op.Outcome != history.OK {
			continue
		}
		p := a.parts[keyOf(op)]
		for _, v := range op.Values {
			if w, ok := p.failed[v]; ok {
				if op.Isolation != history.ReadCommitted && a.at(int(w), &wbuf).Txn == history.TxnAborted {
					continue // read_uncommitted sees aborted transactions' records, by design
				}
				if a.explain(G1a) {
					out = append(out, Anomaly{Name: G1a, Ops: a.ops(int(w), i),
						Explanation: fmt.Sprintf("%s returned %d, whose send failed: %s", a.describe(i), v, a.describe(int(w)))})
				}
			}
		}
	}
	return append(out, a.intermediateReads()...)
}

// G1b is Adya's intermediate read, as Elle's g1b-cases finds it: a read observed a state of a
// key that another transaction wrote but that was not that transaction's final write to the
// key. In Kafka a key is a partition and a transaction's writes to it are its records there:
// a read_committed poll may return them only once the transaction committed, so after its last
// write. A poll of read_committed that returned a committed transaction's record before that
// transaction's last record of the partition was even sent (the send's invoke is after the
// poll's completion) observed the transaction half-way, an intermediate state (Jepsen's Kafka
// checker leaves the case open: its note 7, "intermediate reads"). A poll that stops inside a
// committed transaction's records (max.poll.records) is no G1b: the rest was sent before and
// is read next. Only a transaction whose records were sent over time, by hand or by an
// application, can show it; the producer's workload hands a transaction every record at once.
const G1b = "G1b"

func init() {
	AnomalyNames = append(AnomalyNames, G1b)
	slices.Sort(AnomalyNames)
}

// intermediateReads finds G1b. A committed transaction is the sends of one producer completed
// at one instant (EndTxn completes every record of the transaction at its answer, and one
// producer ends one transaction at a time). One anomaly per poll and transaction.
func (a *analysis) intermediateReads() []Anomaly {
	type txnKey struct {
		client   string
		complete time.Duration
	}
	type txnPart struct {
		txn int32
		k   tpKey
	}
	type kv struct {
		k tpKey
		v int64
	}
	txns := map[txnKey]int32{}         // transaction → its id
	last := map[txnPart]int32{}        // the transaction's send to the partition invoked last
	writer := map[kv]int32{}           // a committed transactional value → its transaction
	spread := map[int32]bool{}         // transactions whose sends were invoked at more than one time
	first := map[int32]time.Duration{} // each transaction's first invoke
	var buf, lbuf history.Op
	n := a.h.Len()
	for i := range n {
		op := a.at(i, &buf)
		if op.Type != history.Send || op.Txn != history.TxnCommitted || op.Outcome != history.OK {
			continue
		}
		tk := txnKey{op.Client, op.Complete}
		id, ok := txns[tk]
		if !ok {
			id = int32(len(txns))
			txns[tk] = id
			first[id] = op.Invoke
		}
		if op.Invoke != first[id] {
			spread[id] = true
		}
		tp := txnPart{id, keyOf(op)}
		if l, ok := last[tp]; !ok || a.at(int(l), &lbuf).Invoke < op.Invoke {
			last[tp] = int32(i)
		}
		for _, v := range op.Values {
			writer[kv{keyOf(op), v}] = id
		}
	}
	if len(spread) == 0 {
		return nil // every transaction's records were sent at once: none can be read half-way
	}
	var out []Anomaly
	for i := range n {
		op := a.at(i, &buf)
		if op.Type != history.Poll || op.Outcome != history.OK || op.Isolation != history.ReadCommitted {
			continue
		}
		var seen []int32
		for _, v := range op.Values {
			id, ok := writer[kv{keyOf(op), v}]
			if !ok || !spread[id] || slices.Contains(seen, id) {
				continue
			}
			l := last[txnPart{id, keyOf(op)}]
			lw := a.at(int(l), &lbuf)
			if lw.Invoke <= op.Complete {
				continue
			}
			seen = append(seen, id)
			out = append(out, Anomaly{Name: G1b, Ops: a.ops(int(l), i),
				Explanation: fmt.Sprintf("%s returned %d, written by a transaction of %s that committed later, before that transaction's last record of %s was sent at %v: %s",
					a.describe(i), v, lw.Client, keyOf(op), lw.Invoke, a.describe(int(l)))})
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
	var first, next history.Op
	for start, n := 0, a.h.Len(); start < n; {
		s := a.at(start, &first)
		end := start + 1
		for ; end < n; end++ {
			if e := a.at(end, &next); e.Client != s.Client || e.Invoke != s.Invoke || e.Complete != s.Complete {
				break
			}
		}
		out = append(out, a.precommittedIn(start, end)...)
		start = end
	}
	return out
}

// precommittedIn finds, in the operation made of history entries [start, end), every value a
// poll returned that a send of the same operation sent: one anomaly per (poll, value), naming
// the first send of the value, in the order of sends, then polls, then the value's place in
// the send. An index of the sends' values keeps it linear: an operation of 80,000 entries is
// what a hostile history can hold.
func (a *analysis) precommittedIn(start, end int) []Anomaly {
	type kv struct {
		k tpKey
		v int64
	}
	type sent struct{ send, at int } // the first send of a value, and the value's place in it
	senders := map[kv]sent{}
	var buf history.Op
	for i := start; i < end; i++ {
		if w := a.at(i, &buf); w.Type == history.Send {
			for at, v := range w.Values {
				if _, ok := senders[kv{keyOf(w), v}]; !ok {
					senders[kv{keyOf(w), v}] = sent{i, at}
				}
			}
		}
	}
	if len(senders) == 0 {
		return nil
	}
	type found struct {
		sent
		poll int
		v    int64
	}
	var hits []found
	for j := start; j < end; j++ {
		r := a.at(j, &buf)
		if r.Type != history.Poll {
			continue
		}
		seen := map[int64]bool{}
		for _, v := range r.Values {
			if s, ok := senders[kv{keyOf(r), v}]; ok && !seen[v] {
				seen[v] = true
				hits = append(hits, found{s, j, v})
			}
		}
	}
	slices.SortFunc(hits, func(x, y found) int {
		return cmp.Or(cmp.Compare(x.send, y.send), cmp.Compare(x.poll, y.poll), cmp.Compare(x.at, y.at))
	})
	out := make([]Anomaly, 0, len(hits))
	for _, f := range hits {
		if a.explain(PrecommittedRead) {
			out = append(out, Anomaly{Name: PrecommittedRead, Ops: a.ops(f.send, f.poll),
				Explanation: fmt.Sprintf("%s read %d, which the same operation was still sending (%s)", a.describe(f.poll), f.v, a.describe(f.send))})
		}
	}
	return out
}
