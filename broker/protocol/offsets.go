package protocol

// Behavior: ListOffsets (API key 2) and OffsetForLeaderEpoch (API key 23). ListOffsets
// answers the log start (EarliestOffset) or the end visible to the isolation level
// (LatestOffset); while a new leader's HW is below the start of its epoch it answers
// OFFSET_NOT_AVAILABLE (KIP-207). OffsetForLeaderEpoch answers (largest epoch ≤ asked, its end
// offset) from the leader-epoch cache, which consumers use to detect truncation (KIP-320).

// ListOffsetsRequest asks partition leaders for an offset.
type ListOffsetsRequest struct {
	CorrelationID  int64
	ReplicaID      int32
	IsolationLevel int8
	Partitions     []ListOffsetsPartition
}

// ListOffsetsPartition is one partition of a ListOffsetsRequest.
type ListOffsetsPartition struct {
	TP                 TopicPartition
	CurrentLeaderEpoch int32
	Timestamp          int64 // LatestOffset or EarliestOffset
}

// ListOffsetsResponse answers a ListOffsetsRequest.
type ListOffsetsResponse struct {
	CorrelationID int64
	Partitions    []ListOffsetsPartitionResponse
}

// ListOffsetsPartitionResponse is one partition's answer.
type ListOffsetsPartitionResponse struct {
	TP          TopicPartition
	Error       ErrorCode
	Offset      int64
	LeaderEpoch int32
}

// OffsetForLeaderEpochRequest asks for the end offset of leader epochs.
type OffsetForLeaderEpochRequest struct {
	CorrelationID int64
	ReplicaID     int32
	Partitions    []OffsetForLeaderEpochPartition
}

// OffsetForLeaderEpochPartition is one partition of the request.
type OffsetForLeaderEpochPartition struct {
	TP                 TopicPartition
	CurrentLeaderEpoch int32
	LeaderEpoch        int32
}

// OffsetForLeaderEpochResponse answers an OffsetForLeaderEpochRequest.
type OffsetForLeaderEpochResponse struct {
	CorrelationID int64
	Partitions    []OffsetForLeaderEpochPartitionResponse
}

// OffsetForLeaderEpochPartitionResponse is one partition's answer.
type OffsetForLeaderEpochPartitionResponse struct {
	TP          TopicPartition
	Error       ErrorCode
	LeaderEpoch int32
	EndOffset   int64
}
