package quorum

import (
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the vote side of the quorum (KIP-595 Vote): a candidate bumps the epoch, votes for
// itself durably and asks the other voters; a voter grants one vote per epoch, only to a
// candidate whose log is at least as up-to-date as its own, and only before it knows a leader
// of the epoch (UnattachedState; VotedState after the grant). A candidate rejected by a voter
// backs off for a random time up to controller.quorum.election.backoff.max.ms and stands again.

// vote states of a candidate's tally.
const (
	voteNone     int8 = 0
	voteGranted  int8 = 1
	voteRejected int8 = -1
)

// becomeCandidate stands in the next epoch (CandidateState).
func (r *Raft) becomeCandidate(now time.Duration) {
	r.leave()
	r.role, r.step = candidate, stepCandidate
	r.epoch++
	r.votedFor = r.cfg.ID
	r.leader = protocol.NoLeader
	r.persist() // the vote for itself is durable before any VoteRequest leaves
	r.observe()
	clear(r.votes)
	r.votes[r.self] = voteGranted
	if r.majority == 1 {
		r.becomeLeader(now)
		return
	}
	r.election.set(r.env, now, r.randomElectionTimeout())
	for _, v := range r.cfg.Voters {
		if v != r.cfg.ID {
			r.env.Send(v, &protocol.VoteRequest{
				CandidateEpoch:  r.epoch,
				CandidateID:     r.cfg.ID,
				LastOffsetEpoch: r.log.lastEpoch(),
				LastOffset:      r.log.end(),
			})
		}
	}
}

// onVoteRequest answers a VoteRequest of the current epoch. The vote already given is granted
// again (a retry); a new vote only when mayVote (UnattachedState), when none was cast in the
// epoch, and to a candidate whose log is up to date.
func (r *Raft) onVoteRequest(now time.Duration, from int32, req *protocol.VoteRequest, mayVote bool) {
	resp := &protocol.VoteResponse{}
	if r.votedFor == req.CandidateID {
		resp.VoteGranted = true
	} else if mayVote && r.votedFor == protocol.NoLeader && r.candidateUpToDate(req) {
		r.votedFor = req.CandidateID
		r.persist() // flushed before the grant leaves
		r.election.set(r.env, now, r.randomElectionTimeout())
		resp.VoteGranted = true
	}
	resp.LeaderID, resp.LeaderEpoch = r.Leader()
	r.env.Send(from, resp)
}

// candidateUpToDate: the candidate's log is at least as up-to-date as ours (Raft's election
// restriction: last epoch, then end offset).
func (r *Raft) candidateUpToDate(req *protocol.VoteRequest) bool {
	last := r.log.lastEpoch()
	return req.LastOffsetEpoch > last || (req.LastOffsetEpoch == last && req.LastOffset >= r.log.end())
}

// onVoteResponse counts a vote of the candidate's epoch; a majority makes it leader.
func (r *Raft) onVoteResponse(now time.Duration, from int32, resp *protocol.VoteResponse) {
	if resp.LeaderEpoch != r.epoch {
		return
	}
	i := slices.Index(r.cfg.Voters, from)
	if i < 0 || i == r.self {
		return
	}
	if resp.VoteGranted && resp.Error == protocol.NONE {
		r.votes[i] = voteGranted
	} else {
		r.votes[i] = voteRejected
	}
	granted := 0
	for _, v := range r.votes {
		if v == voteGranted {
			granted++
		}
	}
	switch {
	case granted >= r.majority:
		r.becomeLeader(now)
	case r.votes[i] == voteRejected:
		// Lost, or a split vote (the voter stands itself): back off for a random time up to
		// controller.quorum.election.backoff.max.ms, then stand again (KIP-595), unless the
		// election timeout comes first. A split then costs at most the backoff, not a whole
		// election timeout.
		if b := r.randomBackoff(); now+b < r.election.at {
			r.election.set(r.env, now, b)
		}
	}
}

func (r *Raft) randomBackoff() time.Duration {
	return time.Duration(r.env.Rand() % uint64(r.cfg.ElectionBackoffMax))
}
