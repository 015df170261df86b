package sim

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
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

// Reliability (issue 10): a line over bufio.Scanner's 1 MiB reads whole, lines after it too; a
// line over the bound, or a read that fails, is an error naming FILE:LINE, not the bare
// "bufio.Scanner: token too long".
func TestTraceFileLongLines(t *testing.T) {
	long := "2ms deliver node=2 " + strings.Repeat("x", 3<<20)
	r := NewTraceFileReader("t.txt", strings.NewReader("# kafkasim trace scenario=a.scenario seed=3\r\n1ms fault node=1 kill\n"+long+"\n3ms halt node=1"))
	if h, ok := r.Header(); !ok || h.Seed != 3 {
		t.Errorf("header %+v, %v; want seed 3", h, ok)
	}
	var got []string
	for l, ok := r.Next(); ok; l, ok = r.Next() {
		got = append(got, l.Text)
	}
	if r.Err() != nil || len(got) != 3 || got[1] != long || got[2] != "3ms halt node=1" {
		t.Errorf("read %d lines (err %v); want 3, the second %d bytes long", len(got), r.Err(), len(long))
	}

	defer func(n int) { maxTraceLine = n }(maxTraceLine)
	maxTraceLine = 1 << 20
	r = NewTraceFileReader("t.txt", strings.NewReader("1ms fault node=1 kill\n"+long+"\n"))
	if _, ok := r.Next(); !ok {
		t.Fatalf("the first line: %v", r.Err())
	}
	if _, ok := r.Next(); ok || r.Err() == nil || r.Err().Error() != "t.txt:2: line longer than 1 MiB" {
		t.Errorf("err %v; want t.txt:2: line longer than 1 MiB", r.Err())
	}
	r = NewTraceFileReader("t.txt", io.MultiReader(strings.NewReader("1ms fault node=1 kill\n"), iotest.ErrReader(errors.New("disk on fire"))))
	if _, ok := r.Next(); !ok {
		t.Fatalf("the first line: %v", r.Err())
	}
	if _, ok := r.Next(); ok || r.Err() == nil || r.Err().Error() != "t.txt:2: disk on fire" {
		t.Errorf("err %v; want t.txt:2: disk on fire", r.Err())
	}
}

// Reliability (issue 10): FuzzTraceFile: the reader never panics; every line it hands out has a
// time and a kind and is no comment; an error names the file and a line; a file that reads
// without error reads the same when written with \r\n line ends.
func FuzzTraceFile(f *testing.F) {
	f.Add("# kafkasim trace scenario=x.scenario seed=7 hash=00000000000000ff events=2\n1ms fault node=1 kill\n2ms halt node=1\n")
	f.Add("1ms fault node=1 kill\n# a comment\nnonsense\n")
	f.Add("# kafkasim trace scenario= seed=18446744073709551616\n\n\r\n")
	f.Add("2ms deliver node=2 " + strings.Repeat("x", 5000))
	f.Fuzz(func(t *testing.T, in string) {
		read := func(in string) ([]TraceLine, error) {
			r := NewTraceFileReader("f.trace", strings.NewReader(in))
			r.Header()
			var ls []TraceLine
			for l, ok := r.Next(); ok; l, ok = r.Next() {
				if len(strings.Fields(l.Text)) < 2 || strings.HasPrefix(l.Text, "#") || l.Kind != strings.Fields(l.Text)[1] {
					t.Fatalf("line %q (kind %q) is not an event line", l.Text, l.Kind)
				}
				ls = append(ls, l)
			}
			return ls, r.Err()
		}
		ls, err := read(in)
		if err != nil {
			if !traceErr.MatchString(err.Error()) {
				t.Fatalf("error %q does not name f.trace:LINE", err)
			}
			return
		}
		if strings.Contains(in, "\r") {
			return
		}
		crlf, err := read(strings.ReplaceAll(in, "\n", "\r\n"))
		if err != nil || len(crlf) != len(ls) {
			t.Fatalf("with \\r\\n: %d lines, %v; want %d lines", len(crlf), err, len(ls))
		}
	})
}

var traceErr = regexp.MustCompile(`^f\.trace:[1-9][0-9]*: `)
