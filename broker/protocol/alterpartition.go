package protocol

// Behavior: AlterPartition (API key 56, KIP-497): a partition leader asks the active controller
// to change the ISR, and reports its leader recovery state (KIP-704). The controller checks the
// leader epoch and partition epoch, refuses ineligible replicas (fenced, shutting down, stale
// broker epoch: KIP-841/KIP-903), commits a PartitionChangeRecord and answers with the
// committed state. Until then the leader keeps the
// change pending (the maximal ISR of Partition.scala's PendingExpandIsr).

// AlterPartitionRequest proposes new ISRs.
type AlterPartitionRequest struct {
	CorrelationID int64
	BrokerID      int32
	BrokerEpoch   int64
	Partitions    []AlterPartitionItem
}

// AlterPartitionItem is one partition's proposal.
type AlterPartitionItem struct {
	TP             TopicPartition
	LeaderEpoch    int32
	PartitionEpoch int32
	NewISR         []BrokerState
	// LeaderRecoveryState is the leader's own state (KIP-704): 0 RECOVERED, 1 RECOVERING. A
	// leader clears RECOVERING on becoming leader (Partition.makeLeader), so its next
	// AlterPartition reports the partition RECOVERED.
	LeaderRecoveryState int8
}

// BrokerState is a replica with the broker epoch its fetches carried (KIP-903).
type BrokerState struct {
	BrokerID    int32
	BrokerEpoch int64
}

// AlterPartitionResponse answers AlterPartitionRequest.
type AlterPartitionResponse struct {
	CorrelationID int64
	Error         ErrorCode
	Partitions    []AlterPartitionResult
}

// AlterPartitionResult is the committed state of one partition, or its error.
type AlterPartitionResult struct {
	TP             TopicPartition
	Error          ErrorCode
	LeaderID       int32
	LeaderEpoch    int32
	ISR            []int32
	PartitionEpoch int32
	// LeaderRecoveryState is the committed state: 0 RECOVERED, 1 RECOVERING.
	LeaderRecoveryState int8
}
