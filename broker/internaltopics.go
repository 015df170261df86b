package broker

import (
	"strconv"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
	"kafkasim/broker/txn"
)

// Behavior: the internal topics whose partition leaders host a coordinator: __consumer_offsets
// (the group coordinator, groups.go) and __transaction_state (the transaction coordinator,
// txns.go). Each is created on first use through the active controller (KafkaApis.getCoordinator
// and AutoTopicCreationManager); a key's coordinator is the leader of the partition
// Utils.abs(key.hashCode()) % partitions; the coordinator learns when this broker takes up or
// gives up a partition's leadership and when its high watermark moves (CoordinatorRuntime's
// onLoaded, onUnloaded, onHighWatermarkUpdated).

// partitionCoordinator is what the broker tells a coordinator about its topic's partitions.
type partitionCoordinator interface {
	Leadership(now time.Duration, part, epoch int32) // epoch -1: no longer the leader
	HighWatermark(now time.Duration, part int32, hw int64)
}

// internalTopic describes one coordinator's topic.
type internalTopic struct {
	name         string
	keyType      int8 // FindCoordinator's key type
	partitions   func(b *Broker) int
	replication  func(b *Broker) int
	partitionFor func(key string, partitions int32) int32
	coordinator  func(b *Broker) partitionCoordinator
	// configs are the topic configs the topic is created with
	// (GroupCoordinatorService.groupMetadataTopicConfigs,
	// TransactionStateManager.transactionTopicConfigs): both compacted, as Kafka keeps only each
	// group's, offset's and transactional id's latest record.
	configs func(b *Broker) map[string]string
}

var internalTopics = []internalTopic{
	{
		name: protocol.OffsetsTopic, keyType: protocol.CoordinatorGroup,
		partitions: func(b *Broker) int { return b.cfg.OffsetsTopicNumPartitions },
		// Kafka waits until offsets.topic.replication.factor brokers are up: a smaller cluster
		// sets it lower.
		replication:  func(b *Broker) int { return b.cfg.OffsetsTopicReplicationFactor },
		partitionFor: group.PartitionFor,
		coordinator:  func(b *Broker) partitionCoordinator { return b.groups },
		configs: func(b *Broker) map[string]string {
			c := map[string]string{"cleanup.policy": "compact", "compression.type": "producer"}
			segmentConfig(c, b.cfg.OffsetsTopicSegmentBytes)
			return c
		},
	},
	{
		name: protocol.TransactionStateTopic, keyType: protocol.CoordinatorTransaction,
		partitions:   func(b *Broker) int { return b.cfg.TransactionStateLogNumPartitions },
		replication:  txnStateReplication,
		partitionFor: txn.PartitionFor,
		coordinator:  func(b *Broker) partitionCoordinator { return b.txns },
		// min.insync.replicas is transaction.state.log.min.isr (2), as Kafka sets it
		// (TransactionLog's topic configs), whatever the brokers' default: a transaction's
		// state survives the last in-sync replica's crash. Capped at the topic's replication,
		// as that is (a cluster smaller than transaction.state.log.replication.factor still
		// runs transactions, where Kafka would wait for more brokers).
		configs: func(b *Broker) map[string]string {
			c := map[string]string{"cleanup.policy": "compact", "compression.type": "uncompressed", "unclean.leader.election.enable": "false",
				"min.insync.replicas": strconv.Itoa(max(min(b.cfg.TransactionStateLogMinISR, txnStateReplication(b)), 1))}
			segmentConfig(c, b.cfg.TransactionStateLogSegmentBytes)
			return c
		},
	},
}

// txnStateReplication is __transaction_state's replication: transaction.state.log.replication.factor,
// capped at the brokers the cluster has.
func txnStateReplication(b *Broker) int {
	return max(min(b.cfg.TransactionStateLogReplicationFactor, len(b.image.Brokers)), 1)
}

// segmentConfig sets an internal topic's segment size (offsets.topic.segment.bytes,
// transaction.state.log.segment.bytes): as segment.bytes from Kafka 4.0's 1 MiB minimum up
// (KIP-1030), below it as internal.segment.bytes, so that a teaching scenario may roll small
// segments of __consumer_offsets and watch them compacted (Kafka would refuse the topic).
func segmentConfig(c map[string]string, n int64) {
	if n >= config.MinSegmentBytes {
		c["segment.bytes"] = strconv.FormatInt(n, 10)
	} else {
		c["internal.segment.bytes"] = strconv.FormatInt(n, 10)
	}
}

// internalTopicNamed is the internal topic called name, nil for any other topic.
func internalTopicNamed(name string) *internalTopic {
	for i := range internalTopics {
		if internalTopics[i].name == name {
			return &internalTopics[i]
		}
	}
	return nil
}

// coordinatorLeadership hands a change of an internal topic's replica to its coordinator.
func (b *Broker) coordinatorLeadership(now time.Duration, p *Partition) {
	t := internalTopicNamed(p.tp.Topic)
	if t == nil {
		return
	}
	c := t.coordinator(b)
	if p.isLeader {
		c.Leadership(now, p.tp.Partition, p.leaderEpoch)
		c.HighWatermark(now, p.tp.Partition, p.hw)
	} else {
		c.Leadership(now, p.tp.Partition, -1)
	}
}

