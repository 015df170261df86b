package protocol

// Behavior: the ZooKeeper-era controller's requests to brokers (Kafka 3.x in ZooKeeper mode,
// ControllerChannelManager): LeaderAndIsr (API key 4) tells a partition's replicas its leader,
// leader epoch, ISR and zkVersion; UpdateMetadata (key 6) gives every broker the live brokers
// and every partition's state for its metadata cache; StopReplica (key 5) stops replicas.
// Each carries the controller's epoch; a broker that has seen a higher one answers
// STALE_CONTROLLER_EPOCH (11), and a request addressed to an older incarnation of the broker
// (its broker epoch, KIP-380) STALE_BROKER_EPOCH. Not modelled: the request versions, topic
// ids in the requests, the "type" field of LeaderAndIsr v5+.

// ZkPartitionState is one partition's state as the controller read it from
// /brokers/topics/T/partitions/I/state (LeaderAndIsrPartitionState).
type ZkPartitionState struct {
	TP              TopicPartition
	ControllerEpoch int32 // the epoch of the controller that wrote the state
	Leader          int32
	LeaderEpoch     int32
	ISR             []int32
	ZkVersion       int32 // the state znode's version: the partition epoch
	Replicas        []int32
	// AddingReplicas and RemovingReplicas are a reassignment in progress (KIP-455), as
	// /brokers/topics/T holds them: Replicas is then the target followed by the removed ones.
	AddingReplicas   []int32
	RemovingReplicas []int32
}

// LeaderAndIsrRequest is sent to a partition's replicas when its leader or ISR changes.
type LeaderAndIsrRequest struct {
	CorrelationID   int64
	ControllerID    int32
	ControllerEpoch int32
	BrokerEpoch     int64 // the addressed broker's epoch (the czxid of its /brokers/ids znode)
	Partitions      []ZkPartitionState
	Configs         map[string]map[string]string // topic configs of the partitions' topics
}

// LeaderAndIsrResponse answers LeaderAndIsrRequest.
type LeaderAndIsrResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// LiveBroker is a broker the controller sees registered, with its broker epoch.
type LiveBroker struct {
	ID    int32
	Epoch int64
}

// UpdateMetadataRequest refreshes every broker's metadata cache.
type UpdateMetadataRequest struct {
	CorrelationID   int64
	ControllerID    int32
	ControllerEpoch int32
	BrokerEpoch     int64
	LiveBrokers     []LiveBroker
	Partitions      []ZkPartitionState
	Configs         map[string]map[string]string
}

// UpdateMetadataResponse answers UpdateMetadataRequest.
type UpdateMetadataResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// StopReplicaRequest stops replicas (and deletes them when Delete).
type StopReplicaRequest struct {
	CorrelationID   int64
	ControllerID    int32
	ControllerEpoch int32
	BrokerEpoch     int64
	Partitions      []TopicPartition
	Delete          bool
}

// StopReplicaResponse answers StopReplicaRequest.
type StopReplicaResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// TraceArg puts the controller epoch in the trace.
func (r *LeaderAndIsrRequest) TraceArg() int64 { return int64(r.ControllerEpoch) }

// TraceArg puts the controller epoch in the trace.
func (r *UpdateMetadataRequest) TraceArg() int64 { return int64(r.ControllerEpoch) }

// TraceArg puts the error in the trace.
func (r *LeaderAndIsrResponse) TraceArg() int64 { return int64(r.Error) }

// ControlledShutdownRequest (API key 7) asks the ZooKeeper-era controller to move the
// broker's leaderships away before it stops (KafkaController.doControlledShutdown).
type ControlledShutdownRequest struct {
	CorrelationID int64
	BrokerID      int32
	BrokerEpoch   int64
}

// ControlledShutdownResponse answers it: the partitions the broker still leads (none: it may
// stop now; else it retries after controlled.shutdown.retry.backoff.ms).
type ControlledShutdownResponse struct {
	CorrelationID       int64
	Error               ErrorCode
	RemainingPartitions []TopicPartition
}
