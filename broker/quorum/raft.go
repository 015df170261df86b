package quorum

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// role is a voter's epoch state, named after KafkaRaftClient's EpochState classes:
// UnattachedState (VotedState when it has voted in the epoch), FollowerState, ProspectiveState
// (KIP-996), CandidateState, LeaderState and ResignedState.
type role uint8

const (
	unattached role = iota
	follower
	candidate
	leader
	resigned
	prospective
)

func (r role) String() string {
	switch r {
	case unattached:
		return RoleUnattached
	case follower:
		return RoleFollower
	case candidate:
		return RoleCandidate
	case leader:
		return RoleLeader
	case resigned:
		return RoleResigned
	case prospective:
		return RoleProspective
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// stepFunc handles one input in one role: a quorum message whose epoch Handle has already dealt
// with, or a raftTimer that is due. Each transition installs its role's step function
// (etcd-raft's r.step = stepFollower).
type stepFunc func(r *Raft, now time.Duration, from int32, msg any)

// Raft is one controller's voter in the metadata quorum. It is a state machine: Handle takes one
// input at a time, outputs go through node.Env. Handle settles the epoch of every message once,
// then hands it to the step function of the current role.
type Raft struct {
	cfg      Config
	env      node.Env
	disk     node.Disk
	log      metaLog
	role     role
	step     stepFunc
	epoch    int32
	votedFor int32
	leader   int32 // leader of epoch as this voter knows it (itself when leader or resigned)
	// fetchedLeader: a follower fetched from its leader successfully since it began following
	// it (FollowerState.hasFetchedFromLeader); from then on it refuses pre-votes.
	fetchedLeader bool
	hw            int64
	self          int // index of cfg.ID in cfg.Voters, -1 when not a voter
	majority      int

	election deadline // election / fetch timeout
	fetcher  fetcher  // follower: the fetch in flight

	// Prospective and candidate.
	votes []int8 // per voter index: the pre-votes or the votes of the election under way

	// Leader.
	epochStart  int64    // offset of this leader's LeaderChangeRecord entry
	match       []int64  // per voter: offset flushed there (its last fetch offset), -1 unknown
	fetched     []bool   // per voter: fetched since the check-quorum timer was last reset (LeaderState.fetchedVoters)
	heard       []bool   // per voter: knows of this leader (fetched or acked BeginQuorumEpoch)
	checkQuorum deadline // LeaderState.checkQuorumTimer
	beginGen    uint64
	parked      []parkedFetch
	parkSeq     uint64
	sentHW      map[int32]int64 // per fetcher: the high watermark of its last answer
	scratch     []int64
}

// NewRaft recovers a voter from disk (StateFile, LogFile) and arms its timers. It starts as
// follower of the leader on disk, resigned if it was that leader, or unattached, and finds or
// elects a leader by itself. A single-voter quorum elects itself at once.
func NewRaft(cfg Config, env node.Env, disk node.Disk, now time.Duration) *Raft {
	cfg = cfg.withDefaults()
	voters := slices.Clone(cfg.Voters)
	slices.Sort(voters)
	cfg.Voters = slices.Compact(voters)
	r := &Raft{
		cfg:         cfg,
		env:         env,
		disk:        disk,
		log:         recoverLog(disk),
		votedFor:    protocol.NoLeader,
		leader:      protocol.NoLeader,
		self:        slices.Index(cfg.Voters, cfg.ID),
		majority:    len(cfg.Voters)/2 + 1,
		sentHW:      make(map[int32]int64),
		election:    deadline{kind: timerElection},
		checkQuorum: deadline{kind: timerCheckQuorum},
	}
	r.fetcher = newFetcher(env, &r.cfg, &r.log, false)
	n := len(cfg.Voters)
	r.votes = make([]int8, n)
	r.match = make([]int64, n)
	r.fetched = make([]bool, n)
	r.heard = make([]bool, n)
	r.scratch = make([]int64, 0, n)

	st := readState(disk)
	r.epoch, r.votedFor, r.leader = st.Epoch, st.VotedFor, st.LeaderID
	switch {
	case r.self < 0:
		r.role, r.step = unattached, stepUnattached // not a voter: answers requests, never campaigns
		r.leader = protocol.NoLeader
	case r.leader == cfg.ID:
		// A leader that restarts has lost its volatile state: it comes back resigned and tells
		// the voters, so that they elect at once (KafkaRaftClient's ResignedState). Its
		// replicated offsets are gone, so the successors go in id order.
		r.role, r.step = resigned, stepResigned
		r.election.set(env, now, r.randomElectionTimeout())
		r.sendEndQuorumEpoch(r.otherVoters())
	case r.leader != protocol.NoLeader:
		r.role, r.step = follower, stepFollower
		r.election.set(env, now, cfg.FetchTimeout)
		r.sendFetch(now)
	default:
		r.role, r.step = unattached, stepUnattached
		r.election.set(env, now, r.randomElectionTimeout())
	}
	r.observe()
	if r.self >= 0 && len(cfg.Voters) == 1 {
		r.becomeCandidate(now) // KafkaRaftClient.initialize: a lone voter stands at once
	}
	return r
}

func readState(disk node.Disk) ElectionState {
	st := ElectionState{VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}
	entries := disk.Read(StateFile)
	if len(entries) == 0 {
		return st
	}
	switch x := entries[len(entries)-1].(type) {
	case ElectionState:
		st = x
	case *ElectionState:
		if x != nil {
			st = *x
		}
	}
	if st.Epoch < 0 {
		st = ElectionState{VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}
	}
	return st
}

// Leader is the leader this voter knows in its epoch; NoLeader when it knows none (or resigned).
func (r *Raft) Leader() (id int32, epoch int32) {
	switch r.role {
	case leader:
		return r.cfg.ID, r.epoch
	case follower, prospective:
		return r.leader, r.epoch // a prospective voter still names the leader it followed (ProspectiveState.election)
	}
	return protocol.NoLeader, r.epoch
}

// IsLeader reports whether this voter leads its epoch (and has not resigned).
func (r *Raft) IsLeader() bool { return r.role == leader }

// Ready reports that this voter leads and its LeaderChangeRecord is committed: the committed
// prefix is final and it may write.
func (r *Raft) Ready() bool { return r.role == leader && r.hw > r.epochStart }

// Epoch is the current epoch.
func (r *Raft) Epoch() int32 { return r.epoch }

// HighWatermark: entries with Offset < HighWatermark are committed.
func (r *Raft) HighWatermark() int64 { return r.hw }

// EndOffset is the log end offset (LEO).
func (r *Raft) EndOffset() int64 { return r.log.end() }

// Entries returns entries [from, to) clipped to the log. The slice is a read-only view.
func (r *Raft) Entries(from, to int64) []protocol.MetadataEntry { return r.log.view(from, to) }

// Role names the current role for the TUI.
func (r *Raft) Role() string { return r.role.String() }

// Append appends one entry holding records at the LEO in the current epoch, flushes it and
// starts replicating it. Leader only (ok=false otherwise). records must not be modified later.
func (r *Raft) Append(now time.Duration, records []any) (offset int64, ok bool) {
	if r.role != leader {
		return 0, false
	}
	e := protocol.MetadataEntry{Offset: r.log.end(), Epoch: r.epoch, Records: records}
	r.log.append(e)
	r.log.flush()
	r.updateHW()
	r.completeParked()
	return e.Offset, true
}

// Resign is a leader's graceful shutdown: it stops leading and sends EndQuorumEpoch so that the
// others elect at once. Without effect on a non-leader.
func (r *Raft) Resign(now time.Duration) {
	if r.role == leader {
		r.resign(now)
	}
}

// Handle takes one input that belongs to the quorum (a quorum message, or a timer this Raft
// set) and returns true; anything else returns false. A message goes through three steps:
//
//  1. A request only voters send (Vote, BeginQuorumEpoch, EndQuorumEpoch) that this voter must
//     refuse whatever its role, or that comes from an older epoch, is answered with the error
//     (KafkaRaftClient.validateVoterOnlyRequest).
//  2. The epoch and the leader the message names move this voter to a newer epoch, or make it
//     follow a leader of its epoch it did not know (KafkaRaftClient.maybeTransition). A response
//     from a newer epoch answered a question of an older one and ends there. A fetch request
//     carries no epoch to act on: a leader does not step down for it but answers
//     UNKNOWN_LEADER_EPOCH, as KafkaRaftClient does (an observer may have heard of an epoch
//     whose election failed).
//  3. The step function of the current role handles it.
func (r *Raft) Handle(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case raftTimer:
		if from == r.env.ID() && r.due(now, m) {
			r.step(r, now, from, msg)
		}
		return true
	case *protocol.VoteRequest:
		if err := r.validateVoterOnlyRequest(m.CandidateEpoch, slices.Contains(r.cfg.Voters, m.CandidateID)); err != protocol.NONE {
			id, e := r.Leader()
			r.env.Send(from, &protocol.VoteResponse{Error: err, LeaderID: id, LeaderEpoch: e})
			return true
		}
		r.maybeTransition(now, m.CandidateEpoch, protocol.NoLeader)
	case *protocol.BeginQuorumEpochRequest:
		err := r.validateVoterOnlyRequest(m.LeaderEpoch, true)
		if err == protocol.NONE && m.LeaderID == r.cfg.ID {
			err = protocol.INVALID_REQUEST // two leaders in one epoch: cannot be
		}
		if err != protocol.NONE {
			r.answerBeginQuorumEpoch(from, err)
			return true
		}
		r.maybeTransition(now, m.LeaderEpoch, m.LeaderID)
	case *protocol.EndQuorumEpochRequest:
		if err := r.validateVoterOnlyRequest(m.LeaderEpoch, true); err != protocol.NONE {
			r.answerEndQuorumEpoch(from, err)
			return true
		}
		// The sender resigns: it leads its epoch no more, so it is not followed.
		r.maybeTransition(now, m.LeaderEpoch, protocol.NoLeader)
	case *protocol.QuorumFetchRequest:
		// No epoch to act on (see 2.).
	case *protocol.VoteResponse:
		if r.maybeTransition(now, m.LeaderEpoch, m.LeaderID) {
			return true
		}
	case *protocol.BeginQuorumEpochResponse:
		if r.maybeTransition(now, m.LeaderEpoch, m.LeaderID) {
			return true
		}
	case *protocol.EndQuorumEpochResponse:
		if r.maybeTransition(now, m.LeaderEpoch, m.LeaderID) {
			return true
		}
	case *protocol.QuorumFetchResponse:
		if r.maybeTransition(now, m.LeaderEpoch, m.LeaderID) {
			return true
		}
	default:
		return false
	}
	r.step(r, now, from, msg)
	return true
}

// validateVoterOnlyRequest is the error a Vote, BeginQuorumEpoch or EndQuorumEpoch request gets
// whatever this voter's role: INCONSISTENT_VOTER_SET when this node or the sender is no voter,
// FENCED_LEADER_EPOCH when it comes from an older epoch; NONE when it may go on.
func (r *Raft) validateVoterOnlyRequest(epoch int32, senderIsVoter bool) protocol.ErrorCode {
	switch {
	case r.self < 0 || !senderIsVoter:
		return protocol.INCONSISTENT_VOTER_SET
	case epoch < r.epoch:
		return protocol.FENCED_LEADER_EPOCH
	}
	return protocol.NONE
}

// maybeTransition acts on the epoch a message carries and the leader it names in that epoch
// (NoLeader when it names none): a higher epoch makes this voter follow that leader, or be
// unattached in it; a leader of the current epoch is followed when none was known (unattached,
// prospective without a leader, or candidate). It reports whether the epoch was higher.
// (KafkaRaftClient.maybeTransition.)
func (r *Raft) maybeTransition(now time.Duration, epoch, leaderID int32) bool {
	known := leaderID != protocol.NoLeader && leaderID != r.cfg.ID && r.self >= 0
	if epoch > r.epoch {
		if known {
			r.becomeFollower(now, epoch, leaderID)
		} else {
			r.becomeUnattached(now, epoch)
		}
		return true
	}
	if epoch == r.epoch && known && (r.role == unattached || r.role == candidate || (r.role == prospective && r.leader == protocol.NoLeader)) {
		r.becomeFollower(now, epoch, leaderID)
	}
	return false
}

// due settles the bookkeeping of a timer and reports whether it is due: a moved deadline's
// timer that fires early or stale is not.
func (r *Raft) due(now time.Duration, t raftTimer) bool {
	switch t.kind {
	case timerElection:
		return r.election.fired(r.env, now, t.gen)
	case timerFetch:
		return r.fetcher.fired(now, t.gen)
	case timerCheckQuorum:
		return r.checkQuorum.fired(r.env, now, t.gen)
	}
	return true
}

// stepUnattached is UnattachedState, and VotedState once it voted in the epoch: it may grant a
// vote and stands when the election timeout passes. A Raft that is not a voter stays here.
func stepUnattached(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case raftTimer:
		if m.kind == timerElection && r.self >= 0 {
			r.stand(now)
		}
	case *protocol.VoteRequest:
		r.onVoteRequest(now, from, m, true)
	case *protocol.EndQuorumEpochRequest:
		r.onEndQuorumEpoch(now, from, m, true)
	default:
		stepAny(r, now, from, msg)
	}
}

