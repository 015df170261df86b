package controller

import (
	"fmt"
	"testing"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

func ids(v ...int32) []int32 { return v }

func acceptOnly(ok ...int32) func(int32) bool {
	return func(r int32) bool { return metadata.Contains(ok, r) }
}

func fmtList(v []int32) string {
	if len(v) == 0 {
		return "[]"
	}
	return fmt.Sprint(v)
}

// builderCase is one PartitionChangeBuilder run; want* describe the record (wantNoChange: nil).
type builderCase struct {
	name       string
	p          metadata.Partition
	acceptable []int32
	minISR     int
	elr        bool
	election   Election
	targetISR  []int32
	setISR     bool
	unclean    []int32
	clearELR   bool

	wantNoChange bool
	wantLeader   int32
	wantISR      []int32
	wantELR      []int32
	wantLKE      []int32
	wantLeaderEp int32
	wantPartEp   int32
	wantUnclean  bool
}

func part(replicas, isr []int32, leader int32) metadata.Partition {
	return metadata.Partition{Topic: "t", Index: 0, Replicas: replicas, ISR: isr, Leader: leader, LeaderEpoch: 5, PartitionEpoch: 10}
}

func withELR(p metadata.Partition, elr, lke []int32) metadata.Partition {
	p.ELR, p.LastKnownELR = elr, lke
	return p
}

func runBuilderCases(t *testing.T, cases []builderCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			b := NewPartitionChangeBuilder(&p, acceptOnly(c.acceptable...), c.minISR, c.elr).SetElection(c.election)
			if c.setISR {
				b.SetTargetISR(c.targetISR)
			}
			if c.unclean != nil {
				b.SetUncleanShutdownReplicas(c.unclean)
			}
			if c.clearELR {
				b.ClearELR()
			}
			rec := b.Build()
			if c.wantNoChange {
				if rec != nil {
					t.Fatalf("got change %+v; want none", *rec)
				}
				return
			}
			if rec == nil {
				t.Fatalf("got no change; want leader %d ISR %v", c.wantLeader, c.wantISR)
			}
			if rec.Leader != c.wantLeader {
				t.Errorf("leader: got %d; want %d", rec.Leader, c.wantLeader)
			}
			if !sameList(rec.ISR, c.wantISR) {
				t.Errorf("ISR: got %s; want %s", fmtList(rec.ISR), fmtList(c.wantISR))
			}
			if !sameList(rec.ELR, c.wantELR) {
				t.Errorf("ELR: got %s; want %s", fmtList(rec.ELR), fmtList(c.wantELR))
			}
			if !sameList(rec.LastKnownELR, c.wantLKE) {
				t.Errorf("lastKnownElr: got %s; want %s", fmtList(rec.LastKnownELR), fmtList(c.wantLKE))
			}
			if rec.LeaderEpoch != c.wantLeaderEp {
				t.Errorf("leader epoch: got %d; want %d", rec.LeaderEpoch, c.wantLeaderEp)
			}
			if rec.PartitionEpoch != c.wantPartEp {
				t.Errorf("partition epoch: got %d; want %d", rec.PartitionEpoch, c.wantPartEp)
			}
			if rec.Unclean != c.wantUnclean {
				t.Errorf("unclean: got %v; want %v", rec.Unclean, c.wantUnclean)
			}
			for _, r := range rec.ELR {
				if metadata.Contains(rec.ISR, r) {
					t.Errorf("replica %d in both ISR %v and ELR %v; want them disjoint", r, rec.ISR, rec.ELR)
				}
			}
			if rec.Leader != protocol.NoLeader && !metadata.Contains(rec.ISR, rec.Leader) {
				t.Errorf("leader %d not in ISR %v; want leader in ISR", rec.Leader, rec.ISR)
			}
		})
	}
}

