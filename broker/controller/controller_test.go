package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// startCluster elects an active controller, registers brokers 1..3 and lets them heartbeat
// until they are unfenced.
func startCluster(t *testing.T, cfg config.Broker) *world {
	t.Helper()
	w := newWorld(t, cfg)
	w.waitActive()
	for id := int32(1); id <= 3; id++ {
		w.request(id, &protocol.BrokerRegistrationRequest{CorrelationID: 1, BrokerID: id, IncarnationID: uint64(100 + id), PreviousBrokerEpoch: -1})
	}
	w.run(200 * time.Millisecond)
	for id := int32(1); id <= 3; id++ {
		r := take[*protocol.BrokerRegistrationResponse](w, id)
		if r.Error != protocol.NONE || r.BrokerEpoch <= 0 {
			t.Fatalf("broker %d registration: got %v epoch %d; want NONE and an epoch > 0", id, r.Error, r.BrokerEpoch)
		}
		w.broker(id).epoch = r.BrokerEpoch
		if b := w.active().Committed().Brokers[id]; b == nil || !b.Fenced || b.Epoch != r.BrokerEpoch {
			t.Fatalf("broker %d: got committed registration %+v; want fenced with epoch %d", id, b, r.BrokerEpoch)
		}
	}
	return w
}

func createTopic(t *testing.T, w *world, name string, assignments [][]int32, configs map[string]string) {
	t.Helper()
	w.request(9000, &protocol.CreateTopicsRequest{CorrelationID: 7, Topics: []protocol.CreatableTopic{{Name: name, Assignments: assignments, Configs: configs}}})
	w.run(100 * time.Millisecond)
	r := take[*protocol.CreateTopicsResponse](w, 9000)
	if len(r.Topics) != 1 || r.Topics[0].Error != protocol.NONE {
		t.Fatalf("create %s: got %+v; want NONE", name, r.Topics)
	}
}

func partitionOf(t *testing.T, w *world, topic string, i int32) *metadata.Partition {
	t.Helper()
	p := w.active().Committed().Partition(topic, i)
	if p == nil {
		t.Fatalf("partition %s/%d: got none; want it to exist", topic, i)
	}
	return p
}