// stepFollower is FollowerState: it fetches from its leader and stands when the fetch timeout
// passes without an answer from it.
func stepFollower(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case raftTimer:
		switch m.kind {
		case timerElection:
			r.stand(now)
		case timerFetch:
			r.sendFetch(now)
		}
	case *protocol.BeginQuorumEpochRequest:
		if m.LeaderID == r.leader {
			r.election.set(r.env, now, r.cfg.FetchTimeout) // heard from the leader
		}
		r.answerBeginQuorumEpoch(from, protocol.NONE)
	case *protocol.EndQuorumEpochRequest:
		r.onEndQuorumEpoch(now, from, m, m.LeaderID == r.leader)
	case *protocol.QuorumFetchResponse:
		r.onFetchResponse(now, from, m)
	default:
		stepAny(r, now, from, msg)
	}
}

// stepProspective is ProspectiveState (KIP-996): it counts pre-votes, stands as candidate with
// a majority of them, and goes back to following (or to unattached) when the pre-vote is lost or
// times out. It may grant a vote like an unattached voter, as long as it knows no leader.
func stepProspective(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case raftTimer:
		if m.kind == timerElection {
			r.prospectiveLost(now, true)
		}
	case *protocol.VoteRequest:
		r.onVoteRequest(now, from, m, r.leader == protocol.NoLeader)
	case *protocol.VoteResponse:
		r.onPreVoteResponse(now, from, m)
	default:
		stepAny(r, now, from, msg)
	}
}

