package controller

import (
	"testing"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// A port of Kafka's PartitionChangeBuilderTest (metadata/src/test/java/org/apache/kafka/
// controller/PartitionChangeBuilderTest.java): its fixtures, its builders and its expected
// records, run against our PartitionChangeBuilder. One Go test per Kafka test method, named
// after it (testX → TestPartitionChangeBuilder_X).
//
// Kafka's tests run for each PartitionChangeRecord version: versions 0 and 1 differ only in
// directories (not modelled), version 2 turns eligible leader replicas on. Here each such test
// runs with ELR off ("v0-1") and on ("v2").
//
// Left out, and why:
//   - testChangeRecordIsNoOp: it checks the record schema (tagged fields, NO_CHANGE sentinels).
//     Our records carry the whole new state and Build returns nil for no change; testNoChange
//     covers that.
//   - testLeaderEpochBumpOnIsrShrink, testNoLeaderEpochBumpOnEmptyTargetIsr: metadata versions
//     before 3.6 bumped the leader epoch on an ISR shrink (KAFKA-15021, KAFKA-16624); the model
//     is Kafka 4.x only.
//   - the reassignment tests (testLeaderEpochBumpOnNewReplicaSetDisjoint,
//     testReassignmentRearrangesReplicas, testIsrEnlargementCompletesReassignment,
//     testRevertReassignment, testRemovingReplicaReassignment, testAddingReplicaReassignment,
//     testStoppedLeaderIsDemotedAfterReassignmentCompletesEvenIfNoNewEligibleLeaders, the
//     targetReplicas case of testElectLeader) are in reassign_kafka_test.go.
//   - testKeepsDirectoriesAfterReassignment, testUpdateDirectories: directory assignment
//     (KIP-858) is not modelled.
//   - the isLeaderRecoverySupported=false runs of testChangeInLeadershipDoesNotChangeRecoveryState
//     and testUncleanSetsLeaderRecoveringState: metadata versions before 3.2 had no leader
//     recovery state (KIP-704).
//   - the lastKnownLeaderEnabled=false run of testEligibleLeaderReplicas_ElrCanBeElected, and
//     the lastKnownElr expectations of the tests that call
//     setUseLastKnownLeaderInBalancedRecovery(false) (IsrShrinkBelowMinISR,
//     IsrAddNewMemberNotInELR, RemoveUncleanShutdownReplicasFromElr): Kafka's controller never
//     turns that off (ReplicationControlManager leaves the default, true), and the model knows
//     only lastKnownElr as the last known leader. Their ISR, ELR and leader expectations are
//     ported, and lastKnownElr is checked against what the default (true) builds.

// noLeaderChange is Kafka's LeaderConstants.NO_LEADER_CHANGE.
const noLeaderChange = -2

// kchange is a Kafka PartitionChangeRecord as the tests write it: only the fields set change.
type kchange struct {
	leader                 int32
	isr, elr, lke          []int32
	setISR, setELR, setLKE bool
	lrs                    *metadata.LeaderRecoveryState
}

func change() *kchange { return &kchange{leader: noLeaderChange} }

func (c *kchange) Leader(l int32) *kchange { c.leader = l; return c }
func (c *kchange) Isr(v ...int32) *kchange { c.isr, c.setISR = v, true; return c }
func (c *kchange) Elr(v ...int32) *kchange { c.elr, c.setELR = v, true; return c }
func (c *kchange) LastKnownElr(v ...int32) *kchange {
	c.lke, c.setLKE = v, true
	return c
}
func (c *kchange) LeaderRecoveryState(s metadata.LeaderRecoveryState) *kchange {
	c.lrs = &s
	return c
}

// merge is PartitionRegistration.merge: the partition's state after the change.
func merge(p metadata.Partition, c *kchange) metadata.Partition {
	if c.leader != noLeaderChange {
		p.Leader, p.LeaderEpoch = c.leader, p.LeaderEpoch+1
	}
	if c.setISR {
		p.ISR = c.isr
	}
	if c.setELR {
		p.ELR = c.elr
	}
	if c.setLKE {
		p.LastKnownELR = c.lke
	}
	if c.lrs != nil {
		p.LeaderRecoveryState = *c.lrs
	}
	p.PartitionEpoch++
	return p
}

// apply is our record applied to p (metadata.Image.Apply).
func apply(p metadata.Partition, rec *metadata.PartitionChangeRecord) metadata.Partition {
	im := metadata.NewImage()
	im.Topics[p.Topic] = &metadata.Topic{Name: p.Topic, Partitions: []*metadata.Partition{&p}}
	im.Apply(rec)
	return *im.Partition(p.Topic, p.Index)
}

// assertBuilds checks that b builds the change want (nil: Optional.empty()) from p.
func assertBuilds(t *testing.T, p metadata.Partition, b *PartitionChangeBuilder, want *kchange) {
	t.Helper()
	rec := b.Build()
	if want == nil {
		if rec != nil {
			t.Fatalf("got change %+v; want none", *rec)
		}
		return
	}
	if rec == nil {
		t.Fatalf("got no change; want %+v", merge(p, want))
	}
	assertState(t, apply(p, rec), merge(p, want))
}

func assertState(t *testing.T, got, want metadata.Partition) {
	t.Helper()
	if got.Leader != want.Leader || got.LeaderEpoch != want.LeaderEpoch || got.PartitionEpoch != want.PartitionEpoch {
		t.Errorf("leader %d epoch %d partition epoch %d; want leader %d epoch %d partition epoch %d",
			got.Leader, got.LeaderEpoch, got.PartitionEpoch, want.Leader, want.LeaderEpoch, want.PartitionEpoch)
	}
	if !sameList(got.ISR, want.ISR) {
		t.Errorf("ISR %s; want %s", fmtList(got.ISR), fmtList(want.ISR))
	}
	if !sameList(got.ELR, want.ELR) {
		t.Errorf("ELR %s; want %s", fmtList(got.ELR), fmtList(want.ELR))
	}
	if !sameList(got.LastKnownELR, want.LastKnownELR) {
		t.Errorf("lastKnownElr %s; want %s", fmtList(got.LastKnownELR), fmtList(want.LastKnownELR))
	}
	if got.LeaderRecoveryState != want.LeaderRecoveryState {
		t.Errorf("leaderRecoveryState %v; want %v", got.LeaderRecoveryState, want.LeaderRecoveryState)
	}
}

// assertElectLeaderEquals: the builder elects expectedNode, uncleanly or not. Kafka calls
// electLeader() directly; here the built record says it (no record: the leader stays).
func assertElectLeaderEquals(t *testing.T, p metadata.Partition, b *PartitionChangeBuilder, expectedNode int32, expectedUnclean bool) {
	t.Helper()
	leader, unclean := p.Leader, false
	if rec := b.Build(); rec != nil {
		leader, unclean = rec.Leader, rec.Unclean
	}
	if leader != expectedNode || unclean != expectedUnclean {
		t.Errorf("elected %d (unclean %v); want %d (unclean %v)", leader, unclean, expectedNode, expectedUnclean)
	}
}

// Kafka's fixtures. Topic and index are ours; directories are left out.

func pr(replicas, isr []int32, leader int32) metadata.Partition {
	return metadata.Partition{Topic: "foo", Replicas: replicas, ISR: isr, Leader: leader, LeaderEpoch: 100, PartitionEpoch: 200}
}

var (
	kFOO               = pr(ids(2, 1, 3), ids(2, 1, 3), 1)
	kBAZ               = pr(ids(2, 1, 3), ids(1, 3), 3)
	kOfflineWithoutELR = pr(ids(2, 1, 3), ids(3), protocol.NoLeader)
	kOfflineWithELR    = withELR(pr(ids(2, 1, 3), ids(), protocol.NoLeader), ids(3), ids(2))
)

func not(r int32) func(int32) bool  { return func(x int32) bool { return x != r } }
func only(r int32) func(int32) bool { return func(x int32) bool { return x == r } }
func anyReplica(int32) bool         { return true }
func noReplica(int32) bool          { return false }

// forVersions runs f as Kafka's partitionChangeRecordVersions: ELR off (versions 0 and 1), on
// (version 2).
func forVersions(t *testing.T, f func(t *testing.T, elr bool)) {
	t.Run("v0-1", func(t *testing.T) { f(t, false) })
	t.Run("v2", func(t *testing.T) { f(t, true) })
}

func fooBuilder(elr bool) (metadata.Partition, *PartitionChangeBuilder) {
	p := kFOO
	return p, NewPartitionChangeBuilder(&p, not(3), 2, elr)
}

func bazBuilder(elr bool) (metadata.Partition, *PartitionChangeBuilder) {
	p := kBAZ
	return p, NewPartitionChangeBuilder(&p, anyReplica, 2, elr)
}

func offlineBuilder(elr bool) (metadata.Partition, *PartitionChangeBuilder) {
	p := kOfflineWithoutELR
	if elr {
		p = kOfflineWithELR
	}
	return p, NewPartitionChangeBuilder(&p, only(1), 2, elr)
}

// Reference: PartitionChangeBuilderTest.testElectLeader.
func TestPartitionChangeBuilder_ElectLeader(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		for _, c := range []struct {
			name     string
			build    func() (metadata.Partition, *PartitionChangeBuilder)
			election Election
			isr      []int32
			setISR   bool
			node     int32
			unclean  bool
		}{
			{name: "FOO preferred", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, election: ElectionPreferred, node: 2},
			{name: "FOO", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, node: 1},
			{name: "FOO unclean", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, election: ElectionUnclean, node: 1},
			{name: "FOO ISR [1 3]", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, isr: ids(1, 3), setISR: true, node: 1},
			{name: "FOO unclean ISR [1 3]", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, election: ElectionUnclean, isr: ids(1, 3), setISR: true, node: 1},
			{name: "FOO ISR [3]", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, isr: ids(3), setISR: true, node: protocol.NoLeader},
			{name: "FOO unclean ISR [3]", build: func() (metadata.Partition, *PartitionChangeBuilder) { return fooBuilder(elr) }, election: ElectionUnclean, isr: ids(3), setISR: true, node: 2, unclean: true},
			{name: "BAZ preferred", build: func() (metadata.Partition, *PartitionChangeBuilder) { return bazBuilder(elr) }, election: ElectionPreferred, node: 3},
			{name: "BAZ", build: func() (metadata.Partition, *PartitionChangeBuilder) { return bazBuilder(elr) }, node: 3},
			{name: "BAZ unclean", build: func() (metadata.Partition, *PartitionChangeBuilder) { return bazBuilder(elr) }, election: ElectionUnclean, node: 3},
		} {
			t.Run(c.name, func(t *testing.T) {
				p, b := c.build()
				b.SetElection(c.election)
				if c.setISR {
					b.SetTargetISR(c.isr)
				}
				assertElectLeaderEquals(t, p, b, c.node, c.unclean)
			})
		}
	})
}

