package controller

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Behavior: the admin requests (CreateTopics, CreatePartitions, ElectLeaders,
// IncrementalAlterConfigs), producer id blocks (AllocateProducerIds, KIP-730) and the automatic
// preferred leader rebalance. Every request that writes is one metadata entry, answered once it
// commits. NumPartitions and ReplicationFactor of -1 take num.partitions and
// default.replication.factor, as in Kafka.
//
// Not modelled: validate-only requests, topic id collisions, deleting
// topics, the invalid-topic-name rules (only the empty name is refused).

func (c *Controller) handleCreateTopics(now time.Duration, from int32, req *protocol.CreateTopicsRequest) {
	resp := &protocol.CreateTopicsResponse{CorrelationID: req.CorrelationID, Topics: make([]protocol.CreatableTopicResult, len(req.Topics))}
	if c.working == nil {
		for i, t := range req.Topics {
			resp.Topics[i] = protocol.CreatableTopicResult{Name: t.Name, Error: protocol.NOT_CONTROLLER, ErrorMessage: "this controller is not active"}
		}
		c.env.Send(from, resp)
		return
	}
	var records []any
	for i := range req.Topics {
		t := &req.Topics[i]
		recs, code, msg := planTopic(c.working, c.cfg, t, c.env.Rand)
		resp.Topics[i] = protocol.CreatableTopicResult{Name: t.Name, Error: code, ErrorMessage: msg}
		for _, r := range recs {
			records = c.applyChange(records, r)
		}
	}
	if len(records) == 0 {
		c.env.Send(from, resp)
		return
	}
	nc := &protocol.CreateTopicsResponse{CorrelationID: req.CorrelationID, Topics: make([]protocol.CreatableTopicResult, len(req.Topics))}
	for i, r := range resp.Topics {
		nc.Topics[i] = r
		if r.Error == protocol.NONE {
			nc.Topics[i].Error, nc.Topics[i].ErrorMessage = protocol.NOT_CONTROLLER, "leadership lost before the topic was committed"
		}
	}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, resp, nc)
}

// planTopic validates one topic against im and returns the records that create it: a
// TopicRecord, a ConfigRecord per topic config (in key order) and a PartitionRecord per
// partition. rand draws the topic id and the placement's start index and shift.
func planTopic(im *metadata.Image, cfg config.Broker, t *protocol.CreatableTopic, rand func() uint64) ([]any, protocol.ErrorCode, string) {
	if t.Name == "" {
		return nil, protocol.INVALID_REQUEST, "topic name is empty"
	}
	if im.Topics[t.Name] != nil {
		return nil, protocol.TOPIC_ALREADY_EXISTS, "topic " + t.Name + " already exists"
	}
	brokers := im.BrokerIDs()
	var assignment [][]int32
	if t.Assignments != nil {
		if len(t.Assignments) == 0 {
			return nil, protocol.INVALID_REPLICA_ASSIGNMENT, "the replica assignment is empty"
		}
		if t.NumPartitions > 0 && int(t.NumPartitions) != len(t.Assignments) {
			return nil, protocol.INVALID_REPLICA_ASSIGNMENT, "the assignment has " + strconv.Itoa(len(t.Assignments)) + " partitions but " + strconv.Itoa(int(t.NumPartitions)) + " were asked for"
		}
		rf := len(t.Assignments[0])
		for i, a := range t.Assignments {
			if code, msg := validateAssignment(im, a, rf, i); code != protocol.NONE {
				return nil, code, msg
			}
		}
		assignment = t.Assignments
	} else {
		n, rf := int(t.NumPartitions), int(t.ReplicationFactor)
		if n == -1 {
			n = cfg.NumPartitions
		}
		if rf == -1 {
			rf = cfg.DefaultReplicationFactor
		}
		if n < 1 {
			return nil, protocol.INVALID_PARTITIONS, "number of partitions must be at least 1, got " + strconv.Itoa(n)
		}
		if rf < 1 {
			return nil, protocol.INVALID_REPLICATION_FACTOR, "replication factor must be at least 1, got " + strconv.Itoa(rf)
		}
		if rf > len(brokers) {
			return nil, protocol.INVALID_REPLICATION_FACTOR, "replication factor " + strconv.Itoa(rf) + " is larger than the " + strconv.Itoa(len(brokers)) + " registered brokers"
		}
		start := int(rand() % uint64(len(brokers)))
		shift := int(rand() % uint64(len(brokers)))
		assignment = assignReplicas(n, rf, brokers, start, shift, 0)
	}
	defaults, err := config.TopicFrom(cfg.Topic, im.Configs)
	if err != nil {
		defaults = cfg.Topic
	}
	// min.insync.replicas may exceed the replication factor: the controller and the leader use
	// the smaller of the two (getTopicEffectiveMinIsr, Partition.effectiveMinIsr).
	if _, err := config.TopicFrom(defaults, t.Configs); err != nil {
		return nil, protocol.INVALID_CONFIG, err.Error()
	}

	parts, code, msg := planPartitions(im, t.Name, assignment, 0)
	if code != protocol.NONE {
		return nil, code, msg
	}
	records := make([]any, 0, 1+len(t.Configs)+len(parts))
	id := rand()
	if id == 0 {
		id = 1
	}
	records = append(records, &metadata.TopicRecord{Name: t.Name, TopicID: id})
	for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
		records = append(records, &metadata.ConfigRecord{Topic: t.Name, Name: k, Value: t.Configs[k]})
	}
	return append(records, parts...), protocol.NONE, ""
}