// Reference: ClusterControlManager and BrokerHeartbeatManager (registration, heartbeat,
// unfencing after catch-up, session expiry), ReplicationControlManager (re-election on
// fencing), KIP-497 (AlterPartition), KIP-841 (controlled shutdown).
func TestControllerBrokerLifecycle(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.EligibleLeaderReplicas = false
	w := startCluster(t, cfg)

	// Same incarnation again: idempotent, same epoch.
	w.request(1, &protocol.BrokerRegistrationRequest{CorrelationID: 2, BrokerID: 1, IncarnationID: 101, PreviousBrokerEpoch: -1})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.BrokerRegistrationResponse](w, 1); r.BrokerEpoch != w.broker(1).epoch {
		t.Fatalf("re-registration of the same incarnation: got epoch %d; want %d", r.BrokerEpoch, w.broker(1).epoch)
	}

	// A heartbeat from a broker that has not replayed its registration keeps it fenced.
	w.push(event{at: w.now, from: 1, to: w.active().id, msg: &protocol.BrokerHeartbeatRequest{BrokerID: 1, BrokerEpoch: w.broker(1).epoch, CurrentMetadataOffset: 0}})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.BrokerHeartbeatResponse](w, 1); r.Error != protocol.NONE || !r.IsFenced || r.IsCaughtUp {
		t.Fatalf("heartbeat before catch-up: got %+v; want NONE, fenced, not caught up", r)
	}
	// Stale and unknown epochs.
	w.push(event{at: w.now, from: 1, to: w.active().id, msg: &protocol.BrokerHeartbeatRequest{BrokerID: 1, BrokerEpoch: w.broker(1).epoch + 1000}})
	w.push(event{at: w.now, from: 8, to: w.active().id, msg: &protocol.BrokerHeartbeatRequest{BrokerID: 8, BrokerEpoch: 1}})
	w.broker(8)
	w.run(50 * time.Millisecond)
	if r := take[*protocol.BrokerHeartbeatResponse](w, 1); r.Error != protocol.STALE_BROKER_EPOCH {
		t.Fatalf("heartbeat with a stale epoch: got %v; want STALE_BROKER_EPOCH", r.Error)
	}
	if r := take[*protocol.BrokerHeartbeatResponse](w, 8); r.Error != protocol.BROKER_ID_NOT_REGISTERED {
		t.Fatalf("heartbeat from an unknown broker: got %v; want BROKER_ID_NOT_REGISTERED", r.Error)
	}

	// Caught-up heartbeats unfence.
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	for id := int32(1); id <= 3; id++ {
		if b := w.active().Committed().Brokers[id]; b.Fenced {
			t.Fatalf("broker %d after caught-up heartbeats: got fenced; want unfenced", id)
		}
	}

	createTopic(t, w, "t", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}, nil)
	for i, want := range []int32{1, 2, 3} {
		p := partitionOf(t, w, "t", int32(i))
		if p.Leader != want || len(p.ISR) != 3 || p.LeaderEpoch != 0 || p.PartitionEpoch != 0 {
			t.Fatalf("t/%d: got leader %d ISR %v epochs %d/%d; want leader %d, full ISR, epochs 0/0", i, p.Leader, p.ISR, p.LeaderEpoch, p.PartitionEpoch, want)
		}
	}

	// Broker 3 stops heartbeating: fenced after broker.session.timeout.ms, leadership of t/2
	// moves to the next ISR replica in assignment order (1) with a leader epoch bump.
	w.broker(3).heartbeat = false
	w.run(cfg.BrokerSessionTimeout + time.Second)
	if b := w.active().Committed().Brokers[3]; !b.Fenced {
		t.Fatalf("broker 3 after session timeout: got unfenced; want fenced")
	}
	p := partitionOf(t, w, "t", 2)
	if p.Leader != 1 || p.LeaderEpoch != 1 || p.PartitionEpoch != 1 || !sameList(p.ISR, ids(1, 2)) {
		t.Fatalf("t/2 after fencing its leader: got leader %d epoch %d/%d ISR %v; want leader 1, epochs 1/1, ISR [1 2]", p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.ISR)
	}
	p = partitionOf(t, w, "t", 0)
	if p.Leader != 1 || p.LeaderEpoch != 0 || p.PartitionEpoch != 1 || !sameList(p.ISR, ids(1, 2)) {
		t.Fatalf("t/0 after fencing a follower: got leader %d epoch %d/%d ISR %v; want leader 1, epochs 0/1, ISR [1 2]", p.Leader, p.LeaderEpoch, p.PartitionEpoch, p.ISR)
	}

	// AlterPartition: the leader of t/0 shrinks the ISR to itself.
	w.request(1, &protocol.AlterPartitionRequest{CorrelationID: 20, BrokerID: 1, BrokerEpoch: w.broker(1).epoch, Partitions: []protocol.AlterPartitionItem{
		{TP: protocol.TopicPartition{Topic: "t", Partition: 0}, LeaderEpoch: 0, PartitionEpoch: 1, NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: w.broker(1).epoch}}},
	}})
	w.run(50 * time.Millisecond)
	ap := take[*protocol.AlterPartitionResponse](w, 1)
	if ap.Error != protocol.NONE || len(ap.Partitions) != 1 || ap.Partitions[0].Error != protocol.NONE ||
		!sameList(ap.Partitions[0].ISR, ids(1)) || ap.Partitions[0].PartitionEpoch != 2 || ap.Partitions[0].LeaderEpoch != 0 {
		t.Fatalf("AlterPartition shrink: got %+v; want NONE, ISR [1], partition epoch 2, leader epoch 0", ap)
	}
	if p := partitionOf(t, w, "t", 0); !sameList(p.ISR, ids(1)) || p.PartitionEpoch != 2 {
		t.Fatalf("t/0 committed after shrink: got ISR %v epoch %d; want [1] 2", p.ISR, p.PartitionEpoch)
	}

	// Rejections: stale broker epoch; old partition epoch; fenced replica (3); wrong leader.
	cases := []struct {
		name        string
		brokerEpoch int64
		from        int32
		item        protocol.AlterPartitionItem
		wantTop     protocol.ErrorCode
		wantPart    protocol.ErrorCode
	}{
		{"stale broker epoch", 1 << 40, 1, protocol.AlterPartitionItem{TP: protocol.TopicPartition{Topic: "t"}, PartitionEpoch: 2, NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: -1}}}, protocol.STALE_BROKER_EPOCH, 0},
		{"old partition epoch", 0, 1, protocol.AlterPartitionItem{TP: protocol.TopicPartition{Topic: "t"}, PartitionEpoch: 1, NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: -1}, {BrokerID: 2, BrokerEpoch: -1}}}, protocol.NONE, protocol.INVALID_UPDATE_VERSION},
		{"ineligible fenced replica", 0, 1, protocol.AlterPartitionItem{TP: protocol.TopicPartition{Topic: "t"}, PartitionEpoch: 2, NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: -1}, {BrokerID: 3, BrokerEpoch: -1}}}, protocol.NONE, protocol.INELIGIBLE_REPLICA},
		{"ineligible stale replica epoch", 0, 1, protocol.AlterPartitionItem{TP: protocol.TopicPartition{Topic: "t"}, PartitionEpoch: 2, NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: -1}, {BrokerID: 2, BrokerEpoch: 1 << 40}}}, protocol.NONE, protocol.INELIGIBLE_REPLICA},
		{"not the leader", 0, 2, protocol.AlterPartitionItem{TP: protocol.TopicPartition{Topic: "t"}, PartitionEpoch: 2, NewISR: []protocol.BrokerState{{BrokerID: 2, BrokerEpoch: -1}}}, protocol.NONE, protocol.NOT_LEADER_OR_FOLLOWER},
		{"fenced leader epoch", 0, 1, protocol.AlterPartitionItem{TP: protocol.TopicPartition{Topic: "t", Partition: 2}, LeaderEpoch: 0, PartitionEpoch: 1, NewISR: []protocol.BrokerState{{BrokerID: 1, BrokerEpoch: -1}}}, protocol.NONE, protocol.FENCED_LEADER_EPOCH},
	}
	for _, c := range cases {
		epoch := c.brokerEpoch
		if epoch == 0 {
			epoch = w.broker(c.from).epoch
		}
		w.request(c.from, &protocol.AlterPartitionRequest{CorrelationID: 21, BrokerID: c.from, BrokerEpoch: epoch, Partitions: []protocol.AlterPartitionItem{c.item}})
		w.run(50 * time.Millisecond)
		r := take[*protocol.AlterPartitionResponse](w, c.from)
		if r.Error != c.wantTop {
			t.Errorf("%s: got top-level %v; want %v", c.name, r.Error, c.wantTop)
			continue
		}
		if c.wantTop == protocol.NONE && (len(r.Partitions) != 1 || r.Partitions[0].Error != c.wantPart) {
			t.Errorf("%s: got %+v; want partition error %v", c.name, r.Partitions, c.wantPart)
		}
	}
	if p := partitionOf(t, w, "t", 0); !sameList(p.ISR, ids(1)) || p.PartitionEpoch != 2 {
		t.Fatalf("t/0 after rejected requests: got ISR %v epoch %d; want unchanged [1] 2", p.ISR, p.PartitionEpoch)
	}

	// Controlled shutdown of broker 2 (KIP-841): it leaves every ISR, t/1 moves to broker 1,
	// and once it leads nothing and the other brokers have replayed the moves it may shut down
	// (BrokerHeartbeatManager.calculateNextBrokerState), fenced.
	w.broker(2).heartbeat = false
	w.sendHeartbeat(w.broker(2), false, true)
	w.run(50 * time.Millisecond)
	hb := take[*protocol.BrokerHeartbeatResponse](w, 2)
	if hb.Error != protocol.NONE || hb.ShouldShutDown || hb.IsFenced {
		t.Fatalf("controlled shutdown heartbeat: got %+v; want NONE, CONTROLLED_SHUTDOWN (not ShouldShutDown), not fenced", hb)
	}
	if b := w.active().Committed().Brokers[2]; !b.InControlledShutdown {
		t.Fatalf("broker 2: got InControlledShutdown false; want true")
	}
	w.run(w.cfg.BrokerHeartbeatInterval) // the other brokers report replaying the moves
	w.sendHeartbeat(w.broker(2), false, true)
	w.run(50 * time.Millisecond)
	hb = take[*protocol.BrokerHeartbeatResponse](w, 2)
	if hb.Error != protocol.NONE || !hb.ShouldShutDown || !hb.IsFenced {
		t.Fatalf("controlled shutdown heartbeat once the moves are replayed: got %+v; want NONE, ShouldShutDown, fenced", hb)
	}
	p = partitionOf(t, w, "t", 1)
	if p.Leader != 1 || p.LeaderEpoch != 1 || metadata.Contains(p.ISR, 2) {
		t.Fatalf("t/1 after controlled shutdown of its leader: got leader %d epoch %d ISR %v; want leader 1, epoch 1, 2 not in ISR", p.Leader, p.LeaderEpoch, p.ISR)
	}
	for i := int32(0); i < 3; i++ {
		if p := partitionOf(t, w, "t", i); metadata.Contains(p.ISR, 2) || p.Leader == 2 {
			t.Fatalf("t/%d: got ISR %v leader %d; want broker 2 out", i, p.ISR, p.Leader)
		}
	}
	// The active controller's trace recorded the metadata changes.
	var fences int
	for _, ev := range w.observed {
		if r, ok := ev.(*metadata.BrokerRegistrationChangeRecord); ok && r.BrokerID == 3 && r.Fenced {
			fences++
		}
	}
	if fences != 1 {
		t.Errorf("observed fencing records of broker 3: got %d; want 1", fences)
	}
}