// Reference: PartitionChangeBuilderTest.testNoLeaderEpochBumpIfNothingChanged.
func TestPartitionChangeBuilder_NoLeaderEpochBumpIfNothingChanged(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b, nil)
	})
}

// Reference: PartitionChangeBuilderTest.testNoLeaderEpochBumpOnIsrShrink (3.6 and later).
func TestPartitionChangeBuilder_NoLeaderEpochBumpOnIsrShrink(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b.SetTargetISR(ids(2, 1)), change().Isr(2, 1))
	})
}

// Reference: PartitionChangeBuilderTest.testNoLeaderEpochBumpOnIsrExpansion.
func TestPartitionChangeBuilder_NoLeaderEpochBumpOnIsrExpansion(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b.SetTargetISR(ids(2, 1, 3, 4)), change().Isr(2, 1, 3, 4))
	})
}

// Reference: PartitionChangeBuilderTest.testNoChange (the FOO and BAZ cases; BAR is a
// reassignment).
func TestPartitionChangeBuilder_NoChange(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b, nil)
		p, b = fooBuilder(elr)
		assertBuilds(t, p, b.SetElection(ElectionUnclean), nil)
		p, b = bazBuilder(elr)
		assertBuilds(t, p, b.SetElection(ElectionPreferred), nil)
	})
}

