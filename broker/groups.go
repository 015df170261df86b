package broker

import (
	"time"

	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
)

// Behavior: the broker's side of the group coordinator. FindCoordinator answers the leader of
// the group's partition of __consumer_offsets (KafkaApis.getCoordinator); the topic is created
// on first use through the active controller with offsets.topic.num.partitions and
// offsets.topic.replication.factor (AutoTopicCreationManager), COORDINATOR_NOT_AVAILABLE
// meanwhile. The partitions of __consumer_offsets this broker leads are the coordinator's
// shards: leadership and the high watermark are handed to it as they change.

// coordinatorLoadTime is how long a new coordinator takes to replay its partition (the
// simulator's; Kafka's depends on the partition's size).
const coordinatorLoadTime = 20 * time.Millisecond

func newCoordinator(b *Broker) *group.Coordinator {
	return group.New(group.Config{
		Partitions:            int32(b.cfg.OffsetsTopicNumPartitions),
		MinSessionTimeout:     b.cfg.GroupMinSessionTimeout,
		MaxSessionTimeout:     b.cfg.GroupMaxSessionTimeout,
		InitialRebalanceDelay: b.cfg.GroupInitialRebalanceDelay,
		CommitTimeout:         b.cfg.OffsetsCommitTimeout,
		NewMemberJoinTimeout:  5 * time.Minute,
		LoadTime:              coordinatorLoadTime,
		IgnoreOffsetCommits:   b.cfg.Bugs.IgnoreOffsetCommits,
		// KIP-848's defaults: group.consumer.session.timeout.ms and
		// group.consumer.heartbeat.interval.ms.
		ConsumerSessionTimeout:        45 * time.Second,
		ConsumerHeartbeatInterval:     5 * time.Second,
		AssignBeforeRevoke:            b.cfg.Bugs.AssignBeforeRevoke,
		ExposePendingTxnOffsets:       b.cfg.Bugs.ExposePendingTxnOffsets, // group/txnoffsets.go
		OffsetsRetention:              b.cfg.OffsetsRetention,
		OffsetsRetentionCheckInterval: b.cfg.OffsetsRetentionCheckInterval,
		MigrationPolicy:               b.cfg.GroupConsumerMigrationPolicy,
	}, coordinatorHost{topicWriter{b, protocol.OffsetsTopic}})
}

// Coordinator is the broker's group coordinator.
func (b *Broker) Coordinator() *group.Coordinator { return b.groups }

// coordinatorHost gives the coordinator the broker's partitions of __consumer_offsets.
type coordinatorHost struct{ topicWriter }

func (h coordinatorHost) HighWatermark(part int32) int64 {
	if p := h.leader(part); p != nil {
		return p.hw
	}
	return 0
}

func (h coordinatorHost) Rand() uint64 { return h.b.env.Rand() }

// PartitionCount is a topic's partition count in the broker's metadata image (0: no such
// topic): the subscription metadata of KIP-848 consumer groups.
func (h coordinatorHost) PartitionCount(topic string) int32 {
	if t := h.b.image.Topics[topic]; t != nil {
		return int32(len(t.Partitions))
	}
	return 0
}
