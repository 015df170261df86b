package quorum

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the vote side of the quorum (KIP-595 Vote, KIP-996 pre-vote). A voter whose fetch or
// election timeout runs out first becomes prospective (ProspectiveState): without bumping the
// epoch it asks the others whether they would vote for it (Vote with PreVote set), and stands
// as candidate only with a majority of pre-votes. A voter grants a pre-vote without changing
// any state when the prospective's log is at least as up-to-date as its own, unless it leads or
// it follows a leader it has fetched from since it began following it (canGrantVote of each
// EpochState). A lost or timed-out pre-vote sends the prospective back to following the leader
// it knew, or to unattached, in the same epoch; so a voter cut off from the quorum never
// bumps the epoch and cannot depose a healthy leader when it comes back. protocol
// pre.vote=false (Config.DisablePreVote) brings back standing at once, as before KIP-996.
//
// A candidate bumps the epoch, votes for itself durably and asks the other voters; a voter
// grants one vote per epoch, only to a candidate whose log is at least as up-to-date as its
// own, and only before it knows a leader of the epoch (UnattachedState; VotedState after the
// grant). A candidate rejected by a voter backs off for a random time up to
// controller.quorum.election.backoff.max.ms and stands again.
//
// Left out: Kafka matches Vote responses to requests by correlation id; here a prospective
// counts any answer of its epoch, so a late answer to a real vote it asked for as candidate in
// the same epoch counts as a pre-vote (the voter would answer the same). Unanswered pre-votes
// and votes are not resent before the election timeout. The request checks of
// KafkaRaftClient.handleVoteRequest (INVALID_REQUEST for a last epoch above the candidate's
// epoch, voter keys) are not modelled.

// vote states of a candidate's tally.
const (
	voteNone     int8 = 0
	voteGranted  int8 = 1
	voteRejected int8 = -1
)

// stand is what a voter does when its fetch or election timeout runs out: ask for pre-votes
// (KIP-996), or with pre.vote=false stand at once in the next epoch.
func (r *Raft) stand(now time.Duration) {
	if r.cfg.DisablePreVote {
		r.becomeCandidate(now)
		return
	}
	r.becomeProspective(now)
}

// becomeProspective asks the other voters for pre-votes in the current epoch, keeping the
// epoch, the vote and the leader it knew (QuorumState.transitionToProspective: nothing changes
// on disk).
func (r *Raft) becomeProspective(now time.Duration) {
	if r.role == leader || r.self < 0 {
		panic(fmt.Sprintf("quorum: node %d becoming prospective from %s", r.cfg.ID, r.role))
	}
	r.leave()
	r.role, r.step = prospective, stepProspective
	r.observe()
	clear(r.votes)
	r.votes[r.self] = voteGranted
	if r.majority == 1 {
		r.becomeCandidate(now)
		return
	}
	r.election.set(r.env, now, r.randomElectionTimeout())
	r.requestVotes(true)
}

// requestVotes sends a VoteRequest (a pre-vote when preVote) to every other voter.
func (r *Raft) requestVotes(preVote bool) {
	for _, v := range r.cfg.Voters {
		if v != r.cfg.ID {
			r.env.Send(v, &protocol.VoteRequest{
				CandidateEpoch:  r.epoch,
				CandidateID:     r.cfg.ID,
				LastOffsetEpoch: r.log.lastEpoch(),
				LastOffset:      r.log.end(),
				PreVote:         preVote,
			})
		}
	}
}

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
	r.requestVotes(false)
}

// onVoteRequest answers a VoteRequest of the current epoch. A pre-vote is granted as
// mayGrantPreVote says, to a prospective whose log is up to date, and changes nothing. The vote
// already given is granted again (a retry); a new vote only when mayVote (UnattachedState, or a
// prospective that knows no leader), when none was cast in the epoch, and to a candidate whose
// log is up to date.
func (r *Raft) onVoteRequest(now time.Duration, from int32, req *protocol.VoteRequest, mayVote bool) {
	resp := &protocol.VoteResponse{}
	if req.PreVote {
		resp.VoteGranted = r.mayGrantPreVote() && r.candidateUpToDate(req)
	} else if r.votedFor == req.CandidateID {
		resp.VoteGranted = true
	} else if mayVote && (r.votedFor == protocol.NoLeader || r.cfg.VoteTwice) && r.candidateUpToDate(req) {
		r.votedFor = req.CandidateID
		r.persist() // flushed before the grant leaves
		r.election.set(r.env, now, r.randomElectionTimeout())
		resp.VoteGranted = true
	}
	resp.LeaderID, resp.LeaderEpoch = r.Leader()
	r.env.Send(from, resp)
}

