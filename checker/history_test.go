package checker

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/history"
)

// hist builds hand-made histories: every operation takes 1ms, one after another, unless
// built with at().
type hist struct {
	h   history.History
	now time.Duration
}

func (b *hist) add(op history.Op) *hist {
	if op.Invoke == 0 && op.Complete == 0 {
		b.now += time.Millisecond
		op.Invoke, op.Complete = b.now, b.now+time.Millisecond
		b.now += time.Millisecond
	}
	if op.Topic == "" {
		op.Topic = "orders"
	}
	b.h.Add(op)
	return b
}

// send: client sent values to partition 0; offsets given for an ok send with offsets.
func (b *hist) send(client string, out history.Outcome, vals []int64, offs ...int64) *hist {
	return b.add(history.Op{Client: client, Type: history.Send, Values: vals, Offsets: offs, Outcome: out})
}

// poll: client read (offset, value) pairs of partition 0.
func (b *hist) poll(client string, pairs ...int64) *hist {
	op := history.Op{Client: client, Type: history.Poll, Outcome: history.OK}
	for i := 0; i+1 < len(pairs); i += 2 {
		op.Offsets = append(op.Offsets, pairs[i])
		op.Values = append(op.Values, pairs[i+1])
	}
	return b.add(op)
}

func v(vals ...int64) []int64 { return vals }

// ok sends values 1..n at offsets 0..n-1, one operation each.
func (b *hist) sendAll(n int) *hist {
	for i := int64(0); i < int64(n); i++ {
		b.send("p1", history.OK, v(i+1), i)
	}
	return b
}

func names(r *Report) []string {
	return slices.Sorted(maps.Keys(r.Counts))
}

// Every anomaly on a hand-made history, with exactly the anomalies it implies. The explanations are
// those of Jepsen's Kafka test (jepsen.tests.kafka); where a case implies more than one anomaly,
// the others are listed too.
func TestAnomaliesOnHandMadeHistories(t *testing.T) {
	cases := []struct {
		name string
		h    *hist
		want []string
	}{
		{"consistent log read whole", new(hist).sendAll(3).poll("c1", 0, 1, 1, 2, 2, 3), nil},
		{"lost-write: 2 acknowledged, later offsets read, 2 never",
			new(hist).sendAll(3).poll("c1", 0, 1).poll("c1", 2, 3),
			[]string{LostWrite, PollSkip, Unseen}},
		{"poll-skip: c1 jumps over 2, which c2 read",
			new(hist).sendAll(3).poll("c1", 0, 1).poll("c2", 0, 1, 1, 2, 2, 3).poll("c1", 2, 3),
			[]string{PollSkip}},
		{"nonmonotonic-poll: c1's second poll starts at what it already read",
			new(hist).sendAll(3).poll("c1", 0, 1, 1, 2).poll("c1", 1, 2, 2, 3),
			[]string{NonmonotonicPoll}},
		{"duplicate: 1 at offsets 0 and 1",
			new(hist).send("p1", history.OK, v(1), 0).send("p1", history.OK, v(2), 2).poll("c1", 0, 1, 1, 1, 2, 2),
			[]string{Duplicate, IntNonmonotonicPoll}},
		{"inconsistent-offsets: 1 acknowledged at 0, 5 read there",
			new(hist).send("p1", history.OK, v(1), 0).poll("c1", 0, 5),
			[]string{InconsistentOffsets, LostWrite, Unseen}},
		{"nonmonotonic-send: 1 sent before 2 lands after it",
			new(hist).send("p1", history.OK, v(1), 1).send("p1", history.OK, v(2), 0).poll("c1", 0, 2, 1, 1),
			[]string{NonmonotonicSend}},
		{"int-poll-skip: one poll returns 1 then 3",
			new(hist).sendAll(3).poll("c2", 1, 2).poll("c1", 0, 1, 2, 3),
			[]string{IntPollSkip}},
		{"int-nonmonotonic-poll: one poll returns 2 then 1",
			new(hist).sendAll(2).poll("c1", 1, 2, 0, 1),
			[]string{IntNonmonotonicPoll}},
		{"int-send-skip: one send's records land apart",
			new(hist).send("p1", history.OK, v(1, 3), 0, 2).send("p2", history.OK, v(2), 1).poll("c1", 0, 1, 1, 2, 2, 3),
			[]string{IntSendSkip}},
		{"int-nonmonotonic-send: one send's records land reversed",
			new(hist).send("p1", history.OK, v(1, 2), 1, 0).poll("c1", 0, 2, 1, 1),
			[]string{IntNonmonotonicSend}},
		{"G1a: a failed send is read",
			new(hist).send("p1", history.Fail, v(1)).poll("c1", 0, 1),
			[]string{G1a}},
		{"precommitted-read: an operation reads its own send",
			new(hist).add(history.Op{Client: "x", Type: history.Send, Values: v(1), Offsets: []int64{0}, Outcome: history.OK, Invoke: 1, Complete: 2}).
				add(history.Op{Client: "x", Type: history.Poll, Values: v(1), Offsets: []int64{0}, Outcome: history.OK, Invoke: 1, Complete: 2}),
			[]string{PrecommittedRead}},
		{"unseen: acknowledged, never polled",
			new(hist).sendAll(2).poll("c1", 0, 1),
			[]string{Unseen}},
		{"unknown send read: it happened, no anomaly",
			new(hist).send("p1", history.Unknown, v(1)).poll("c1", 0, 1), nil},
		{"unknown send never read: it may not have happened",
			new(hist).sendAll(1).send("p1", history.Unknown, v(2)).poll("c1", 0, 1), nil},
		{"no consumer of the topic: unseen is not judged",
			new(hist).sendAll(2).add(history.Op{Client: "c1", Type: history.Poll, Topic: "other", Partition: 0, Values: v(7), Offsets: []int64{0}, Outcome: history.OK}), nil},
		{"acks=0 send read",
			new(hist).send("p1", history.OK, v(1)).poll("c1", 0, 1), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.h.h, Config{Idempotent: true})
			if got := names(r); !slices.Equal(got, tc.want) {
				t.Errorf("anomalies %v; want %v\n%s", got, tc.want, r.Text())
			}
			want := Valid
			if len(tc.want) > 0 {
				want = Invalid
			}
			if r.Verdict != want {
				t.Errorf("verdict %s; want %s", r.Verdict, want)
			}
		})
	}
}

