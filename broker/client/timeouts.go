package client

import (
	"time"

	"kafkasim/broker/node"
)

// timeouts holds a client's request deadlines with a single timer armed at a time. Nearly
// every request is answered long before request.timeout.ms; one timer per request would fill
// the world's event queue with thousands of timers that fire for nothing.
type timeouts struct {
	q     []pendingTimeout // ordered by deadline
	head  int
	armed bool
	at    time.Duration // deadline of the armed timer
	gen   uint64
	out   []int64 // due's result, reused
}

type pendingTimeout struct {
	at   time.Duration
	corr int64
}

// timeoutTick is the timer of a client's timeouts.
type timeoutTick struct{ gen uint64 }

// add registers the deadline now+d for request corr.
func (t *timeouts) add(env node.Env, now, d time.Duration, corr int64) {
	at := now + d
	i := len(t.q)
	t.q = append(t.q, pendingTimeout{})
	for i > t.head && t.q[i-1].at > at { // deadlines nearly always arrive in order
		t.q[i] = t.q[i-1]
		i--
	}
	t.q[i] = pendingTimeout{at: at, corr: corr}
	if !t.armed || at < t.at {
		t.arm(env, now, at)
	}
}

func (t *timeouts) arm(env node.Env, now, at time.Duration) {
	t.gen++
	t.armed, t.at = true, at
	env.After(at-now, timeoutTick{gen: t.gen})
}

// due returns the requests whose deadline passed (some may have been answered meanwhile: the
// caller ignores those) and re-arms for the next deadline. The slice is valid until the next
// call.
func (t *timeouts) due(env node.Env, now time.Duration, tick timeoutTick) []int64 {
	if tick.gen != t.gen {
		return nil
	}
	t.armed = false
	out := t.out[:0]
	for t.head < len(t.q) && t.q[t.head].at <= now {
		out = append(out, t.q[t.head].corr)
		t.head++
	}
	t.out = out
	if t.head > 1024 && t.head*2 > len(t.q) {
		t.q = append(t.q[:0], t.q[t.head:]...)
		t.head = 0
	}
	if t.head < len(t.q) {
		t.arm(env, now, t.q[t.head].at)
	}
	return out
}