// Reference: KIP-631 (QuorumController): a non-active controller answers NOT_CONTROLLER; after the active
// controller stops, another takes over with the same committed image.
func TestControllerFailover(t *testing.T) {
	w := startCluster(t, config.DefaultBroker())
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "t", [][]int32{{1, 2, 3}}, nil)
	old := w.active()
	for _, id := range w.controller {
		if id == old.id {
			continue
		}
		w.push(event{at: w.now, from: 9000, to: id, msg: &protocol.CreateTopicsRequest{CorrelationID: 3, Topics: []protocol.CreatableTopic{{Name: "u", NumPartitions: 1, ReplicationFactor: 1}}}})
		w.run(10 * time.Millisecond)
		if r := take[*protocol.CreateTopicsResponse](w, 9000); r.Topics[0].Error != protocol.NOT_CONTROLLER {
			t.Fatalf("create at inactive %d: got %v; want NOT_CONTROLLER", id, r.Topics[0].Error)
		}
	}
	old.Stop(w.now)
	if !w.envs[old.id].halted {
		t.Fatalf("Stop: got no Halt; want the controller halted")
	}
	w.run(3 * time.Second)
	nw := w.waitActive()
	if nw == old {
		t.Fatalf("got the stopped controller active; want another one")
	}
	p := nw.Committed().Partition("t", 0)
	if p == nil || p.Leader != 1 {
		t.Fatalf("new active controller's committed t/0: got %+v; want leader 1", p)
	}
	// Brokers keep their sessions: nobody is fenced after a failover.
	w.run(cfg9s())
	for id := int32(1); id <= 3; id++ {
		if b := nw.Committed().Brokers[id]; b.Fenced {
			t.Fatalf("broker %d after failover: got fenced; want unfenced", id)
		}
	}
}