// validateAssignment checks one partition's replicas: rf of them, registered, no duplicates.
func validateAssignment(im *metadata.Image, a []int32, rf, index int) (protocol.ErrorCode, string) {
	p := "partition " + strconv.Itoa(index)
	if len(a) == 0 {
		return protocol.INVALID_REPLICA_ASSIGNMENT, p + " has no replicas"
	}
	if len(a) != rf {
		return protocol.INVALID_REPLICA_ASSIGNMENT, p + " has " + strconv.Itoa(len(a)) + " replicas; every partition must have " + strconv.Itoa(rf)
	}
	for j, r := range a {
		if im.Brokers[r] == nil {
			return protocol.INVALID_REPLICA_ASSIGNMENT, p + " names broker " + strconv.Itoa(int(r)) + ", which is not registered"
		}
		if slices.Contains(a[:j], r) {
			return protocol.INVALID_REPLICA_ASSIGNMENT, p + " names broker " + strconv.Itoa(int(r)) + " twice"
		}
	}
	return protocol.NONE, ""
}

// planPartitions builds PartitionRecords for partitions first, first+1, … with the given
// replicas: ISR = the acceptable replicas, leader = the first of them, epochs 0.
func planPartitions(im *metadata.Image, topic string, assignment [][]int32, first int) ([]any, protocol.ErrorCode, string) {
	out := make([]any, 0, len(assignment))
	for i, replicas := range assignment {
		var isr []int32
		for _, r := range replicas {
			if b := im.Brokers[r]; b != nil && !b.Fenced && !b.InControlledShutdown {
				isr = append(isr, r)
			}
		}
		if len(isr) == 0 {
			return nil, protocol.INVALID_REPLICATION_FACTOR, "partition " + strconv.Itoa(first+i) + ": all brokers in the assignment are fenced"
		}
		out = append(out, &metadata.PartitionRecord{
			Topic: topic, Partition: int32(first + i), Replicas: slices.Clone(replicas), ISR: isr, Leader: isr[0],
		})
	}
	return out, protocol.NONE, ""
}

func (c *Controller) handleCreatePartitions(now time.Duration, from int32, req *protocol.CreatePartitionsRequest) {
	fail := func(code protocol.ErrorCode, msg string) {
		c.env.Send(from, &protocol.CreatePartitionsResponse{CorrelationID: req.CorrelationID, Error: code, ErrorMessage: msg})
	}
	if c.working == nil {
		fail(protocol.NOT_CONTROLLER, "this controller is not active")
		return
	}
	t := c.working.Topics[req.Topic]
	if t == nil {
		fail(protocol.UNKNOWN_TOPIC_OR_PARTITION, "topic "+req.Topic+" does not exist")
		return
	}
	have := len(t.Partitions)
	if int(req.Count) <= have {
		fail(protocol.INVALID_PARTITIONS, "topic "+req.Topic+" has "+strconv.Itoa(have)+" partitions; the count must grow, got "+strconv.Itoa(int(req.Count)))
		return
	}
	rf := 1
	if have > 0 && t.Partitions[0] != nil {
		rf = len(t.Partitions[0].Replicas)
	}
	add := int(req.Count) - have
	var assignment [][]int32
	if req.Assignments != nil {
		if len(req.Assignments) != add {
			fail(protocol.INVALID_REPLICA_ASSIGNMENT, "the assignment has "+strconv.Itoa(len(req.Assignments))+" partitions; "+strconv.Itoa(add)+" are being added")
			return
		}
		for i, a := range req.Assignments {
			if code, msg := validateAssignment(c.working, a, rf, have+i); code != protocol.NONE {
				fail(code, msg)
				return
			}
		}
		assignment = req.Assignments
	} else {
		brokers := c.brokerIDs()
		if rf > len(brokers) {
			fail(protocol.INVALID_REPLICATION_FACTOR, "replication factor "+strconv.Itoa(rf)+" is larger than the "+strconv.Itoa(len(brokers))+" registered brokers")
			return
		}
		start := int(c.env.Rand() % uint64(len(brokers)))
		shift := int(c.env.Rand() % uint64(len(brokers)))
		assignment = assignReplicas(add, rf, brokers, start, shift, have)
	}
	parts, code, msg := planPartitions(c.working, req.Topic, assignment, have)
	if code != protocol.NONE {
		fail(code, msg)
		return
	}
	var records []any
	for _, r := range parts {
		records = c.applyChange(records, r)
	}
	nc := &protocol.CreatePartitionsResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER, ErrorMessage: "leadership lost before the change was committed"}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, &protocol.CreatePartitionsResponse{CorrelationID: req.CorrelationID}, nc)
}

