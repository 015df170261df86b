package quorum

import (
	"testing"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// The pre-vote tests port KafkaRaftClientPreVoteTest (KIP-996) to one voter driven message by
// message. Left out, because the model has no such thing: observers answering Vote requests
// (testHandlePreVoteRequestAsUnattachedObserver, testHandlePreVoteRequestAsFollowerObserver,
// testLeaderAcceptPreVoteFromObserver), cluster ids and voter keys
// (testPreVoteRequestClusterIdValidation, testInvalidVoterReplicaPreVoteRequest), request
// validation (testInvalidPreVoteRequest), mixed versions (testPreVoteNotSupportedByRemote),
// request retries before the election timeout (testPreVoteRequestTimeout) and leader endpoints
// (testProspectiveLosesElectionHasLeaderButMissingEndpoint).

var pv1, pv2, pv3 = node.ControllerID(1), node.ControllerID(2), node.ControllerID(3)

// newVoter recovers c1 among voters c1..cN from a quorum-state file and a log whose entries have
// the given epochs.
func newVoter(t *testing.T, voters int, st ElectionState, logEpochs ...int32) (*Raft, *clockEnv, *fakeDisk) {
	t.Helper()
	disk := newFakeDisk()
	for i, e := range logEpochs {
		disk.Append(LogFile, protocol.MetadataEntry{Offset: int64(i), Epoch: e})
	}
	disk.Flush(LogFile)
	disk.Write(StateFile, []any{st})
	disk.Flush(StateFile)
	env := &clockEnv{recEnv: recEnv{id: pv1, rng: prng{s: 7}}}
	cfg := testConfig()
	cfg.ID = pv1
	for i := 1; i <= voters; i++ {
		cfg.Voters = append(cfg.Voters, node.ControllerID(i))
	}
	return NewRaft(cfg, env, disk, 0), env, disk
}

func elected(epoch, leader int32) ElectionState {
	return ElectionState{Epoch: epoch, VotedFor: protocol.NoLeader, LeaderID: leader}
}

func votedFor(epoch, candidate int32) ElectionState {
	return ElectionState{Epoch: epoch, VotedFor: candidate, LeaderID: protocol.NoLeader}
}

func unknownLeader(epoch int32) ElectionState {
	return ElectionState{Epoch: epoch, VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}
}

// preVote delivers a pre-vote from `from` and returns the answer.
func preVote(t *testing.T, r *Raft, env *clockEnv, from, epoch, lastEpoch int32, lastOffset int64) *protocol.VoteResponse {
	t.Helper()
	r.Handle(env.now, from, &protocol.VoteRequest{CandidateEpoch: epoch, CandidateID: from, LastOffsetEpoch: lastEpoch, LastOffset: lastOffset, PreVote: true})
	resp, ok := env.last(t).(*protocol.VoteResponse)
	if !ok {
		t.Fatalf("answer to a pre-vote: got %T; want *protocol.VoteResponse", env.last(t))
	}
	return resp
}

func wantVoteResponse(t *testing.T, got *protocol.VoteResponse, err protocol.ErrorCode, epoch, leader int32, granted bool) {
	t.Helper()
	if got.Error != err || got.LeaderEpoch != epoch || got.LeaderID != leader || got.VoteGranted != granted {
		t.Errorf("got VoteResponse{%v epoch %d leader %s granted %v}; want {%v epoch %d leader %s granted %v}",
			got.Error, got.LeaderEpoch, node.Name(got.LeaderID), got.VoteGranted, err, epoch, node.Name(leader), granted)
	}
}

func wantState(t *testing.T, r *Raft, role string, epoch, leader int32) {
	t.Helper()
	if id, e := r.Leader(); r.Role() != role || e != epoch || id != leader {
		t.Errorf("got %s in epoch %d, leader %s; want %s in epoch %d, leader %s", r.Role(), e, node.Name(id), role, epoch, node.Name(leader))
	}
}

// answerFetch answers the follower's fetch in flight from its leader with no entries.
func answerFetch(t *testing.T, r *Raft, env *clockEnv, leader, epoch int32) {
	t.Helper()
	for i := len(env.sent) - 1; i >= 0; i-- {
		if f, ok := env.sent[i].msg.(*protocol.QuorumFetchRequest); ok && env.sent[i].to == leader {
			r.Handle(env.now, leader, &protocol.QuorumFetchResponse{CorrelationID: f.CorrelationID, LeaderID: leader, LeaderEpoch: epoch, HighWatermark: f.FetchOffset, DivergingEpoch: protocol.NoDivergence})
			return
		}
	}
	t.Fatalf("no fetch sent to %s", node.Name(leader))
}

// preVotesSent returns the pre-vote requests sent since index from, by destination.
func preVotesSent(env *clockEnv, from int) map[int32]*protocol.VoteRequest {
	out := map[int32]*protocol.VoteRequest{}
	for _, s := range env.sent[from:] {
		if v, ok := s.msg.(*protocol.VoteRequest); ok && v.PreVote {
			out[s.to] = v
		}
	}
	return out
}

// Reference: KafkaRaftClientPreVoteTest.testHandlePreVoteRequestAsFollower and
// testFollowerGrantsPreVoteIfHasNotFetchedYet (FollowerState.canGrantVote): a follower grants a
// pre-vote only until it has fetched from its leader, and it keeps following; a pre-vote of a
// higher epoch moves it to that epoch, unattached, and is granted.
func TestPreVoteAsFollower(t *testing.T) {
	for _, fetched := range []bool{false, true} {
		r, env, _ := newVoter(t, 3, elected(2, pv3))
		if fetched {
			answerFetch(t, r, env, pv3, 2)
		}
		wantVoteResponse(t, preVote(t, r, env, pv2, 2, 2, 1), protocol.NONE, 2, pv3, !fetched)
		wantState(t, r, RoleFollower, 2, pv3)
		wantVoteResponse(t, preVote(t, r, env, pv2, 3, 2, 1), protocol.NONE, 3, protocol.NoLeader, true)
		wantState(t, r, RoleUnattached, 3, protocol.NoLeader)
		if r.votedFor != protocol.NoLeader {
			t.Errorf("fetched=%v: a pre-vote was recorded as a vote for %s", fetched, node.Name(r.votedFor))
		}
	}
}

// Reference: KafkaRaftClientPreVoteTest.testHandlePreVoteRequestAsCandidate: a candidate grants
// a pre-vote of its epoch to an up-to-date log and stays candidate with its own vote.
func TestPreVoteAsCandidate(t *testing.T) {
	r, env, _ := newVoter(t, 3, unknownLeader(1))
	r.becomeCandidate(0)
	wantVoteResponse(t, preVote(t, r, env, pv2, 2, 0, 0), protocol.NONE, 2, protocol.NoLeader, true)
	wantState(t, r, RoleCandidate, 2, protocol.NoLeader)
	if r.votedFor != pv1 {
		t.Errorf("candidate's vote: got %s; want itself", node.Name(r.votedFor))
	}
	wantVoteResponse(t, preVote(t, r, env, pv2, 3, 0, 0), protocol.NONE, 3, protocol.NoLeader, true)
	wantState(t, r, RoleUnattached, 3, protocol.NoLeader)
}

// Reference: KafkaRaftClientPreVoteTest.testHandlePreVoteRequestAsUnattachedVoted: a voter that
// voted in the epoch still grants pre-votes to every up-to-date log, and its vote stays.
func TestPreVoteAsUnattachedVoted(t *testing.T) {
	r, env, disk := newVoter(t, 3, votedFor(2, pv3))
	for _, from := range []int32{pv2, pv2, pv3} {
		wantVoteResponse(t, preVote(t, r, env, from, 2, 0, 0), protocol.NONE, 2, protocol.NoLeader, true)
	}
	wantState(t, r, RoleUnattached, 2, protocol.NoLeader)
	if st := readState(disk); st != votedFor(2, pv3) {
		t.Errorf("quorum-state after pre-votes: got %+v; want the vote for c3 kept", st)
	}
}

// Reference: KafkaRaftClientPreVoteTest.testHandleInvalidPreVoteRequestWithOlderEpoch: a pre-vote
// of an older epoch is refused with FENCED_LEADER_EPOCH.
func TestPreVoteOfOlderEpochFenced(t *testing.T) {
	r, env, _ := newVoter(t, 2, unknownLeader(2))
	wantVoteResponse(t, preVote(t, r, env, pv2, 1, 1, 1), protocol.FENCED_LEADER_EPOCH, 2, protocol.NoLeader, false)
	wantState(t, r, RoleUnattached, 2, protocol.NoLeader)
}

// Reference: KafkaRaftClientPreVoteTest.testLeaderRejectPreVoteRequestOnSameEpoch: a leader
// refuses a pre-vote of its epoch and keeps leading.
func TestPreVoteRefusedByLeader(t *testing.T) {
	r, env := newTestLeader(t, 2)
	epoch := r.Epoch()
	r.Handle(env.now, pv2, &protocol.VoteRequest{CandidateEpoch: epoch, CandidateID: pv2, LastOffsetEpoch: epoch, LastOffset: r.EndOffset(), PreVote: true})
	wantVoteResponse(t, env.last(t).(*protocol.VoteResponse), protocol.NONE, epoch, pv1, false)
	wantState(t, r, RoleLeader, epoch, pv1)
}

// Reference: KafkaRaftClientPreVoteTest.testHandlePreVoteRequestAsResigned: a resigned leader
// grants a pre-vote of its epoch to an up-to-date log; one of a higher epoch moves it on.
func TestPreVoteAsResigned(t *testing.T) {
	r, env := newTestLeader(t, 2)
	epoch := r.Epoch()
	r.Resign(env.now)
	wantVoteResponse(t, preVote(t, r, env, pv2, epoch, epoch, r.EndOffset()), protocol.NONE, epoch, protocol.NoLeader, true)
	wantState(t, r, RoleResigned, epoch, protocol.NoLeader)
	wantVoteResponse(t, preVote(t, r, env, pv2, epoch+1, epoch, r.EndOffset()), protocol.NONE, epoch+1, protocol.NoLeader, true)
	wantState(t, r, RoleUnattached, epoch+1, protocol.NoLeader)
}

// Reference: KafkaRaftClientPreVoteTest.testRejectPreVoteIfRemoteLogIsNotUpToDate.
func TestPreVoteRequiresUpToDateLog(t *testing.T) {
	r, env, _ := newVoter(t, 3, unknownLeader(2), 2, 2, 2)
	wantVoteResponse(t, preVote(t, r, env, pv2, 1, 1, 0), protocol.FENCED_LEADER_EPOCH, 2, protocol.NoLeader, false)
	wantVoteResponse(t, preVote(t, r, env, pv2, 2, 1, 2), protocol.NONE, 2, protocol.NoLeader, false)
	wantVoteResponse(t, preVote(t, r, env, pv2, 2, 2, 2), protocol.NONE, 2, protocol.NoLeader, false)
	wantVoteResponse(t, preVote(t, r, env, pv2, 2, 2, 3), protocol.NONE, 2, protocol.NoLeader, true)
	wantState(t, r, RoleUnattached, 2, protocol.NoLeader)
}

// becomeProspectiveAfterTimeout runs c1 until its election timer makes it prospective.
func becomeProspectiveAfterTimeout(t *testing.T, r *Raft, env *clockEnv) map[int32]*protocol.VoteRequest {
	t.Helper()
	sent := len(env.sent)
	for end := env.now + 2*r.cfg.FetchTimeout; env.now < end && r.Role() != RoleProspective; {
		env.advance(r, env.now+time.Millisecond)
	}
	if r.Role() != RoleProspective {
		t.Fatalf("after the timeout: got %s; want prospective", r.Role())
	}
	return preVotesSent(env, sent)
}

// Reference: KIP-996 and KafkaRaftClientPreVoteTest.testPreVoteRequestTimeout (its end): a
// voter whose election timer runs out asks for pre-votes without bumping the epoch or changing
// quorum-state, and stands as candidate in the next epoch with a majority of them.
func TestProspectiveStandsWithMajorityOfPreVotes(t *testing.T) {
	r, env, disk := newVoter(t, 3, unknownLeader(5))
	sent := becomeProspectiveAfterTimeout(t, r, env)
	if len(sent) != 2 || sent[pv2] == nil || sent[pv3] == nil || sent[pv2].CandidateEpoch != 5 {
		t.Fatalf("pre-votes sent: %v; want one to c2 and one to c3 in epoch 5", sent)
	}
	wantState(t, r, RoleProspective, 5, protocol.NoLeader)
	if st := readState(disk); st != unknownLeader(5) {
		t.Errorf("quorum-state of a prospective: got %+v; want it unchanged", st)
	}
	r.Handle(env.now, pv2, &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: 5, VoteGranted: true})
	wantState(t, r, RoleCandidate, 6, protocol.NoLeader)
	if v, ok := env.last(t).(*protocol.VoteRequest); !ok || v.PreVote || v.CandidateEpoch != 6 {
		t.Errorf("after a majority of pre-votes: last sent %+v; want a vote request in epoch 6", env.last(t))
	}
}

