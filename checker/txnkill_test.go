package checker

import (
	"slices"
	"testing"

	"kafkasim/broker/history"
)

// killedTxnHistory: p1 commits 1 and 2 (offsets 0 and 1), then dies mid-transaction with 3 and
// 4 in the log (offsets 2 and 3): with sends their outcome unknown (logged true) or with no
// send in the history at all (logged false). The coordinator aborts that transaction at
// transaction.timeout.ms (its ABORT marker at offset 4). p2 then commits 5 (offset 5). dirty
// (read_uncommitted) reads everything; each of polls is a poll of reader, read_committed
// when rc, or of other (read_committed) when it starts at offset 2.
func killedTxnHistory(logged, rc bool, polls ...[]int64) history.History {
	b := &hist{}
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(1), Offsets: v(0), Outcome: history.OK, Txn: history.TxnCommitted})
	b.add(history.Op{Client: "p1", Type: history.Send, Values: v(2), Offsets: v(1), Outcome: history.OK, Txn: history.TxnCommitted})
	if logged {
		for _, x := range v(3, 4) {
			b.add(history.Op{Client: "p1", Type: history.Send, Values: v(x), Outcome: history.Unknown})
		}
	}
	b.poll("dirty", 0, 1, 1, 2, 2, 3, 3, 4)
	b.add(history.Op{Client: "p2", Type: history.Send, Values: v(5), Offsets: v(5), Outcome: history.OK, Txn: history.TxnCommitted})
	b.poll("dirty", 5, 5)
	for _, pairs := range polls {
		who := "reader"
		if pairs[0] == 2 {
			who = "other"
		}
		b.poll(who, pairs...)
		if rc || who == "other" {
			b.h[len(b.h)-1].Isolation = history.ReadCommitted
		}
	}
	return b.h
}

// A transactional producer killed mid-transaction: the coordinator aborts its transaction at
// transaction.timeout.ms, so a read_committed consumer rightly jumps over its records, whose
// sends have no known outcome. That is no poll-skip, whether the sends are in the history or
// not. It is one when a read_committed poll did return those records (their transaction
// committed), and for a read_uncommitted consumer.
func TestReadCommittedSkipOfADeadProducersTransaction(t *testing.T) {
	for _, c := range []struct {
		logged, rc bool
		polls      [][]int64
		want       []string
	}{
		{true, true, [][]int64{{0, 1, 1, 2}, {5, 5}}, nil},
		{false, true, [][]int64{{0, 1, 1, 2}, {5, 5}}, nil},
		{true, true, [][]int64{{0, 1, 1, 2, 5, 5}}, nil},
		// The planted skips: another read_committed consumer read 3 and 4, so their
		// transaction committed and reader skipped them.
		{true, true, [][]int64{{2, 3, 3, 4}, {0, 1, 1, 2}, {5, 5}}, []string{PollSkip}},
		{false, true, [][]int64{{2, 3, 3, 4}, {0, 1, 1, 2, 5, 5}}, []string{IntPollSkip}},
		// read_uncommitted reads aborted records: jumping over them is a skip.
		{true, false, [][]int64{{0, 1, 1, 2}, {5, 5}}, []string{PollSkip}},
		// An acknowledged committed send is never excused.
		{true, true, [][]int64{{0, 1}, {5, 5}}, []string{PollSkip}},
	} {
		r := Check(killedTxnHistory(c.logged, c.rc, c.polls...), Config{Idempotent: true})
		got := names(r)
		if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("logged=%v read_committed=%v polls %v: anomalies %v; want %v\n%s", c.logged, c.rc, c.polls, got, c.want, r.Text())
		}
	}
}
