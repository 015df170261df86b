package history

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

func TestJSONLinesRoundTrip(t *testing.T) {
	var h History
	h.Add(Op{Client: "p1", Type: Send, Topic: "t", Partition: 0, Values: []int64{1}, Offsets: []int64{0}, Invoke: 5, Complete: 9, Outcome: OK})
	h.Add(Op{Client: "c1", Type: Poll, Topic: "t", Partition: 0, Values: []int64{1, 2}, Offsets: []int64{0, 1}, Invoke: 10, Complete: 12, Outcome: OK})
	h.Add(Op{Client: "p1", Type: Send, Topic: "t", Partition: 1, Values: []int64{3}, Invoke: 11, Complete: 40, Outcome: Unknown, Error: "REQUEST_TIMED_OUT"})
	var buf bytes.Buffer
	if err := h.WriteJSONLines(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSONLines(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(h) {
		t.Fatalf("read %d ops; want %d", len(got), len(h))
	}
	for i := range h {
		if got[i].Index != i || got[i].Client != h[i].Client || got[i].Outcome != h[i].Outcome || len(got[i].Values) != len(h[i].Values) || got[i].Error != h[i].Error {
			t.Errorf("op %d = %+v; want %+v", i, got[i], h[i])
		}
	}
}

func TestReadJSONLinesNamesTheBadLine(t *testing.T) {
	cases := map[string]string{
		"{\"client\":\"p\",\"type\":\"send\",\"topic\":\"t\",\"values\":[1],\"outcome\":\"ok\"}\n{oops\n":              "line 2:",
		"{\"client\":\"p\",\"type\":\"jump\",\"topic\":\"t\",\"outcome\":\"ok\"}\n":                                    `line 1: type "jump" is not send or poll`,
		"\n\n{\"client\":\"p\",\"type\":\"poll\",\"topic\":\"t\",\"values\":[1],\"offsets\":[1,2],\"outcome\":\"ok\"}": "line 3: 2 offsets for 1 values",
		"{\"client\":\"p\",\"type\":\"send\",\"topic\":\"t\",\"outcome\":\"maybe\"}":                                   `line 1: outcome "maybe" is not ok, fail or unknown`,
	}
	for in, want := range cases {
		_, err := ReadJSONLines(strings.NewReader(in))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ReadJSONLines(%q) = %v; want prefix %q", in, err, want)
		}
	}
}

func TestLogChunks(t *testing.T) {
	var l Log
	for i := 0; i < 3*chunkSize+7; i++ {
		l.Add(Op{Client: "p", Type: Send, Topic: "t", Values: []int64{int64(i)}, Outcome: OK})
	}
	if op := l.At(chunkSize + 3); l.Len() != 3*chunkSize+7 || op.Values[0] != chunkSize+3 || op.Index != chunkSize+3 {
		t.Fatalf("Len %d, At = %+v", l.Len(), op)
	}
	h := l.History(chunkSize - 1)
	if len(h) != 2*chunkSize+8 || h[0].Values[0] != chunkSize-1 || h[len(h)-1].Values[0] != 3*chunkSize+6 {
		t.Errorf("History(%d): %d ops from %v to %v", chunkSize-1, len(h), h[0].Values, h[len(h)-1].Values)
	}
}

func TestLogAddAllAcrossChunks(t *testing.T) {
	var l Log
	l.Add(Op{Client: "p", Type: Send, Topic: "t", Values: []int64{-1}, Outcome: OK})
	batch := make([]Op, chunkSize+5)
	for i := range batch {
		batch[i] = Op{Client: "p", Type: Send, Topic: "t", Values: []int64{int64(i)}, Outcome: OK}
	}
	l.AddAll(batch)
	if l.Len() != chunkSize+6 {
		t.Fatalf("Len = %d; want %d", l.Len(), chunkSize+6)
	}
	for _, i := range []int{1, chunkSize - 1, chunkSize, chunkSize + 5} {
		if op := l.At(i); op.Index != i || op.Values[0] != int64(i-1) {
			t.Errorf("At(%d) = index %d value %v; want index %d value %d", i, op.Index, op.Values, i, i-1)
		}
	}
}

// Negative fields name the line and the field: a negative offset used to make the checker
// call the partition not linearizable with no word why, and invoke = -2^63 printed a span of
// 9223372036.855 s.
func TestReadJSONLinesRefusesNegativeFields(t *testing.T) {
	const ok = `{"index":0,"client":"p","type":"send","topic":"t","partition":0,"values":[1],"offsets":[0],"invoke":1,"complete":2,"outcome":"ok"}` + "\n"
	cases := map[string]string{
		`{"index":-1,"client":"p","type":"send","topic":"t","values":[1],"outcome":"ok"}`:                                 "line 2: index -1 is negative",
		`{"client":"p","type":"send","topic":"t","partition":-2,"values":[1],"outcome":"fail"}`:                           "line 2: partition -2 is negative",
		`{"client":"c","type":"poll","topic":"t","partition":-1,"values":[1],"offsets":[0],"outcome":"ok"}`:               "line 2: partition -1 is negative",
		`{"client":"p","type":"send","topic":"t","partition":-1,"values":[1],"offsets":[0],"outcome":"fail"}`:             "line 2: offsets for partition -1",
		`{"client":"c","type":"poll","topic":"t","values":[1,2],"offsets":[0,-1],"outcome":"ok"}`:                         "line 2: offsets[1] -1 is negative",
		`{"client":"p","type":"send","topic":"t","values":[1],"invoke":-9223372036854775808,"complete":5,"outcome":"ok"}`: "line 2: invoke -9223372036854775808 is negative",
		`{"client":"p","type":"send","topic":"t","values":[1],"invoke":-5,"complete":-1,"outcome":"ok"}`:                  "line 2: invoke -5 is negative",
	}
	for in, want := range cases {
		_, err := ReadJSONLines(strings.NewReader(ok + in + "\n"))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ReadJSONLines(%q) = %v; want prefix %q", in, err, want)
		}
	}
	// What a producer records for a record that timed out before it had a partition reads.
	failed := `{"index":1,"client":"p","type":"send","topic":"t","partition":-1,"values":[2],"invoke":1,"complete":9,"outcome":"fail","error":"DELIVERY_TIMEOUT"}`
	if h, err := ReadJSONLines(strings.NewReader(ok + failed)); err != nil || len(h) != 2 {
		t.Errorf("a send failed before partition assignment: %d ops, %v", len(h), err)
	}
	// Indexes need not start at 0: a history cut from a longer one keeps its numbers.
	cut := `{"index":17,"client":"p","type":"send","topic":"t","values":[2],"offsets":[1],"invoke":1,"complete":9,"outcome":"ok"}`
	if h, err := ReadJSONLines(strings.NewReader(cut)); err != nil || len(h) != 1 || h[0].Index != 17 {
		t.Errorf("a cut history: %v, %v", h, err)
	}
}