// Reference: PartitionChangeBuilderTest.testIsrChangeDoesntBumpLeaderEpoch.
func TestPartitionChangeBuilder_IsrChangeDoesntBumpLeaderEpoch(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b.SetTargetISR(ids(2, 1)), change().Isr(2, 1))
	})
}

// Reference: PartitionChangeBuilderTest.testIsrChangeAndLeaderChange.
func TestPartitionChangeBuilder_IsrChangeAndLeaderChange(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b.SetTargetISR(ids(2, 3)), change().Isr(2, 3).Leader(2))
	})
}

// Reference: PartitionChangeBuilderTest.testUncleanLeaderElection (KIP-704: an unclean
// election sets RECOVERING).
func TestPartitionChangeBuilder_UncleanLeaderElection(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertBuilds(t, p, b.SetElection(ElectionUnclean).SetTargetISR(ids(3)),
			change().Isr(2).Leader(2).LeaderRecoveryState(metadata.LeaderRecovering))

		want := change().Isr(1).Leader(1).LeaderRecoveryState(metadata.LeaderRecovering)
		if elr {
			// The partition has an ELR, so the unclean election clears these fields.
			want.Elr().LastKnownElr()
		}
		p, b = offlineBuilder(elr)
		assertBuilds(t, p, b.SetElection(ElectionUnclean), want)
		p, b = offlineBuilder(elr)
		assertBuilds(t, p, b.SetElection(ElectionUnclean).SetTargetISR(ids(2)), want)
	})
}