// Reference: PartitionChangeBuilder.electAnyLeader / electPreferredLeader / isValidNewLeader.
func TestPartitionChangeBuilderElection(t *testing.T) {
	runBuilderCases(t, []builderCase{
		{
			name: "keep current leader when an ISR follower leaves",
			p:    part(ids(1, 2, 3), ids(1, 2, 3), 1), acceptable: ids(1, 2, 3), minISR: 1,
			setISR: true, targetISR: ids(1, 3),
			wantLeader: 1, wantISR: ids(1, 3), wantLeaderEp: 5, wantPartEp: 11,
		},
		{
			name: "clean election in assignment order, not ISR order",
			p:    part(ids(1, 2, 3), ids(1, 3, 2), 1), acceptable: ids(2, 3), minISR: 1,
			setISR: true, targetISR: ids(3, 2),
			wantLeader: 2, wantISR: ids(3, 2), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "fenced ISR member is not a valid leader",
			p:    part(ids(1, 2, 3), ids(1, 2, 3), 1), acceptable: ids(3), minISR: 1,
			setISR: true, targetISR: ids(2, 3),
			wantLeader: 3, wantISR: ids(2, 3), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "offline without unclean election: ISR never emptied (ELR off)",
			p:    part(ids(1, 2, 3), ids(1), 1), acceptable: ids(2, 3), minISR: 1,
			setISR: true, targetISR: ids(),
			wantLeader: protocol.NoLeader, wantISR: ids(1), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "unclean election picks the first acceptable replica; ISR becomes the leader",
			p:    part(ids(1, 2, 3), ids(1), 1), acceptable: ids(3, 2), minISR: 1, election: ElectionUnclean,
			setISR: true, targetISR: ids(),
			wantLeader: 2, wantISR: ids(2), wantLeaderEp: 6, wantPartEp: 11, wantUnclean: true,
		},
		{
			name: "unclean election type still prefers a clean leader",
			p:    part(ids(1, 2, 3), ids(1, 3), 1), acceptable: ids(2, 3), minISR: 1, election: ElectionUnclean,
			setISR: true, targetISR: ids(3),
			wantLeader: 3, wantISR: ids(3), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "leaderless partition regains its ISR member when it unfences",
			p:    part(ids(1, 2, 3), ids(1), protocol.NoLeader), acceptable: ids(1), minISR: 1,
			wantLeader: 1, wantISR: ids(1), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "nothing to change",
			p:    part(ids(1, 2, 3), ids(1, 2, 3), 1), acceptable: ids(1, 2, 3), minISR: 1,
			wantNoChange: true,
		},
		{
			name: "preferred election moves leadership back to the first replica",
			p:    part(ids(1, 2, 3), ids(2, 3, 1), 2), acceptable: ids(1, 2, 3), minISR: 1, election: ElectionPreferred,
			wantLeader: 1, wantISR: ids(2, 3, 1), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "preferred election keeps the current leader when the preferred is not in the ISR",
			p:    part(ids(1, 2, 3), ids(2, 3), 2), acceptable: ids(1, 2, 3), minISR: 1, election: ElectionPreferred,
			wantNoChange: true,
		},
		{
			name: "preferred election of a leaderless partition takes the next valid replica",
			p:    part(ids(1, 2, 3), ids(1, 3), protocol.NoLeader), acceptable: ids(3), minISR: 1, election: ElectionPreferred,
			wantLeader: 3, wantISR: ids(1, 3), wantLeaderEp: 6, wantPartEp: 11,
		},
	})
}

