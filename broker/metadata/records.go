package metadata

// The record types, named after Kafka's metadata records (metadata/src/main/resources/common/
// metadata/*.json). Records are immutable once appended.

// LeaderRecoveryState is Kafka's LeaderRecoveryState (KIP-704): RECOVERING from the unclean
// election of a leader until that leader reports, in an AlterPartition, that it has recovered.
type LeaderRecoveryState int8

const (
	// LeaderRecovered is RECOVERED (0): the leader was elected cleanly, or has recovered.
	LeaderRecovered LeaderRecoveryState = 0
	// LeaderRecovering is RECOVERING (1): the leader was elected uncleanly and has not yet
	// reported recovery. A leader change alone does not clear it.
	LeaderRecovering LeaderRecoveryState = 1
)

func (s LeaderRecoveryState) String() string {
	switch s {
	case LeaderRecovered:
		return "RECOVERED"
	case LeaderRecovering:
		return "RECOVERING"
	}
	return "UNKNOWN"
}

// RegisterBrokerRecord registers a broker session. A broker starts fenced.
type RegisterBrokerRecord struct {
	BrokerID      int32
	BrokerEpoch   int64 // the offset of this record, as KRaft assigns it
	IncarnationID uint64
	Fenced        bool
}

// BrokerRegistrationChangeRecord fences, unfences or marks a broker in controlled shutdown.
type BrokerRegistrationChangeRecord struct {
	BrokerID             int32
	BrokerEpoch          int64
	Fenced               bool
	InControlledShutdown bool
}

// UnregisterBrokerRecord removes a broker's registration (UnregisterBroker, API key 64): the
// broker has been decommissioned.
type UnregisterBrokerRecord struct {
	BrokerID    int32
	BrokerEpoch int64
}

// TopicRecord creates a topic.
type TopicRecord struct {
	Name    string
	TopicID uint64
}

// PartitionRecord creates a partition.
type PartitionRecord struct {
	Topic          string
	Partition      int32
	Replicas       []int32 // assignment order; the first is the preferred leader
	ISR            []int32
	ELR            []int32 // eligible leader replicas (KIP-966)
	LastKnownELR   []int32
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	// LeaderRecoveryState is RECOVERED for a new partition.
	LeaderRecoveryState LeaderRecoveryState

	// made is the state it creates, shared by every image that applies it (Image.Apply):
	// a value, not a pointer, so that the record prints the same in every run.
	made  Partition
	built bool
}

// PartitionChangeRecord carries a partition's whole new state, as PartitionChangeBuilder
// computes it (real records carry only the changed fields; the result is the same).
type PartitionChangeRecord struct {
	Topic          string
	Partition      int32
	ISR            []int32
	ELR            []int32
	LastKnownELR   []int32
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	// Replicas, AddingReplicas and RemovingReplicas are the assignment after the change
	// (KIP-455): during a reassignment Replicas is the target followed by the replicas being
	// removed. A nil Replicas leaves the assignment as it was.
	Replicas         []int32
	AddingReplicas   []int32
	RemovingReplicas []int32
	// LeaderRecoveryState is the partition's state after the change (KIP-704): an unclean
	// election sets RECOVERING; only the leader's AlterPartition sets RECOVERED again.
	LeaderRecoveryState LeaderRecoveryState
	// Unclean is set when this change elected its leader from outside the ISR and ELR
	// (PartitionChangeBuilder.tryElection's "using an unclean election"). It is not a field
	// of Kafka's record: the checker reads it to attribute data loss to the election.
	Unclean bool

	// made is the state it makes, shared by every image that applies it to a partition of
	// the same assignment (Image.Apply).
	made  Partition
	built bool
}

// ConfigRecord sets a config. Topic "" means the cluster-wide default. Value "" removes it.
type ConfigRecord struct {
	Topic string
	Name  string
	Value string
}

// ProducerIdsRecord allocates a block of producer ids to a broker (KIP-730).
type ProducerIdsRecord struct {
	BrokerID       int32
	BrokerEpoch    int64
	NextProducerID int64 // the first id after the allocated block
}

// LeaderChangeRecord is the control record a new quorum leader appends first (KIP-595).
type LeaderChangeRecord struct {
	LeaderID int32
	Voters   []int32
}
