package group

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// Reference: ClassicGroup.validateOffsetCommit after a rebalance (the case behind the Java
// consumer's CommitFailedException: "the group has already rebalanced and assigned the
// partitions to another member"). A member whose commit still carries the generation it was
// assigned in is refused with ILLEGAL_GENERATION once the group has moved on, although it is
// still a member; the offset committed by the partition's new owner stands.
func TestOffsetCommitOfPreviousGenerationAfterRebalanceIsIllegalGeneration(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	old := k.stableGroup() // generation 1: old owns orders/0
	k.request(commitReq(old, 1, 10))
	k.commitLog()

	// A second member joins; old rejoins; generation 2 gives orders/0 to the newcomer.
	jr := k.request(join("", "", 10*time.Second, 40))[0].(*protocol.JoinGroupResponse)
	k.request(join(jr.MemberID, "", 10*time.Second, 41))
	k.request(join(old, "", 10*time.Second, 42))
	k.request(&protocol.SyncGroupRequest{CorrelationID: 43, GroupID: "g1", GenerationID: 2, MemberID: old, ProtocolName: "range",
		Assignments: []protocol.SyncGroupAssignment{{MemberID: jr.MemberID, Partitions: []protocol.TopicPartition{orders0}}, {MemberID: old}}})
	k.commitLog()
	k.request(commitReq(jr.MemberID, 2, 20))
	n := len(k.h.sent)
	k.commitLog()
	if err := commitError(t, k.answers(n)); err != protocol.NONE {
		t.Fatalf("the new owner's commit in generation 2: %v; want NONE", err)
	}

	// old, a member of generation 2 with nothing assigned, sends the commit it prepared in
	// generation 1 (a zombie: it processed orders/0 up to 15 before the rebalance).
	end := k.h.log.end()
	if err := commitError(t, k.request(commitReq(old, 1, 15))); err != protocol.ILLEGAL_GENERATION {
		t.Errorf("commit of generation 1 in generation 2: %v; want ILLEGAL_GENERATION", err)
	}
	if o, _ := k.c.Committed("g1", orders0); o.Offset != 20 || k.h.log.end() != end {
		t.Errorf("committed %d, log end %d → %d; want 20 kept and nothing written", o.Offset, end, k.h.log.end())
	}
}
