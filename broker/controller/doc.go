// Package controller is the KRaft controller node (KIP-500/631; Kafka's QuorumController,
// ClusterControlManager, ReplicationControlManager): a voter of the metadata quorum (package
// quorum) whose leader is the active controller.
//
// Every controller replays the committed metadata log (entries below the quorum's high
// watermark) into a committed metadata.Image. The active controller also keeps a working image
// (committed plus its own appended but uncommitted records) against which it validates requests
// and builds the next records; when it loses leadership the working image is dropped and rebuilt
// from the committed one, as KRaft reverts to the last committed state.
//
// Modelled: broker registration with broker epochs and incarnation ids, clean versus unclean
// restarts (KAFKA-15586), heartbeats and session expiry with fencing, unfencing once a broker
// has caught up with the metadata log, controlled shutdown (KIP-841), AlterPartition with leader
// epoch, partition epoch and replica eligibility checks (KIP-497, KIP-841, KIP-903), leader
// election through PartitionChangeBuilder (clean, preferred, unclean, eligible leader replicas
// and last known leader, KIP-966), CreateTopics with Kafka's rack-unaware replica placement,
// CreatePartitions, ElectLeaders, IncrementalAlterConfigs, producer id blocks (KIP-730), the
// automatic preferred leader rebalance, partition reassignment (KIP-455:
// AlterPartitionReassignments, completed by the ISR change that holds every new replica) and
// UnregisterBroker.
//
// lastKnownElr follows Kafka 4.x: it holds the last leader of a partition that went leaderless
// with an empty ISR, and that leader is elected (marked unclean) only when ISR and ELR are both
// empty. An unclean restart removes a broker from every ELR but not from lastKnownElr, so a
// single-replica partition is not left offline forever after a crash.
//
// The leader recovery state follows KIP-704: an unclean election (or the last known leader's)
// marks the partition RECOVERING, later leader changes keep it, and only the leader's
// AlterPartition reporting RECOVERED clears it. The automatic rebalance tries every partition
// not led by its first replica (ReplicationControlManager.maybeBalancePartitionLeaders), and
// min.insync.replicas is capped at the replication factor (getTopicEffectiveMinIsr).
//
// ListPartitionReassignments answers from the committed metadata; a move's replication throttle
// is topic and cluster configs the brokers apply.
//
// Left out: racks, snapshots, feature levels, ACLs and client quotas,
// DUPLICATE_BROKER_REGISTRATION for a live old incarnation.
package controller
