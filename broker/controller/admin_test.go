package controller

import (
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

func imageWithBrokers(fenced map[int32]bool, ids ...int32) *metadata.Image {
	im := metadata.NewImage()
	for _, id := range ids {
		im.Apply(&metadata.RegisterBrokerRecord{BrokerID: id, BrokerEpoch: int64(id), Fenced: fenced[id]})
	}
	im.Apply(&metadata.TopicRecord{Name: "exists", TopicID: 9})
	return im
}

// Reference: Kafka CreateTopics error codes (TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS,
// INVALID_REPLICATION_FACTOR, INVALID_REPLICA_ASSIGNMENT, INVALID_CONFIG).
func TestCreateTopicsValidation(t *testing.T) {
	cases := []struct {
		name    string
		fenced  map[int32]bool
		topic   protocol.CreatableTopic
		want    protocol.ErrorCode
		message string // a fragment the error message must hold
	}{
		{"already exists", nil, protocol.CreatableTopic{Name: "exists", NumPartitions: 1, ReplicationFactor: 1}, protocol.TOPIC_ALREADY_EXISTS, "already exists"},
		{"no partitions", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 0, ReplicationFactor: 1}, protocol.INVALID_PARTITIONS, "at least 1"},
		{"replication factor zero", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 1, ReplicationFactor: 0}, protocol.INVALID_REPLICATION_FACTOR, "at least 1"},
		{"replication factor above brokers", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 1, ReplicationFactor: 4}, protocol.INVALID_REPLICATION_FACTOR, "3 registered brokers"},
		{"unknown broker in assignment", nil, protocol.CreatableTopic{Name: "a", Assignments: [][]int32{{1, 7}}}, protocol.INVALID_REPLICA_ASSIGNMENT, "broker 7"},
		{"duplicate broker in assignment", nil, protocol.CreatableTopic{Name: "a", Assignments: [][]int32{{1, 1}}}, protocol.INVALID_REPLICA_ASSIGNMENT, "twice"},
		{"uneven assignment", nil, protocol.CreatableTopic{Name: "a", Assignments: [][]int32{{1, 2}, {3}}}, protocol.INVALID_REPLICA_ASSIGNMENT, "partition 1 has 1 replicas"},
		{"bad config value", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"min.insync.replicas": "x"}}, protocol.INVALID_CONFIG, "min.insync.replicas"},
		{"unknown config key", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 1, ReplicationFactor: 1, Configs: map[string]string{"no.such": "1"}}, protocol.INVALID_CONFIG, "no.such"},
		// getTopicEffectiveMinIsr: Kafka accepts min.insync.replicas above the replication factor.
		{"min ISR above replication factor", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 1, ReplicationFactor: 2, Configs: map[string]string{"min.insync.replicas": "3"}}, protocol.NONE, ""},
		{"all assigned brokers fenced", map[int32]bool{1: true, 2: true}, protocol.CreatableTopic{Name: "a", Assignments: [][]int32{{1, 2}}}, protocol.INVALID_REPLICATION_FACTOR, "all brokers in the assignment are fenced"},
		{"valid", nil, protocol.CreatableTopic{Name: "a", NumPartitions: 2, ReplicationFactor: 3}, protocol.NONE, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			im := imageWithBrokers(c.fenced, 1, 2, 3)
			rng := prng{s: 1}
			recs, code, msg := planTopic(im, config.DefaultBroker(), &c.topic, rng.next)
			if code != c.want {
				t.Fatalf("got %v (%q); want %v", code, msg, c.want)
			}
			if !strings.Contains(msg, c.message) {
				t.Errorf("message: got %q; want it to mention %q", msg, c.message)
			}
			if code != protocol.NONE && recs != nil {
				t.Errorf("records: got %d; want none on error", len(recs))
			}
		})
	}
}

