package quorum

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// clockEnv is a node.Env for message-level tests that need time: it records what a lone node
// sends and keeps its timers with their due times, so a test can move the clock and deliver
// every timer that falls due on the way (in due order, like the world does).
type clockEnv struct {
	recEnv
	now    time.Duration
	timers []clockTimer
	seq    int
}

type clockTimer struct {
	at      time.Duration
	seq     int
	payload any
}

func (e *clockEnv) After(d time.Duration, payload any) {
	e.seq++
	e.timers = append(e.timers, clockTimer{at: e.now + d, seq: e.seq, payload: payload})
}

// advance moves the clock to t, handing r every timer due by then.
func (e *clockEnv) advance(r *Raft, t time.Duration) {
	for {
		i := -1
		for j, tm := range e.timers {
			if tm.at <= t && (i < 0 || tm.at < e.timers[i].at || (tm.at == e.timers[i].at && tm.seq < e.timers[i].seq)) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		tm := e.timers[i]
		e.timers = slices.Delete(e.timers, i, i+1)
		e.now = tm.at
		r.Handle(e.now, e.id, tm.payload)
	}
	e.now = t
}

// newTestLeader makes c1 the leader of epoch 1 among voters c1..cN (votes from the others).
func newTestLeader(t *testing.T, voters int) (*Raft, *clockEnv) {
	t.Helper()
	env := &clockEnv{recEnv: recEnv{id: node.ControllerID(1), rng: prng{s: 1}}}
	cfg := testConfig()
	cfg.ID = env.id
	for i := 1; i <= voters; i++ {
		cfg.Voters = append(cfg.Voters, node.ControllerID(i))
	}
	r := NewRaft(cfg, env, newFakeDisk(), 0)
	if !r.IsLeader() {
		r.becomeCandidate(0)
		for i := 2; i <= voters && !r.IsLeader(); i++ {
			r.Handle(0, node.ControllerID(i), &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: r.Epoch(), VoteGranted: true})
		}
	}
	if !r.IsLeader() {
		t.Fatalf("c1 did not become leader (%s)", r.Role())
	}
	return r, env
}

// fetchFrom delivers a fetch of the leader's epoch from id at the leader's LEO.
func fetchFrom(r *Raft, env *clockEnv, id int32) {
	r.Handle(env.now, id, &protocol.QuorumFetchRequest{ReplicaID: id, LeaderEpoch: r.Epoch(), FetchOffset: r.EndOffset(), LastFetchedEpoch: r.Epoch()})
}

// Reference: LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR and LeaderStateTest.testCheckQuorum
// (KAFKA-15489): the leader resigns when a majority of voters has not fetched for 1.5 ×
// controller.quorum.fetch.timeout.ms. The timer restarts only once a majority (the leader
// included) has fetched since its last start; fetches from fewer voters, or from observers, do
// not restart it.
func TestCheckQuorumTimeoutFactor(t *testing.T) {
	c2, c3, c4 := node.ControllerID(2), node.ControllerID(3), node.ControllerID(4)
	r, env := newTestLeader(t, 5) // majority 3: the leader and two voters
	timeout := r.cfg.FetchTimeout * 3 / 2

	env.advance(r, timeout/2)
	if !r.IsLeader() {
		t.Fatalf("at %v: resigned before the check-quorum timeout %v", env.now, timeout)
	}
	fetchFrom(r, env, c2)
	fetchFrom(r, env, c3) // a majority fetched: the timer restarts at timeout/2

	env.advance(r, timeout)
	if !r.IsLeader() {
		t.Fatalf("at %v: resigned although a majority fetched at %v", env.now, timeout/2)
	}
	fetchFrom(r, env, c4)
	fetchFrom(r, env, 1) // one voter and an observer (broker 1): no majority, no restart

	env.advance(r, timeout/2+timeout-time.Millisecond)
	if !r.IsLeader() {
		t.Fatalf("at %v: resigned before 1.5 × the fetch timeout (%v) since the last majority fetch; want Kafka's factor", env.now, timeout)
	}
	env.advance(r, timeout/2+timeout)
	if r.IsLeader() || r.Role() != RoleResigned {
		t.Fatalf("at %v: role %s; want resigned %v after the last majority fetch", env.now, r.Role(), timeout)
	}
}

// Reference: LeaderStateTest.testCheckQuorumWithOneVoter: a lone voter never loses its quorum.
func TestCheckQuorumWithOneVoter(t *testing.T) {
	r, env := newTestLeader(t, 1)
	fetchFrom(r, env, 1) // an observer's fetch changes nothing
	env.advance(r, 10*r.cfg.FetchTimeout)
	if !r.IsLeader() {
		t.Fatalf("a single voter resigned (%s); want it to lead forever", r.Role())
	}
}