func cfg9s() time.Duration { return config.DefaultBroker().BrokerSessionTimeout }

// Reference: KIP-966 with KAFKA-15586 end to end: a broker that restarts uncleanly leaves the
// ELR; one that restarts cleanly keeps it and is elected when it comes back.
func TestControllerUncleanRestartLeavesELR(t *testing.T) {
	cfg := config.DefaultBroker()
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "t", [][]int32{{1, 2, 3}}, map[string]string{"min.insync.replicas": "2"})

	// 3, then 2, then 1 go silent and are fenced.
	for _, id := range []int32{3, 2, 1} {
		w.broker(id).heartbeat = false
		w.run(cfg.BrokerSessionTimeout + time.Second)
	}
	p := partitionOf(t, w, "t", 0)
	if p.Leader != protocol.NoLeader || len(p.ISR) != 0 || !sameList(p.ELR, ids(1, 2)) {
		t.Fatalf("after all fenced: got leader %d ISR %v ELR %v; want leaderless, ISR [], ELR [1 2]", p.Leader, p.ISR, p.ELR)
	}
	// 1 restarts uncleanly (PreviousBrokerEpoch -1): it leaves the ELR.
	w.request(1, &protocol.BrokerRegistrationRequest{CorrelationID: 5, BrokerID: 1, IncarnationID: 201, PreviousBrokerEpoch: -1})
	// 2 restarts cleanly (previous epoch given): it stays.
	w.request(2, &protocol.BrokerRegistrationRequest{CorrelationID: 5, BrokerID: 2, IncarnationID: 202, PreviousBrokerEpoch: w.broker(2).epoch})
	w.run(100 * time.Millisecond)
	w.broker(1).epoch = take[*protocol.BrokerRegistrationResponse](w, 1).BrokerEpoch
	w.broker(2).epoch = take[*protocol.BrokerRegistrationResponse](w, 2).BrokerEpoch
	p = partitionOf(t, w, "t", 0)
	if !sameList(p.ELR, ids(2)) {
		t.Fatalf("after restarts: got ELR %v; want [2]", p.ELR)
	}
	// Only 1 comes back: it is not eligible, so the partition stays offline.
	w.startHeartbeats(1)
	w.run(time.Second)
	if p := partitionOf(t, w, "t", 0); p.Leader != protocol.NoLeader {
		t.Fatalf("with only the unclean broker back: got leader %d; want none", p.Leader)
	}
	// 2 comes back: elected cleanly from the ELR.
	w.startHeartbeats(2)
	w.run(time.Second)
	p = partitionOf(t, w, "t", 0)
	if p.Leader != 2 || p.Recovering() || !sameList(p.ISR, ids(2)) {
		t.Fatalf("with 2 back: got leader %d recovering %v ISR %v; want clean leader 2, ISR [2]", p.Leader, p.Recovering(), p.ISR)
	}
}

