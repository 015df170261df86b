package sim

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A trace file written by WriteTraceFile reads back: its header names the run, and every
// event comes back as the line Trace.Describe words, with its kind.
func TestTraceFileRoundTrips(t *testing.T) {
	w, _ := netWorld(t, time.Millisecond, 5*time.Millisecond)
	sendAll(w, 1, 2, 3)
	w.RunFor(time.Second)
	if err := w.Kill(2); err != nil {
		t.Fatal(err)
	}
	tr := w.Trace()
	var b bytes.Buffer
	if err := WriteTraceFile(&b, "x.scenario", 7, tr); err != nil {
		t.Fatal(err)
	}
	r := NewTraceFileReader("trace.txt", &b)
	h, ok := r.Header()
	if want := (TraceFileHeader{Scenario: "x.scenario", Seed: 7, Hash: tr.Hash(), Events: tr.Len()}); !ok || h != want {
		t.Errorf("header %+v (ok %v); want %+v", h, ok, want)
	}
	var n int
	for l, ok := r.Next(); ok; l, ok = r.Next() {
		e := tr.At(n)
		if l.Text != tr.Describe(e) || l.Kind != e.Kind.String() {
			t.Errorf("line %d: got %q kind %q; want %q kind %q", n, l.Text, l.Kind, tr.Describe(e), e.Kind)
		}
		n++
	}
	if r.Err() != nil || n != tr.Len() || n == 0 {
		t.Errorf("read %d lines (err %v); want %d", n, r.Err(), tr.Len())
	}
}

// A file without a header has lines but names no run; a line that is not an event is an error
// naming FILE:LINE.
func TestTraceFileWithoutHeaderOrWithGarbage(t *testing.T) {
	r := NewTraceFileReader("t.txt", strings.NewReader("1ms fault node=1 kill\n# a comment\nnonsense\n"))
	if _, ok := r.Header(); ok {
		t.Error("a file without a header names a run")
	}
	if l, ok := r.Next(); !ok || l.Kind != "fault" {
		t.Errorf("got %+v, %v; want the fault line", l, ok)
	}
	if _, ok := r.Next(); ok || r.Err() == nil || !strings.HasPrefix(r.Err().Error(), "t.txt:3: ") {
		t.Errorf("err %v; want t.txt:3: not a trace line", r.Err())
	}
	r = NewTraceFileReader("t.txt", strings.NewReader("# kafkasim trace scenario=a.scenario seed=x\n"))
	if _, ok := r.Header(); ok {
		t.Error("a header with a bad seed names a run")
	}
}