// Reference: KIP-966 (eligible leader replicas), PartitionChangeBuilder.maybePopulateTargetElr.
func TestPartitionChangeBuilderEligibleLeaderReplicas(t *testing.T) {
	runBuilderCases(t, []builderCase{
		{
			name: "ISR at min ISR: ELR stays empty",
			p:    part(ids(0, 1, 2), ids(0, 1, 2), 2), acceptable: ids(1, 2), minISR: 2, elr: true,
			setISR: true, targetISR: ids(1, 2),
			wantLeader: 2, wantISR: ids(1, 2), wantLeaderEp: 5, wantPartEp: 11,
		},
		{
			name: "ISR drops below min ISR: the removed member joins the ELR",
			p:    part(ids(0, 1, 2), ids(1, 2), 2), acceptable: ids(2), minISR: 2, elr: true,
			setISR: true, targetISR: ids(2),
			wantLeader: 2, wantISR: ids(2), wantELR: ids(1), wantLeaderEp: 5, wantPartEp: 11,
		},
		{
			name: "with ELR on the ISR may empty: last leader goes to ELR and lastKnownElr",
			p:    withELR(part(ids(0, 1, 2), ids(2), 2), ids(1), nil), acceptable: ids(), minISR: 2, elr: true,
			setISR: true, targetISR: ids(),
			wantLeader: protocol.NoLeader, wantISR: ids(), wantELR: ids(1, 2), wantLKE: ids(2), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "election from ELR when the ISR is empty is clean; the leader becomes the ISR",
			p:    withELR(part(ids(0, 1, 2), ids(), protocol.NoLeader), ids(1, 2), ids(2)), acceptable: ids(1), minISR: 2, elr: true,
			wantLeader: 1, wantISR: ids(1), wantELR: ids(2), wantLeaderEp: 6, wantPartEp: 11,
		},
		{
			name: "fenced ELR members cannot lead",
			p:    withELR(part(ids(0, 1, 2), ids(), protocol.NoLeader), ids(1, 2), ids(2)), acceptable: ids(0), minISR: 2, elr: true,
			wantNoChange: true,
		},
		{
			name: "ISR back at min ISR clears ELR and lastKnownElr",
			p:    withELR(part(ids(0, 1, 2), ids(1), 1), ids(2), ids(2)), acceptable: ids(0, 1, 2), minISR: 2, elr: true,
			setISR: true, targetISR: ids(1, 2),
			wantLeader: 1, wantISR: ids(1, 2), wantLeaderEp: 5, wantPartEp: 11,
		},
		{
			name: "lastKnownElr leader elected when ISR and ELR are empty, marked unclean",
			p:    withELR(part(ids(0, 1, 2), ids(), protocol.NoLeader), nil, ids(2)), acceptable: ids(2), minISR: 2, elr: true,
			wantLeader: 2, wantISR: ids(2), wantLeaderEp: 6, wantPartEp: 11, wantUnclean: true,
		},
		{
			name: "lastKnownElr not used while the ELR is non-empty",
			p:    withELR(part(ids(0, 1, 2), ids(), protocol.NoLeader), ids(1), ids(2)), acceptable: ids(2), minISR: 2, elr: true,
			wantNoChange: true,
		},
		{
			name: "unclean election clears ELR and lastKnownElr",
			p:    withELR(part(ids(0, 1, 2), ids(), protocol.NoLeader), ids(1), ids(2)), acceptable: ids(0), minISR: 2, elr: true,
			election:   ElectionUnclean,
			wantLeader: 0, wantISR: ids(0), wantLeaderEp: 6, wantPartEp: 11, wantUnclean: true,
		},
		{
			name: "ELR disabled clears a leftover ELR",
			p:    withELR(part(ids(0, 1, 2), ids(2), 2), ids(1), ids(1)), acceptable: ids(2), minISR: 2,
			wantLeader: 2, wantISR: ids(2), wantLeaderEp: 5, wantPartEp: 11,
		},
		{
			name: "min.insync.replicas change clears the ELR; lastKnownElr remains",
			p:    withELR(part(ids(0, 1, 2), ids(), protocol.NoLeader), ids(1, 2), ids(2)), acceptable: ids(), minISR: 3, elr: true,
			clearELR:   true,
			wantLeader: protocol.NoLeader, wantISR: ids(), wantLKE: ids(2), wantLeaderEp: 5, wantPartEp: 11,
		},
	})
}

