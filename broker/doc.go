// Package broker is a Kafka broker as a deterministic state machine: the replica manager with
// its partitions (leader and follower replicas, ISR, HW, LEO, leader epochs and truncation), the
// produce and fetch paths with their purgatories, the follower fetcher, and the broker's life in
// a KRaft cluster (registration, heartbeats, fencing, controlled shutdown), learning every
// partition change by replaying the metadata log.
//
// A Broker is stepped by its environment with one input at a time — a delivered message or a
// fired timer — and answers through node.Env (messages, timers) and node.Disk (log segments,
// checkpoints). It never reads a clock or starts a goroutine.
//
// Sub-packages: log (the partition log), quorum (the KRaft metadata quorum), controller (the
// controller node), metadata (metadata records and image), protocol (messages), client
// (producer, consumer, admin), history (client operations), config, node (the node contract).
//
// Modelled, with the rules of Kafka 4.x: follower fetch (Partition.fetchRecords), ISR shrink and
// expand through AlterPartition with a maximal ISR (KIP-497), HW advancement with strict min ISR
// (Partition.maybeIncrementLeaderHW, KIP-966), produce with acks and min.insync.replicas
// (Partition.appendRecordsToLeader), leader epochs and truncation by diverging epoch (KIP-101,
// KIP-279, KIP-320; or to the HW with truncation=high-watermark), the KRaft broker lifecycle
// (KIP-631, KIP-841, BrokerLifecycleManager), idempotent producers (KIP-98, KIP-730). Left out for
// now: consumer groups, transactions, quotas, compression, tiered storage, reassignment, preferred
// read replicas.
package broker