// Reference: KafkaRaftClientPreVoteTest.testPreVoteResponseIgnoredAfterBecomingFollower and
// testProspectiveReceivesBeginQuorumRequest: a prospective that hears of the epoch's leader
// follows it, and pre-votes arriving after that change nothing.
func TestProspectiveFollowsLeaderItHearsOf(t *testing.T) {
	r, env, _ := newVoter(t, 3, unknownLeader(5))
	becomeProspectiveAfterTimeout(t, r, env)
	r.Handle(env.now, pv3, &protocol.BeginQuorumEpochRequest{LeaderID: pv3, LeaderEpoch: 5})
	wantState(t, r, RoleFollower, 5, pv3)
	r.Handle(env.now, pv2, &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: 5, VoteGranted: true})
	r.Handle(env.now, pv3, &protocol.VoteResponse{LeaderID: pv3, LeaderEpoch: 5, VoteGranted: true})
	wantState(t, r, RoleFollower, 5, pv3)
}

// Reference: KafkaRaftClientPreVoteTest.testProspectiveWithoutLeaderTransitionsToFollower: a
// pre-vote answer naming the leader of the epoch makes the prospective follow it.
func TestProspectiveFollowsLeaderNamedInAnswer(t *testing.T) {
	r, env, _ := newVoter(t, 3, unknownLeader(5))
	becomeProspectiveAfterTimeout(t, r, env)
	r.Handle(env.now, pv2, &protocol.VoteResponse{LeaderID: pv2, LeaderEpoch: 5, VoteGranted: true})
	wantState(t, r, RoleFollower, 5, pv2)
}