// A Log gives back every field of what it was given, read by At, Load and History alike:
// values and offsets (absent, empty, fewer than the values, longer than an arena chunk, runs
// of consecutive numbers or not),
// groups, errors and times; and a record stays 64 bytes (two million make a half-hour run).
func TestLogRoundTrip(t *testing.T) {
	big, iota := make([]int64, arenaSize+3), make([]int64, arenaSize+3)
	for i := range big {
		big[i], iota[i] = int64(i)*3, int64(i)
	}
	ops := []Op{
		{Client: "p1", Type: Send, Topic: "t", Partition: 2, Values: []int64{7, 8}, Offsets: []int64{40, 41}, Invoke: 5, Complete: 9, Outcome: OK},
		{Client: "p1", Type: Send, Topic: "t", Partition: -1, Values: []int64{9}, Invoke: 6, Complete: 10, Outcome: Fail, Error: "DELIVERY_TIMEOUT"},
		{Client: "c1", Type: Poll, Topic: "u", Values: []int64{}, Offsets: []int64{}, Invoke: 7, Complete: 11, Outcome: OK, Group: "g", Generation: 3, Session: "m-1/3/0"},
		{Client: "c1", Type: Commit, Topic: "u", Values: []int64{}, Offsets: []int64{12}, Invoke: 8, Complete: 12, Outcome: Unknown, Group: "g", Generation: 3, Session: "m-1/3/0"},
		{Client: "c2", Type: Poll, Topic: "t", Partition: 1, Values: big, Offsets: big, Invoke: 9, Complete: 13, Outcome: OK},
		{Client: "p1", Type: Send, Topic: "t", Values: []int64{10}, Offsets: []int64{42}, Invoke: 10, Complete: 14, Outcome: OK},
		{Client: "c2", Type: Poll, Topic: "t", Partition: 1, Values: iota, Offsets: big, Invoke: 10, Complete: 14, Outcome: OK},
		{Client: "c2", Type: Poll, Topic: "t", Partition: 1, Values: big[:300], Offsets: iota[7:307], Invoke: 10, Complete: 14, Outcome: OK},
		{Client: "c2", Type: Poll, Topic: "t", Values: []int64{math.MaxInt64 - 1, math.MaxInt64}, Offsets: []int64{4, 5}, Outcome: OK},
		{Client: "c2", Type: Poll, Topic: "t", Values: []int64{5, 4}, Offsets: []int64{4, 6}, Outcome: OK},
		{Client: "c2", Type: Commit, Topic: "t", Values: []int64{}, Offsets: []int64{8}, Outcome: OK},
	}
	var l Log
	l.AddAll(ops)
	h := l.History(0)
	var buf Op
	for i, want := range ops {
		want.Index = i
		for how, got := range map[string]Op{"At": l.At(i), "Load": *l.Load(i, &buf), "History": h[i]} {
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) || (got.Offsets == nil) != (want.Offsets == nil) {
				t.Errorf("%s(%d) = %+v; want %+v", how, i, got, want)
			}
		}
	}
	if n := unsafe.Sizeof(rec{}); n != 64 {
		t.Errorf("a record takes %d bytes; want 64", n)
	}
}

