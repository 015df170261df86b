package controller

import (
	"testing"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// The reassignment cases of Kafka's PartitionChangeBuilderTest and PartitionReassignmentReplicasTest
// (metadata/src/test/java/org/apache/kafka/controller/), ported as builder_kafka_test.go ports
// the rest: one Go test per Kafka test method, ELR off ("v0-1") and on ("v2"); directories are
// left out.

// kBAR is Kafka's BAR: a reassignment from [1 2 3] to [2 3 4] in progress, led by 1.
var kBAR = func() metadata.Partition {
	p := pr(ids(1, 2, 3, 4), ids(1, 2, 3), 1)
	p.RemovingReplicas, p.AddingReplicas = ids(1), ids(4)
	return p
}()

func barBuilder(elr bool) (metadata.Partition, *PartitionChangeBuilder) {
	p := kBAR
	return p, NewPartitionChangeBuilder(&p, not(3), 2, elr)
}

// assertAssignment checks the state rec leaves: leader and epochs, ISR, and the assignment.
func assertAssignment(t *testing.T, p metadata.Partition, rec *metadata.PartitionChangeRecord, leader, leaderEpoch int32, isr, replicas, adding, removing []int32) {
	t.Helper()
	if rec == nil {
		t.Fatalf("got no change; want leader %d ISR %v replicas %v", leader, isr, replicas)
	}
	got := apply(p, rec)
	if got.Leader != leader || got.LeaderEpoch != leaderEpoch || got.PartitionEpoch != p.PartitionEpoch+1 {
		t.Errorf("leader %d epoch %d partition epoch %d; want leader %d epoch %d partition epoch %d",
			got.Leader, got.LeaderEpoch, got.PartitionEpoch, leader, leaderEpoch, p.PartitionEpoch+1)
	}
	for _, c := range []struct {
		name      string
		got, want []int32
	}{{"ISR", got.ISR, isr}, {"replicas", got.Replicas, replicas}, {"adding", got.AddingReplicas, adding}, {"removing", got.RemovingReplicas, removing}} {
		if !sameList(c.got, c.want) {
			t.Errorf("%s %s; want %s", c.name, fmtList(c.got), fmtList(c.want))
		}
	}
}

// Reference: PartitionChangeBuilderTest.testElectLeader, the targetReplicas case: an unclean
// election over target replicas [2 1 3 4] with target ISR [4] elects 4, cleanly.
func TestPartitionChangeBuilder_ElectLeaderTargetReplicas(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		b.SetElection(ElectionUnclean).SetTargetISR(ids(4)).SetTargetReplicas(ids(2, 1, 3, 4))
		assertElectLeaderEquals(t, p, b, 4, false)
	})
}

// Reference: PartitionChangeBuilderTest.testLeaderEpochBumpOnNewReplicaSetDisjoint: replicas
// [2 1 4] drop 3, so the leader epoch moves though the leader (1) stays.
func TestPartitionChangeBuilder_LeaderEpochBumpOnNewReplicaSetDisjoint(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertAssignment(t, p, b.SetTargetReplicas(ids(2, 1, 4)).Build(), 1, p.LeaderEpoch+1, p.ISR, ids(2, 1, 4), nil, nil)
	})
}

// Reference: PartitionChangeBuilderTest.testReassignmentRearrangesReplicas: only the order
// changes; no leader epoch bump.
func TestPartitionChangeBuilder_ReassignmentRearrangesReplicas(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := fooBuilder(elr)
		assertAssignment(t, p, b.SetTargetReplicas(ids(3, 2, 1)).Build(), 1, p.LeaderEpoch, p.ISR, ids(3, 2, 1), nil, nil)
	})
}

// Reference: PartitionChangeBuilderTest.testIsrEnlargementCompletesReassignment: BAR's ISR
// grows to hold 4; the reassignment completes, 1 (the leader) leaves, 2 leads.
func TestPartitionChangeBuilder_IsrEnlargementCompletesReassignment(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := barBuilder(elr)
		assertAssignment(t, p, b.SetTargetISR(ids(1, 2, 3, 4)).Build(), 2, p.LeaderEpoch+1, ids(2, 3, 4), ids(2, 3, 4), nil, nil)
	})
}