// Reference: KafkaRaftClientPreVoteTest.testProspectiveTransitionsToUnattachedOnElectionFailure:
// without a known leader, a timed-out pre-vote goes back to unattached and asks again; a lost one
// goes back to unattached and asks again after the election timeout. The epoch never moves.
func TestProspectiveWithoutLeaderLoses(t *testing.T) {
	r, env, _ := newVoter(t, 2, unknownLeader(5))
	becomeProspectiveAfterTimeout(t, r, env)
	sent := len(env.sent)
	env.advance(r, env.now+2*r.cfg.ElectionTimeout)
	if got := preVotesSent(env, sent); r.Role() != RoleProspective || got[pv2] == nil {
		t.Fatalf("after the pre-vote timed out: %s, pre-votes %v; want prospective again with a new pre-vote", r.Role(), got)
	}
	r.Handle(env.now, pv2, &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: 5, VoteGranted: false})
	wantState(t, r, RoleUnattached, 5, protocol.NoLeader)
	sent = len(env.sent)
	env.advance(r, env.now+2*r.cfg.ElectionTimeout)
	if got := preVotesSent(env, sent); r.Role() != RoleProspective || got[pv2] == nil || got[pv2].CandidateEpoch != 5 {
		t.Errorf("after a lost pre-vote and the election timeout: %s, pre-votes %v; want prospective in epoch 5 asking c2", r.Role(), got)
	}
}

