package protocol

// Behavior: incremental fetch sessions (KIP-227, FetchMetadata, FetchSessionHandler on the
// fetcher's side, FetchSession and FetchSessionCache on the leader's). A fetcher opens a session
// with a full fetch (SessionID 0 or the session to close, SessionEpoch InitialEpoch); the leader
// answers with the new session's id. Each later fetch carries the next epoch and only the
// partitions whose fetch state changed, plus the partitions to forget; the leader answers
// only the partitions with records, an error, a divergence, or a changed high watermark, last
// stable offset or log start offset. A fetch with SessionEpoch FinalEpoch is sessionless: it
// carries every partition and gets every partition back. Modelled errors: an unknown session
// (FETCH_SESSION_ID_NOT_FOUND) and an out-of-order epoch (INVALID_FETCH_SESSION_EPOCH); the
// fetcher then opens a new session with a full fetch. Not modelled: topic ids
// (FETCH_SESSION_TOPIC_ID_ERROR), per-partition max bytes in the session.

// Session ids and epochs (FetchMetadata).
const (
	// InvalidSessionID is FetchMetadata.INVALID_SESSION_ID: no session.
	InvalidSessionID int32 = 0
	// InitialEpoch is FetchMetadata.INITIAL_EPOCH: a full fetch that opens a session.
	InitialEpoch int32 = 0
	// FinalEpoch is FetchMetadata.FINAL_EPOCH: a sessionless full fetch (or one that closes
	// the session named).
	FinalEpoch int32 = -1
)

// Session errors (Errors.java).
const (
	FETCH_SESSION_ID_NOT_FOUND  ErrorCode = 70
	INVALID_FETCH_SESSION_EPOCH ErrorCode = 71
)

func init() {
	errorNames[FETCH_SESSION_ID_NOT_FOUND] = "FETCH_SESSION_ID_NOT_FOUND"
	errorNames[INVALID_FETCH_SESSION_EPOCH] = "INVALID_FETCH_SESSION_EPOCH"
}

// NextSessionEpoch is FetchMetadata.nextEpoch: the epoch after e, wrapping past the largest
// int32 to 1.
func NextSessionEpoch(e int32) int32 {
	if e < 0 {
		return FinalEpoch // the next epoch after FINAL_EPOCH is always FINAL_EPOCH
	}
	if e == 1<<31-1 {
		return 1
	}
	return e + 1
}