// The same inputs give the same metadata changes (the determinism contract).
func TestControllerDeterministic(t *testing.T) {
	trace := func() string {
		cfg := config.DefaultBroker()
		w := startCluster(t, cfg)
		for id := int32(1); id <= 3; id++ {
			w.startHeartbeats(id)
		}
		w.run(time.Second)
		w.request(9000, &protocol.CreateTopicsRequest{CorrelationID: 1, Topics: []protocol.CreatableTopic{{Name: "p", NumPartitions: 5, ReplicationFactor: 2}}})
		w.broker(2).heartbeat = false
		w.run(cfg.BrokerSessionTimeout + time.Second)
		var s strings.Builder
		for _, ev := range w.observed {
			fmt.Fprintf(&s, "%+v\n", ev)
		}
		return s.String()
	}
	a, b := trace(), trace()
	if a != b {
		t.Fatalf("two runs differ:\n%s\nvs\n%s", a, b)
	}
	if !strings.Contains(a, "Topic:p") || !strings.Contains(a, "Fenced:true") {
		t.Fatalf("trace: got %q; want the topic's records and a fencing", a)
	}
}

// ClusterControlManager.registerBroker: while the old incarnation's session is valid, a new
// incarnation is refused with DUPLICATE_BROKER_REGISTRATION (unless it shut down cleanly); once
// the session expires the old one is fenced and the new one registers.
func TestControllerRefusesDuplicateRegistration(t *testing.T) {
	cfg := config.DefaultBroker()
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	// Broker 1's process dies and comes back at once with a new incarnation.
	w.broker(1).heartbeat = false
	w.request(1, &protocol.BrokerRegistrationRequest{CorrelationID: 7, BrokerID: 1, IncarnationID: 301, PreviousBrokerEpoch: -1})
	w.run(100 * time.Millisecond)
	if r := take[*protocol.BrokerRegistrationResponse](w, 1); r.Error != protocol.DUPLICATE_BROKER_REGISTRATION {
		t.Fatalf("re-registration within the session: got %v; want DUPLICATE_BROKER_REGISTRATION", r.Error)
	}
	// A clean restart names the epoch of its session and is let in at once.
	w.request(2, &protocol.BrokerRegistrationRequest{CorrelationID: 7, BrokerID: 2, IncarnationID: 302, PreviousBrokerEpoch: w.broker(2).epoch})
	w.run(100 * time.Millisecond)
	if r := take[*protocol.BrokerRegistrationResponse](w, 2); r.Error != protocol.NONE {
		t.Fatalf("clean re-registration: got %v; want NONE", r.Error)
	}
	// After broker.session.timeout.ms the old incarnation of 1 is fenced and 1 gets in.
	w.run(cfg.BrokerSessionTimeout)
	w.request(1, &protocol.BrokerRegistrationRequest{CorrelationID: 8, BrokerID: 1, IncarnationID: 301, PreviousBrokerEpoch: -1})
	w.run(100 * time.Millisecond)
	if r := take[*protocol.BrokerRegistrationResponse](w, 1); r.Error != protocol.NONE || r.BrokerEpoch <= w.broker(1).epoch {
		t.Fatalf("after the session expired: got %v epoch %d; want NONE and a new epoch", r.Error, r.BrokerEpoch)
	}
}