// The Log keeps every field of an Op: a transactional send's outcome (Txn) and a poll's
// isolation level once fell out of it, and the checker judged read_uncommitted polls as if
// they were read_committed ones. Every field is set, so a field a later change forgets fails.
func TestLogKeepsEveryField(t *testing.T) {
	ops := []Op{
		{Client: "tx", Type: Send, Topic: "t", Partition: 2, Values: []int64{7}, Offsets: []int64{3},
			Invoke: 5, Complete: 9, Outcome: Fail, Error: "TRANSACTION_ABORTED", Txn: TxnAborted},
		{Client: "c", Type: Poll, Topic: "t", Partition: 1, Values: []int64{1, 2}, Offsets: []int64{0, 1},
			Invoke: 10, Complete: 11, Outcome: OK, Group: "g", Generation: 3, Session: "m-3-0",
			Isolation: ReadCommitted},
		{Client: "tx", Type: Send, Topic: "t", Values: []int64{8}, Offsets: []int64{4}, Outcome: OK, Txn: TxnCommitted},
	}
	var l Log
	l.AddAll(ops)
	for i, want := range ops {
		want.Index = i
		if got := l.At(i); !reflect.DeepEqual(got, want) {
			t.Errorf("At(%d) = %+v; want %+v", i, got, want)
		}
	}
}

// A view reads the operations as they were when it was taken, however many the log gains
// after (on another goroutine in the UI): across chunk and arena boundaries, batches and
// single operations alike.
func TestLogView(t *testing.T) {
	var l Log
	add := func(k int) {
		for i := 0; i < k; i++ {
			n := int64(l.Len())
			if i%3 == 0 {
				l.AddSends(&Sends{Client: "p1", Topic: "t", Values: []int64{n, n + 1}, Invokes: []time.Duration{1, 2}, Complete: 3, Outcome: OK, Base: n})
				continue
			}
			l.Add(Op{Client: "c1", Type: Poll, Topic: "t", Values: []int64{n}, Offsets: []int64{n}, Invoke: time.Duration(n), Complete: time.Duration(n + 1), Outcome: OK})
		}
	}
	add(5000)
	want := l.History(0)
	v := l.View()
	add(70000) // past a chunk of records and an arena chunk of values
	if v.Len() != len(want) {
		t.Fatalf("view of %d operations; want %d", v.Len(), len(want))
	}
	var buf Op
	for i := range want {
		if got := v.Load(i, &buf); !reflect.DeepEqual(*got, want[i]) {
			t.Fatalf("operation %d: got %+v; want %+v", i, *got, want[i])
		}
	}
	if l.Len() <= v.Len() {
		t.Errorf("the log has %d operations; want more than the view's %d", l.Len(), v.Len())
	}
}