func TestCreateTopicRecords(t *testing.T) {
	im := imageWithBrokers(map[int32]bool{2: true}, 1, 2, 3)
	rng := prng{s: 1}
	topic := protocol.CreatableTopic{Name: "a", Assignments: [][]int32{{2, 1, 3}, {3, 2, 1}}, Configs: map[string]string{"retention.ms": "1000", "min.insync.replicas": "2"}}
	recs, code, msg := planTopic(im, config.DefaultBroker(), &topic, rng.next)
	if code != protocol.NONE {
		t.Fatalf("got %v %q; want NONE", code, msg)
	}
	if len(recs) != 5 {
		t.Fatalf("records: got %d; want 5 (topic, 2 configs, 2 partitions)", len(recs))
	}
	if tr, ok := recs[0].(*metadata.TopicRecord); !ok || tr.Name != "a" || tr.TopicID == 0 {
		t.Errorf("record 0: got %#v; want TopicRecord a with an id", recs[0])
	}
	if c1, ok := recs[1].(*metadata.ConfigRecord); !ok || c1.Name != "min.insync.replicas" || c1.Value != "2" {
		t.Errorf("record 1: got %#v; want ConfigRecord min.insync.replicas=2 (key order)", recs[1])
	}
	p0 := recs[3].(*metadata.PartitionRecord)
	if p0.Leader != 1 || !sameList(p0.ISR, ids(1, 3)) || p0.LeaderEpoch != 0 || p0.PartitionEpoch != 0 {
		t.Errorf("partition 0: got leader %d ISR %v; want leader 1 (first unfenced), ISR [1 3], epochs 0", p0.Leader, p0.ISR)
	}
	p1 := recs[4].(*metadata.PartitionRecord)
	if p1.Leader != 3 || !sameList(p1.ISR, ids(3, 1)) {
		t.Errorf("partition 1: got leader %d ISR %v; want leader 3, ISR [3 1]", p1.Leader, p1.ISR)
	}
}