// Reference: KIP-704 and ReplicationControlManager.validateAlterPartitionData. An unclean
// election leaves the partition RECOVERING; the leader's AlterPartition with
// leaderRecoveryState=RECOVERED clears it. A RECOVERING leader may not name other replicas in
// the ISR, and a RECOVERED partition never goes back to RECOVERING.
func TestAlterPartitionLeaderRecoveryState(t *testing.T) {
	cfg := config.DefaultBroker()
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "t", [][]int32{{1, 2}}, map[string]string{"unclean.leader.election.enable": "true"})
	alter := func(from int32, corr int64, lrs int8, isr ...int32) *protocol.AlterPartitionResponse {
		t.Helper()
		p := partitionOf(t, w, "t", 0)
		states := make([]protocol.BrokerState, len(isr))
		for i, r := range isr {
			states[i] = protocol.BrokerState{BrokerID: r, BrokerEpoch: -1}
		}
		w.request(from, &protocol.AlterPartitionRequest{CorrelationID: corr, BrokerID: from, BrokerEpoch: w.broker(from).epoch, Partitions: []protocol.AlterPartitionItem{{
			TP: protocol.TopicPartition{Topic: "t"}, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch, NewISR: states, LeaderRecoveryState: lrs,
		}}})
		w.run(50 * time.Millisecond)
		return take[*protocol.AlterPartitionResponse](w, from)
	}
	if r := alter(1, 1, 0, 1); r.Partitions[0].Error != protocol.NONE {
		t.Fatalf("shrink to {1}: got %v; want NONE", r.Partitions[0].Error)
	}
	w.broker(1).heartbeat = false
	w.run(cfg.BrokerSessionTimeout + time.Second)
	p := partitionOf(t, w, "t", 0)
	if p.Leader != 2 || !p.Recovering() {
		t.Fatalf("after fencing 1: got leader %d state %v; want 2 RECOVERING (unclean election)", p.Leader, p.LeaderRecoveryState)
	}
	w.startHeartbeats(1)
	w.run(time.Second)
	if r := alter(2, 2, int8(metadata.LeaderRecovering), 2, 1); r.Partitions[0].Error != protocol.INVALID_REQUEST {
		t.Fatalf("RECOVERING with ISR {2,1}: got %v; want INVALID_REQUEST", r.Partitions[0].Error)
	}
	if p := partitionOf(t, w, "t", 0); !p.Recovering() {
		t.Fatalf("after a refused AlterPartition: got %v; want RECOVERING", p.LeaderRecoveryState)
	}
	r := alter(2, 3, int8(metadata.LeaderRecovered), 2, 1)
	if res := r.Partitions[0]; res.Error != protocol.NONE || res.LeaderRecoveryState != int8(metadata.LeaderRecovered) || !sameList(res.ISR, ids(2, 1)) {
		t.Fatalf("RECOVERED with ISR {2,1}: got %v state %d ISR %v; want NONE, RECOVERED, [2 1]", res.Error, res.LeaderRecoveryState, res.ISR)
	}
	if p := partitionOf(t, w, "t", 0); p.Recovering() || p.Leader != 2 {
		t.Fatalf("after the leader reported recovery: got leader %d %v; want 2 RECOVERED", p.Leader, p.LeaderRecoveryState)
	}
	if r := alter(2, 4, int8(metadata.LeaderRecovering), 2); r.Partitions[0].Error != protocol.INVALID_REQUEST {
		t.Fatalf("RECOVERED back to RECOVERING: got %v; want INVALID_REQUEST", r.Partitions[0].Error)
	}
}

