package protocol

// Behavior: the elastic-cluster admin requests: AlterPartitionReassignments (API key 45,
// KIP-455) moves partitions' replicas; UnregisterBroker (64, KIP-500) removes a decommissioned
// broker's registration. Both go to the active controller; NOT_CONTROLLER makes the admin
// client retry. ListPartitionReassignments (46) is in listreassign.go. Not modelled: the request
// timeouts.

// AlterPartitionReassignmentsRequest starts, changes or cancels partition reassignments.
type AlterPartitionReassignmentsRequest struct {
	CorrelationID int64
	Partitions    []ReassignablePartition
}

// ReassignablePartition is one partition's target replicas, first = preferred leader. Cancel
// stands for Kafka's null replica list: revert the reassignment in progress.
type ReassignablePartition struct {
	TP       TopicPartition
	Replicas []int32
	Cancel   bool
}

// AlterPartitionReassignmentsResponse answers AlterPartitionReassignmentsRequest.
type AlterPartitionReassignmentsResponse struct {
	CorrelationID int64
	Results       []ReassignmentResult
}

// ReassignmentResult is one partition's result.
type ReassignmentResult struct {
	TP           TopicPartition
	Error        ErrorCode
	ErrorMessage string
}

// UnregisterBrokerRequest removes a broker's registration.
type UnregisterBrokerRequest struct {
	CorrelationID int64
	BrokerID      int32
}

// UnregisterBrokerResponse answers UnregisterBrokerRequest.
type UnregisterBrokerResponse struct {
	CorrelationID int64
	Error         ErrorCode
	ErrorMessage  string
}
