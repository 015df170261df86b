package history

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// A Log given batches (AddSends) among single operations reads back exactly what the
// batches' Ops stand for, by At, Load and History alike, across blocks, chunks of records and
// of batches and arena chunks, whatever form each batch is stored in: values consecutive or
// not, acknowledged with offsets or not, records created at fixed steps or not; and polls of
// consecutive values and offsets or not.
func TestLogAddSendsReadsAsOps(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var l Log
	var want History
	value := int64(0)
	forms := map[uint8]int{}
	polls := map[[2]bool]int{} // by whether their values, offsets start consecutive
	for len(l.chunks) < 3 || len(l.batches) < 3 || len(l.nums.chunks) < 3 {
		if r.IntN(2) == 0 {
			op := Op{Client: "c1", Type: Poll, Topic: "t", Partition: int32(r.IntN(3)), Invoke: time.Duration(len(want)), Complete: time.Duration(len(want) + 1), Outcome: OK}
			gaps := r.IntN(3) // 0: consecutive values and offsets; 1: gaps in the values; 2: in the offsets
			for k := range 1 + r.IntN(60) {
				v, o := value+int64(k), int64(k)
				if k > 0 && r.IntN(3) == 0 {
					v, o = v+int64(gaps&1), o+int64(gaps>>1)
				}
				op.Values, op.Offsets = append(op.Values, v), append(op.Offsets, o)
			}
			if len(op.Values) > 1 {
				polls[[2]bool{op.Values[1] == op.Values[0]+1, op.Offsets[1] == op.Offsets[0]+1}]++
			}
			l.Add(op)
			op.Index = len(want)
			want = append(want, op)
			continue
		}
		s := randomSends(r, &value, len(want))
		l.AddSends(s)
		last := l.batches[len(l.batches)-1]
		b := last[len(last)-1]
		forms[b.form]++
		if got, wantSteady := b.form&steadyInvokes != 0, len(s.Values) > 2 && steady(s.Invokes); got != wantSteady {
			t.Fatalf("batch %d: steady %v; want %v (invokes %v)", l.nBatches-1, got, wantSteady, s.Invokes)
		}
		if got, wantCons := b.form&consecutiveValues != 0, len(s.Values) > 1 && consecutive(s.Values); got != wantCons {
			t.Fatalf("batch %d: consecutive %v; want %v (values %v)", l.nBatches-1, got, wantCons, s.Values)
		}
		for _, op := range s.Ops() {
			op.Index = len(want)
			want = append(want, op)
		}
	}
	if l.Len() != len(want) {
		t.Fatalf("Len = %d; want %d", l.Len(), len(want))
	}
	for _, f := range []uint8{0, consecutiveValues, steadyInvokes, consecutiveValues | steadyInvokes} {
		if forms[f] == 0 {
			t.Fatalf("no batch of form %d among %v; want every form", f, forms)
		}
	}
	if len(polls) != 3 {
		t.Fatalf("polls %v; want some of consecutive values and offsets, and of gaps in each", polls)
	}
	h := l.History(0)
	var buf Op
	for i := range want {
		if got := l.At(i); !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("At(%d) = %+v; want %+v", i, got, want[i])
		}
		if got := l.Load(i, &buf); !reflect.DeepEqual(*got, want[i]) {
			t.Fatalf("Load(%d) = %+v; want %+v", i, *got, want[i])
		}
		if !reflect.DeepEqual(h[i], want[i]) {
			t.Fatalf("History(0)[%d] = %+v; want %+v", i, h[i], want[i])
		}
	}
	if from := chunkSize + 5; !reflect.DeepEqual(l.History(from), want[from:]) {
		t.Errorf("History(%d) differs from the expanded history", from)
	}
	var got, exp bytes.Buffer
	if err := h.WriteJSONLines(&got); err != nil {
		t.Fatal(err)
	}
	if err := want.WriteJSONLines(&exp); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), exp.Bytes()) {
		t.Error("the JSON lines of the log's history differ from those of the expanded history")
	}
	if s := h.Summary("h"); s != want.Summary("h") {
		t.Errorf("summary %q; want %q", s, want.Summary("h"))
	}
}

// randomSends is a producer batch of 1 to 12 records completed at `at`: ok with offsets,
// unknown or failed without; its values follow *value one by one, or some skip ahead or go
// back; its records created at fixed steps or not.
func randomSends(r *rand.Rand, value *int64, at int) *Sends {
	n := 1 + r.IntN(12)
	s := &Sends{Client: fmt.Sprintf("p%d", r.IntN(2)), Topic: "t", Partition: int32(r.IntN(3)), Complete: time.Duration(at + 500), Outcome: OK, Base: int64(r.IntN(1000))}
	switch r.IntN(3) {
	case 0:
		s.Outcome, s.Base, s.Error = Unknown, -1, "REQUEST_TIMED_OUT"
	case 1:
		s.Outcome, s.Base, s.Error = Fail, -1, "NOT_ENOUGH_REPLICAS"
	}
	jitter := r.IntN(2) // 0: created at fixed steps (a steady batch)
	gaps := r.IntN(2)   // 0: consecutive values
	for i := 0; i < n; i++ {
		*value++
		if gaps == 1 && r.IntN(4) == 0 {
			*value += int64(r.IntN(5)) - 3 // a gap, a repeat or a step back
		}
		s.Values = append(s.Values, *value)
		s.Invokes = append(s.Invokes, time.Duration(at+3*i+jitter*r.IntN(3)))
	}
	return s
}