// Placement without an assignment, end to end: replicas distinct, leaders spread, random start
// drawn from the controller's stream. Also CreatePartitions, producer ids, ElectLeaders and a
// min.insync.replicas change clearing the ELR (KIP-966).
func TestControllerAdminRequests(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.AutoLeaderRebalanceEnable = false
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)

	w.request(9000, &protocol.CreateTopicsRequest{CorrelationID: 1, Topics: []protocol.CreatableTopic{
		{Name: "p", NumPartitions: 6, ReplicationFactor: 2},
		{Name: "p", NumPartitions: 1, ReplicationFactor: 1},
	}})
	w.run(100 * time.Millisecond)
	r := take[*protocol.CreateTopicsResponse](w, 9000)
	if r.Topics[0].Error != protocol.NONE || r.Topics[1].Error != protocol.TOPIC_ALREADY_EXISTS {
		t.Fatalf("create p twice in one request: got %v, %v; want NONE, TOPIC_ALREADY_EXISTS", r.Topics[0].Error, r.Topics[1].Error)
	}
	leaders := map[int32]int{}
	for i := int32(0); i < 6; i++ {
		p := partitionOf(t, w, "p", i)
		if len(p.Replicas) != 2 || p.Replicas[0] == p.Replicas[1] || p.Leader != p.Replicas[0] {
			t.Fatalf("p/%d: got replicas %v leader %d; want 2 distinct replicas led by the first", i, p.Replicas, p.Leader)
		}
		leaders[p.Leader]++
	}
	for id := int32(1); id <= 3; id++ {
		if leaders[id] != 2 {
			t.Fatalf("leaders per broker: got %v; want 2 each", leaders)
		}
	}

	// CreatePartitions grows only.
	w.request(9000, &protocol.CreatePartitionsRequest{CorrelationID: 2, Topic: "p", Count: 3})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.CreatePartitionsResponse](w, 9000); r.Error != protocol.INVALID_PARTITIONS {
		t.Fatalf("shrink p: got %v; want INVALID_PARTITIONS", r.Error)
	}
	w.request(9000, &protocol.CreatePartitionsRequest{CorrelationID: 3, Topic: "p", Count: 8})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.CreatePartitionsResponse](w, 9000); r.Error != protocol.NONE || len(w.active().Committed().Topics["p"].Partitions) != 8 {
		t.Fatalf("grow p to 8: got %v; want NONE and 8 partitions", r.Error)
	}

	// Producer id blocks of 1000 from 0.
	for i, want := range []int64{0, 1000} {
		w.request(1, &protocol.AllocateProducerIdsRequest{CorrelationID: int64(i), BrokerID: 1, BrokerEpoch: w.broker(1).epoch})
		w.run(50 * time.Millisecond)
		r := take[*protocol.AllocateProducerIdsResponse](w, 1)
		if r.Error != protocol.NONE || r.ProducerIDStart != want || r.ProducerIDLen != 1000 {
			t.Fatalf("block %d: got %+v; want start %d len 1000", i, r, want)
		}
	}

	// Preferred election: move t/0's leadership away with a controlled-shutdown-free trick
	// (fence broker 1 by session timeout), bring it back, then elect the preferred leader.
	createTopic(t, w, "t", [][]int32{{1, 2, 3}}, map[string]string{"min.insync.replicas": "3"})
	w.request(9000, &protocol.ElectLeadersRequest{CorrelationID: 4, ElectionType: protocol.ElectionPreferred, Partitions: []protocol.TopicPartition{{Topic: "t"}}})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.ElectLeadersResponse](w, 9000); r.Results[0].Error != protocol.ELECTION_NOT_NEEDED {
		t.Fatalf("preferred election on the preferred leader: got %v; want ELECTION_NOT_NEEDED", r.Results[0].Error)
	}
	w.broker(1).heartbeat = false
	w.run(cfg.BrokerSessionTimeout + time.Second)
	p := partitionOf(t, w, "t", 0)
	if p.Leader != 2 || !sameList(p.ELR, ids(1)) {
		t.Fatalf("t/0 after fencing 1: got leader %d ELR %v; want 2 and ELR [1] (ISR below min ISR 3)", p.Leader, p.ELR)
	}
	// A change of min.insync.replicas clears the ELR (KIP-966).
	w.request(9000, &protocol.IncrementalAlterConfigsRequest{CorrelationID: 5, Topic: "t", Configs: map[string]string{"min.insync.replicas": "2"}})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.IncrementalAlterConfigsResponse](w, 9000); r.Error != protocol.NONE {
		t.Fatalf("alter min.insync.replicas: got %v %q; want NONE", r.Error, r.ErrorMessage)
	}
	if p := partitionOf(t, w, "t", 0); len(p.ELR) != 0 || w.active().Committed().Config("t", "min.insync.replicas", "") != "2" {
		t.Fatalf("after min ISR change: got ELR %v config %q; want ELR [] and 2", p.ELR, w.active().Committed().Config("t", "min.insync.replicas", ""))
	}
	w.request(9000, &protocol.IncrementalAlterConfigsRequest{CorrelationID: 6, Topic: "t", Configs: map[string]string{"min.insync.replicas": "4"}})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.IncrementalAlterConfigsResponse](w, 9000); r.Error != protocol.NONE {
		t.Fatalf("min.insync.replicas above RF: got %v; want NONE (getTopicEffectiveMinIsr caps it)", r.Error)
	}

	// Broker 1 returns; its leadership comes back only with a preferred election.
	w.startHeartbeats(1)
	w.run(time.Second)
	w.request(2, &protocol.AlterPartitionRequest{CorrelationID: 7, BrokerID: 2, BrokerEpoch: w.broker(2).epoch, Partitions: []protocol.AlterPartitionItem{{
		TP: protocol.TopicPartition{Topic: "t"}, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: partitionOf(t, w, "t", 0).PartitionEpoch,
		NewISR: []protocol.BrokerState{{BrokerID: 2, BrokerEpoch: -1}, {BrokerID: 3, BrokerEpoch: -1}, {BrokerID: 1, BrokerEpoch: w.broker(1).epoch}},
	}}})
	w.run(50 * time.Millisecond)
	if r := take[*protocol.AlterPartitionResponse](w, 2); r.Partitions[0].Error != protocol.NONE {
		t.Fatalf("ISR expansion with 1: got %v; want NONE", r.Partitions[0].Error)
	}
	w.request(9000, &protocol.ElectLeadersRequest{CorrelationID: 8, ElectionType: protocol.ElectionPreferred})
	w.run(50 * time.Millisecond)
	er := take[*protocol.ElectLeadersResponse](w, 9000)
	var tRes protocol.ErrorCode = -99
	for _, res := range er.Results {
		if res.TP.Topic == "t" {
			tRes = res.Error
		}
	}
	if tRes != protocol.NONE {
		t.Fatalf("preferred election of t/0: got %v; want NONE", tRes)
	}
	if p := partitionOf(t, w, "t", 0); p.Leader != 1 || p.LeaderEpoch != 2 {
		t.Fatalf("t/0 after preferred election: got leader %d epoch %d; want 1, 2", p.Leader, p.LeaderEpoch)
	}
}

