package checker

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/history"
)

// judge reads a history and, if it reads, checks it and renders the report as text and HTML:
// everything `kafkasim check --report` does with a file. It returns the read error, if any.
func judge(t *testing.T, in []byte) (*Report, error) {
	t.Helper()
	h, err := history.ReadJSONLines(bytes.NewReader(in))
	if err != nil {
		if !lineErr.MatchString(err.Error()) {
			t.Fatalf("error %q does not name a line", err)
		}
		return nil, err
	}
	r := Check(h, Config{Idempotent: true, LinearizabilityBudget: 100 * time.Millisecond})
	_ = r.Text()
	if err := WriteHTML(io.Discard, Page{Title: "hostile", History: h, Report: r}); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return r, nil
}

// Every file of testdata/hostile is refused with an error naming its line (files named bad-*)
// or judged (the others); none panics. The corpus holds what broke the checker or slipped past
// the reader: indexes that are not 0..n-1, duplicated indexes, negative offsets, partitions,
// indexes and times, values, offsets and times at the ends of int64, garbage, empty files.
func TestHostileCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "hostile", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no hostile corpus: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := judge(t, in)
			switch bad := strings.HasPrefix(name, "bad-"); {
			case bad && err == nil:
				t.Errorf("read without error; want an error naming the line (verdict %s)", r.Verdict)
			case !bad && err != nil:
				t.Errorf("read error %v; want a report", err)
			case !bad && r.Verdict == "":
				t.Errorf("no verdict")
			}
		})
	}
}

// A history cut from a longer one (`tail -n +2 h.jsonl`) keeps its operations' indexes, which
// are then not positions: the checker used them as positions and panicked with "index out of
// range" as soon as it found an anomaly. Its anomalies name the operations by their indexes.
func TestCutHistoryWithAnomaly(t *testing.T) {
	b := new(hist).sendAll(6).poll("c1", 0, 1, 1, 2).poll("c1", 4, 5, 5, 6)
	cut := b.h[1:]
	r := Check(cut, Config{Idempotent: true})
	if r.Verdict != Invalid || r.Counts[LostWrite] == 0 {
		t.Fatalf("verdict %s, %v; want invalid with lost writes\n%s", r.Verdict, r.Counts, r.Text())
	}
	for _, a := range r.Anomalies {
		for _, i := range a.Ops {
			if i < 1 || i >= len(b.h) {
				t.Errorf("%s names op %d; the cut history holds ops 1..%d", a.Name, i, len(b.h)-1)
			}
		}
	}
	// The lost write of value 3 (offset 2) names its send, op #2, and the poll that read past it.
	lost := r.Anomalies[slices.IndexFunc(r.Anomalies, func(a Anomaly) bool { return a.Name == LostWrite })]
	if !slices.Equal(lost.Ops, []int{2, 7}) || !strings.Contains(lost.Explanation, "op #2") {
		t.Errorf("lost write %v: %s; want ops [2 7]", lost.Ops, lost.Explanation)
	}
}

// Two operations with a million values each: a send acknowledged at offsets 0..n-1 and a
// poll that read them all. The linearizability model looked every read value up in the whole
// send (170 s); it now looks at the value's own place.
func TestMillionValueOperations(t *testing.T) {
	const n = 1_000_000
	vals := make([]int64, n)
	offs := make([]int64, n)
	for i := range vals {
		vals[i], offs[i] = int64(i+1), int64(i)
	}
	b := new(hist).send("p1", history.OK, vals, offs...).poll("c1")
	b.h[1].Values, b.h[1].Offsets = vals, offs
	r := Check(b.h, Config{Idempotent: true})
	if r.Verdict != Valid {
		t.Fatalf("verdict %s; want valid\n%s", r.Verdict, r.Text())
	}
	// A poll that read one value at the wrong place in the send is still caught.
	b.h[0].Values, b.h[0].Offsets = vals[:1000], offs[:1000]
	bad := slices.Clone(vals[:1000])
	bad[500], bad[501] = bad[501], bad[500]
	b.h[1].Values, b.h[1].Offsets = bad, offs[:1000]
	if r := Check(b.h, Config{Idempotent: true}); r.Verdict != Invalid || r.Linearizable["orders/0"] != LinIllegal {
		t.Fatalf("verdict %s, linearizable %v; want invalid, illegal", r.Verdict, r.Linearizable)
	}
}

// 80,000 operations of one client at one instant make one client operation (precommittedReads
// groups them): every send was compared with every poll (22 s). The sends' values are now
// indexed once. Every poll here reads a value of a send of the same instant.
func TestOneInstantOfOneClient(t *testing.T) {
	const n = 40_000
	var h history.History
	for i := range int64(n) {
		at := time.Second
		h.Add(history.Op{Client: "x", Type: history.Send, Topic: "orders", Values: v(i), Offsets: []int64{i}, Invoke: at, Complete: at, Outcome: history.OK})
		h.Add(history.Op{Client: "x", Type: history.Poll, Topic: "orders", Values: v(i), Offsets: []int64{i}, Invoke: at, Complete: at, Outcome: history.OK})
	}
	r := Check(h, Config{Idempotent: true})
	if r.Counts[PrecommittedRead] != n || len(names(r)) != 1 {
		t.Fatalf("anomalies %v; want %d precommitted reads and nothing else", r.Counts, n)
	}
	if a := r.Anomalies[0]; !slices.Equal(a.Ops, []int{0, 1}) {
		t.Errorf("first precommitted read names %v; want [0 1]", a.Ops)
	}
}

// FuzzCheck: whatever the input, reading it either fails with an error naming a line or gives
// a history the checker judges and the report renders, without panicking. Its seeds are the
// hostile corpus; testdata/fuzz/FuzzCheck holds what fuzzing found worth keeping.
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "hostile", "*.jsonl"))
	for _, name := range files {
		in, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		judge(t, in)
	})
}
