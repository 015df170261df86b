package checker

import (
	"testing"
	"time"

	"kafkasim/sim/cluster"
)

// quorumChurn runs five controllers without pre-vote while the active one is isolated six
// times (scenarios/controller-quorum-churn.scenario as a test), and returns the violations.
func quorumChurn(t *testing.T, seed uint64, voteTwice bool) []Violation {
	r := newRun(t, 3, seed, func(s *cluster.Spec) {
		s.Controllers = 5
		s.Broker.PreVote = false
		s.Broker.Bugs.VoteTwicePerEpoch = voteTwice
	})
	r.c.RunFor(5 * time.Second)
	for range 6 {
		if a := r.c.ActiveController(); a > 0 {
			r.c.World.Isolate(a)
		}
		r.c.RunFor(4 * time.Second)
		r.c.World.Heal()
		r.c.RunFor(2 * time.Second)
	}
	return r.online.Violations()
}

// Raft's election safety through KRaft's one persisted vote per epoch
// (QuorumState.transitionToUnattachedVotedState): with it, no epoch has two quorum leaders over
// many seeds of churn; with voters granting a second candidate in an epoch, some seed elects two.
func TestOneQuorumLeaderPerEpoch(t *testing.T) {
	fired := 0
	for seed := uint64(1); seed <= 10; seed++ {
		for _, v := range quorumChurn(t, seed, false) {
			t.Errorf("seed %d, one vote per epoch: %s: %s", seed, v.Invariant, v.Detail)
		}
		for _, v := range quorumChurn(t, seed, true) {
			if v.Invariant != OneQuorumLeaderPerEpoch {
				continue
			}
			fired++
			if fired == 1 {
				t.Logf("seed %d, two votes per epoch: %s", seed, v.Detail)
			}
		}
	}
	if fired == 0 {
		t.Errorf("a voter granting two candidates per epoch: %s never fired over 10 seeds", OneQuorumLeaderPerEpoch)
	}
}