// An explanation names the operations in words, as the issue asks.
func TestLostWriteExplanation(t *testing.T) {
	h := new(hist)
	h.add(history.Op{Client: "p1", Type: history.Send, Values: v(1842), Offsets: []int64{911}, Outcome: history.OK, Invoke: 12 * time.Second, Complete: 12*time.Second + 100*time.Millisecond})
	h.add(history.Op{Client: "p1", Type: history.Send, Values: v(1843), Offsets: []int64{912}, Outcome: history.OK, Invoke: 12 * time.Second, Complete: 12*time.Second + 400*time.Millisecond})
	h.add(history.Op{Client: "c1", Type: history.Poll, Values: v(1842), Offsets: []int64{911}, Outcome: history.OK, Invoke: 13 * time.Second, Complete: 13 * time.Second})
	h.add(history.Op{Client: "c2", Type: history.Poll, Values: v(9999), Offsets: []int64{1630}, Outcome: history.OK, Invoke: 14 * time.Second, Complete: 14 * time.Second})
	r := Check(h.h, Config{})
	var lost []Anomaly
	for _, a := range r.Anomalies {
		if a.Name == LostWrite {
			lost = append(lost, a)
		}
	}
	want := "p1 sent 1843 to orders/0 at offset 912 (acknowledged 12.4s, op #1); no poll ever returned it, though polls returned offsets up to 1630 (c2's poll of orders/0 (op #3, read offset 1630 at 14s))"
	if len(lost) != 1 || lost[0].Explanation != want {
		t.Fatalf("lost writes %+v; want one explained\n%q", lost, want)
	}
	if !slices.Equal(lost[0].Ops, []int{1, 3}) {
		t.Errorf("ops %v; want [1 3] (the send and the poll that read furthest)", lost[0].Ops)
	}
}

// A permitted anomaly names its setting and still makes the verdict invalid.
func TestPermittedAnomalyStillInvalid(t *testing.T) {
	h := new(hist).sendAll(3).poll("c1", 0, 1).poll("c2", 2, 3)
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Idempotent: true}, ""},
		{Config{Idempotent: true, AcksBelowAll: true}, "acks=0/1"},
		{Config{Idempotent: true, UncleanElections: true}, uncleanElection},
	} {
		r := Check(h.h, tc.cfg)
		if r.Verdict != Invalid {
			t.Errorf("%+v: verdict %s; want invalid", tc.cfg, r.Verdict)
		}
		for _, a := range r.Anomalies {
			if a.Name == LostWrite && a.Permitted != tc.want {
				t.Errorf("%+v: lost-write permitted by %q; want %q", tc.cfg, a.Permitted, tc.want)
			}
			if a.Name == LostWrite && tc.want != "" && !strings.Contains(a.Explanation, tc.want) {
				t.Errorf("explanation %q does not name %s", a.Explanation, tc.want)
			}
		}
	}
}