// stepCandidate is CandidateState: it counts votes and, when the election times out or its
// backoff ends, stands again (through a pre-vote, KIP-996, unless pre.vote=false).
func stepCandidate(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case raftTimer:
		if m.kind == timerElection {
			r.stand(now)
		}
	case *protocol.VoteResponse:
		r.onVoteResponse(now, from, m)
	default:
		stepAny(r, now, from, msg)
	}
}

// stepLeader is LeaderState: it answers fetches, announces itself until every voter heard of
// it and checks that a majority still fetches.
func stepLeader(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case raftTimer:
		switch m.kind {
		case timerBeginEpoch:
			if m.gen == r.beginGen {
				r.sendBeginQuorumEpoch(false)
			}
		case timerCheckQuorum:
			r.resign(now) // no majority fetched within the check-quorum timeout
		case timerFetchWait:
			r.onFetchWait(m.gen)
		}
	case *protocol.BeginQuorumEpochRequest:
		r.answerBeginQuorumEpoch(from, protocol.INVALID_REQUEST) // two leaders in one epoch: cannot be
	case *protocol.BeginQuorumEpochResponse:
		r.onBeginQuorumEpochResponse(from, m)
	case *protocol.QuorumFetchRequest:
		r.onFetch(now, from, m)
	default:
		stepAny(r, now, from, msg)
	}
}