// Reference: auto.leader.rebalance.enable / leader.imbalance.check.interval.seconds: a broker
// preferred for partitions it does not lead gets them back without an admin request.
func TestControllerAutoLeaderRebalance(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.LeaderImbalanceCheckInterval = 5 * time.Second
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	createTopic(t, w, "t", [][]int32{{1, 2}, {1, 3}}, nil)
	w.broker(1).heartbeat = false
	w.run(cfg.BrokerSessionTimeout + time.Second)
	if p := partitionOf(t, w, "t", 0); p.Leader == 1 {
		t.Fatalf("t/0 after fencing 1: got leader 1; want another")
	}
	w.startHeartbeats(1)
	w.run(time.Second)
	for i := int32(0); i < 2; i++ {
		p := partitionOf(t, w, "t", i)
		other := p.Replicas[1]
		w.request(other, &protocol.AlterPartitionRequest{CorrelationID: 9, BrokerID: other, BrokerEpoch: w.broker(other).epoch, Partitions: []protocol.AlterPartitionItem{{
			TP: protocol.TopicPartition{Topic: "t", Partition: i}, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch,
			NewISR: []protocol.BrokerState{{BrokerID: other, BrokerEpoch: -1}, {BrokerID: 1, BrokerEpoch: -1}},
		}}})
	}
	w.run(2 * cfg.LeaderImbalanceCheckInterval)
	for i := int32(0); i < 2; i++ {
		if p := partitionOf(t, w, "t", i); p.Leader != 1 {
			t.Fatalf("t/%d after rebalance: got leader %d; want the preferred 1", i, p.Leader)
		}
	}
}

// Reference: ReplicationControlManager.maybeBalancePartitionLeaders. The KRaft controller
// tries a preferred election on every partition in imbalancedPartitions (leader ≠ first
// replica); leader.imbalance.per.broker.percentage is read only by the ZooKeeper-era
// KafkaController. So one imbalanced partition of eleven (9%, under the old 10% threshold)
// still moves back to its preferred leader.
func TestMaybeBalancePartitionLeaders(t *testing.T) {
	cfg := config.DefaultBroker()
	cfg.LeaderImbalanceCheckInterval = 5 * time.Second
	w := startCluster(t, cfg)
	for id := int32(1); id <= 3; id++ {
		w.startHeartbeats(id)
	}
	w.run(time.Second)
	const n = 11
	assignments := make([][]int32, n)
	for i := range assignments {
		assignments[i] = []int32{1, 2}
	}
	createTopic(t, w, "t", assignments, nil)
	w.broker(1).heartbeat = false
	w.run(cfg.BrokerSessionTimeout + time.Second)
	w.startHeartbeats(1)
	w.run(time.Second)
	rejoin := func(i int32) {
		t.Helper()
		p := partitionOf(t, w, "t", i)
		if p.Leader != 2 {
			t.Fatalf("t/%d before rejoin: got leader %d; want 2", i, p.Leader)
		}
		w.request(2, &protocol.AlterPartitionRequest{CorrelationID: int64(100 + i), BrokerID: 2, BrokerEpoch: w.broker(2).epoch, Partitions: []protocol.AlterPartitionItem{{
			TP: protocol.TopicPartition{Topic: "t", Partition: i}, LeaderEpoch: p.LeaderEpoch, PartitionEpoch: p.PartitionEpoch,
			NewISR: []protocol.BrokerState{{BrokerID: 2, BrokerEpoch: -1}, {BrokerID: 1, BrokerEpoch: -1}},
		}}})
	}
	// Ten partitions get broker 1 back in their ISR and return to it.
	for i := int32(0); i < n-1; i++ {
		rejoin(i)
	}
	w.run(2 * cfg.LeaderImbalanceCheckInterval)
	for i := int32(0); i < n-1; i++ {
		if p := partitionOf(t, w, "t", i); p.Leader != 1 {
			t.Fatalf("t/%d after rebalance: got leader %d; want the preferred 1", i, p.Leader)
		}
	}
	// The last one is 1 imbalanced partition of 11 for broker 1.
	rejoin(n - 1)
	w.run(2 * cfg.LeaderImbalanceCheckInterval)
	if p := partitionOf(t, w, "t", n-1); p.Leader != 1 {
		t.Fatalf("t/%d (1 of %d imbalanced) after rebalance: got leader %d; want the preferred 1", n-1, n, p.Leader)
	}
}
