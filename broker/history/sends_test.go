package history

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// A Log given batches (AddSends) among single operations reads back exactly what the
// batches' Ops stand for, by At, Load and History alike, across blocks, chunks and arena
// chunks; the JSON lines written are those of the expanded history.
func TestLogAddSendsReadsAsOps(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var l Log
	var want History
	value := int64(0)
	for len(want) < 3*chunkSize+arenaSize/2 {
		if r.IntN(3) == 0 {
			op := Op{Client: "c1", Type: Poll, Topic: "t", Partition: int32(r.IntN(3)), Values: []int64{value}, Offsets: []int64{value}, Invoke: time.Duration(len(want)), Complete: time.Duration(len(want) + 1), Outcome: OK}
			l.Add(op)
			op.Index = len(want)
			want = append(want, op)
			continue
		}
		n := 1 + r.IntN(200)
		s := &Sends{Client: fmt.Sprintf("p%d", r.IntN(2)), Topic: "t", Partition: int32(r.IntN(3)), Complete: time.Duration(len(want) + 500), Outcome: OK, Base: int64(r.IntN(1000))}
		switch r.IntN(3) {
		case 0:
			s.Outcome, s.Base, s.Error = Unknown, -1, "REQUEST_TIMED_OUT"
		case 1:
			s.Outcome, s.Base, s.Error = Fail, -1, "NOT_ENOUGH_REPLICAS"
		}
		jitter := r.IntN(2) // 0: created at fixed steps (a steady batch)
		for i := 0; i < n; i++ {
			value++
			s.Values = append(s.Values, value)
			s.Invokes = append(s.Invokes, time.Duration(len(want)+3*i+jitter*r.IntN(3)))
		}
		l.AddSends(s)
		for _, op := range s.Ops() {
			op.Index = len(want)
			want = append(want, op)
		}
	}
	if l.Len() != len(want) {
		t.Fatalf("Len = %d; want %d", l.Len(), len(want))
	}
	steady := 0
	for _, b := range l.batches {
		if b.steady {
			steady++
		}
	}
	if steady == 0 || steady == len(l.batches) {
		t.Fatalf("%d of %d batches steady; want some of each kind", steady, len(l.batches))
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
	if from := 2*chunkSize + 5; !reflect.DeepEqual(l.History(from), want[from:]) {
		t.Errorf("History(%d) differs from the expanded history", from)
	}
}

// A batch takes far less room than its operations one by one.
func TestLogAddSendsIsCompact(t *testing.T) {
	s := &Sends{Client: "p1", Topic: "t", Complete: 9, Outcome: OK, Base: 100}
	for i := 0; i < 10; i++ {
		s.Values = append(s.Values, int64(i))
		s.Invokes = append(s.Invokes, time.Duration(i))
	}
	var l Log
	for i := 0; i < 1000; i++ {
		l.AddSends(s)
	}
	if l.singles != 0 || len(l.batches) != 1000 || l.Len() != 10000 {
		t.Fatalf("%d records, %d batches, %d operations; want 0, 1000, 10000", l.singles, len(l.batches), l.Len())
	}
	if got := l.At(9999); got.Values[0] != 9 || got.Offsets[0] != 109 || got.Invoke != 9 {
		t.Errorf("At(9999) = %+v", got)
	}
}