// Reference: PartitionChangeBuilderTest.testRevertReassignment: cancelling BAR's move restores
// [1 2 3] with the same ISR; 4 leaves, so the leader epoch moves.
func TestPartitionChangeBuilder_RevertReassignment(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := barBuilder(elr)
		rv := NewReassignmentRevert(&p)
		if !sameList(rv.Replicas, ids(1, 2, 3)) || !sameList(rv.ISR, ids(1, 2, 3)) || rv.Unclean {
			t.Fatalf("revert: got %+v; want replicas [1 2 3] ISR [1 2 3] clean", rv)
		}
		rec := b.SetTargetReplicas(rv.Replicas).SetTargetISR(rv.ISR).SetTargetRemoving(nil).SetTargetAdding(nil).Build()
		assertAssignment(t, p, rec, 1, p.LeaderEpoch+1, ids(1, 2, 3), ids(1, 2, 3), nil, nil)
	})
}

// Reference: PartitionChangeBuilderTest.testRemovingReplicaReassignment: FOO [2 1 3] → [1 2]
// removes 3 only; the ISR already holds the rest, so it completes in one change.
func TestPartitionChangeBuilder_RemovingReplicaReassignment(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		re := NewReassignmentReplicas(ids(2, 1, 3), ids(1, 2))
		if !sameList(re.Removing, ids(3)) || len(re.Adding) != 0 || !sameList(re.Replicas, ids(1, 2, 3)) {
			t.Fatalf("got %+v; want removing [3] adding [] replicas [1 2 3]", re)
		}
		p, b := fooBuilder(elr)
		rec := b.SetTargetReplicas(re.Replicas).SetTargetRemoving(re.Removing).Build()
		assertAssignment(t, p, rec, 1, p.LeaderEpoch+1, ids(2, 1), ids(1, 2), nil, nil)
	})
}

// Reference: PartitionChangeBuilderTest.testAddingReplicaReassignment: FOO [2 1 3] → [1 2 3 4]
// adds 4, which is not in the ISR yet: the move starts, with no leader epoch bump.
func TestPartitionChangeBuilder_AddingReplicaReassignment(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		re := NewReassignmentReplicas(ids(2, 1, 3), ids(1, 2, 3, 4))
		if len(re.Removing) != 0 || !sameList(re.Adding, ids(4)) || !sameList(re.Replicas, ids(1, 2, 3, 4)) {
			t.Fatalf("got %+v; want removing [] adding [4] replicas [1 2 3 4]", re)
		}
		p, b := fooBuilder(elr)
		rec := b.SetTargetReplicas(re.Replicas).SetTargetAdding(re.Adding).Build()
		assertAssignment(t, p, rec, 1, p.LeaderEpoch, p.ISR, ids(1, 2, 3, 4), ids(4), nil)
	})
}

// Reference: PartitionChangeBuilderTest.testStoppedLeaderIsDemotedAfterReassignmentCompletesEvenIfNoNewEligibleLeaders:
// [0 1] → [2 3] completes with no acceptable new leader: the removed leader 0 does not stay.
func TestPartitionChangeBuilder_StoppedLeaderIsDemotedAfterReassignmentCompletes(t *testing.T) {
	p := metadata.Partition{Topic: "foo", Replicas: ids(2, 3, 0, 1), ISR: ids(0, 1), RemovingReplicas: ids(0, 1), AddingReplicas: ids(2, 3), Leader: 0}
	b := NewPartitionChangeBuilder(&p, noReplica, 2, false)
	assertAssignment(t, p, b.SetTargetISR(ids(0, 1, 2, 3)).Build(), protocol.NoLeader, 1, ids(2, 3), ids(2, 3), nil, nil)
}

