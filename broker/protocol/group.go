package protocol

// Behavior: the classic group protocol's requests as the Java consumer sends them
// (FindCoordinator 10, JoinGroup 11, Heartbeat 12, LeaveGroup 13, SyncGroup 14, OffsetCommit 8,
// OffsetFetch 9), one group per request. Subscriptions and assignments travel as Go values
// rather than ConsumerProtocol bytes. KIP-848's ConsumerGroupHeartbeat is in consumergroup.go.
// Not modelled: batched FindCoordinator keys, transactional offset commits.

// Group errors (Errors.java).
const (
	COORDINATOR_LOAD_IN_PROGRESS ErrorCode = 14
	INCONSISTENT_GROUP_PROTOCOL  ErrorCode = 23
	INVALID_GROUP_ID             ErrorCode = 24
	INVALID_SESSION_TIMEOUT      ErrorCode = 26
	MEMBER_ID_REQUIRED           ErrorCode = 79
	FENCED_INSTANCE_ID           ErrorCode = 82
	GROUP_MAX_SIZE_REACHED       ErrorCode = 81
)

func init() {
	for code, name := range map[ErrorCode]string{
		COORDINATOR_LOAD_IN_PROGRESS: "COORDINATOR_LOAD_IN_PROGRESS", INCONSISTENT_GROUP_PROTOCOL: "INCONSISTENT_GROUP_PROTOCOL",
		INVALID_GROUP_ID: "INVALID_GROUP_ID", INVALID_SESSION_TIMEOUT: "INVALID_SESSION_TIMEOUT",
		MEMBER_ID_REQUIRED: "MEMBER_ID_REQUIRED", FENCED_INSTANCE_ID: "FENCED_INSTANCE_ID",
		GROUP_MAX_SIZE_REACHED: "GROUP_MAX_SIZE_REACHED",
	} {
		errorNames[code] = name
	}
}

// OffsetsTopic is the internal topic that holds groups and committed offsets.
const OffsetsTopic = "__consumer_offsets"

// FindCoordinatorRequest asks which broker coordinates a group (key type GROUP).
type FindCoordinatorRequest struct {
	CorrelationID int64
	Key           string // the group id, or the transactional id (KeyType TRANSACTION)
	KeyType       int8   // CoordinatorGroup (0) or CoordinatorTransaction (1)
}

// FindCoordinatorResponse names the coordinator: the leader of the group's partition of
// __consumer_offsets.
type FindCoordinatorResponse struct {
	CorrelationID int64
	Error         ErrorCode
	NodeID        int32
}

// GroupProtocol is one assignor a member supports, with its subscription.
type GroupProtocol struct {
	Name   string // range, roundrobin, cooperative-sticky
	Topics []string
	Owned  []TopicPartition // ConsumerProtocolSubscription.ownedPartitions (KIP-429)
}

// JoinGroupRequest joins (or rejoins) a classic group.
type JoinGroupRequest struct {
	CorrelationID      int64
	GroupID            string
	SessionTimeoutMs   int32
	RebalanceTimeoutMs int32
	MemberID           string
	GroupInstanceID    string // "" = dynamic member (KIP-345)
	ClientID           string
	ProtocolType       string // "consumer"
	Protocols          []GroupProtocol
}

// JoinGroupMember is a member as the leader sees it in its JoinGroup response.
type JoinGroupMember struct {
	MemberID        string
	GroupInstanceID string
	Metadata        GroupProtocol
}

// JoinGroupResponse ends the join phase for one member.
type JoinGroupResponse struct {
	CorrelationID  int64
	Error          ErrorCode
	GenerationID   int32
	ProtocolName   string
	Leader         string
	SkipAssignment bool
	MemberID       string
	Members        []JoinGroupMember // only the leader's response has them
}

// SyncGroupAssignment is one member's assignment, sent by the leader.
type SyncGroupAssignment struct {
	MemberID   string
	Partitions []TopicPartition
}

// SyncGroupRequest: the leader sends every member's assignment; followers send none.
type SyncGroupRequest struct {
	CorrelationID   int64
	GroupID         string
	GenerationID    int32
	MemberID        string
	GroupInstanceID string
	ProtocolName    string
	Assignments     []SyncGroupAssignment
}

// SyncGroupResponse carries the member's assignment.
type SyncGroupResponse struct {
	CorrelationID int64
	Error         ErrorCode
	ProtocolName  string
	Assignment    []TopicPartition
}

// HeartbeatRequest keeps a member's session alive.
type HeartbeatRequest struct {
	CorrelationID   int64
	GroupID         string
	GenerationID    int32
	MemberID        string
	GroupInstanceID string
}

// HeartbeatResponse answers a heartbeat; REBALANCE_IN_PROGRESS asks the member to rejoin.
type HeartbeatResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// LeaveGroupRequest removes members (a consumer closing: one member).
type LeaveGroupRequest struct {
	CorrelationID   int64
	GroupID         string
	MemberID        string
	GroupInstanceID string
}

// LeaveGroupResponse answers LeaveGroup.
type LeaveGroupResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// OffsetCommitPartition is one committed offset: the next offset to consume and the leader
// epoch of the last consumed record (KIP-320).
type OffsetCommitPartition struct {
	TP          TopicPartition
	Offset      int64
	LeaderEpoch int32
}

// OffsetCommitRequest commits offsets for a group member of a generation (-1: a simple,
// group-less commit).
type OffsetCommitRequest struct {
	CorrelationID   int64
	GroupID         string
	GenerationID    int32
	MemberID        string
	GroupInstanceID string
	Partitions      []OffsetCommitPartition
}

// OffsetCommitPartitionResponse is one partition's result.
type OffsetCommitPartitionResponse struct {
	TP    TopicPartition
	Error ErrorCode
}

// OffsetCommitResponse answers OffsetCommit per partition.
type OffsetCommitResponse struct {
	CorrelationID int64
	Partitions    []OffsetCommitPartitionResponse
}

// OffsetFetchRequest reads a group's committed offsets (RequireStable as the Java consumer
// sets it).
type OffsetFetchRequest struct {
	CorrelationID int64
	GroupID       string
	Partitions    []TopicPartition
	// RequireStable (KIP-447): answer UNSTABLE_OFFSET_COMMIT while a transactional offset
	// commit of the group is pending (txnoffsets.go).
	RequireStable bool
}

// OffsetFetchPartition is one committed offset: -1 when none.
type OffsetFetchPartition struct {
	TP          TopicPartition
	Offset      int64
	LeaderEpoch int32
}

// OffsetFetchResponse answers OffsetFetch.
type OffsetFetchResponse struct {
	CorrelationID int64
	Error         ErrorCode
	Partitions    []OffsetFetchPartition
}

// RangeShare is member i's share when n partitions of a topic are split in order among
// members, as Kafka's RangeAssignor splits a topic (the client's, and the group coordinator's
// for KIP-848): each takes n/members partitions and the first n%members one more.
func RangeShare(n int32, members, i int) (start, count int32) {
	per, extra := n/int32(members), n%int32(members)
	start = int32(i)*per + min(int32(i), extra)
	count = per
	if int32(i) < extra {
		count++
	}
	return start, count
}