// stepResigned is ResignedState: a leader that gave up its epoch waits for the next one, and
// stands itself when the election timeout passes first: with pre-vote it first moves to the
// next epoch, unattached, so that answers meant for its old epoch cannot confuse it
// (KafkaRaftClient.pollResigned), then asks for pre-votes at once.
func stepResigned(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case raftTimer:
		if m.kind == timerElection {
			if r.cfg.DisablePreVote {
				r.becomeCandidate(now)
				return
			}
			r.becomeUnattached(now, r.epoch+1)
			r.becomeProspective(now)
		}
	case *protocol.BeginQuorumEpochRequest:
		r.answerBeginQuorumEpoch(from, protocol.INVALID_REQUEST) // it led this epoch itself
	default:
		stepAny(r, now, from, msg)
	}
}

// stepAny is what every role does with a message its own step function leaves: requests are
// answered as by a voter that neither leads nor may cast a new vote; timers and responses are
// dropped.
func stepAny(r *Raft, now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case *protocol.VoteRequest:
		r.onVoteRequest(now, from, m, false)
	case *protocol.BeginQuorumEpochRequest:
		r.answerBeginQuorumEpoch(from, protocol.NONE)
	case *protocol.EndQuorumEpochRequest:
		r.onEndQuorumEpoch(now, from, m, false)
	case *protocol.QuorumFetchRequest:
		id, e := r.Leader()
		refuseFetch(r.env, from, m, id, e)
	}
}