// Reference: PartitionChangeBuilderTest.testChangeInLeadershipDoesNotChangeRecoveryState
// (KIP-704), with leader recovery supported.
func TestPartitionChangeBuilder_ChangeInLeadershipDoesNotChangeRecoveryState(t *testing.T) {
	const leaderID = 1
	registration := pr(ids(leaderID, leaderID+1, leaderID+2), ids(leaderID), leaderID)
	registration.LeaderRecoveryState = metadata.LeaderRecovering

	// Change the partition so that there is no leader: the target ISR is empty because the
	// last leader is offline.
	rec := NewPartitionChangeBuilder(&registration, noReplica, 2, false).SetTargetISR(ids()).Build()
	if rec == nil {
		t.Fatal("offline: got no change; want one")
	}
	if rec.LeaderRecoveryState != registration.LeaderRecoveryState || rec.Leader != protocol.NoLeader {
		t.Fatalf("offline: got leader %d state %v; want %d and no change of the recovery state", rec.Leader, rec.LeaderRecoveryState, protocol.NoLeader)
	}
	registration = apply(registration, rec)
	if registration.Leader != protocol.NoLeader || registration.ISR[0] != leaderID || registration.LeaderRecoveryState != metadata.LeaderRecovering {
		t.Fatalf("offline: got leader %d ISR %v state %v; want %d, [%d], RECOVERING", registration.Leader, registration.ISR, registration.LeaderRecoveryState, protocol.NoLeader, leaderID)
	}

	// Bring the leader back online: the only broker in the ISR is elected leader and the
	// partition stays RECOVERING.
	rec = NewPartitionChangeBuilder(&registration, anyReplica, 2, false).Build()
	if rec == nil {
		t.Fatal("online: got no change; want one")
	}
	if rec.LeaderRecoveryState != registration.LeaderRecoveryState {
		t.Fatalf("online: got state %v; want no change (RECOVERING)", rec.LeaderRecoveryState)
	}
	registration = apply(registration, rec)
	if registration.Leader != leaderID || registration.ISR[0] != leaderID || registration.LeaderRecoveryState != metadata.LeaderRecovering {
		t.Fatalf("online: got leader %d ISR %v state %v; want %d, [%d], RECOVERING", registration.Leader, registration.ISR, registration.LeaderRecoveryState, leaderID, leaderID)
	}
}

