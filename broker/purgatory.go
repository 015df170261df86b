package broker

import "time"

// Behavior: the expiry side of Kafka's purgatory (DelayedOperationPurgatory with its timing
// wheel). Parked fetches and acks=all produces each have a deadline; instead of one timer per
// operation — nearly all of which complete long before — the broker keeps their deadlines in a
// heap and arms a single timer for the earliest. Completed operations are dropped lazily.

type deadline struct {
	at   time.Duration
	kind timerKind // tickDelayedFetch or tickDelayedProduce
	id   int64
}

type purgatory struct {
	heap  []deadline
	gen   int64
	armed bool          // a timer is live
	at    time.Duration // its deadline
}

// expireAt registers a deadline for a parked operation.
func (b *Broker) expireAt(now, at time.Duration, kind timerKind, id int64) {
	p := &b.purgatory
	p.push(deadline{at: at, kind: kind, id: id})
	if !p.armed || at < p.at {
		p.arm(b, now, at)
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
	for len(p.heap) > 0 && p.heap[0].at <= now {
		d := p.pop()
		switch d.kind {
		case tickDelayedFetch:
			b.expireDelayedFetch(now, d.id)
		case tickDelayedProduce:
			b.expireDelayedProduce(now, d.id)
		}
	}
	for len(p.heap) > 0 && b.settled(p.heap[0]) {
		p.pop()
	}
	if len(p.heap) > 0 && !p.armed {
		p.arm(b, now, p.heap[0].at)
	}
}

// settled reports whether the operation behind a deadline already completed.
func (b *Broker) settled(d deadline) bool {
	switch d.kind {
	case tickDelayedFetch:
		return b.fetches[d.id] == nil
	case tickDelayedProduce:
		return b.produces[d.id] == nil
	}
	return true
}

func (p *purgatory) push(d deadline) {
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

func (p *purgatory) pop() deadline {
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
