package client

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// Reference: GroupMetadataManager.classicGroupJoinExistingMember and
// ConsumerCoordinator.onJoinPrepare. A follower that rejoins a Stable group with unchanged
// metadata is given the current generation again, with no rebalance (as is a member whose new
// coordinator loaded the group at the generation it had). An eager member revoked its
// partitions before it rejoined, so it reads them again from the committed offset, behind
// where it was: its reading session must begin anew although the generation is the same, or
// the history shows the same session stepping back (nemesis seeds 226, 457 and 966 of the
// classic group runs flagged nonmonotonic-poll for it).
func TestRejoinWithSameGenerationStartsNewSession(t *testing.T) {
	w := newWorld(t)
	c := newFakeCluster(w, 1, 1)
	c.logs[0] = []*protocol.RecordBatch{batch(0, 1, 100, 101, 102, 103, 104)}
	const member = "c1-m"
	heartbeats := 0
	w.handle = func(to int32, msg any) {
		switch m := msg.(type) {
		case *protocol.FindCoordinatorRequest:
			w.reply(to, &protocol.FindCoordinatorResponse{CorrelationID: m.CorrelationID, NodeID: 2})
		case *protocol.JoinGroupRequest:
			if m.MemberID == "" {
				w.reply(to, &protocol.JoinGroupResponse{CorrelationID: m.CorrelationID, Error: protocol.MEMBER_ID_REQUIRED, MemberID: member})
				return
			}
			// Generation 1, every time: the group never left it.
			w.reply(to, &protocol.JoinGroupResponse{CorrelationID: m.CorrelationID, GenerationID: 1, ProtocolName: m.Protocols[0].Name,
				Leader: member, MemberID: member, Members: []protocol.JoinGroupMember{{MemberID: member, Metadata: m.Protocols[0]}}})
		case *protocol.SyncGroupRequest:
			w.reply(to, &protocol.SyncGroupResponse{CorrelationID: m.CorrelationID, ProtocolName: m.ProtocolName,
				Assignment: []protocol.TopicPartition{{Topic: "t", Partition: 0}}})
		case *protocol.HeartbeatRequest:
			heartbeats++
			err := protocol.NONE
			if heartbeats == 1 {
				err = protocol.REBALANCE_IN_PROGRESS
			}
			w.reply(to, &protocol.HeartbeatResponse{CorrelationID: m.CorrelationID, Error: err})
		case *protocol.OffsetFetchRequest:
			// The member's commits never reached the log (its coordinator was cut off): offset 0.
			w.reply(to, &protocol.OffsetFetchResponse{CorrelationID: m.CorrelationID,
				Partitions: []protocol.OffsetFetchPartition{{TP: protocol.TopicPartition{Topic: "t", Partition: 0}, Offset: 0, LeaderEpoch: -1}}})
		case *protocol.OffsetCommitRequest, *protocol.LeaveGroupRequest:
			// unanswered
		default:
			c.handle(to, msg)
		}
	}
	cfg := config.DefaultConsumer()
	cfg.Group = "g1"
	startConsumer(t, w, cfg)
	w.runUntil(10 * time.Second)

	var sessions []string
	for _, op := range w.ops() {
		if len(op.Offsets) > 0 && op.Offsets[0] == 0 {
			if op.Generation != 1 {
				t.Errorf("a poll from offset 0 in generation %d; want 1", op.Generation)
			}
			sessions = append(sessions, op.Session)
		}
	}
	if len(sessions) != 2 {
		t.Fatalf("%d polls read offset 0 (sessions %q); want 2: before the rejoin and after it", len(sessions), sessions)
	}
	if sessions[0] == sessions[1] {
		t.Errorf("both reads of offset 0 in session %q; want a new session after the partition was taken up again", sessions[0])
	}
}