// Reference: KafkaRaftClientPreVoteTest.testProspectiveWithLeaderTransitionsToFollower: a
// follower whose fetch timeout runs out asks for pre-votes still naming its leader; a timed-out
// or lost pre-vote sends it back to following that leader (fetching again); an answer naming a
// newer epoch's leader makes it follow that one.
func TestProspectiveWithLeaderGoesBackToFollowing(t *testing.T) {
	r, env, _ := newVoter(t, 3, elected(5, pv2))
	becomeProspectiveAfterTimeout(t, r, env)
	wantState(t, r, RoleProspective, 5, pv2)

	env.advance(r, env.now+2*r.cfg.ElectionTimeout)
	wantState(t, r, RoleFollower, 5, pv2)
	if f, ok := env.last(t).(*protocol.QuorumFetchRequest); !ok || f.LeaderEpoch != 5 {
		t.Errorf("back to following: last sent %+v; want a fetch in epoch 5", env.last(t))
	}

	becomeProspectiveAfterTimeout(t, r, env)
	r.Handle(env.now, pv2, &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: 5})
	wantState(t, r, RoleProspective, 5, pv2) // one refusal of two: not lost yet
	r.Handle(env.now, pv3, &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: 5})
	wantState(t, r, RoleFollower, 5, pv2)

	becomeProspectiveAfterTimeout(t, r, env)
	r.Handle(env.now, pv2, &protocol.VoteResponse{Error: protocol.FENCED_LEADER_EPOCH, LeaderID: pv3, LeaderEpoch: 6})
	wantState(t, r, RoleFollower, 6, pv3)
}

