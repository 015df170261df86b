package protocol

import "time"

// Behavior: Produce (API key 0). Modelled: acks 0/1/all, the request timeout that bounds how
// long an acks=all request waits in purgatory, per-partition errors and base offsets, the
// duplicate answer of an idempotent retry. Not modelled: quotas, record validation, compression.

// Acks values.
const (
	AcksNone   int16 = 0
	AcksLeader int16 = 1
	AcksAll    int16 = -1
)

// ProduceRequest appends batches to partition leaders. With Acks == AcksNone no response is sent.
type ProduceRequest struct {
	CorrelationID int64
	Acks          int16         // 0, 1 or -1 (all)
	Timeout       time.Duration // how long the leader may wait for acks=all (request.timeout.ms)
	Partitions    []ProducePartition
	// TransactionalID is the transactional producer's id; with TransactionVersion 2 the leader
	// adds the partition to its transaction itself (KIP-890, txn2.go).
	TransactionalID    string
	TransactionVersion int8
}

// ProducePartition is one partition's batch.
type ProducePartition struct {
	TP    TopicPartition
	Batch *RecordBatch
}

// ProduceResponse answers a ProduceRequest.
type ProduceResponse struct {
	CorrelationID int64
	Partitions    []ProducePartitionResponse
}

// ProducePartitionResponse is one partition's result.
type ProducePartitionResponse struct {
	TP             TopicPartition
	Error          ErrorCode
	BaseOffset     int64 // offset of the batch's first record, -1 on error
	LogStartOffset int64
	// CurrentLeader hints at the new leader on NOT_LEADER_OR_FOLLOWER (KIP-951).
	CurrentLeader   int32
	CurrentLeaderEp int32
}