// mayGrantPreVote is canGrantVote(isPreVote=true) of each EpochState but for the log check: a
// leader never grants a pre-vote; a follower only until it has fetched from its leader
// (FollowerState.hasFetchedFromLeader), since a leader it can fetch from needs no successor;
// unattached, prospective, candidate and resigned voters grant it.
func (r *Raft) mayGrantPreVote() bool {
	switch r.role {
	case leader:
		return false
	case follower:
		return !r.fetchedLeader
	}
	return true
}

// candidateUpToDate: the candidate's log is at least as up-to-date as ours (Raft's election
// restriction: last epoch, then end offset).
func (r *Raft) candidateUpToDate(req *protocol.VoteRequest) bool {
	last := r.log.lastEpoch()
	return req.LastOffsetEpoch > last || (req.LastOffsetEpoch == last && req.LastOffset >= r.log.end())
}

// onVoteResponse counts a vote of the candidate's epoch; a majority makes it leader.
func (r *Raft) onVoteResponse(now time.Duration, from int32, resp *protocol.VoteResponse) {
	i, granted, _ := r.countVote(from, resp)
	if i < 0 {
		return
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

// countVote records a (pre-)vote answer of this epoch from another voter (EpochElection): it
// returns the voter's index, -1 for an answer to ignore, and the votes granted and rejected so
// far.
func (r *Raft) countVote(from int32, resp *protocol.VoteResponse) (i, granted, rejected int) {
	if resp.LeaderEpoch != r.epoch {
		return -1, 0, 0
	}
	i = slices.Index(r.cfg.Voters, from)
	if i < 0 || i == r.self {
		return -1, 0, 0
	}
	if resp.VoteGranted && resp.Error == protocol.NONE {
		r.votes[i] = voteGranted
	} else {
		r.votes[i] = voteRejected
	}
	for _, v := range r.votes {
		switch v {
		case voteGranted:
			granted++
		case voteRejected:
			rejected++
		}
	}
	return i, granted, rejected
}

// onPreVoteResponse counts a pre-vote of the prospective's epoch: a majority makes it stand as
// candidate; once a majority can no longer be reached (EpochElection.isVoteRejected) the
// pre-vote is lost (KafkaRaftClient.handleVoteResponse and pollProspective).
func (r *Raft) onPreVoteResponse(now time.Duration, from int32, resp *protocol.VoteResponse) {
	i, granted, rejected := r.countVote(from, resp)
	if i < 0 {
		return
	}
	switch {
	case granted >= r.majority:
		r.becomeCandidate(now)
	case len(r.votes)-rejected < r.majority:
		r.prospectiveLost(now, false)
	}
}

// prospectiveLost ends a pre-vote that was lost or timed out (pollProspective): back to
// following the leader it knew, in the same epoch, or else unattached in the same epoch with
// its vote kept. After a timeout an unattached voter asks again at once (its election timer has
// run out); after a lost pre-vote it waits a new random election timeout.
func (r *Raft) prospectiveLost(now time.Duration, timedOut bool) {
	if r.leader != protocol.NoLeader {
		r.becomeFollower(now, r.epoch, r.leader)
		return
	}
	r.leave()
	r.role, r.step = unattached, stepUnattached
	r.persist()
	r.observe()
	if timedOut {
		r.becomeProspective(now)
		return
	}
	r.election.set(r.env, now, r.randomElectionTimeout())
}

func (r *Raft) randomBackoff() time.Duration {
	return time.Duration(r.env.Rand() % uint64(r.cfg.ElectionBackoffMax))
}