func (c *Controller) handleElectLeaders(now time.Duration, from int32, req *protocol.ElectLeadersRequest) {
	tps := req.Partitions
	if c.working == nil {
		resp := &protocol.ElectLeadersResponse{CorrelationID: req.CorrelationID}
		for _, tp := range tps {
			resp.Results = append(resp.Results, protocol.ElectLeadersResult{TP: tp, Error: protocol.NOT_CONTROLLER})
		}
		if tps == nil {
			resp.Results = []protocol.ElectLeadersResult{{Error: protocol.NOT_CONTROLLER}}
		}
		c.env.Send(from, resp)
		return
	}
	if tps == nil {
		for _, name := range c.working.TopicNames() {
			for i := range c.working.Topics[name].Partitions {
				tps = append(tps, protocol.TopicPartition{Topic: name, Partition: int32(i)})
			}
		}
	}
	resp := &protocol.ElectLeadersResponse{CorrelationID: req.CorrelationID, Results: make([]protocol.ElectLeadersResult, 0, len(tps))}
	var records []any
	for _, tp := range tps {
		res := protocol.ElectLeadersResult{TP: tp}
		p := c.working.Partition(tp.Topic, tp.Partition)
		switch {
		case p == nil:
			res.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
		case req.ElectionType == protocol.ElectionPreferred:
			if len(p.Replicas) > 0 && p.Leader == p.Replicas[0] {
				res.Error = protocol.ELECTION_NOT_NEEDED
			} else if rec := c.builder(p).SetElection(ElectionPreferred).Build(); rec == nil {
				res.Error = protocol.PREFERRED_LEADER_NOT_AVAILABLE
			} else {
				records = c.applyChange(records, rec)
			}
		case req.ElectionType == protocol.ElectionUnclean:
			if p.Leader != protocol.NoLeader {
				res.Error = protocol.ELECTION_NOT_NEEDED
			} else if rec := c.builder(p).SetElection(ElectionUnclean).Build(); rec == nil || rec.Leader == protocol.NoLeader {
				res.Error = protocol.ELIGIBLE_LEADERS_NOT_AVAILABLE
			} else {
				records = c.applyChange(records, rec)
			}
		default:
			res.Error = protocol.INVALID_REQUEST
		}
		resp.Results = append(resp.Results, res)
	}
	if len(records) == 0 {
		c.env.Send(from, resp)
		return
	}
	nc := &protocol.ElectLeadersResponse{CorrelationID: req.CorrelationID, Results: make([]protocol.ElectLeadersResult, len(resp.Results))}
	for i, r := range resp.Results {
		nc.Results[i] = protocol.ElectLeadersResult{TP: r.TP, Error: protocol.NOT_CONTROLLER}
	}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, resp, nc)
}

