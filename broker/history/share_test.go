package history

import (
	"reflect"
	"testing"
	"time"
)

// addStep appends the i-th operation of a course: mostly polls of a few records, one record at
// a time, and every seventh a producer batch; from `from` on, the course named by `branch`
// (different clients and values), as a fork takes another course than its parent.
func addStep(l *Log, i, from int, branch string) {
	client, v, at := "c1", int64(i), time.Duration(i)
	if i >= from {
		client, v, at = "c-"+branch, v*1000, at+time.Duration(len(branch))
	}
	if i%7 == 0 {
		s := &Sends{Client: "p" + client, Topic: "t", Partition: int32(i % 3), Complete: at, Outcome: OK, Base: v}
		for k := range 5 {
			s.Values = append(s.Values, v+int64(k))
			s.Invokes = append(s.Invokes, at-1)
		}
		l.AddSends(s)
		return
	}
	l.Add(Op{Client: client, Type: Poll, Topic: "t", Partition: int32(i % 3), Values: []int64{v, v + 1}, Offsets: []int64{v, v + 1}, Invoke: at, Complete: at + 1, Outcome: OK})
}

func course(n, from int, branch string) *Log {
	l := &Log{}
	for i := range n {
		addStep(l, i, from, branch)
	}
	return l
}

// A fork's log shares the chunks it holds in common with its parent's (the same arrays), and
// both go on, each reading exactly what a log built alone on its course reads.
func TestShareKeepsEachCourse(t *testing.T) {
	const fork, more = 3*chunkSize + 100, 2 * chunkSize
	parent := course(fork+chunkSize, fork+chunkSize, "") // the parent has gone on past the fork
	child := course(fork, fork, "")
	saved := child.Share(parent)
	if saved <= 0 {
		t.Fatalf("Share saved %d bytes; want some", saved)
	}
	if got := child.SharedBytes(parent); got < 2*chunkSize*recBytes {
		t.Errorf("SharedBytes %d; want at least the two full chunks of records (%d)", got, 2*chunkSize*recBytes)
	}
	for i := 0; i+1 < len(child.chunks); i++ {
		if !sameArray(child.chunks[i], parent.chunks[i]) {
			t.Errorf("record chunk %d is not the parent's", i)
		}
	}
	if sameArray(child.chunks[len(child.chunks)-1], parent.chunks[len(child.chunks)-1]) {
		t.Error("the child's last chunk of records, which it writes into, is the parent's")
	}
	if last := len(child.nums.chunks) - 1; last > 0 && sameArray(child.nums.chunks[last], parent.nums.chunks[last]) {
		t.Error("the child's last chunk of values, which it writes into, is the parent's")
	}
	if again := child.Share(parent); again != 0 {
		t.Errorf("sharing again saved %d bytes; want 0", again)
	}
	// Each goes on its own course: neither writes into what the other reads.
	for i := fork; i < fork+more; i++ {
		addStep(child, i, fork, "child")
	}
	for i := fork + chunkSize; i < fork+chunkSize+more; i++ {
		addStep(parent, i, fork+chunkSize, "parent")
	}
	if want := course(fork+more, fork, "child"); !reflect.DeepEqual(child.History(0), want.History(0)) {
		t.Error("the child's history differs from its course built alone")
	}
	if want := course(fork+chunkSize+more, fork+chunkSize, "parent"); !reflect.DeepEqual(parent.History(0), want.History(0)) {
		t.Error("the parent's history differs from its course built alone")
	}
}

// Logs that differ share nothing.
func TestShareOnlyWhatIsEqual(t *testing.T) {
	a := course(3*chunkSize, 0, "a")
	b := course(3*chunkSize, 0, "bb")
	if saved := b.Share(a); saved != 0 || b.SharedBytes(a) != 0 {
		t.Errorf("Share of different logs saved %d bytes, shares %d; want 0", saved, b.SharedBytes(a))
	}
	if !reflect.DeepEqual(b.History(0), course(3*chunkSize, 0, "bb").History(0)) {
		t.Error("b's history changed")
	}
}

// batchCourse is n producer batches of three records, every fifth of values that are not
// consecutive; from `from` on, the course named by branch.
func batchCourse(l *Log, n, from int, branch string) *Log {
	if l == nil {
		l = &Log{}
	}
	for i := l.nBatches; i < n; i++ {
		client, v := "p1", int64(3*i)
		if i >= from {
			client, v = "p-"+branch, v*1000
		}
		s := &Sends{Client: client, Topic: "t", Partition: int32(i % 3), Complete: time.Duration(i + 9), Outcome: OK, Base: v}
		for k := range 3 {
			s.Values = append(s.Values, v+int64(k*(1+i%5/4)))
			s.Invokes = append(s.Invokes, time.Duration(i+k))
		}
		l.AddSends(s)
	}
	return l
}

// A fork's log shares its parent's full chunks of producer batches too, and each goes on
// reading what a log built alone on its course reads.
func TestShareBatches(t *testing.T) {
	const fork, more = 2*chunkSize + 100, chunkSize
	parent := batchCourse(nil, fork+chunkSize, fork+chunkSize, "")
	child := batchCourse(nil, fork, fork, "")
	if child.Share(parent) <= 0 {
		t.Fatal("Share saved nothing")
	}
	for i := 0; i+1 < len(child.batches); i++ {
		if !sameArray(child.batches[i], parent.batches[i]) {
			t.Errorf("batch chunk %d is not the parent's", i)
		}
	}
	if last := len(child.batches) - 1; sameArray(child.batches[last], parent.batches[last]) {
		t.Error("the child's last chunk of batches, which it writes into, is the parent's")
	}
	if got, want := child.SharedBytes(parent), 2*chunkSize*batchBytes; got < want {
		t.Errorf("SharedBytes %d; want at least the two full chunks of batches (%d)", got, want)
	}
	batchCourse(child, fork+more, fork, "child")
	batchCourse(parent, fork+chunkSize+more, fork+chunkSize, "parent")
	if want := batchCourse(nil, fork+more, fork, "child"); !reflect.DeepEqual(child.History(0), want.History(0)) {
		t.Error("the child's history differs from its course built alone")
	}
	if want := batchCourse(nil, fork+chunkSize+more, fork+chunkSize, "parent"); !reflect.DeepEqual(parent.History(0), want.History(0)) {
		t.Error("the parent's history differs from its course built alone")
	}
}