// Reference: PartitionReassignmentReplicasTest (testNoneAddedOrRemoved, testAdditions,
// testRemovals, testAdditionsAndRemovals, testRearrangement, testDoesNotCompleteReassignment,
// testDoesNotCompleteReassignmentIfNoneOngoing, testDoesCompleteReassignmentAllNewReplicas,
// testDoesCompleteReassignmentSomeNewReplicas, testIsReassignmentInProgress,
// testDoesNotCompleteReassignmentIfIsrDoesNotHaveAllTargetReplicas, testOriginalReplicas).
func TestPartitionReassignmentReplicas(t *testing.T) {
	for _, c := range []struct {
		name                       string
		current, target            []int32
		removing, adding, replicas []int32
	}{
		{"NoneAddedOrRemoved", ids(3, 2, 1), ids(3, 2, 1), nil, nil, ids(3, 2, 1)},
		{"Additions", ids(3, 2, 1), ids(3, 6, 2, 1, 5), nil, ids(5, 6), ids(3, 6, 2, 1, 5)},
		{"Removals", ids(3, 2, 1, 0), ids(3, 1), ids(0, 2), nil, ids(3, 1, 0, 2)},
		{"AdditionsAndRemovals", ids(3, 2, 1, 0), ids(7, 3, 1, 9), ids(0, 2), ids(7, 9), ids(7, 3, 1, 9, 0, 2)},
		{"Rearrangement", ids(3, 2, 1, 0), ids(0, 1, 3, 2), nil, nil, ids(0, 1, 3, 2)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewReassignmentReplicas(c.current, c.target)
			if !sameList(r.Removing, c.removing) || !sameList(r.Adding, c.adding) || !sameList(r.Replicas, c.replicas) {
				t.Fatalf("got %+v; want removing %v adding %v replicas %v", r, c.removing, c.adding, c.replicas)
			}
		})
	}
	t.Run("DoesNotCompleteReassignment", func(t *testing.T) {
		r := NewReassignmentReplicas(ids(0, 1, 2), ids(3, 4, 5))
		if !r.InProgress() || r.MaybeComplete(ids(0, 1, 2, 3, 4)) != nil {
			t.Fatal("ISR [0 1 2 3 4] lacks 5: the reassignment must not complete")
		}
	})
	t.Run("DoesNotCompleteReassignmentIfNoneOngoing", func(t *testing.T) {
		r := ReassignmentReplicas{Replicas: ids(0, 1, 2)}
		if r.InProgress() || r.MaybeComplete(ids(0, 1, 2)) != nil {
			t.Fatal("no reassignment in progress: nothing to complete")
		}
	})
	t.Run("DoesCompleteReassignmentAllNewReplicas", func(t *testing.T) {
		r := NewReassignmentReplicas(ids(0, 1, 2), ids(3, 4, 5))
		got := r.MaybeComplete(ids(0, 1, 2, 3, 4, 5))
		if got == nil || !sameList(got.ISR, ids(3, 4, 5)) || !sameList(got.Replicas, ids(3, 4, 5)) {
			t.Fatalf("got %+v; want ISR and replicas [3 4 5]", got)
		}
	})
	t.Run("DoesCompleteReassignmentSomeNewReplicas", func(t *testing.T) {
		r := NewReassignmentReplicas(ids(0, 1, 2), ids(0, 1, 3))
		got := r.MaybeComplete(ids(0, 1, 2, 3))
		if got == nil || !sameList(got.ISR, ids(0, 1, 3)) || !sameList(got.Replicas, ids(0, 1, 3)) {
			t.Fatalf("got %+v; want ISR and replicas [0 1 3]", got)
		}
	})
	t.Run("IsReassignmentInProgress", func(t *testing.T) {
		p := metadata.Partition{Replicas: ids(0, 1, 3, 2), ISR: ids(0, 1, 3, 2), RemovingReplicas: ids(2), AddingReplicas: ids(3)}
		if !p.Reassigning() {
			t.Fatal("removing [2] adding [3]: want a reassignment in progress")
		}
		p.RemovingReplicas, p.AddingReplicas = nil, nil
		if p.Reassigning() {
			t.Fatal("nothing removed or added: want no reassignment in progress")
		}
	})
	t.Run("DoesNotCompleteReassignmentIfIsrDoesNotHaveAllTargetReplicas", func(t *testing.T) {
		r := NewReassignmentReplicas(ids(0, 1, 2), ids(0, 1, 3))
		if r.MaybeComplete(ids(3)) != nil {
			t.Fatal("ISR [3] lacks 0 and 1: the reassignment must not complete")
		}
	})
	t.Run("OriginalReplicas", func(t *testing.T) {
		r := NewReassignmentReplicas(ids(0, 1, 2), ids(3, 4, 5))
		if got := r.OriginalReplicas(); !sameList(got, ids(0, 1, 2)) {
			t.Fatalf("got %v; want [0 1 2]", got)
		}
	})
}

// Reference: PartitionChangeBuilderTest.testNoChange, the BAR case: 4 is not in the ISR, so
// nothing completes and nothing changes.
func TestPartitionChangeBuilder_NoChangeBAR(t *testing.T) {
	forVersions(t, func(t *testing.T, elr bool) {
		p, b := barBuilder(elr)
		assertBuilds(t, p, b, nil)
	})
}
