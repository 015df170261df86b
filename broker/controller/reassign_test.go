package controller

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

func reassign(t *testing.T, w *world, corr int64, rp protocol.ReassignablePartition) protocol.ReassignmentResult {
	t.Helper()
	w.request(9000, &protocol.AlterPartitionReassignmentsRequest{CorrelationID: corr, Partitions: []protocol.ReassignablePartition{rp}})
	w.run(100 * time.Millisecond)
	r := take[*protocol.AlterPartitionReassignmentsResponse](w, 9000)
	if len(r.Results) != 1 {
		t.Fatalf("got %d results; want 1", len(r.Results))
	}
	return r.Results[0]
}

// Reference: KIP-455 and ReplicationControlManager.alterPartitionReassignments /
// changePartitionReassignment / cancelPartitionReassignment (ReplicationControlManagerTest's
// testReassignPartitions and testCancelReassignPartitions, as far as one partition goes): a
// move from [1 2 3] to [2 3 4] first adds 4 (replicas [2 3 4 1], adding [4], removing [1],
// same leader and leader epoch); the leader's AlterPartition that brings 4 into the ISR
// completes it, removes the leader 1 and elects 2, and 1 is answered NEW_LEADER_ELECTED.
// Unknown and duplicate brokers are INVALID_REPLICA_ASSIGNMENT; cancelling with nothing in
// progress is NO_REASSIGNMENT_IN_PROGRESS; reassigning back in the middle of a move cancels it.
func TestReplicationControlManager_Reassignment(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.AutoLeaderRebalanceEnable = false
	w := startCluster(t, cfg)
	w.request(4, &protocol.BrokerRegistrationRequest{CorrelationID: 1, BrokerID: 4, IncarnationID: 104, PreviousBrokerEpoch: -1})
	w.run(200 * time.Millisecond)
	w.broker(4).epoch = take[*protocol.BrokerRegistrationResponse](w, 4).BrokerEpoch
	for id := int32(1); id <= 4; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "r", [][]int32{{1, 2, 3}}, nil)
	tp := protocol.TopicPartition{Topic: "r"}
	before := *partitionOf(t, w, "r", 0)

	for _, c := range []struct {
		name     string
		replicas []int32
	}{{"unknown broker", ids(2, 3, 9)}, {"duplicate broker", ids(2, 2, 3)}, {"empty list", nil}} {
		if r := reassign(t, w, 2, protocol.ReassignablePartition{TP: tp, Replicas: c.replicas}); r.Error != protocol.INVALID_REPLICA_ASSIGNMENT {
			t.Fatalf("%s %v: got %v %q; want INVALID_REPLICA_ASSIGNMENT", c.name, c.replicas, r.Error, r.ErrorMessage)
		}
	}
	if r := reassign(t, w, 3, protocol.ReassignablePartition{TP: tp, Cancel: true}); r.Error != protocol.NO_REASSIGNMENT_IN_PROGRESS {
		t.Fatalf("cancel with nothing in progress: got %v; want NO_REASSIGNMENT_IN_PROGRESS", r.Error)
	}
	if r := reassign(t, w, 4, protocol.ReassignablePartition{TP: protocol.TopicPartition{Topic: "nope"}, Replicas: ids(1)}); r.Error != protocol.UNKNOWN_TOPIC_OR_PARTITION {
		t.Fatalf("unknown topic: got %v; want UNKNOWN_TOPIC_OR_PARTITION", r.Error)
	}

	if r := reassign(t, w, 5, protocol.ReassignablePartition{TP: tp, Replicas: ids(2, 3, 4)}); r.Error != protocol.NONE {
		t.Fatalf("reassign to [2 3 4]: got %v %q; want NONE", r.Error, r.ErrorMessage)
	}
	p := partitionOf(t, w, "r", 0)
	if !sameList(p.Replicas, ids(2, 3, 4, 1)) || !sameList(p.AddingReplicas, ids(4)) || !sameList(p.RemovingReplicas, ids(1)) ||
		p.Leader != 1 || p.LeaderEpoch != before.LeaderEpoch || !p.Reassigning() {
		t.Fatalf("after reassign: got replicas %v adding %v removing %v leader %d epoch %d; want [2 3 4 1] [4] [1] leader 1 epoch %d",
			p.Replicas, p.AddingReplicas, p.RemovingReplicas, p.Leader, p.LeaderEpoch, before.LeaderEpoch)
	}

	w.request(1, &protocol.AlterPartitionRequest{CorrelationID: 6, BrokerID: 1, BrokerEpoch: w.broker(1).epoch, Partitions: []protocol.AlterPartitionItem{{
		TP: tp, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch,
		NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: -1}, {BrokerID: 2, BrokerEpoch: -1}, {BrokerID: 3, BrokerEpoch: -1}, {BrokerID: 4, BrokerEpoch: w.broker(4).epoch}},
	}}})
	w.run(100 * time.Millisecond)
	if r := take[*protocol.AlterPartitionResponse](w, 1); r.Partitions[0].Error != protocol.NEW_LEADER_ELECTED {
		t.Fatalf("ISR expansion completing the move: got %v; want NEW_LEADER_ELECTED", r.Partitions[0].Error)
	}
	p = partitionOf(t, w, "r", 0)
	if !sameList(p.Replicas, ids(2, 3, 4)) || !sameList(p.ISR, ids(2, 3, 4)) || p.Reassigning() || p.Leader != 2 || p.LeaderEpoch != before.LeaderEpoch+1 {
		t.Fatalf("after completion: got replicas %v ISR %v leader %d epoch %d reassigning %v; want [2 3 4] [2 3 4] leader 2 epoch %d done",
			p.Replicas, p.ISR, p.Leader, p.LeaderEpoch, p.Reassigning(), before.LeaderEpoch+1)
	}

	// Start a move back onto 1, then reassign back to [2 3 4] before 1 catches up.
	if r := reassign(t, w, 7, protocol.ReassignablePartition{TP: tp, Replicas: ids(2, 3, 1)}); r.Error != protocol.NONE {
		t.Fatalf("reassign to [2 3 1]: got %v", r.Error)
	}
	if p := partitionOf(t, w, "r", 0); !sameList(p.Replicas, ids(2, 3, 1, 4)) || !sameList(p.AddingReplicas, ids(1)) {
		t.Fatalf("moving onto 1: got replicas %v adding %v; want [2 3 1 4] adding [1]", p.Replicas, p.AddingReplicas)
	}
	if r := reassign(t, w, 8, protocol.ReassignablePartition{TP: tp, Replicas: ids(2, 3, 4)}); r.Error != protocol.NONE {
		t.Fatalf("reassign back to [2 3 4]: got %v", r.Error)
	}
	if p := partitionOf(t, w, "r", 0); !sameList(p.Replicas, ids(2, 3, 4)) || p.Reassigning() || p.Leader != 2 {
		t.Fatalf("after reassigning back: got replicas %v reassigning %v leader %d; want [2 3 4], none, leader 2", p.Replicas, p.Reassigning(), p.Leader)
	}
	// Cancel (a null target) reverts a move in progress.
	reassign(t, w, 9, protocol.ReassignablePartition{TP: tp, Replicas: ids(1, 2, 3)})
	if r := reassign(t, w, 10, protocol.ReassignablePartition{TP: tp, Cancel: true}); r.Error != protocol.NONE {
		t.Fatalf("cancel: got %v %q; want NONE", r.Error, r.ErrorMessage)
	}
	if p := partitionOf(t, w, "r", 0); !sameList(p.Replicas, ids(2, 3, 4)) || p.Reassigning() {
		t.Fatalf("after cancel: got replicas %v reassigning %v; want [2 3 4], none", p.Replicas, p.Reassigning())
	}
}