// Reference: BrokerHeartbeatManager.calculateNextBrokerState and
// ReplicationControlManager.processBrokerHeartbeat (KIP-841). A broker that leads partitions
// enters CONTROLLED_SHUTDOWN; SHUTDOWN_NOW is granted only once its controlled-shutdown offset
// is at or below the lowest metadata offset the active brokers have reported (they have
// replayed the leadership moves), and the grant fences it (handleBrokerFenced).
func TestControlledShutdownWaitsForLowestActiveOffset(t *testing.T) {
	cfg := config.DefaultBroker()
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "t", [][]int32{{1, 2, 3}}, nil)
	w.run(cfg.BrokerHeartbeatInterval)
	// Broker 2 goes quiet (its session is still valid): its last reported offset is before the
	// leadership moves.
	w.broker(1).heartbeat = false
	w.broker(2).heartbeat = false
	w.run(cfg.BrokerHeartbeatInterval)
	shutdown := func(what string) *protocol.BrokerHeartbeatResponse {
		t.Helper()
		w.sendHeartbeat(w.broker(1), false, true)
		w.run(50 * time.Millisecond)
		hb := take[*protocol.BrokerHeartbeatResponse](w, 1)
		if hb.Error != protocol.NONE {
			t.Fatalf("%s: got %v; want NONE", what, hb.Error)
		}
		return hb
	}
	if hb := shutdown("first shutdown heartbeat"); hb.ShouldShutDown || hb.IsFenced {
		t.Fatalf("first shutdown heartbeat: got ShouldShutDown %v fenced %v; want CONTROLLED_SHUTDOWN (neither)", hb.ShouldShutDown, hb.IsFenced)
	}
	if p := partitionOf(t, w, "t", 0); p.Leader == 1 || metadata.Contains(p.ISR, 1) {
		t.Fatalf("t/0 in controlled shutdown of 1: got leader %d ISR %v; want 1 out", p.Leader, p.ISR)
	}
	if hb := shutdown("while broker 2 has not replayed"); hb.ShouldShutDown {
		t.Fatalf("while broker 2 has not replayed the moves: got ShouldShutDown; want CONTROLLED_SHUTDOWN")
	}
	w.startHeartbeats(2)
	w.run(cfg.BrokerHeartbeatInterval) // brokers 2 and 3 report the offsets they replayed
	if hb := shutdown("after broker 2 replayed"); !hb.ShouldShutDown || !hb.IsFenced {
		t.Fatalf("after broker 2 replayed the moves: got ShouldShutDown %v fenced %v; want SHUTDOWN_NOW, fenced", hb.ShouldShutDown, hb.IsFenced)
	}
	if b := w.active().Committed().Brokers[1]; !b.Fenced {
		t.Fatalf("broker 1 after SHUTDOWN_NOW: got %+v; want fenced", *b)
	}
}
