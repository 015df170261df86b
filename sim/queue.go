package sim

import (
	"math/bits"
	"slices"
	"time"
)

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

// events is the world's pending events in (at, seq) order, kept in three places by how far
// ahead they are due:
//
//   - a calendar (a ring of buckets of 2^calShift ns each, calBuckets of them: the next ~16.8 ms)
//     takes what is due soon: nearly every message (a few milliseconds of latency) and short
//     timer. Finding the first event is finding the first non-empty bucket after the cursor,
//     two bit scans; a bucket holds a few events, sorted as they come in.
//   - a few lanes of timers set with one same long delay. Timers of one delay are due in the
//     order they were set, so a lane is a FIFO: a producer's delivery.timeout.ms arms one 120-s
//     timer per batch, nearly all of which fire for nothing, and at 1,000 records a second they
//     would be ~14,000 entries anywhere else.
//   - a heap for the rest (timers past the calendar's reach in no lane).
//
// The first event is the earliest of the three heads. The order events come out in is the
// heap's alone would give: the calendar and lanes change the cost, not the course.
type events struct {
	cal   calendar
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

// push adds it; d is the delay of a timer (it.at = now + d), negative for anything else. it.at
// is never before the last event taken.
func (e *events) push(it item, d time.Duration) {
	e.n++
	if e.cal.push(&it) {
		return
	}
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

// next returns the first event and where it is: the lane it heads (>= 0), the heap (-1), or
// the calendar's bucket b (-2-b). e must not be empty.
func (e *events) next() (*item, int) {
	var top *item
	from := -1
	if len(e.heap) > 0 {
		top = &e.heap[0]
	}
	if e.cal.n > 0 {
		b := e.cal.firstBucket()
		if h := e.cal.head(b); top == nil || before(h, top) {
			top, from = h, -2-b
		}
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
	e.cal.advance(top.at) // every event left is due at or after this one
	if from < -1 {
		e.cal.take(-2-from, dst)
		return
	}
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

// The calendar's buckets: 2^calShift ns each (4.1 µs), calBuckets of them (16.8 ms): a message's
// latency and the short timers fit, and the bursts of a hundred brokers' fetch answers spread
// over buckets of a few events each.
const (
	calShift   = 12
	calBuckets = 1 << 12
	calWords   = calBuckets / 64
	// calRoom is the events each bucket has room for from the start, all buckets' room cut
	// from one array (384 KiB): grown from nothing, the buckets' slices took ~100 allocations
	// a simulated second in the classroom's first minutes.
	calRoom = 2
)

// calendar is a ring of buckets: bucket i holds the events due in [t, t + 2^calShift) for the
// one t in the ring's reach (from the cursor's bucket, calBuckets ahead) with (t >> calShift)
// mod calBuckets = i. A bucket is sorted by (at, seq) when its first event is looked at: events
// mostly come in order, but a hundred brokers answering their followers' fetches put hundreds
// in one bucket out of order, and sorting them once costs less than placing each. A bit per
// bucket says whether it holds any, and a bit per word of those which words have any set.
type calendar struct {
	buckets []bucket // calBuckets of them once the calendar has taken an event
	words   [calWords]uint64
	summary uint64
	cursor  int64 // at >> calShift of the last event taken: nothing is due in a bucket before it
	n       int
}

type bucket struct {
	items    []item
	head     int
	unsorted bool // an event came in before the last one: sort items[head:] before looking
}

// push files it if it is due within the ring's reach, and reports whether it did.
func (c *calendar) push(it *item) bool {
	k := int64(it.at >> calShift)
	if k < c.cursor || k-c.cursor >= calBuckets {
		return false
	}
	if c.buckets == nil {
		c.buckets = make([]bucket, calBuckets)
		room := make([]item, calBuckets*calRoom)
		for i := range c.buckets {
			c.buckets[i].items = room[i*calRoom : i*calRoom : (i+1)*calRoom]
		}
	}
	i := int(k & (calBuckets - 1))
	bk := &c.buckets[i]
	if n := len(bk.items); n > bk.head && before(it, &bk.items[n-1]) {
		bk.unsorted = true
	}
	bk.items = append(bk.items, *it)
	c.words[i>>6] |= 1 << (i & 63)
	c.summary |= 1 << (i >> 6)
	c.n++
	return true
}

// firstBucket is the first bucket holding an event, in ring order from the cursor: the one
// with the earliest events. c must hold one.
func (c *calendar) firstBucket() int {
	cur := int(c.cursor & (calBuckets - 1))
	w := cur >> 6
	if m := c.words[w] &^ (1<<(cur&63) - 1); m != 0 {
		return w<<6 + bits.TrailingZeros64(m)
	}
	// The words after the cursor's, then from the ring's start (the next lap) up to and with
	// the cursor's word, whose bits before the cursor are of the next lap too.
	s := c.summary &^ (1<<(w+1) - 1)
	if s == 0 {
		s = c.summary
	}
	w = bits.TrailingZeros64(s)
	return w<<6 + bits.TrailingZeros64(c.words[w])
}

// head is bucket i's first event; the bucket must hold one.
func (c *calendar) head(i int) *item {
	bk := &c.buckets[i]
	if bk.unsorted {
		bk.sort()
	}
	return &bk.items[bk.head]
}

// sort sorts the bucket's events by (at, seq): by insertion when few, else by slices.SortFunc.
func (bk *bucket) sort() {
	bk.unsorted = false
	its := bk.items[bk.head:]
	if len(its) > 12 {
		slices.SortFunc(its, func(a, b item) int {
			if before(&a, &b) {
				return -1
			}
			return 1 // (at, seq) is unique
		})
		return
	}
	for i := 1; i < len(its); i++ {
		for j := i; j > 0 && before(&its[j], &its[j-1]); j-- {
			its[j], its[j-1] = its[j-1], its[j]
		}
	}
}

// take moves bucket i's first event (head) into dst.
func (c *calendar) take(i int, dst *item) {
	bk := &c.buckets[i]
	*dst = bk.items[bk.head]
	bk.items[bk.head] = item{} // release the payload for the GC
	bk.head++
	c.n--
	if bk.head == len(bk.items) {
		bk.items, bk.head = bk.items[:0], 0
		c.words[i>>6] &^= 1 << (i & 63)
		if c.words[i>>6] == 0 {
			c.summary &^= 1 << (i >> 6)
		}
	}
}

// advance moves the cursor to the bucket of at, the time of an event just taken: no event left
// is due before it.
func (c *calendar) advance(at time.Duration) {
	if k := int64(at >> calShift); k > c.cursor {
		c.cursor = k
	}
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