// Reference: ReplicationControlManager.unregisterBroker / handleBrokerUnregistered: the broker
// leaves every ISR (leaders re-elected) and an UnregisterBrokerRecord removes it; Kafka's
// controller does not refuse a broker that still holds replicas (the cluster's RemoveBroker
// does, as an operator would drain first). An unknown broker is BROKER_ID_NOT_REGISTERED.
func TestReplicationControlManager_UnregisterBroker(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.AutoLeaderRebalanceEnable = false
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "u", [][]int32{{3, 1, 2}}, nil)
	w.broker(3).heartbeat = false
	w.request(9000, &protocol.UnregisterBrokerRequest{CorrelationID: 1, BrokerID: 3})
	w.run(100 * time.Millisecond)
	if r := take[*protocol.UnregisterBrokerResponse](w, 9000); r.Error != protocol.NONE {
		t.Fatalf("unregister 3: got %v %q; want NONE", r.Error, r.ErrorMessage)
	}
	if b := w.active().Committed().Brokers[3]; b != nil {
		t.Fatalf("broker 3 after unregister: got %+v; want no registration", b)
	}
	if p := partitionOf(t, w, "u", 0); p.Leader != 1 || !sameList(p.ISR, ids(1, 2)) || !sameList(p.Replicas, ids(3, 1, 2)) {
		t.Fatalf("u/0: got leader %d ISR %v replicas %v; want leader 1, ISR [1 2], replicas unchanged", p.Leader, p.ISR, p.Replicas)
	}
	w.request(9000, &protocol.UnregisterBrokerRequest{CorrelationID: 2, BrokerID: 3})
	w.run(100 * time.Millisecond)
	if r := take[*protocol.UnregisterBrokerResponse](w, 9000); r.Error != protocol.BROKER_ID_NOT_REGISTERED {
		t.Fatalf("unregister 3 again: got %v; want BROKER_ID_NOT_REGISTERED", r.Error)
	}
}

