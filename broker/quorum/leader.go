package quorum

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Behavior: a leader's epoch from beginning to end (KIP-595 BeginQuorumEpoch, EndQuorumEpoch,
// check quorum). A new leader appends a LeaderChangeRecord and announces itself with
// BeginQuorumEpoch, sent again until every voter has heard of it. A leader that a majority
// stops fetching from within the fetch timeout resigns; so does one shut down gracefully, and
// it sends EndQuorumEpoch with its preferred successors (the voters holding most of the log
// first), who stand after a backoff that grows with their place in that list.

// becomeLeader takes the epoch a candidate won (LeaderState).
func (r *Raft) becomeLeader(now time.Duration) {
	if r.role != candidate {
		panic(fmt.Sprintf("quorum: node %d becoming leader from %s, not candidate", r.cfg.ID, r.role))
	}
	r.role, r.step = leader, stepLeader
	r.leader = r.cfg.ID
	r.persist()
	r.observe()
	r.election.stop()
	r.fetcher.stop()
	// KIP-595: the new leader's first entry is a LeaderChangeRecord; once it is committed every
	// earlier entry is committed too (Raft commits only by counting entries of its own epoch).
	r.epochStart = r.log.end()
	r.log.append(protocol.MetadataEntry{
		Offset:  r.epochStart,
		Epoch:   r.epoch,
		Records: []any{metadata.LeaderChangeRecord{LeaderID: r.cfg.ID, Voters: slices.Clone(r.cfg.Voters)}},
	})
	r.log.flush()
	for i := range r.match {
		r.match[i] = -1
		r.heard[i] = i == r.self
	}
	clear(r.fetched)
	clear(r.sentHW)
	r.parked = r.parked[:0]
	r.beginGen++
	r.sendBeginQuorumEpoch(true)
	if len(r.cfg.Voters) > 1 { // a lone voter never loses its quorum (LeaderState.timeUntilCheckQuorumExpires)
		r.checkQuorum.set(r.env, now, r.checkQuorumTimeout())
	}
	r.updateHW()
}

// sendBeginQuorumEpoch announces this leader to every other voter (all), or to those that have
// not heard of it yet, and asks to be reminded to try again.
func (r *Raft) sendBeginQuorumEpoch(all bool) {
	pending := false
	for i, v := range r.cfg.Voters {
		if i == r.self || (!all && r.heard[i]) {
			continue
		}
		pending = true
		r.env.Send(v, &protocol.BeginQuorumEpochRequest{LeaderID: r.cfg.ID, LeaderEpoch: r.epoch})
	}
	if pending {
		r.env.After(min(r.cfg.RequestTimeout, r.cfg.ElectionTimeout/2), raftTimer{kind: timerBeginEpoch, gen: r.beginGen})
	}
}

func (r *Raft) answerBeginQuorumEpoch(to int32, err protocol.ErrorCode) {
	id, e := r.Leader()
	r.env.Send(to, &protocol.BeginQuorumEpochResponse{Error: err, LeaderID: id, LeaderEpoch: e})
}

// onBeginQuorumEpochResponse notes a voter that acknowledged this leader's epoch.
func (r *Raft) onBeginQuorumEpochResponse(from int32, resp *protocol.BeginQuorumEpochResponse) {
	if i := slices.Index(r.cfg.Voters, from); i >= 0 && resp.Error == protocol.NONE && resp.LeaderEpoch == r.epoch {
		r.heard[i] = true
	}
}

// checkQuorumTimeoutFactor is LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR: a leader resigns when a
// majority has not fetched for 1.5 × controller.quorum.fetch.timeout.ms, leaving room for network
// and I/O delays (KAFKA-15489).
const checkQuorumTimeoutFactor = 1.5

func (r *Raft) checkQuorumTimeout() time.Duration {
	return time.Duration(float64(r.cfg.FetchTimeout) * checkQuorumTimeoutFactor)
}

// updateCheckQuorum notes a valid fetch from voter i in this epoch; once a majority (this leader
// included) has fetched since the last reset, the check-quorum timer starts again
// (LeaderState.updateCheckQuorumForFollowingVoter). A partitioned leader must not believe in
// itself forever (KIP-595 check quorum): when the timer runs out, it resigns.
func (r *Raft) updateCheckQuorum(now time.Duration, i int) {
	if i < 0 || i == r.self {
		return
	}
	r.fetched[i] = true
	n := 0
	for _, f := range r.fetched {
		if f {
			n++
		}
	}
	if n >= r.majority-1 {
		clear(r.fetched)
		r.checkQuorum.set(r.env, now, r.checkQuorumTimeout())
	}
}

// resign leaves leadership (graceful Resign, or check quorum) and asks the voters to elect now
// (ResignedState).
func (r *Raft) resign(now time.Duration) {
	successors := r.preferredSuccessors()
	r.leave()
	r.role, r.step = resigned, stepResigned
	r.observe()
	r.election.set(r.env, now, r.randomElectionTimeout())
	r.sendEndQuorumEpoch(successors)
}

// preferredSuccessors orders the other voters by how much of the log they hold, best first.
func (r *Raft) preferredSuccessors() []int32 {
	out := r.otherVoters()
	slices.SortStableFunc(out, func(a, b int32) int {
		ma, mb := r.match[slices.Index(r.cfg.Voters, a)], r.match[slices.Index(r.cfg.Voters, b)]
		switch {
		case ma > mb:
			return -1
		case ma < mb:
			return 1
		}
		return 0
	})
	return out
}

// otherVoters lists the voters but this one, by id.
func (r *Raft) otherVoters() []int32 {
	out := make([]int32, 0, len(r.cfg.Voters))
	for _, v := range r.cfg.Voters {
		if v != r.cfg.ID {
			out = append(out, v)
		}
	}
	return out
}

func (r *Raft) sendEndQuorumEpoch(successors []int32) {
	for _, v := range successors {
		r.env.Send(v, &protocol.EndQuorumEpochRequest{LeaderID: r.cfg.ID, LeaderEpoch: r.epoch, PreferredSuccessors: successors})
	}
}

// onEndQuorumEpoch answers a leader's resignation. When it concerns this voter (elect, an
// unattached voter or a follower of that leader), the first preferred successor stands at
// once, the others after a backoff growing with their place in the list, so the most
// up-to-date voter usually wins (KIP-595).
func (r *Raft) onEndQuorumEpoch(now time.Duration, from int32, req *protocol.EndQuorumEpochRequest, elect bool) {
	if elect {
		pos := slices.Index(req.PreferredSuccessors, r.cfg.ID)
		var d time.Duration
		if pos != 0 {
			n := max(len(req.PreferredSuccessors), 1)
			step := r.cfg.ElectionBackoffMax / time.Duration(n)
			d = time.Duration(max(pos, 1))*step + r.randomBackoff()/time.Duration(n)
		}
		r.election.set(r.env, now, d)
	}
	r.answerEndQuorumEpoch(from, protocol.NONE)
}

func (r *Raft) answerEndQuorumEpoch(to int32, err protocol.ErrorCode) {
	id, e := r.Leader()
	r.env.Send(to, &protocol.EndQuorumEpochResponse{Error: err, LeaderID: id, LeaderEpoch: e})
}
