package protocol

// Behavior: KIP-848's consumer rebalance protocol (group.protocol=consumer): one request,
// ConsumerGroupHeartbeat (API key 68), carries a member's subscription and the partitions it
// owns; the answer carries its member epoch and the partitions it should own. The client sends
// every field in every heartbeat (a "full request" in GroupMetadataManager's words), so every
// answer carries the assignment. Member ids are the client's (KIP-1082). Commits of a consumer
// group carry the member epoch in OffsetCommitRequest.GenerationID (OffsetCommit v9's
// GenerationIdOrMemberEpoch). Not modelled: topic ids (topics travel by name), regular
// expression subscriptions, rack ids, client-side assignors.

// KIP-848 errors (Errors.java).
const (
	GROUP_ID_NOT_FOUND     ErrorCode = 69
	FENCED_MEMBER_EPOCH    ErrorCode = 110
	UNRELEASED_INSTANCE_ID ErrorCode = 111
	UNSUPPORTED_ASSIGNOR   ErrorCode = 112
	STALE_MEMBER_EPOCH     ErrorCode = 113
)

func init() {
	for code, name := range map[ErrorCode]string{
		GROUP_ID_NOT_FOUND: "GROUP_ID_NOT_FOUND", FENCED_MEMBER_EPOCH: "FENCED_MEMBER_EPOCH",
		UNRELEASED_INSTANCE_ID: "UNRELEASED_INSTANCE_ID", UNSUPPORTED_ASSIGNOR: "UNSUPPORTED_ASSIGNOR",
		STALE_MEMBER_EPOCH: "STALE_MEMBER_EPOCH",
	} {
		errorNames[code] = name
	}
}

// Member epochs with a meaning of their own (ConsumerGroupHeartbeatRequest).
const (
	JoinGroupMemberEpoch        int32 = 0  // joining, or rejoining after being fenced
	LeaveGroupMemberEpoch       int32 = -1 // LEAVE_GROUP_MEMBER_EPOCH: the member leaves
	LeaveGroupStaticMemberEpoch int32 = -2 // LEAVE_GROUP_STATIC_MEMBER_EPOCH: a static member leaves for now
)

// ConsumerGroupHeartbeatRequest joins, heartbeats in, acknowledges an assignment to, or leaves
// a consumer group.
type ConsumerGroupHeartbeatRequest struct {
	CorrelationID        int64
	GroupID              string
	MemberID             string
	MemberEpoch          int32  // 0 to join, -1 to leave, -2 for a static member to leave for now
	InstanceID           string // group.instance.id ("" = dynamic member)
	ClientID             string
	RebalanceTimeoutMs   int32    // max.poll.interval.ms: the time the member has to revoke
	SubscribedTopicNames []string // the topics the member subscribes to
	ServerAssignor       string   // group.remote.assignor ("" = the broker's default)
	TopicPartitions      []TopicPartition
}

// ConsumerGroupHeartbeatResponse gives the member its epoch and the partitions it should own.
type ConsumerGroupHeartbeatResponse struct {
	CorrelationID       int64
	Error               ErrorCode
	MemberID            string
	MemberEpoch         int32
	HeartbeatIntervalMs int32
	HasAssignment       bool             // Assignment is set (null otherwise)
	Assignment          []TopicPartition // the member's assigned partitions, in (topic, partition) order
}
