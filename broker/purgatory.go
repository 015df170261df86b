package broker

import "time"

// Behavior: the expiry side of Kafka's purgatory (DelayedOperationPurgatory with its timing
// wheel). Parked fetches and acks=all produces each have a deadline; instead of one timer per
// operation — nearly all of which complete long before — the broker keeps their deadlines and
// arms a single timer for the earliest. Completed operations are dropped lazily: a deadline
// points at its operation, which says whether it is done (a session's delayedFetch is reused,
// so its id must still be the deadline's).
//
// Deadlines set with one timeout (every acks=all produce's 30-s request timeout, every fetch's
// max wait) fall due in the order they were set, as on the timing wheel's buckets: each such
// timeout has a FIFO lane, and only the heads of the lanes are compared. A heap takes the
// deadlines of timeouts past maxPurgatoryLanes. Deadlines come out in (at, id) order either way.

type deadline struct {
	at time.Duration
	id int64
	df *delayedFetch   // the parked fetch, or
	dp *delayedProduce // the parked produce
}

type purgatory struct {
	lanes []deadlineLane
	heap  []deadline
	gen   int64
	armed bool          // a timer is live
	at    time.Duration // its deadline
}

// deadlineLane holds the deadlines set with timeout d, in the order they were set: the
// broker's clock never goes back and ids grow, so that is (at, id) order.
type deadlineLane struct {
	d     time.Duration
	items []deadline
	head  int
}

const maxPurgatoryLanes = 4

// expireFetchAt registers the deadline of a parked fetch.
func (b *Broker) expireFetchAt(now, at time.Duration, df *delayedFetch) {
	b.expireAt(now, deadline{at: at, id: df.id, df: df})
}

// expireProduceAt registers the deadline of a parked produce (dp.id set).
func (b *Broker) expireProduceAt(now, at time.Duration, dp *delayedProduce) {
	b.expireAt(now, deadline{at: at, id: dp.id, dp: dp})
}

func (b *Broker) expireAt(now time.Duration, d deadline) {
	p := &b.purgatory
	p.push(d, d.at-now)
	if !p.armed || d.at < p.at {
		p.arm(b, now, d.at)
	}
}

func (p *purgatory) arm(b *Broker, now, at time.Duration) {
	p.gen++
	p.armed, p.at = true, at
	b.env.After(at-now, timer{kind: tickPurgatory, gen: p.gen})
}

// onPurgatoryTimer expires every operation due by now and re-arms for the next deadline.
func (b *Broker) onPurgatoryTimer(now time.Duration, gen int64) {
	p := &b.purgatory
	if gen != p.gen {
		return
	}
	p.armed = false
	d, li, ok := p.first()
	for ok && d.at <= now {
		p.popAt(li)
		if d.df != nil {
			b.expireDelayedFetch(now, d.df, d.id)
		} else {
			b.expireDelayedProduce(now, d.dp)
		}
		d, li, ok = p.first()
	}
	for ok && b.settled(d) {
		p.popAt(li)
		d, li, ok = p.first()
	}
	if ok && !p.armed {
		p.arm(b, now, d.at)
	}
}

// settled reports whether the operation behind a deadline already completed.
func (b *Broker) settled(d deadline) bool {
	if d.df != nil {
		return d.df.done || d.df.id != d.id
	}
	return d.dp.done
}

// push adds a deadline set with timeout to.
func (p *purgatory) push(d deadline, to time.Duration) {
	free := -1
	for i := range p.lanes {
		l := &p.lanes[i]
		if l.d == to {
			l.items = append(l.items, d)
			return
		}
		if free < 0 && l.head == len(l.items) {
			free = i
		}
	}
	if free < 0 && len(p.lanes) < maxPurgatoryLanes {
		p.lanes = append(p.lanes, deadlineLane{})
		free = len(p.lanes) - 1
	}
	if free >= 0 {
		l := &p.lanes[free]
		l.d, l.items, l.head = to, append(l.items[:0], d), 0
		return
	}
	p.heapPush(d)
}

// first returns the earliest deadline, if any, and where it is: its lane, -1 for the heap.
func (p *purgatory) first() (deadline, int, bool) {
	li, ok := -1, len(p.heap) > 0
	var top *deadline
	if ok {
		top = &p.heap[0]
	}
	for i := range p.lanes {
		l := &p.lanes[i]
		if l.head < len(l.items) && (!ok || earlier(l.items[l.head], *top)) {
			top, li, ok = &l.items[l.head], i, true
		}
	}
	if !ok {
		return deadline{}, -1, false
	}
	return *top, li, true
}

// popAt removes the earliest deadline, which first found in lane li (-1: the heap).
func (p *purgatory) popAt(li int) {
	if li < 0 {
		p.heapPop()
		return
	}
	l := &p.lanes[li]
	l.head++
	switch {
	case l.head == len(l.items):
		l.items, l.head = l.items[:0], 0
	case l.head >= 1024 && l.head*2 >= len(l.items):
		n := copy(l.items, l.items[l.head:])
		l.items, l.head = l.items[:n], 0
	}
}

func (p *purgatory) heapPush(d deadline) {
	p.heap = append(p.heap, d)
	i := len(p.heap) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !earlier(p.heap[i], p.heap[parent]) {
			break
		}
		p.heap[i], p.heap[parent] = p.heap[parent], p.heap[i]
		i = parent
	}
}

func (p *purgatory) heapPop() deadline {
	h := p.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && earlier(h[l], h[m]) {
			m = l
		}
		if r < len(h) && earlier(h[r], h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	p.heap = h
	return top
}

// earlier orders deadlines by time, then by registration (ids grow).
func earlier(a, b deadline) bool { return a.at < b.at || a.at == b.at && a.id < b.id }
