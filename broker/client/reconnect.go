package client

import (
	"time"

	"kafkasim/broker/node"
)

// reconnects is NetworkClient's reconnect back-off (ClusterConnectionStates): once a
// connection to a node was reset (its process died, or it refused the connection), the client
// does not try that node again for reconnect.backoff.ms, doubling up to
// reconnect.backoff.max.ms while the node keeps refusing, with ±20% jitter
// (RECONNECT_BACKOFF_EXP_BASE, RECONNECT_BACKOFF_JITTER); an answer from the node resets the
// back-off.
type reconnects struct {
	backoff exponentialBackoff
	peers   map[int32]*reconnect
}

type reconnect struct {
	until    time.Duration // no new request before this
	failures int64         // failedAttempts
}

func newReconnects(base, maxBackoff time.Duration) reconnects {
	return reconnects{backoff: newExponentialBackoff(base, backoffMultiplier, maxBackoff, backoffJitter)}
}

// failed notes a reset of the connection to peer (disconnected, updateReconnectBackoff).
func (r *reconnects) failed(env node.Env, now time.Duration, peer int32) {
	if r.peers == nil {
		r.peers = map[int32]*reconnect{}
	}
	rc := r.peers[peer]
	if rc == nil {
		rc = &reconnect{}
		r.peers[peer] = rc
	}
	rc.until = now + r.backoff.backoff(env, rc.failures)
	rc.failures++
}

// blocked reports whether peer may not be tried before until.
func (r *reconnects) blocked(now time.Duration, peer int32) (bool, time.Duration) {
	if len(r.peers) == 0 { // nearly always: no look-up (a consumer asks once per partition)
		return false, 0
	}
	if rc := r.peers[peer]; rc != nil && rc.until > now {
		return true, rc.until
	}
	return false, 0
}

// answered notes an answer from peer: the connection works again.
func (r *reconnects) answered(peer int32) {
	if r.peers != nil {
		delete(r.peers, peer)
	}
}

// waitFor asks w for a wake when peer may be tried again, and reports whether it must wait.
func (r *reconnects) waitFor(env node.Env, w *waker, now time.Duration, peer int32) bool {
	if len(r.peers) == 0 { // inlined into the callers' loops over partitions
		return false
	}
	return r.waitForBlocked(env, w, now, peer)
}

func (r *reconnects) waitForBlocked(env node.Env, w *waker, now time.Duration, peer int32) bool {
	if b, until := r.blocked(now, peer); b {
		w.at(env, now, until)
		return true
	}
	return false
}
