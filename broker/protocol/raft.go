package protocol

import "time"

// Behavior: the KRaft quorum protocol (KIP-595) that replicates the metadata log among the
// controllers: Vote (API key 52), BeginQuorumEpoch (53), EndQuorumEpoch (54) and the pull-based
// Fetch of the metadata log (Fetch on __cluster_metadata, here its own message so the metadata
// path stays apart from partition replication). Brokers fetch as observers (no vote). Modelled:
// epochs, votes with log up-to-dateness, leader-driven high watermark over the voters,
// divergence answered with a DivergingEpoch, pre-vote (KIP-996: a Vote with PreVote set asks
// whether the voter would vote, without bumping the epoch). Not modelled: snapshots, dynamic
// voter sets (KIP-853).

// MetadataEntry is one entry of the metadata log: a batch of metadata records appended
// atomically at Offset in Epoch.
type MetadataEntry struct {
	Offset  int64
	Epoch   int32
	Records []any
}

// VoteRequest asks a voter to vote for the candidate in CandidateEpoch. With PreVote (KIP-996,
// VoteRequest v2) it only asks whether the voter would: CandidateEpoch is then the prospective
// voter's current epoch (not bumped) and the answer changes no state.
type VoteRequest struct {
	CandidateEpoch  int32 // ReplicaEpoch
	CandidateID     int32
	LastOffsetEpoch int32 // epoch of the candidate's last entry
	LastOffset      int64 // the candidate's log end offset
	PreVote         bool  // a pre-vote: would the voter grant a vote, without changing its state
}

// VoteResponse answers a VoteRequest.
type VoteResponse struct {
	Error       ErrorCode
	LeaderID    int32 // the leader the voter knows in LeaderEpoch, or NoLeader
	LeaderEpoch int32
	VoteGranted bool
}

// BeginQuorumEpochRequest announces a new leader to the voters.
type BeginQuorumEpochRequest struct {
	LeaderID    int32
	LeaderEpoch int32
}

// BeginQuorumEpochResponse answers BeginQuorumEpochRequest.
type BeginQuorumEpochResponse struct {
	Error       ErrorCode
	LeaderID    int32
	LeaderEpoch int32
}

// EndQuorumEpochRequest is sent by a leader that resigns (graceful shutdown) so that the
// others start an election at once.
type EndQuorumEpochRequest struct {
	LeaderID            int32
	LeaderEpoch         int32
	PreferredSuccessors []int32
}

// EndQuorumEpochResponse answers EndQuorumEpochRequest.
type EndQuorumEpochResponse struct {
	Error       ErrorCode
	LeaderID    int32
	LeaderEpoch int32
}

// QuorumFetchRequest fetches the metadata log from the quorum leader. Voters' fetches advance
// the leader's high watermark; observers' (brokers') do not.
type QuorumFetchRequest struct {
	CorrelationID    int64
	ReplicaID        int32
	LeaderEpoch      int32 // the epoch the fetcher believes current
	FetchOffset      int64
	LastFetchedEpoch int32
	MaxWait          time.Duration
}

// QuorumFetchResponse answers a QuorumFetchRequest.
type QuorumFetchResponse struct {
	CorrelationID  int64
	Error          ErrorCode // NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, …
	LeaderID       int32
	LeaderEpoch    int32
	HighWatermark  int64
	DivergingEpoch EpochEndOffset
	Entries        []MetadataEntry
}
