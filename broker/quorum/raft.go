package quorum

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

type role uint8

const (
	unattached role = iota
	follower
	candidate
	leader
	resigned
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
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// vote states of a candidate's tally.
const (
	voteNone     int8 = 0
	voteGranted  int8 = 1
	voteRejected int8 = -1
)

// parkedFetch is a fetch the leader holds until entries arrive, the high watermark moves or
// MaxWait passes (Kafka's delayed fetch).
type parkedFetch struct {
	id   uint64
	from int32
	req  protocol.QuorumFetchRequest
}

// Raft is one controller's voter in the metadata quorum. It is a state machine: Handle takes one
// input at a time, outputs go through node.Env. The roles swap what Handle does with each
// message (etcd-raft style); see the role constants.
type Raft struct {
	cfg      Config
	env      node.Env
	disk     node.Disk
	log      metaLog
	role     role
	epoch    int32
	votedFor int32
	leader   int32 // leader of epoch as this voter knows it (itself when leader or resigned)
	hw       int64
	self     int // index of cfg.ID in cfg.Voters, -1 when not a voter
	majority int

	election deadline // election / fetch timeout
	fetch    deadline // fetch retry and backoff

	// Follower.
	fetchOutstanding bool
	fetchCorr        int64
	fetchOffset      int64

	// Candidate.
	votes []int8 // per voter index

	// Leader.
	epochStart int64           // offset of this leader's LeaderChangeRecord entry
	match      []int64         // per voter: offset flushed there (its last fetch offset), -1 unknown
	lastFetch  []time.Duration // per voter: when it last fetched in this epoch
	heard      []bool          // per voter: knows of this leader (fetched or acked BeginQuorumEpoch)
	beginGen   uint64
	checkGen   uint64
	parked     []parkedFetch
	parkSeq    uint64
	sentHW     map[int32]int64 // per fetcher: the high watermark of its last answer
	scratch    []int64
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
		cfg:      cfg,
		env:      env,
		disk:     disk,
		log:      recoverLog(disk),
		votedFor: protocol.NoLeader,
		leader:   protocol.NoLeader,
		self:     slices.Index(cfg.Voters, cfg.ID),
		majority: len(cfg.Voters)/2 + 1,
		sentHW:   make(map[int32]int64),
	}
	// Correlation ids start at a random point so that an answer meant for an earlier
	// incarnation of this node is not taken for one of ours.
	r.fetchCorr = int64(env.Rand() >> 2)
	r.election.kind = timerElection
	r.fetch.kind = timerFetch
	n := len(cfg.Voters)
	r.votes = make([]int8, n)
	r.match = make([]int64, n)
	r.lastFetch = make([]time.Duration, n)
	r.heard = make([]bool, n)
	r.scratch = make([]int64, 0, n)

	st := readState(disk)
	r.epoch, r.votedFor, r.leader = st.Epoch, st.VotedFor, st.LeaderID
	switch {
	case r.self < 0:
		r.role = unattached // not a voter: answers requests, never campaigns
		r.leader = protocol.NoLeader
	case r.leader == cfg.ID:
		// A leader that restarts has lost its volatile state: it comes back resigned and tells
		// the voters, so that they elect at once (KafkaRaftClient's ResignedState).
		r.role = resigned
		r.election.set(env, false, now, r.randomElectionTimeout())
		r.sendEndQuorumEpoch()
	case r.leader != protocol.NoLeader:
		r.role = follower
		r.election.set(env, false, now, cfg.FetchTimeout)
		r.sendFetch(now)
	default:
		r.role = unattached
		r.election.set(env, false, now, r.randomElectionTimeout())
	}
	r.observe()
	if r.self >= 0 && len(cfg.Voters) == 1 {
		r.becomeCandidate(now)
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
	case follower:
		return r.leader, r.epoch
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
// set) and returns true; anything else returns false.
func (r *Raft) Handle(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case raftTimer:
		if from == r.env.ID() {
			r.onTimer(now, m)
		}
	case *protocol.VoteRequest:
		r.onVoteRequest(now, from, m)
	case protocol.VoteRequest:
		r.onVoteRequest(now, from, &m)
	case *protocol.VoteResponse:
		r.onVoteResponse(now, from, m)
	case protocol.VoteResponse:
		r.onVoteResponse(now, from, &m)
	case *protocol.BeginQuorumEpochRequest:
		r.onBeginQuorumEpoch(now, from, m)
	case protocol.BeginQuorumEpochRequest:
		r.onBeginQuorumEpoch(now, from, &m)
	case *protocol.BeginQuorumEpochResponse:
		r.onBeginQuorumEpochResponse(now, from, m)
	case protocol.BeginQuorumEpochResponse:
		r.onBeginQuorumEpochResponse(now, from, &m)
	case *protocol.EndQuorumEpochRequest:
		r.onEndQuorumEpoch(now, from, m)
	case protocol.EndQuorumEpochRequest:
		r.onEndQuorumEpoch(now, from, &m)
	case *protocol.EndQuorumEpochResponse:
		r.onEndQuorumEpochResponse(now, m)
	case protocol.EndQuorumEpochResponse:
		r.onEndQuorumEpochResponse(now, &m)
	case *protocol.QuorumFetchRequest:
		r.onFetch(now, from, m)
	case protocol.QuorumFetchRequest:
		r.onFetch(now, from, &m)
	case *protocol.QuorumFetchResponse:
		r.onFetchResponse(now, from, m)
	case protocol.QuorumFetchResponse:
		r.onFetchResponse(now, from, &m)
	default:
		return false
	}
	return true
}

func (r *Raft) onTimer(now time.Duration, t raftTimer) {
	switch t.kind {
	case timerElection:
		if r.election.fired(r.env, false, now, t.gen) && r.self >= 0 && r.role != leader {
			r.becomeCandidate(now)
		}
	case timerFetch:
		if r.fetch.fired(r.env, false, now, t.gen) && r.role == follower {
			r.sendFetch(now)
		}
	case timerBeginEpoch:
		if t.gen == r.beginGen && r.role == leader {
			r.sendBeginQuorumEpoch(false)
		}
	case timerCheckQuorum:
		if t.gen == r.checkGen && r.role == leader {
			r.checkQuorum(now)
		}
	case timerFetchWait:
		for i := range r.parked {
			if r.parked[i].id == t.gen {
				p := r.parked[i]
				r.parked = slices.Delete(r.parked, i, i+1)
				r.answerFetch(p.from, &p.req)
				break
			}
		}
	}
}

// --- transitions ---------------------------------------------------------------------------

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

func (r *Raft) randomBackoff() time.Duration {
	return time.Duration(r.env.Rand() % uint64(r.cfg.ElectionBackoffMax))
}

// leave ends the duties of the current role before a transition.
func (r *Raft) leave() {
	if r.role == leader {
		r.beginGen++
		r.checkGen++
		// Held fetches learn at once that this node no longer leads.
		parked := r.parked
		r.parked = r.parked[:0:0]
		r.role = resigned
		for i := range parked {
			r.answerFetch(parked[i].from, &parked[i].req)
		}
	}
	r.fetchOutstanding = false
	r.fetch.stop()
}

func (r *Raft) becomeUnattached(now time.Duration, epoch int32) {
	r.leave()
	r.role = unattached
	r.epoch = epoch
	r.votedFor = protocol.NoLeader
	r.leader = protocol.NoLeader
	r.persist()
	r.observe()
	// Raft §5.2: hearing of a higher epoch does not push back an election already due (only a
	// granted vote does), or a candidate with a stale log could hold off every election forever.
	if !r.election.active {
		r.election.set(r.env, false, now, r.randomElectionTimeout())
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
	r.role = follower
	r.epoch = epoch
	r.leader = leaderID
	r.persist()
	r.observe()
	r.election.set(r.env, false, now, r.cfg.FetchTimeout)
	r.sendFetch(now)
}

func (r *Raft) becomeCandidate(now time.Duration) {
	r.leave()
	r.role = candidate
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
	r.election.set(r.env, false, now, r.randomElectionTimeout())
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

func (r *Raft) becomeLeader(now time.Duration) {
	if r.role != candidate {
		panic(fmt.Sprintf("quorum: node %d becoming leader from %s, not candidate", r.cfg.ID, r.role))
	}
	r.role = leader
	r.leader = r.cfg.ID
	r.persist()
	r.observe()
	r.election.stop()
	r.fetch.stop()
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
		r.lastFetch[i] = now
		r.heard[i] = i == r.self
	}
	clear(r.sentHW)
	r.parked = r.parked[:0]
	r.beginGen++
	r.checkGen++
	r.sendBeginQuorumEpoch(true)
	r.env.After(r.checkInterval(), raftTimer{kind: timerCheckQuorum, gen: r.checkGen})
	r.updateHW()
}

// resign leaves leadership (graceful Resign, or check quorum) and asks the voters to elect now.
func (r *Raft) resign(now time.Duration) {
	successors := r.preferredSuccessors()
	r.leave()
	r.role = resigned
	r.observe()
	r.election.set(r.env, false, now, r.randomElectionTimeout())
	r.sendEndQuorumEpochTo(successors)
}

// preferredSuccessors orders the other voters by how much of the log they hold, best first.
func (r *Raft) preferredSuccessors() []int32 {
	out := make([]int32, 0, len(r.cfg.Voters))
	for _, v := range r.cfg.Voters {
		if v != r.cfg.ID {
			out = append(out, v)
		}
	}
	if r.role == leader {
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
	}
	return out
}

func (r *Raft) sendEndQuorumEpoch() { r.sendEndQuorumEpochTo(r.preferredSuccessors()) }

func (r *Raft) sendEndQuorumEpochTo(successors []int32) {
	for _, v := range successors {
		r.env.Send(v, &protocol.EndQuorumEpochRequest{LeaderID: r.cfg.ID, LeaderEpoch: r.epoch, PreferredSuccessors: successors})
	}
}

// seeEpoch handles an epoch (and the leader known in it) read from any message: a higher epoch
// makes this voter step down; a leader of the current epoch is followed when none was known.
// It reports whether the epoch was higher.
func (r *Raft) seeEpoch(now time.Duration, epoch, leaderID int32) bool {
	if epoch > r.epoch {
		if leaderID != protocol.NoLeader && leaderID != r.cfg.ID && r.self >= 0 {
			r.becomeFollower(now, epoch, leaderID)
		} else {
			r.becomeUnattached(now, epoch)
		}
		return true
	}
	if epoch == r.epoch && leaderID != protocol.NoLeader && leaderID != r.cfg.ID && r.self >= 0 &&
		(r.role == unattached || r.role == candidate) {
		r.becomeFollower(now, epoch, leaderID)
	}
	return false
}

// --- Vote ----------------------------------------------------------------------------------

func (r *Raft) onVoteRequest(now time.Duration, from int32, req *protocol.VoteRequest) {
	if r.self < 0 || !slices.Contains(r.cfg.Voters, req.CandidateID) {
		id, e := r.Leader()
		r.env.Send(from, &protocol.VoteResponse{Error: protocol.INCONSISTENT_VOTER_SET, LeaderID: id, LeaderEpoch: e})
		return
	}
	if req.CandidateEpoch > r.epoch {
		r.becomeUnattached(now, req.CandidateEpoch)
	}
	resp := &protocol.VoteResponse{}
	if req.CandidateEpoch < r.epoch {
		resp.Error = protocol.FENCED_LEADER_EPOCH
	} else if r.votedFor == req.CandidateID {
		resp.VoteGranted = true // the same vote again (a retry)
	} else if r.role == unattached && r.votedFor == protocol.NoLeader && r.leader == protocol.NoLeader &&
		r.candidateUpToDate(req) {
		r.votedFor = req.CandidateID
		r.persist() // flushed before the grant leaves
		r.election.set(r.env, false, now, r.randomElectionTimeout())
		resp.VoteGranted = true
	}
	resp.LeaderID, resp.LeaderEpoch = r.Leader()
	r.env.Send(from, resp)
}

// candidateUpToDate: the candidate's log is at least as up-to-date as ours (Raft §5.4.1: last
// epoch, then end offset).
func (r *Raft) candidateUpToDate(req *protocol.VoteRequest) bool {
	last := r.log.lastEpoch()
	return req.LastOffsetEpoch > last || (req.LastOffsetEpoch == last && req.LastOffset >= r.log.end())
}

func (r *Raft) onVoteResponse(now time.Duration, from int32, resp *protocol.VoteResponse) {
	if r.seeEpoch(now, resp.LeaderEpoch, resp.LeaderID) || r.role != candidate || resp.LeaderEpoch != r.epoch {
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
			r.election.set(r.env, false, now, b)
		}
	}
}

// --- BeginQuorumEpoch / EndQuorumEpoch ----------------------------------------------------------

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

func (r *Raft) onBeginQuorumEpoch(now time.Duration, from int32, req *protocol.BeginQuorumEpochRequest) {
	resp := &protocol.BeginQuorumEpochResponse{}
	switch {
	case r.self < 0:
		resp.Error = protocol.INCONSISTENT_VOTER_SET
	case req.LeaderEpoch < r.epoch:
		resp.Error = protocol.FENCED_LEADER_EPOCH
	case req.LeaderID == r.cfg.ID || (r.role == leader || r.role == resigned) && req.LeaderEpoch == r.epoch:
		resp.Error = protocol.INVALID_REQUEST // two leaders in one epoch: cannot be
	default:
		if !r.seeEpoch(now, req.LeaderEpoch, req.LeaderID) && r.role == follower && r.leader == req.LeaderID {
			r.election.set(r.env, false, now, r.cfg.FetchTimeout)
		}
	}
	resp.LeaderID, resp.LeaderEpoch = r.Leader()
	r.env.Send(from, resp)
}

func (r *Raft) onBeginQuorumEpochResponse(now time.Duration, from int32, resp *protocol.BeginQuorumEpochResponse) {
	if r.seeEpoch(now, resp.LeaderEpoch, resp.LeaderID) || r.role != leader {
		return
	}
	if i := slices.Index(r.cfg.Voters, from); i >= 0 && resp.Error == protocol.NONE && resp.LeaderEpoch == r.epoch {
		r.heard[i] = true
	}
}

func (r *Raft) onEndQuorumEpoch(now time.Duration, from int32, req *protocol.EndQuorumEpochRequest) {
	resp := &protocol.EndQuorumEpochResponse{}
	switch {
	case r.self < 0:
		resp.Error = protocol.INCONSISTENT_VOTER_SET
	case req.LeaderEpoch < r.epoch:
		resp.Error = protocol.FENCED_LEADER_EPOCH
	default:
		if req.LeaderEpoch > r.epoch {
			r.becomeUnattached(now, req.LeaderEpoch)
		}
		if r.role == follower && r.leader == req.LeaderID || r.role == unattached {
			// KIP-595: the first preferred successor stands at once, the others after a backoff
			// growing with their place in the list, so the most up-to-date voter usually wins.
			pos := slices.Index(req.PreferredSuccessors, r.cfg.ID)
			var d time.Duration
			if pos != 0 {
				n := max(len(req.PreferredSuccessors), 1)
				step := r.cfg.ElectionBackoffMax / time.Duration(n)
				d = time.Duration(max(pos, 1))*step + r.randomBackoff()/time.Duration(n)
			}
			r.election.set(r.env, false, now, d)
		}
	}
	resp.LeaderID, resp.LeaderEpoch = r.Leader()
	r.env.Send(from, resp)
}

func (r *Raft) onEndQuorumEpochResponse(now time.Duration, resp *protocol.EndQuorumEpochResponse) {
	r.seeEpoch(now, resp.LeaderEpoch, resp.LeaderID)
}
