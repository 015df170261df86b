package quorum

import (
	"time"

	"kafkasim/broker/node"
)

// Timer kinds. A timer payload is raftTimer or observerTimer{kind, gen}; gen tells a live timer
// from a stale one (timers cannot be cancelled).
const (
	timerElection    uint8 = iota + 1 // follower fetch timeout, candidate/unattached election timeout, backoff
	timerFetch                        // fetcher: resend an unanswered fetch, or fetch after a backoff
	timerBeginEpoch                   // leader: resend BeginQuorumEpoch to voters not heard from
	timerCheckQuorum                  // leader: resign when a majority stopped fetching
	timerFetchWait                    // leader: a held fetch reached its MaxWait (gen = park id)
)

// raftTimer is the payload of every timer a Raft sets.
type raftTimer struct {
	kind uint8
	gen  uint64
}

// observerTimer is the payload of every timer an Observer sets. A node that hosts both a voter
// and an observer tells their timers apart by type.
type observerTimer struct {
	kind uint8
	gen  uint64
}

// deadline is a timer that can be moved: set() only arms a new timer when the deadline comes
// earlier than the one already pending; a timer that fires before the deadline re-arms itself.
// This keeps one timer in flight however often the deadline is pushed back (e.g. on each fetch).
type deadline struct {
	kind     uint8
	observer bool // payload observerTimer, else raftTimer
	active   bool
	at       time.Duration
	armed    bool          // a timer with gen is pending
	fireAt   time.Duration // when the pending timer fires
	gen      uint64
}

func (d *deadline) set(env node.Env, now, after time.Duration) {
	d.active = true
	d.at = now + after
	if d.armed && d.fireAt <= d.at {
		return
	}
	d.arm(env, now)
}

func (d *deadline) arm(env node.Env, now time.Duration) {
	d.gen++
	d.armed = true
	d.fireAt = d.at
	if d.observer {
		env.After(d.at-now, observerTimer{kind: d.kind, gen: d.gen})
	} else {
		env.After(d.at-now, raftTimer{kind: d.kind, gen: d.gen})
	}
}

func (d *deadline) stop() { d.active = false }

// fired reports whether a timer with gen means the deadline has passed now. A stale or early
// timer returns false (an early one re-arms itself for the deadline).
func (d *deadline) fired(env node.Env, now time.Duration, gen uint64) bool {
	if gen != d.gen {
		return false
	}
	d.armed = false
	if !d.active {
		return false
	}
	if now < d.at {
		d.arm(env, now)
		return false
	}
	d.active = false
	return true
}