// Reference: KIP-455's ListPartitionReassignments (ReplicationControlManager.
// listPartitionReassignments): during a move of l/0 from [1 2 3] to [2 3 4] the listing names
// it with replicas [2 3 4 1], adding [4] and removing [1]; asking about l/1 (not moving) and an
// unknown topic leaves them out; once the move is cancelled the listing is empty.
func TestReplicationControlManager_ListPartitionReassignments(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.AutoLeaderRebalanceEnable = false
	w := startCluster(t, cfg)
	w.request(4, &protocol.BrokerRegistrationRequest{CorrelationID: 1, BrokerID: 4, IncarnationID: 104, PreviousBrokerEpoch: -1})
	w.run(200 * time.Millisecond)
	w.broker(4).epoch = take[*protocol.BrokerRegistrationResponse](w, 4).BrokerEpoch
	for id := int32(1); id <= 4; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "l", [][]int32{{1, 2, 3}, {2, 3, 1}}, nil)
	list := func(corr int64, tps []protocol.TopicPartition) []protocol.OngoingReassignment {
		t.Helper()
		w.request(9000, &protocol.ListPartitionReassignmentsRequest{CorrelationID: corr, Partitions: tps})
		w.run(100 * time.Millisecond)
		r := take[*protocol.ListPartitionReassignmentsResponse](w, 9000)
		if r.Error != protocol.NONE {
			t.Fatalf("list: got %v %q; want NONE", r.Error, r.ErrorMessage)
		}
		return r.Reassignments
	}
	if got := list(1, nil); len(got) != 0 {
		t.Fatalf("list with no move: got %+v; want none", got)
	}
	tp0 := protocol.TopicPartition{Topic: "l"}
	if r := reassign(t, w, 2, protocol.ReassignablePartition{TP: tp0, Replicas: ids(2, 3, 4)}); r.Error != protocol.NONE {
		t.Fatalf("reassign: got %v", r.Error)
	}
	for _, tps := range [][]protocol.TopicPartition{nil, {tp0, {Topic: "l", Partition: 1}, {Topic: "nope"}, tp0}} {
		got := list(3, tps)
		if len(got) != 1 || got[0].TP != tp0 || !sameList(got[0].Replicas, ids(2, 3, 4, 1)) ||
			!sameList(got[0].AddingReplicas, ids(4)) || !sameList(got[0].RemovingReplicas, ids(1)) {
			t.Fatalf("list %v during the move: got %+v; want l/0 replicas [2 3 4 1] adding [4] removing [1]", tps, got)
		}
	}
	if r := reassign(t, w, 4, protocol.ReassignablePartition{TP: tp0, Cancel: true}); r.Error != protocol.NONE {
		t.Fatalf("cancel: got %v", r.Error)
	}
	if got := list(5, nil); len(got) != 0 {
		t.Fatalf("list after cancel: got %+v; want none", got)
	}
}