// Reference: PartitionChangeBuilderTest.testUncleanSetsLeaderRecoveringState (KIP-704), with
// leader recovery supported.
func TestPartitionChangeBuilder_UncleanSetsLeaderRecoveringState(t *testing.T) {
	const leaderID = 1
	registration := pr(ids(leaderID, leaderID+1, leaderID+2), ids(leaderID+1, leaderID+2), protocol.NoLeader)
	rec := NewPartitionChangeBuilder(&registration, only(leaderID), 2, false).SetElection(ElectionUnclean).Build()
	if rec == nil {
		t.Fatal("got no change; want one")
	}
	if rec.LeaderRecoveryState != metadata.LeaderRecovering || rec.Leader != leaderID || !sameList(rec.ISR, ids(leaderID)) {
		t.Fatalf("got leader %d ISR %v state %v; want %d, [%d], RECOVERING", rec.Leader, rec.ISR, rec.LeaderRecoveryState, leaderID, leaderID)
	}
	registration = apply(registration, rec)
	if registration.Leader != leaderID || registration.ISR[0] != leaderID || registration.LeaderRecoveryState != metadata.LeaderRecovering {
		t.Fatalf("merged: got leader %d ISR %v state %v; want %d, [%d], RECOVERING", registration.Leader, registration.ISR, registration.LeaderRecoveryState, leaderID, leaderID)
	}
}