// Linearizability of a partition log: offsets reused, or a poll reading what no send put
// there, are illegal; a consistent history is ok.
func TestLinearizability(t *testing.T) {
	cases := []struct {
		name string
		h    *hist
		want string
	}{
		{"consistent", new(hist).sendAll(3).poll("c1", 0, 1, 1, 2, 2, 3), LinOK},
		{"duplicate by a retry is a hole, not a violation",
			new(hist).send("p1", history.OK, v(1), 1).poll("c1", 0, 1, 1, 1), LinOK},
		{"two acknowledged sends at one offset", new(hist).send("p1", history.OK, v(1), 0).send("p2", history.OK, v(2), 0), LinIllegal},
		{"a send acknowledged below what a poll already read",
			new(hist).send("p1", history.OK, v(1), 0).send("p1", history.OK, v(2), 1).poll("c1", 1, 2).send("p3", history.OK, v(3), 1), LinIllegal},
		{"a poll reads a value before its send began",
			new(hist).poll("c1", 0, 1).send("p1", history.OK, v(1), 0), LinIllegal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(tc.h.h, Config{Idempotent: true})
			if got := r.Linearizable["orders/0"]; got != tc.want {
				t.Errorf("orders/0 %s; want %s", got, tc.want)
			}
		})
	}
}

// Unknown linearizability makes the verdict unknown, unless told otherwise.
func TestVerdictUnknown(t *testing.T) {
	r := &Report{Counts: map[string]int{}, Linearizable: map[string]string{"orders/0": LinOK, "orders/1": LinUnknown}}
	if got := r.verdict(false); got != Unknown {
		t.Errorf("verdict %s; want unknown", got)
	}
	if got := r.verdict(true); got != Valid {
		t.Errorf("verdict with UnknownIsValid %s; want valid", got)
	}
	r.Linearizable["orders/2"] = LinIllegal
	if got := r.verdict(true); got != Invalid {
		t.Errorf("verdict with an illegal partition %s; want invalid", got)
	}
}

// Anomalies are sorted by name, then first op; Counts keeps every one though at most
// MaxExplained per name are listed.
func TestReportOrderAndCap(t *testing.T) {
	h := new(hist)
	for i := int64(0); i < 40; i++ {
		h.send("p1", history.OK, v(i+1), i)
	}
	h.poll("c1", 40, 41)
	r := Check(h.h, Config{})
	if r.Counts[Unseen] != 40 || r.Counts[LostWrite] != 40 {
		t.Errorf("counts %v; want 40 unseen and 40 lost-write", r.Counts)
	}
	if len(r.Anomalies) != 2*MaxExplained {
		t.Errorf("%d anomalies listed; want %d", len(r.Anomalies), 2*MaxExplained)
	}
	if !slices.IsSortedFunc(r.Anomalies, func(a, b Anomaly) int { return strings.Compare(a.Name, b.Name)*1000 + firstOp(a) - firstOp(b) }) {
		t.Errorf("anomalies not sorted by name then first op")
	}
}

// Findings puts anomalies and invariant violations under their names.
func TestFindings(t *testing.T) {
	r := &Report{Counts: map[string]int{LostWrite: 2}, Invariants: []Violation{{Invariant: StrongISR}, {Invariant: StrongISR}}}
	got := r.Findings()
	if len(got) != 2 || got[LostWrite] != 2 || got[StrongISR] != 2 {
		t.Errorf("Findings() = %v; want lost-write 2, strong-isr 2", got)
	}
}