// The coordinators' expiry: the group coordinator's offsets.retention.minutes runs on the
// broker's log retention tick, when offsets.retention.check.interval.ms has passed since its last
// run (group.Coordinator.CleanupGroupMetadata; Kafka schedules it on the coordinator's own
// timer), so that no extra timer enters every run's trace; the transaction coordinator's
// transactional.id.expiration.ms runs on its abort timer (txn.Coordinator's
// removeExpiredTransactionalIDs). Both write tombstones that the log cleaner of the compacted
// internal topics later removes.

// coordinatorHighWatermark tells an internal topic's coordinator that the HW of a partition this
// broker leads moved (CoordinatorRuntime.onHighWatermarkUpdated).
func (b *Broker) coordinatorHighWatermark(now time.Duration, p *Partition) {
	if t := internalTopicNamed(p.tp.Topic); t != nil {
		t.coordinator(b).HighWatermark(now, p.tp.Partition, p.hw)
	}
}

// handleFindCoordinator: KafkaApis.getCoordinator for both key types.
func (b *Broker) handleFindCoordinator(now time.Duration, from int32, r *protocol.FindCoordinatorRequest) {
	resp := &protocol.FindCoordinatorResponse{CorrelationID: r.CorrelationID, Error: protocol.COORDINATOR_NOT_AVAILABLE, NodeID: -1}
	defer b.env.Send(from, resp)
	t := &internalTopics[0]
	for i := range internalTopics {
		if internalTopics[i].keyType == r.KeyType {
			t = &internalTopics[i]
		}
	}
	if r.Key == "" {
		resp.Error = protocol.INVALID_REQUEST
		return
	}
	if b.image.Topics[t.name] == nil {
		b.createInternalTopic(now, t)
		return
	}
	mp := b.image.Partition(t.name, t.partitionFor(r.Key, int32(t.partitions(b))))
	if mp == nil || mp.Leader < 0 {
		return
	}
	if reg := b.image.Brokers[mp.Leader]; reg == nil || reg.Fenced {
		return
	}
	resp.Error, resp.NodeID = protocol.NONE, mp.Leader
}

// createInternalTopic asks the active controller to create an internal topic, at most once a
// second (AutoTopicCreationManager keeps one request in flight per topic).
func (b *Broker) createInternalTopic(now time.Duration, t *internalTopic) {
	if at, ok := b.internalAsked[t.name]; ok && now < at+time.Second {
		return
	}
	ctl := b.activeController()
	if ctl < 0 {
		return
	}
	b.internalAsked[t.name] = now
	b.env.Send(ctl, &protocol.CreateTopicsRequest{CorrelationID: b.nextCorr(), Topics: []protocol.CreatableTopic{{
		Name: t.name, NumPartitions: int32(t.partitions(b)), ReplicationFactor: int16(t.replication(b)), Configs: t.configs(b),
	}}})
}

// topicWriter is what a coordinator's host shares: the broker's leader replicas of one
// internal topic, written with acks=all semantics by the coordinator
// (CoordinatorPartitionWriter), and the broker's network and timers.
type topicWriter struct {
	b     *Broker
	topic string
}

func (h topicWriter) leader(part int32) *Partition {
	p := h.b.parts[protocol.TopicPartition{Topic: h.topic, Partition: part}]
	if p == nil || !p.isLeader {
		return nil
	}
	return p
}

// Append writes the coordinator's records as the leader (CoordinatorPartitionWriter.append);
// it returns the offset after them, which the HW must pass before the write is acknowledged.
func (h topicWriter) Append(part int32, recs []protocol.Record, now time.Duration) (int64, protocol.ErrorCode) {
	p := h.leader(part)
	if p == nil {
		return -1, protocol.NOT_LEADER_OR_FOLLOWER
	}
	batch := &protocol.RecordBatch{ProducerID: protocol.NoProducerID, ProducerEpoch: -1, BaseSequence: protocol.NoSequence, Records: recs}
	_, base, _, code := p.log.AppendAsLeader(batch, p.leaderEpoch, now)
	if code != protocol.NONE {
		return -1, code
	}
	p.maybeIncrementHW(now)
	p.wakeFetches(now)
	return base + int64(len(recs)), protocol.NONE
}

// Batches is the log of a partition this broker leads, for a new coordinator to replay.
func (h topicWriter) Batches(part int32) []*protocol.RecordBatch {
	if p := h.leader(part); p != nil {
		return p.log.Batches()
	}
	return nil
}

func (h topicWriter) Send(to int32, msg any)             { h.b.env.Send(to, msg) }
func (h topicWriter) After(d time.Duration, payload any) { h.b.env.After(d, payload) }

// RetentionTimerArg is the trace argument of the broker's log retention timer
// (log.retention.check.interval.ms), on which every replica runs retention and the log cleaner
// (Partition.cleanUp): the UI looks at the logs of the broker whose timer it was to log the
// runs that changed them, without adding events of its own to the trace.
const RetentionTimerArg = int64(tickRetention)
