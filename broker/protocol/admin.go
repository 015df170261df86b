package protocol

// Behavior: the admin requests a scenario issues against the active controller: CreateTopics
// (API key 19), CreatePartitions (37), ElectLeaders (43), IncrementalAlterConfigs (44). A
// controller that is not the quorum leader answers NOT_CONTROLLER; the admin client retries.

// CreateTopicsRequest creates topics.
type CreateTopicsRequest struct {
	CorrelationID int64
	Topics        []CreatableTopic
}

// CreatableTopic is one topic to create. Assignments, when given, fixes each partition's
// replicas (first = preferred leader); else the controller assigns them as Kafka does.
type CreatableTopic struct {
	Name              string
	NumPartitions     int32
	ReplicationFactor int16
	Assignments       [][]int32
	Configs           map[string]string
}

// CreateTopicsResponse answers CreateTopicsRequest.
type CreateTopicsResponse struct {
	CorrelationID int64
	Topics        []CreatableTopicResult
}

// CreatableTopicResult is one topic's result.
type CreatableTopicResult struct {
	Name         string
	Error        ErrorCode
	ErrorMessage string
}

// CreatePartitionsRequest raises a topic's partition count (never lowers it).
type CreatePartitionsRequest struct {
	CorrelationID int64
	Topic         string
	Count         int32
	Assignments   [][]int32 // for the new partitions only; nil lets the controller assign
}

// CreatePartitionsResponse answers CreatePartitionsRequest.
type CreatePartitionsResponse struct {
	CorrelationID int64
	Error         ErrorCode
	ErrorMessage  string
}

// Election types of ElectLeaders.
const (
	ElectionPreferred int8 = 0
	ElectionUnclean   int8 = 1
)

// ElectLeadersRequest triggers a preferred or unclean leader election.
type ElectLeadersRequest struct {
	CorrelationID int64
	ElectionType  int8
	Partitions    []TopicPartition // nil means all
}

// ElectLeadersResponse answers ElectLeadersRequest.
type ElectLeadersResponse struct {
	CorrelationID int64
	Results       []ElectLeadersResult
}

// ElectLeadersResult is one partition's result.
type ElectLeadersResult struct {
	TP    TopicPartition
	Error ErrorCode
}

// IncrementalAlterConfigsRequest sets configs on a topic, or cluster-wide defaults when Topic
// is empty.
type IncrementalAlterConfigsRequest struct {
	CorrelationID int64
	Topic         string
	Configs       map[string]string
}

// IncrementalAlterConfigsResponse answers IncrementalAlterConfigsRequest.
type IncrementalAlterConfigsResponse struct {
	CorrelationID int64
	Error         ErrorCode
	ErrorMessage  string
}