func (c *Controller) handleAlterConfigs(now time.Duration, from int32, req *protocol.IncrementalAlterConfigsRequest) {
	fail := func(code protocol.ErrorCode, msg string) {
		c.env.Send(from, &protocol.IncrementalAlterConfigsResponse{CorrelationID: req.CorrelationID, Error: code, ErrorMessage: msg})
	}
	if c.working == nil {
		fail(protocol.NOT_CONTROLLER, "this controller is not active")
		return
	}
	keys := slices.Sorted(maps.Keys(req.Configs))
	for _, k := range keys {
		if !config.IsTopicKey(k) {
			fail(protocol.INVALID_CONFIG, k+": unknown topic config key")
			return
		}
	}

	var topics []string // the topics whose effective config may change
	if req.Topic != "" {
		t := c.working.Topics[req.Topic]
		if t == nil {
			fail(protocol.UNKNOWN_TOPIC_OR_PARTITION, "topic "+req.Topic+" does not exist")
			return
		}
		topics = []string{req.Topic}
	} else {
		topics = c.working.TopicNames()
	}
	// Validate the result: the merged configs must parse. min.insync.replicas may exceed a
	// topic's replication factor (getTopicEffectiveMinIsr takes the smaller).
	merged := func(old map[string]string) map[string]string {
		m := make(map[string]string, len(old)+len(req.Configs))
		for k, v := range old {
			m[k] = v
		}
		for k, v := range req.Configs {
			if v == "" {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	defaults := c.working.Configs
	if req.Topic == "" {
		defaults = merged(c.working.Configs)
	}
	dt, err := config.TopicFrom(c.cfg.Topic, defaults)
	if err != nil {
		fail(protocol.INVALID_CONFIG, err.Error())
		return
	}
	oldMinISR := make([]int, len(topics))
	for i, name := range topics {
		oldMinISR[i] = c.topicConfig(name).MinInsyncReplicas
		own := c.working.Topics[name].Configs
		if req.Topic != "" {
			own = merged(own)
		}
		if _, err := config.TopicFrom(dt, own); err != nil {
			fail(protocol.INVALID_CONFIG, err.Error())
			return
		}
	}
	var records []any
	for _, k := range keys {
		records = c.applyChange(records, &metadata.ConfigRecord{Topic: req.Topic, Name: k, Value: req.Configs[k]})
	}
	// KIP-966: a change of min.insync.replicas invalidates the ELRs it governs.
	if c.cfg.EligibleLeaderReplicas {
		for i, name := range topics {
			if c.topicConfig(name).MinInsyncReplicas == oldMinISR[i] {
				continue
			}
			for _, p := range c.working.Topics[name].Partitions {
				if p == nil || len(p.ELR) == 0 {
					continue
				}
				if rec := c.builder(p).ClearELR().Build(); rec != nil {
					records = c.applyChange(records, rec)
				}
			}
		}
	}
	if len(records) == 0 {
		c.env.Send(from, &protocol.IncrementalAlterConfigsResponse{CorrelationID: req.CorrelationID})
		return
	}
	nc := &protocol.IncrementalAlterConfigsResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER, ErrorMessage: "leadership lost before the change was committed"}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, &protocol.IncrementalAlterConfigsResponse{CorrelationID: req.CorrelationID}, nc)
}

func (c *Controller) handleAllocateProducerIDs(now time.Duration, from int32, req *protocol.AllocateProducerIdsRequest) {
	nc := &protocol.AllocateProducerIdsResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER}
	if c.working == nil {
		c.env.Send(from, nc)
		return
	}
	b := c.working.Brokers[req.BrokerID]
	if b == nil || b.Epoch != req.BrokerEpoch {
		c.env.Send(from, &protocol.AllocateProducerIdsResponse{CorrelationID: req.CorrelationID, Error: protocol.STALE_BROKER_EPOCH})
		return
	}
	start := c.working.NextProducerID
	records := c.applyChange(nil, &metadata.ProducerIdsRecord{BrokerID: req.BrokerID, BrokerEpoch: b.Epoch, NextProducerID: start + producerIDBlockSize})
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, &protocol.AllocateProducerIdsResponse{CorrelationID: req.CorrelationID, ProducerIDStart: start, ProducerIDLen: producerIDBlockSize}, nc)
}

// rebalance is the automatic preferred leader election (auto.leader.rebalance.enable), as
// ReplicationControlManager.maybeBalancePartitionLeaders runs it: a preferred election on every
// partition whose leader is not its first replica (imbalancedPartitions), whatever the share of
// such partitions per broker (leader.imbalance.per.broker.percentage is read only by the
// ZooKeeper-era KafkaController). All changes go in one entry. Kafka stops at
// maxElectionsPerImbalance (1000) and reschedules at once; no cluster here comes near that.
func (c *Controller) rebalance(now time.Duration) {
	var records []any
	for _, name := range c.working.TopicNames() {
		for _, p := range c.working.Topics[name].Partitions {
			if p == nil || len(p.Replicas) == 0 || p.Leader == p.Replicas[0] {
				continue
			}
			if rec := c.builder(p).SetElection(ElectionPreferred).Build(); rec != nil {
				records = c.applyChange(records, rec)
			}
		}
	}
	if len(records) > 0 {
		c.appendRecords(now, records)
	}
}