// A steady batch of consecutive values is a fixed handful of numbers whatever its length,
// with or without offsets: a producer's batch of a thousand records takes the room of one
// of ten.
func TestLogSteadyConsecutiveBatchIsFixedSize(t *testing.T) {
	held := func(n int, base int64) int64 {
		s := &Sends{Client: "p1", Topic: "t", Complete: time.Second, Outcome: OK, Base: base}
		for i := range n {
			s.Values = append(s.Values, int64(1000+i))
			s.Invokes = append(s.Invokes, time.Duration(i)*time.Millisecond)
		}
		var l Log
		l.AddSends(s)
		return l.heldBytes() - int64(len(l.blocks))*4 // the index of runs has an entry a 64 operations
	}
	for _, base := range []int64{-1, 40} {
		if ten, thousand := held(10, base), held(1000, base); ten != thousand || ten > batchBytes+3*8+16 {
			t.Errorf("base %d: a batch of 10 takes %d bytes, of 1000 %d; want the same, at most %d", base, ten, thousand, batchBytes+3*8+16)
		}
	}
}

// The history of a classroom-like run holds at most 12 bytes a send: one producer at 1,000
// records a second over six partitions, its batches of about ten records (linger.ms) each
// consecutive values created at 1 ms steps, acknowledged with offsets. Stored one value and
// one offset a record, as they were, they took 16 bytes a send on top of the batch's own
// numbers (23 bytes a send in all here).
func TestLogBytesPerSend(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var l Log
	value, offsets, now := int64(0), make([]int64, 6), time.Duration(0)
	for l.Len() < 100_000 {
		p, n := r.IntN(6), 5+r.IntN(11)
		s := &Sends{Client: "p1", Topic: "orders", Partition: int32(p), Outcome: OK, Base: offsets[p]}
		for range n {
			value++
			now += time.Millisecond
			s.Values = append(s.Values, value)
			s.Invokes = append(s.Invokes, now)
		}
		s.Complete = now + 3*time.Millisecond
		offsets[p] += int64(n)
		l.AddSends(s)
	}
	perSend := float64(l.heldBytes()) / float64(l.Len())
	if perSend > 12 {
		t.Errorf("%.1f bytes a send; want at most 12", perSend)
	}
	t.Logf("%.2f bytes a send (%d sends in %d batches)", perSend, l.Len(), l.nBatches)
}

// Load writes a send's fields one by one into the Op it is given: every field of an Op
// loaded before (here all set, whatever fields Op has) is overwritten.
func TestLoadSendOverwritesEveryField(t *testing.T) {
	var l Log
	var ops Ops
	for _, s := range []*Sends{
		{Client: "p1", Topic: "t", Partition: 2, Values: []int64{7, 8}, Invokes: []time.Duration{1, 2}, Complete: 3, Outcome: OK, Base: 40, Txn: TxnCommitted},
		{Client: "p1", Topic: "t", Values: []int64{9, 3}, Invokes: []time.Duration{4, 6}, Complete: 7, Outcome: Unknown, Base: -1, Error: "REQUEST_TIMED_OUT"},
	} {
		l.AddSends(s)
		ops = append(ops, s.Ops()...)
	}
	for i := range l.Len() {
		var buf Op
		v := reflect.ValueOf(&buf).Elem()
		for f := range v.NumField() {
			switch fv := v.Field(f); fv.Kind() {
			case reflect.String:
				fv.SetString("stale")
			case reflect.Int, reflect.Int32, reflect.Int64:
				fv.SetInt(99)
			case reflect.Slice:
				fv.Set(reflect.ValueOf([]int64{99}))
			default:
				t.Fatalf("Op.%s is a %s: the test sets strings, integers and []int64", v.Type().Field(f).Name, fv.Kind())
			}
		}
		want := ops[i]
		want.Index = i
		if got := *l.Load(i, &buf); !reflect.DeepEqual(got, want) {
			t.Errorf("Load(%d) into a used Op = %+v; want %+v", i, got, want)
		}
	}
}

// A poll of a run of the log, consecutive offsets, of records sent one after the other,
// consecutive values, is stored as two numbers and its record however many it read; others
// one number a value and an offset.
func TestLogConsecutivePollIsFixedSize(t *testing.T) {
	held := func(vals, offs []int64) int64 {
		var l Log
		l.Add(Op{Client: "c1", Type: Poll, Topic: "t", Values: vals, Offsets: offs, Outcome: OK})
		return l.heldBytes() - int64(len(l.blocks))*4 // the index of runs has an entry a 64 operations
	}
	run := func(first int64, n int) []int64 {
		s := make([]int64, n)
		for i := range s {
			s[i] = first + int64(i)
		}
		return s
	}
	if ten, many := held(run(7, 10), run(100, 10)), held(run(7, 500), run(100, 500)); ten != many || ten != recBytes+16+2*8 {
		t.Errorf("a poll of 10 consecutive records takes %d bytes, of 500 %d; want both %d", ten, many, recBytes+16+2*8)
	}
	gaps := run(7, 10)
	gaps[5]++
	if got, want := held(gaps, run(100, 10)), recBytes+16+11*8; got != want {
		t.Errorf("a poll of 10 records with a gap in the values takes %d bytes; want %d", got, want)
	}
}