// Reference: KIP-966 "last replica standing" (RF=3, minISR=2) with KAFKA-15586's unclean
// shutdown rule: the replica that lost its log suffix leaves the ELR, so the replica that left
// the ISR at T1 (and holds every committed record) is elected when it returns.
func TestKIP966LastReplicaStanding(t *testing.T) {
	p := part(ids(0, 1, 2), ids(0, 1, 2), 2)
	p.LeaderEpoch, p.PartitionEpoch = 0, 0
	alive := ids(0, 1, 2)
	step := func(what string, b *PartitionChangeBuilder) {
		t.Helper()
		rec := b.Build()
		if rec == nil {
			t.Fatalf("%s: got no change; want one", what)
		}
		im := metadata.NewImage()
		im.Topics["t"] = &metadata.Topic{Name: "t", Partitions: []*metadata.Partition{&p}}
		im.Apply(rec)
		p = *im.Partition("t", 0)
	}
	newB := func() *PartitionChangeBuilder {
		return NewPartitionChangeBuilder(&p, func(r int32) bool { return metadata.Contains(alive, r) }, 2, true)
	}

	// T0: 0 leaves the ISR (fenced).
	alive = ids(1, 2)
	step("T0", newB().SetTargetISR(ids(1, 2)))
	// T1: 1 leaves; 2 leads alone; 1 becomes an eligible leader replica.
	alive = ids(2)
	step("T1", newB().SetTargetISR(ids(2)))
	if p.Leader != 2 || !sameList(p.ELR, ids(1)) {
		t.Fatalf("T1: got leader %d ELR %v; want leader 2 ELR [1]", p.Leader, p.ELR)
	}
	// T2: 2 is fenced (crash): the ISR empties, 2 stays eligible, the partition is leaderless.
	alive = ids()
	step("T2 fence", newB().SetTargetISR(ids()))
	if p.Leader != protocol.NoLeader || len(p.ISR) != 0 || !sameList(p.ELR, ids(1, 2)) {
		t.Fatalf("T2: got leader %d ISR %v ELR %v; want leaderless, ISR [], ELR [1 2]", p.Leader, p.ISR, p.ELR)
	}
	// 2 re-registers after an unclean shutdown: it leaves the ELR.
	step("T2 unclean restart", newB().SetUncleanShutdownReplicas(ids(2)))
	if !sameList(p.ELR, ids(1)) {
		t.Fatalf("after unclean restart: got ELR %v; want [1]", p.ELR)
	}
	// T3: 2 is back and unfenced, but it may not lead: the ELR still holds 1.
	alive = ids(2)
	if rec := newB().Build(); rec != nil {
		t.Fatalf("T3: got change to leader %d; want the partition to stay offline until 1 returns", rec.Leader)
	}
	// 1 returns: elected cleanly from the ELR.
	alive = ids(1, 2)
	step("1 returns", newB())
	if p.Leader != 1 || p.Recovering() || !sameList(p.ISR, ids(1)) {
		t.Fatalf("got leader %d recovering %v ISR %v; want clean leader 1 with ISR [1]", p.Leader, p.Recovering(), p.ISR)
	}
	if p.LeaderEpoch != 2 {
		t.Errorf("leader epoch: got %d; want 2 (2→none, none→1)", p.LeaderEpoch)
	}
}

func TestPartitionChangeBuilderDoesNotMutateInput(t *testing.T) {
	isr := ids(1, 2, 3)
	p := part(ids(1, 2, 3), isr, 1)
	NewPartitionChangeBuilder(&p, acceptOnly(2, 3), 2, true).SetTargetISR(ids(2, 3)).Build()
	if !sameList(p.ISR, ids(1, 2, 3)) || p.Leader != 1 || p.LeaderEpoch != 5 {
		t.Fatalf("input changed: got ISR %v leader %d epoch %d; want [1 2 3], 1, 5", p.ISR, p.Leader, p.LeaderEpoch)
	}
}
