package history

import (
	"strings"
	"testing"
)

// The summary counts operations by type and outcome, records per type, clients and
// partitions, and names the partitions in order.
func TestSummaryCountsOperationsByTypeAndOutcome(t *testing.T) {
	op := func(typ Type, outcome Outcome, part int32) Op {
		return Op{Client: "c", Type: typ, Topic: "t", Partition: part, Values: []int64{1, 2}, Invoke: 1e9, Complete: 2e9, Outcome: outcome}
	}
	h := History{op(Send, OK, 1), op(Send, OK, 0), op(Send, Unknown, 0), op(Poll, Fail, 2)}
	got := h.Summary("h.jsonl")
	for _, want := range []string{
		"h.jsonl: 4 operations, 1 clients, 3 partitions, virtual time 1.000s to 2.000s\n",
		"  send         2        0        1          6\n",
		"  poll         0        1        0          2\n",
		"  partitions: t/0 t/1 t/2\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got %q; want %q", got, want)
		}
	}
	if got := (History{}).Summary("empty"); !strings.HasPrefix(got, "empty: 0 operations, 0 clients, 0 partitions\n") || strings.Contains(got, "partitions:") {
		t.Errorf("empty history: got %q", got)
	}
}