// elrPartition is the four-replica partition of the EligibleLeaderReplicas tests.
func elrPartition(isr, elr, lke []int32, leader int32) metadata.Partition {
	return withELR(pr(ids(1, 2, 3, 4), isr, leader), elr, lke)
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_IsrShrinkBelowMinISR.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_IsrShrinkBelowMinISR(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p := elrPartition(ids(1, 2, 3, 4), nil, nil, 1)
		b := NewPartitionChangeBuilder(&p, not(3), 3, elr).SetElection(ElectionPreferred).SetTargetISR(ids(1, 2))
		want := change().Isr(1, 2)
		if elr {
			want.Elr(3, 4)
		}
		assertBuilds(t, p, b, want)
	})
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_IsrExpandAboveMinISR.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_IsrExpandAboveMinISR(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p := elrPartition(ids(1, 2), ids(3), ids(4), 1)
		b := NewPartitionChangeBuilder(&p, not(3), 3, elr).SetElection(ElectionPreferred).SetTargetISR(ids(1, 2, 3))
		// Both versions set the ELR and lastKnownElr to empty lists.
		assertBuilds(t, p, b, change().Isr(1, 2, 3).Elr().LastKnownElr())
	})
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_IsrAddNewMemberNotInELR.
// Kafka's test keeps lastKnownElr [2] with useLastKnownLeaderInBalancedRecovery=false; with
// the default (true) maybeUpdateLastKnownLeader clears it, since the partition keeps its leader.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_IsrAddNewMemberNotInELR(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p := elrPartition(ids(1), ids(3), ids(2), 1)
		b := NewPartitionChangeBuilder(&p, not(3), 3, elr).SetElection(ElectionPreferred).SetTargetISR(ids(1, 4))
		want := change().Isr(1, 4).LastKnownElr()
		if !elr {
			want.Elr()
		}
		// No change is expected to the ELR.
		assertBuilds(t, p, b, want)
	})
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_RemoveUncleanShutdownReplicasFromElr.
// Kafka's test moves 3 to lastKnownElr with useLastKnownLeaderInBalancedRecovery=false; with
// the default (true) lastKnownElr holds only the last known leader and stays empty.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_RemoveUncleanShutdownReplicasFromElr(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p := elrPartition(ids(1), ids(2, 3), ids(), 1)
		b := NewPartitionChangeBuilder(&p, not(3), 3, elr).SetElection(ElectionPreferred).SetUncleanShutdownReplicas(ids(3))
		want := change().Elr()
		if elr {
			want.Elr(2)
		}
		assertBuilds(t, p, b, want)
	})
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_ElrCanBeElected, with
// lastKnownLeaderEnabled=true (Kafka's default).
func TestPartitionChangeBuilder_EligibleLeaderReplicas_ElrCanBeElected(t *testing.T) {
	p := elrPartition(ids(1), ids(3), ids(), 1)
	// Make replica 1 offline.
	b := NewPartitionChangeBuilder(&p, not(1), 3, true).SetElection(ElectionPreferred).SetTargetISR(ids())
	assertBuilds(t, p, b, change().Isr(3).Elr(1).Leader(3))
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_IsrCanShrinkToZero.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_IsrCanShrinkToZero(t *testing.T) {
	p := elrPartition(ids(1, 2, 3, 4), ids(), ids(), 1)
	// Mark all the replicas offline.
	b := NewPartitionChangeBuilder(&p, noReplica, 3, true).SetElection(ElectionPreferred).SetTargetISR(ids())
	want := change().Isr().Leader(protocol.NoLeader).Elr(1, 2, 3, 4).LastKnownElr(1)
	rec := b.Build()
	if rec == nil {
		t.Fatal("got no change; want one")
	}
	p = apply(p, rec)
	assertState(t, p, merge(elrPartition(ids(1, 2, 3, 4), ids(), ids(), 1), want))

	// An unclean shutdown of 2 does not change lastKnownElr.
	rec = NewPartitionChangeBuilder(&p, noReplica, 3, true).SetElection(ElectionPreferred).SetUncleanShutdownReplicas(ids(2)).Build()
	if rec == nil {
		t.Fatal("unclean shutdown of 2: got no change; want one (2 leaves the ELR)")
	}
	if !sameList(rec.LastKnownELR, p.LastKnownELR) {
		t.Errorf("unclean shutdown of 2: lastKnownElr %s; want it unchanged %s", fmtList(rec.LastKnownELR), fmtList(p.LastKnownELR))
	}
	if len(p.ISR) != 0 {
		t.Errorf("ISR %s; want []", fmtList(p.ISR))
	}
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_ElectLastKnownLeader.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_ElectLastKnownLeader(t *testing.T) {
	p := elrPartition(ids(), ids(), ids(1), protocol.NoLeader)
	b := NewPartitionChangeBuilder(&p, anyReplica, 3, true).SetElection(ElectionPreferred).SetTargetISR(ids())
	assertBuilds(t, p, b, change().Isr(1).Leader(1).LeaderRecoveryState(metadata.LeaderRecovering).LastKnownElr())
}

// Reference: PartitionChangeBuilderTest.testEligibleLeaderReplicas_ElectLastKnownLeaderShouldFail.
func TestPartitionChangeBuilder_EligibleLeaderReplicas_ElectLastKnownLeaderShouldFail(t *testing.T) {
	p := elrPartition(ids(), ids(3), ids(1), protocol.NoLeader)
	b := NewPartitionChangeBuilder(&p, not(3), 3, true).SetElection(ElectionPreferred).SetTargetISR(ids())
	// No change to the partition.
	assertBuilds(t, p, b, nil)
}