// Reference: KIP-996 (motivation): a voter cut off from a healthy quorum, then healed, does not
// bump the epoch, so the leader keeps leading; with protocol pre.vote=false it stands alone in
// ever higher epochs and deposes the leader when it comes back.
func TestPreVoteKeepsHealthyLeader(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		for _, disable := range []bool{false, true} {
			w := newWorld(t, seed, 3)
			w.cfg.DisablePreVote = disable
			for _, id := range w.ids { // restart everyone with the switch
				w.kill(id)
				w.nodes[id].disk = newFakeDisk()
				w.restart(id)
			}
			l := w.waitReady(10 * time.Second)
			epoch := l.raft.Epoch()
			var cut *simNode
			for _, id := range w.ids {
				if id != l.id {
					cut = w.nodes[id]
					break
				}
			}
			w.isolate(cut.id)
			w.runWithLoad(20*time.Second, 50*time.Millisecond)
			if disable && cut.raft.Epoch() <= epoch+3 {
				t.Errorf("seed %d, pre.vote=false: isolated voter in epoch %d after 20s; want it to have stood alone (leader's epoch %d)", seed, cut.raft.Epoch(), epoch)
			}
			if !disable && cut.raft.Epoch() != epoch {
				t.Errorf("seed %d: isolated voter moved to epoch %d; want %d (pre-vote keeps the epoch)", seed, cut.raft.Epoch(), epoch)
			}
			w.heal()
			w.runWithLoad(10*time.Second, 50*time.Millisecond)
			now := w.leader()
			switch {
			case disable && now.raft.Epoch() <= epoch:
				t.Errorf("seed %d, pre.vote=false: leader %s still in epoch %d after the heal; want the rejoining voter's epochs to depose it", seed, node.Name(now.id), now.raft.Epoch())
			case !disable && (now != l || now.raft.Epoch() != epoch):
				t.Errorf("seed %d: after the heal %s leads epoch %d; want %s to keep leading epoch %d", seed, node.Name(now.id), now.raft.Epoch(), node.Name(l.id), epoch)
			}
			if id, e := cut.raft.Leader(); id != now.id || e != now.raft.Epoch() {
				t.Errorf("seed %d, pre.vote=%v: healed voter follows %s in epoch %d; want %s in %d (%s)", seed, !disable, node.Name(id), e, node.Name(now.id), now.raft.Epoch(), w.roles())
			}
		}
	}
}
