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

// events is the world's pending events in (at, seq) order: a heap, and beside it a few lanes of
// timers set with one same long delay. Timers of one delay are due in the order they were set,
// so a lane is a FIFO: a producer's delivery.timeout.ms arms one 120-s timer per batch, nearly
// all of which fire for nothing, and at 1,000 records a second they would be most of the
// heap (~14,000 entries) and most of the cost of every push and pop. The order events come out
// in is the heap's alone would give: lanes change the cost, not the course.
type events struct {
	heap  queue
	lanes []lane
	n     int
	// first is 1 + the index of the lane whose head comes first of all the lanes' heads, 0
	// when every lane is empty. A lane's head changes only when it is popped or when an empty
	// lane takes a timer, so next compares the heap's top with one lane head, not with all.
	first int
}

// lane is a FIFO of timers set with delay d.
type lane struct {
	d     time.Duration
	items []item
	head  int
}

// Lanes take timers of at least laneMin; at most maxLanes delays have one at a time.
const (
	laneMin  = time.Second
	maxLanes = 8
)

func (e *events) len() int { return e.n }

// push adds it; d is the delay of a timer (it.at = now + d), negative for anything else.
func (e *events) push(it item, d time.Duration) {
	e.n++
	if d >= laneMin {
		free := -1
		for i := range e.lanes {
			l := &e.lanes[i]
			if l.d == d {
				empty := l.head == len(l.items)
				l.items = append(l.items, it)
				if empty {
					e.headed(i)
				}
				return
			}
			if free < 0 && l.head == len(l.items) {
				free = i
			}
		}
		if free < 0 && len(e.lanes) < maxLanes {
			e.lanes = append(e.lanes, lane{})
			free = len(e.lanes) - 1
		}
		if free >= 0 {
			l := &e.lanes[free]
			l.d, l.items, l.head = d, append(l.items[:0], it), 0
			e.headed(free)
			return
		}
	}
	e.heap.push(it)
}

// headed notes that empty lane i has taken a timer, now its head.
func (e *events) headed(i int) {
	if e.first == 0 {
		e.first = i + 1
		return
	}
	f := &e.lanes[e.first-1]
	l := &e.lanes[i]
	if before(&l.items[l.head], &f.items[f.head]) {
		e.first = i + 1
	}
}

// refirst finds the lane whose head comes first, after a lane's head was popped.
func (e *events) refirst() {
	e.first = 0
	var top *item
	for i := range e.lanes {
		l := &e.lanes[i]
		if l.head < len(l.items) && (top == nil || before(&l.items[l.head], top)) {
			top, e.first = &l.items[l.head], i+1
		}
	}
}

// next returns the first event, and the lane it heads (-1: the heap's). e must not be empty.
func (e *events) next() (*item, int) {
	var top *item
	from := -1
	if len(e.heap) > 0 {
		top = &e.heap[0]
	}
	if e.first > 0 {
		l := &e.lanes[e.first-1]
		if h := &l.items[l.head]; top == nil || before(h, top) {
			top, from = h, e.first-1
		}
	}
	return top, from
}

// at is the time of the first event; e must not be empty.
func (e *events) at() time.Duration {
	top, _ := e.next()
	return top.at
}

// pop takes the first event; e must not be empty.
func (e *events) pop() item {
	var it item
	top, from := e.next()
	e.take(top, from, &it)
	return it
}

// take removes the first event, which next returned as top and from, into dst: items are 48
// bytes, copied once rather than returned through every call.
func (e *events) take(top *item, from int, dst *item) {
	e.n--
	if from < 0 {
		e.heap.pop(dst)
		return
	}
	*dst = *top
	l := &e.lanes[from]
	l.items[l.head] = item{} // release the payload for the GC
	l.head++
	switch {
	case l.head == len(l.items):
		l.items, l.head = l.items[:0], 0
	case l.head >= 1024 && l.head*2 >= len(l.items):
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items, l.head = l.items[:n], 0
	}
	e.refirst()
}

// queue is a 4-ary min-heap on (at, seq), hand-written to avoid interface boxing. Four children
// a node halve the levels an event climbs when pushed: a message is due in a few milliseconds,
// before most of what is queued, so it climbs nearly to the top. (at, seq) is unique, so the
// order events come out in does not depend on the heap's shape.
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
		p := (i - 1) / 4
		if !before(&it, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = it
}

// pop moves the first item into dst.
func (q *queue) pop(dst *item) {
	h := *q
	*dst = h[0]
	n := len(h) - 1
	last := h[n]
	h[n] = item{} // release the message for the GC
	h = h[:n]
	*q = h
	if n == 0 {
		return
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		if c+3 < n { // four children: a tournament of three comparisons
			if before(&h[c+1], &h[c]) {
				m = c + 1
			}
			m2 := c + 2
			if before(&h[c+3], &h[c+2]) {
				m2 = c + 3
			}
			if before(&h[m2], &h[m]) {
				m = m2
			}
		} else {
			for j := c + 1; j < n; j++ {
				if before(&h[j], &h[m]) {
					m = j
				}
			}
		}
		if !before(&h[m], &last) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = last
}