// Many concurrent sends (a batch retried for a minute, then acknowledged at once) must not make
// porcupine search every increasing subset: the model lets the log end skip only offsets no
// send claims, so the search is linear and the history is judged, not left unknown.
func TestLinearizabilityOfManyConcurrentSends(t *testing.T) {
	var h history.History
	for i := 0; i < 40; i++ {
		h.Add(history.Op{Client: "p", Type: history.Send, Topic: "t", Values: []int64{int64(i)}, Offsets: []int64{int64(i)},
			Invoke: time.Second, Complete: 80 * time.Second, Outcome: history.OK})
	}
	h.Add(history.Op{Client: "c", Type: history.Poll, Topic: "t", Values: []int64{0, 1, 2}, Offsets: []int64{0, 1, 2},
		Invoke: 79 * time.Second, Complete: 79*time.Second + time.Millisecond, Outcome: history.OK})
	r := Check(h, Config{Idempotent: true, LinearizabilityBudget: 2 * time.Second})
	if got := r.Linearizable["t/0"]; got != LinOK {
		t.Errorf("t/0 linearizability %q; want %q", got, LinOK)
	}
}

// A broken consumer that skips one record of every ten (the mutants' client/consumer-skips-one
// makes millions of such skips in a long run): every int-poll-skip is counted, but only the
// first ExplainPerName are explained; the rest are counted only, and the report says so.
func TestExplanationCap(t *testing.T) {
	const parts, sends = 4, 2000
	skip := func(_, offset int) bool { return offset%10 == 4 }
	r := Check(Synthetic("orders", parts, sends, skip), Config{Idempotent: true})
	want := parts * sends / 10 // one skip in every poll
	if got := r.Counts[IntPollSkip]; got != want {
		t.Fatalf("%d int-poll-skip counted; want %d (counts %v)", got, want, r.Counts)
	}
	if got := r.Unexplained[IntPollSkip]; got != want-ExplainPerName {
		t.Errorf("%d int-poll-skip counted only; want %d", got, want-ExplainPerName)
	}
	listed := 0
	for _, a := range r.Anomalies {
		if a.Name == IntPollSkip {
			listed++
		}
	}
	if listed != MaxExplained {
		t.Errorf("%d int-poll-skip listed; want %d", listed, MaxExplained)
	}
	for n, c := range r.Counts {
		if u := r.Unexplained[n]; u != max(c-ExplainPerName, 0) {
			t.Errorf("%s: %d counted, %d of them counted only; want %d", n, c, u, max(c-ExplainPerName, 0))
		}
	}
	line := fmt.Sprintf("%s: %d (%d explained, %d more counted only)", IntPollSkip, want, ExplainPerName, want-ExplainPerName)
	if !strings.Contains(r.Text(), line) {
		t.Errorf("report text lacks %q:\n%s", line, r.Text()[:min(len(r.Text()), 400)])
	}
	if r.Verdict != Invalid {
		t.Errorf("verdict %s; want invalid", r.Verdict)
	}
}

// A processor (a client that polls and sends) hands over at one instant the values it read, in
// the order it read them, which value order does not tell: its same-instant sends are not
// judged by nonmonotonic-send. A producer's are (its values number its records), and so are a
// processor's sends at different instants.
func TestNonmonotonicSendOfAProcessorAtOneInstant(t *testing.T) {
	ms := time.Millisecond
	build := func(client string, second time.Duration) *hist {
		h := new(hist)
		h.add(history.Op{Client: "x", Type: history.Poll, Topic: "in", Values: v(5, 2), Offsets: []int64{0, 1}, Outcome: history.OK, Invoke: ms, Complete: 2 * ms})
		h.add(history.Op{Client: "w", Type: history.Send, Topic: "in", Values: v(5, 2), Offsets: []int64{0, 1}, Outcome: history.OK, Invoke: 0, Complete: ms / 2})
		h.add(history.Op{Client: client, Type: history.Send, Values: v(5), Offsets: []int64{0}, Outcome: history.OK, Invoke: 3 * ms, Complete: 4 * ms})
		h.add(history.Op{Client: client, Type: history.Send, Values: v(2), Offsets: []int64{1}, Outcome: history.OK, Invoke: second, Complete: 4 * ms})
		h.poll("c1", 0, 5, 1, 2)
		return h
	}
	for _, tc := range []struct {
		name   string
		h      *hist
		caught bool
	}{
		{"processor, one instant", build("x", 3*ms), false},
		{"producer, one instant", build("p1", 3*ms), true},
		{"processor, 2 handed over before 5", build("x", 2*ms+ms/2), true},
	} {
		r := Check(tc.h.h, Config{Idempotent: true})
		if got := r.Counts[NonmonotonicSend] > 0; got != tc.caught {
			t.Errorf("%s: nonmonotonic-send %v; want %v\n%s", tc.name, got, tc.caught, r.Text())
		}
	}
}
