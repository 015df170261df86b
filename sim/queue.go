package sim

import "time"

type itemKind uint8

const (
	kDeliver itemKind = iota + 1
	kTimer
	kInject
	kStopTimeout
	kReset // a connection reset (Options.ConnectionReset), delivered like a message
)

// item is a queued event, stored by value in the heap.
type item struct {
	at   time.Duration
	seq  int64
	msg  any
	to   int32 // slot index of the receiver
	from int32 // slot index of the sender; -1 for external input
	inc  uint32
	kind itemKind
}

// queue is a binary min-heap on (at, seq), hand-written to avoid interface boxing.
type queue []item

func before(a, b *item) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// push and pop move a hole through the heap instead of swapping: items are 48 bytes.
func (q *queue) push(it item) {
	*q = append(*q, item{})
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(&it, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = it
}

func (q *queue) pop() item {
	h := *q
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h[n] = item{} // release the message for the GC
	h = h[:n]
	*q = h
	if n == 0 {
		return top
	}
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && before(&h[r], &h[l]) {
			m = r
		}
		if !before(&h[m], &last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = last
	return top
}
