// Package group is the group coordinator of a broker: Kafka's GroupCoordinatorService with
// the classic protocol of GroupMetadataManager (classic.go), its KIP-848 consumer groups
// (consumer.go, with the server-side assignors of assignor.go) and the offsets of
// OffsetMetadataManager, sharded by the partitions of __consumer_offsets the broker leads.
//
// Each shard is the state of one partition of __consumer_offsets: its groups (ClassicGroup)
// and committed offsets. A write applies to that state at once and appends records to the
// partition's log; its answer waits until the partition's high watermark passes the records
// (CoordinatorRuntime.onHighWatermarkUpdated: acks=all without the min ISR check), and fails
// with COORDINATOR_NOT_AVAILABLE after offsets.commit.timeout.ms (CoordinatorRuntime's
// OperationTimeout). A broker that becomes the partition's leader replays its log
// (CoordinatorLoaderImpl), answering COORDINATOR_LOAD_IN_PROGRESS meanwhile; one that loses it
// drops the shard and answers NOT_COORDINATOR.
//
// Records are Kafka's record types (OffsetCommitKey/Value type 1, GroupMetadataKey/Value type
// 2, the ConsumerGroup* types 3 to 8) written as text in the record's key, the committed offset
// in its value.
//
// Not modelled: online upgrades between classic and consumer groups, transactional offset commits, offset expiry
// (offsets.retention.minutes), group.max.size, compaction of __consumer_offsets.
package group
