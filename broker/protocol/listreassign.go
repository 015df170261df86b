package protocol

// Behavior: ListPartitionReassignments (API key 46, KIP-455) asks the active controller for
// the reassignments in progress: every one, or those of the partitions named. The controller
// answers from its committed metadata (ReplicationControlManager.listPartitionReassignments
// reads at the last committed offset). A partition named that is not being moved, or that does
// not exist, is left out, as Kafka does. NOT_CONTROLLER makes the admin client retry.

// ListPartitionReassignmentsRequest lists reassignments in progress. Partitions nil (Kafka's
// null topics) lists them all.
type ListPartitionReassignmentsRequest struct {
	CorrelationID int64
	Partitions    []TopicPartition
}

// ListPartitionReassignmentsResponse answers ListPartitionReassignmentsRequest.
type ListPartitionReassignmentsResponse struct {
	CorrelationID int64
	Error         ErrorCode
	ErrorMessage  string
	Reassignments []OngoingReassignment // in topic, then partition order
}

// OngoingReassignment is one partition being moved: its current replicas (the target followed
// by the replicas being removed), and the adding and removing replicas.
type OngoingReassignment struct {
	TP                                         TopicPartition
	Replicas, AddingReplicas, RemovingReplicas []int32
}