func (r *Raft) persist() {
	r.disk.Write(StateFile, []any{ElectionState{Epoch: r.epoch, VotedFor: r.votedFor, LeaderID: r.leader}})
	r.disk.Flush(StateFile)
}

func (r *Raft) observe() {
	id, _ := r.Leader()
	r.env.Observe(StateChange{ID: r.cfg.ID, Role: r.role.String(), Epoch: r.epoch, LeaderID: id})
}

func (r *Raft) randomElectionTimeout() time.Duration {
	t := r.cfg.ElectionTimeout
	return t + time.Duration(r.env.Rand()%uint64(t))
}

// leave ends the duties of the current role before a transition.
func (r *Raft) leave() {
	if r.role == leader {
		r.beginGen++
		r.checkQuorum.stop()
		// Held fetches learn at once that this node no longer leads.
		parked := r.parked
		r.parked = r.parked[:0:0]
		r.role, r.step = resigned, stepResigned
		for i := range parked {
			refuseFetch(r.env, parked[i].from, &parked[i].req, protocol.NoLeader, r.epoch)
		}
	}
	r.fetcher.stop()
}

func (r *Raft) becomeUnattached(now time.Duration, epoch int32) {
	r.leave()
	r.role, r.step = unattached, stepUnattached
	r.epoch = epoch
	r.votedFor = protocol.NoLeader
	r.leader = protocol.NoLeader
	r.persist()
	r.observe()
	// Hearing of a higher epoch does not push back an election already due (only a granted
	// vote does, as in Raft), or a candidate with a stale log could hold off every election
	// forever.
	if !r.election.active {
		r.election.set(r.env, now, r.randomElectionTimeout())
	}
}

func (r *Raft) becomeFollower(now time.Duration, epoch, leaderID int32) {
	if r.role == leader && epoch == r.epoch {
		panic(fmt.Sprintf("quorum: leader %d of epoch %d told to follow %d in the same epoch", r.cfg.ID, epoch, leaderID))
	}
	r.leave()
	if epoch > r.epoch {
		r.votedFor = protocol.NoLeader
	}
	r.role, r.step = follower, stepFollower
	r.epoch = epoch
	r.leader = leaderID
	r.fetchedLeader = false
	r.persist()
	r.observe()
	r.election.set(r.env, now, r.cfg.FetchTimeout)
	r.sendFetch(now)
}
