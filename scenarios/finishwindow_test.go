package scenarios

import (
	"strings"
	"testing"
	"time"
)

// The finish waits 60 s by default, two session timeouts and 30 s with a consumer group (a
// dead member elected leader holds a classic group for a session after the join phase waited
// out another's: group.TestDeadMemberElectedLeaderHoldsTheGroupUntilItsSessionExpires), and
// exactly what the file says when it sets finish.timeout.
func TestFinishWindowCoversTwoGroupSessions(t *testing.T) {
	group := strings.Replace(head, "consumer c1 topic=orders", "consumer c1 topic=orders group=g1 session.timeout.ms=20s", 1)
	cases := []struct {
		src  string
		want time.Duration
	}{
		{head, time.Minute},
		{group, 70 * time.Second},
		{strings.Replace(group, "session.timeout.ms=20s", "session.timeout.ms=45s", 1), 2 * time.Minute},
		{"config finish.timeout=30s\n" + group, 30 * time.Second},
		{group + "finish timeout=90s\n", 90 * time.Second},
	}
	for _, c := range cases {
		if got := mustParseSrc(t, c.src).finishWindow(); got != c.want {
			t.Errorf("finish window %v; want %v for\n%s", got, c.want, c.src)
		}
	}
}

// Reference: GroupMetadataManager.completeClassicGroupJoin, under a nemesis. Seed 18 of a
// transactional producer and a read_committed group of two kills app2, restarts it (a
// rebalance begins), then kills app1 while its JoinGroup is parked. The join phase waits for
// the old app2's session (45 s), completes with the dead app1 as leader, and the group waits
// in CompletingRebalance for its session too, past the old 60 s finish window, which reported
// 2,600 records the group had not yet read as unseen. The finish now waits them out.
func TestFinishWaitsForAGroupHeldByADeadLeader(t *testing.T) {
	r := runTxnGroupValid(t, 18)
	last := r.Faults[len(r.Faults)-1].At
	if took := time.Duration(r.SimSeconds*float64(time.Second)) - last; took <= time.Minute {
		t.Errorf("the finish took %v after the last fault; want more than the old 60 s window (the case this pins)", took)
	}
}

// Seed 649 of the same file: the nemesis pauses controller c2 and resumes it as it stops, and
// the finish asked whether group g1 had read to the end at an instant with no active
// controller. No partition of orders was known then, so the group passed with none to read,
// and the run was judged at once: orders/0, held by app1's dead incarnation until its session
// expires, was never read (2,240 records unseen). The finish now waits for a controller.
func TestFinishWaitsForAnActiveControllerBeforeJudgingAGroup(t *testing.T) {
	runTxnGroupValid(t, 649)
}

// runTxnGroupValid runs testdata's txn-group.scenario (a transactional producer and a
// read_committed group under a nemesis) at seed and fails unless it passes with a valid
// verdict.
func runTxnGroupValid(t *testing.T, seed uint64) *Result {
	t.Helper()
	s, err := openTestdata(t, "txn-group.scenario").Scenario()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Verdict != "valid" {
		t.Fatalf("seed %d: %s (verdict %s, anomalies %v)\nfaults:\n%s", seed, r.Failure, r.Verdict, r.Anomalies, faultsText(r.Faults))
	}
	return r
}
