package protocol

// Behavior: Metadata (API key 3) as clients use it: the live brokers, the active controller,
// and each partition's leader, leader epoch, replicas and ISR as the answering broker's
// metadata image has them (which may be stale: brokers learn from the metadata log).

// MetadataRequest asks a broker for topic metadata. Nil Topics means all topics.
type MetadataRequest struct {
	CorrelationID int64
	Topics        []string
}

// MetadataResponse answers a MetadataRequest.
type MetadataResponse struct {
	CorrelationID int64
	Brokers       []int32 // registered, unfenced brokers
	ControllerID  int32
	Topics        []TopicMetadata
}

// TopicMetadata describes one topic.
type TopicMetadata struct {
	Name       string
	Error      ErrorCode
	Partitions []PartitionMetadata
}

// PartitionMetadata describes one partition.
type PartitionMetadata struct {
	Partition   int32
	Error       ErrorCode // LEADER_NOT_AVAILABLE when offline
	Leader      int32
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
}
