package sim

import (
	"testing"
	"time"
	"unsafe"

	"kafkasim/broker/node"
)

// The simulator satisfies the node contract structurally.
var (
	_ node.Env  = (*Host)(nil)
	_ node.Disk = (*Disk)(nil)
)

// msg is a numbered test message; its number goes into the trace.
type msg struct{ N int }

func (m msg) TraceArg() int64 { return int64(m.N) }

type tick struct{ gen int }

// recv is one input a recorder saw.
type recv struct {
	at   time.Duration
	from int32
	msg  any
}

// recorder records every input and appends every msg to its disk file "log".
type recorder struct {
	h   *Host
	got []recv
}

func (r *recorder) Step(now time.Duration, from int32, m any) {
	r.got = append(r.got, recv{now, from, m})
	if mm, ok := m.(msg); ok {
		r.h.Disk().Append("log", mm.N)
	}
}

// recorders returns a factory that records every incarnation it builds in *out.
func recorders(out *[]*recorder) Factory {
	return func(h *Host) Node {
		r := &recorder{h: h}
		*out = append(*out, r)
		return r
	}
}

// sendAll makes node `from` send msgs 0..n-1 to `to` now, through its host.
func sendAll(w *World, from, to int32, n int) {
	h := w.Host(from)
	for i := 0; i < n; i++ {
		h.Send(to, msg{i})
	}
}

func msgs(rs []recv) []int {
	var out []int
	for _, r := range rs {
		if m, ok := r.msg.(msg); ok {
			out = append(out, m.N)
		}
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func ints(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestEventIs32Bytes(t *testing.T) {
	if got := unsafe.Sizeof(Event{}); got != 32 {
		t.Fatalf("got %d bytes; want 32", got)
	}
}
