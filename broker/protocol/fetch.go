package protocol

import "time"

// Behavior: Fetch (API key 1), from followers (ReplicaID ≥ 0) and consumers (ReplicaID = -1).
// Modelled (FetchRequest.json, Partition.fetchRecords): fetch offset, current leader epoch (KIP-320), last fetched epoch
// and the DivergingEpoch answer (KIP-320 / KIP-595 style truncation), the follower's broker
// epoch (KIP-903), long polling up to MaxWait, isolation levels (HW for read_uncommitted, LSO
// for read_committed, LEO for followers), incremental fetch sessions (KIP-227,
// fetchsession.go). Not modelled: byte limits beyond MaxBytes, preferred read replicas
// (KIP-392).

// Isolation levels.
const (
	ReadUncommitted int8 = 0
	ReadCommitted   int8 = 1
)

// FetchRequest fetches records from partition leaders.
type FetchRequest struct {
	CorrelationID  int64
	ReplicaID      int32 // the follower's broker id, or ConsumerID
	ReplicaEpoch   int64 // the follower's broker epoch (KIP-903), -1 for consumers
	MaxWait        time.Duration
	MinBytes       int32
	MaxBytes       int32
	IsolationLevel int8
	// SessionID and SessionEpoch are the fetch session (KIP-227): InvalidSessionID and
	// InitialEpoch open one, FinalEpoch fetches without one.
	SessionID    int32
	SessionEpoch int32
	// Partitions holds, in an incremental fetch, only the partitions added to the session or
	// whose fetch state changed; Forgotten the partitions the session drops
	// (ForgottenTopicsData).
	Partitions []FetchPartition
	Forgotten  []TopicPartition
}

// FetchPartition is one partition of a fetch.
type FetchPartition struct {
	TP                 TopicPartition
	FetchOffset        int64
	LogStartOffset     int64 // the follower's log start offset, -1 for consumers
	CurrentLeaderEpoch int32 // the epoch the fetcher believes current (KIP-320), or UnknownEpoch
	LastFetchedEpoch   int32 // epoch of the fetcher's last record, or UnknownEpoch
}

// FetchResponse answers a FetchRequest.
type FetchResponse struct {
	CorrelationID int64
	// Error is the top-level error: FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH.
	Error ErrorCode
	// SessionID is the fetch session's id (KIP-227), InvalidSessionID when there is none.
	SessionID int32
	// Partitions holds, in an incremental session, only the partitions with something new.
	Partitions []FetchPartitionResponse
}

// FetchPartitionResponse is one partition's answer.
type FetchPartitionResponse struct {
	TP               TopicPartition
	Error            ErrorCode
	HighWatermark    int64
	LastStableOffset int64
	LogStartOffset   int64
	// DivergingEpoch is set (Epoch ≥ 0) when the fetcher's log diverges from the leader's:
	// it must truncate to at most EndOffset before fetching again.
	DivergingEpoch EpochEndOffset
	// CurrentLeader hints at the leader on NOT_LEADER_OR_FOLLOWER / FENCED_LEADER_EPOCH.
	CurrentLeader      int32
	CurrentLeaderEpoch int32
	Batches            []*RecordBatch
	// AbortedTransactions lists, for read_committed fetches, the aborted transactions that
	// overlap the returned range (LogSegment.collectAbortedTxns): the consumer drops their
	// records.
	AbortedTransactions []AbortedTransaction
}

// AbortedTransaction is FetchResponse's AbortedTransaction: a producer's aborted transaction
// starting at FirstOffset.
type AbortedTransaction struct {
	ProducerID  int64
	FirstOffset int64
}

// EpochEndOffset is an (epoch, end offset) pair as OffsetsForLeaderEpoch and DivergingEpoch
// carry it. Epoch is UnknownEpoch when absent.
type EpochEndOffset struct {
	Epoch     int32
	EndOffset int64
}

// NoDivergence is the EpochEndOffset of a fetch without divergence.
var NoDivergence = EpochEndOffset{Epoch: UnknownEpoch, EndOffset: UnknownOffset}
