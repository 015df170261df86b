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

// FetchSessionHandler is the fetcher's side of a session with one broker (Kafka's
// clients FetchSessionHandler, which the consumer and ReplicaFetcherThread share). Fill Want
// with the partitions to fetch, sorted by topic-partition, then call Request; hand the answer to
// Answered, or call Abandon when the fetch is given up.
//
// The handler owns its requests: the one in flight is the broker's to read until the broker
// answers it, and is then reused for the next fetch. A request given up is left to whoever
// still holds it (the network, or the broker's purgatory).
type FetchSessionHandler struct {
	Want []FetchPartition // the next fetch's partitions, sorted; Request empties it

	id, epoch  int32            // the session and the next fetch's epoch (InitialEpoch: full)
	session    []FetchPartition // the session's partitions as last sent
	out, spare *FetchRequest
}

// Request builds the fetch of Want into a reused request (FetchSessionHandler.Builder.build):
// all of Want on a full fetch; else the partitions new to the session or changed, and the
// session's partitions Want no longer holds as Forgotten. The caller fills in the rest of the
// request (its correlation id, replica, wait and size limits).
func (h *FetchSessionHandler) Request() *FetchRequest {
	req := h.spare
	h.spare = nil
	if req == nil {
		req = &FetchRequest{}
	}
	*req = FetchRequest{SessionID: h.id, SessionEpoch: h.epoch, Partitions: req.Partitions[:0], Forgotten: req.Forgotten[:0]}
	if h.epoch == InitialEpoch {
		req.Partitions = append(req.Partitions, h.Want...)
	} else {
		req.Partitions, req.Forgotten = sessionDelta(req.Partitions, req.Forgotten, h.session, h.Want)
	}
	h.session, h.Want = h.Want, h.session[:0]
	h.out = req
	return req
}

// RequestChanged is Request for a fetcher whose last fetch carried want's partitions, in
// want's order, and whose entries changed since only at the indexes listed in changed: it
// compares those alone with the session. Otherwise (a full fetch due, or other partitions) it
// is Request of want.
func (h *FetchSessionHandler) RequestChanged(want []FetchPartition, changed []int32) *FetchRequest {
	if h.epoch == InitialEpoch || len(want) != len(h.session) {
		h.Want = append(h.Want[:0], want...)
		return h.Request()
	}
	req := h.spare
	h.spare = nil
	if req == nil {
		req = &FetchRequest{}
	}
	*req = FetchRequest{SessionID: h.id, SessionEpoch: h.epoch, Partitions: req.Partitions[:0], Forgotten: req.Forgotten[:0]}
	for _, i := range changed {
		if h.session[i] != want[i] {
			h.session[i] = want[i]
			req.Partitions = append(req.Partitions, want[i])
		}
	}
	h.out = req
	return req
}

// Answered is FetchSessionHandler.handleResponse for the answer to the request in flight;
// false on a session error: the answer carries no partitions and the next fetch is full.
func (h *FetchSessionHandler) Answered(r *FetchResponse) bool {
	h.spare, h.out = h.out, nil // the broker is done with the request
	switch {
	case r.Error == FETCH_SESSION_ID_NOT_FOUND:
		h.id, h.epoch = InvalidSessionID, InitialEpoch
	case r.Error != NONE:
		h.epoch = InitialEpoch // close the session and open a new one
	case h.epoch == InitialEpoch:
		h.id = r.SessionID
		if r.SessionID != InvalidSessionID {
			h.epoch = NextSessionEpoch(InitialEpoch)
		}
	default:
		h.epoch = NextSessionEpoch(h.epoch)
	}
	return r.Error == NONE
}

// CloseExisting makes the next fetch a full one that closes the session and opens a new one
// (FetchMetadata.nextCloseExisting): for a fetcher that dropped part of an answer, so that the
// broker tells it everything again.
func (h *FetchSessionHandler) CloseExisting() { h.epoch = InitialEpoch }

// Abandon gives the fetch in flight up (FetchSessionHandler.handleError): its request stays with
// whoever holds it, and the next fetch closes the session and opens a new one.
func (h *FetchSessionHandler) Abandon() {
	h.out = nil
	h.epoch = InitialEpoch
}

// sessionDelta appends to parts the partitions of want new to the session or changed, and to
// forgotten the session's partitions want no longer holds. All lists are sorted.
func sessionDelta(parts []FetchPartition, forgotten []TopicPartition, session, want []FetchPartition) ([]FetchPartition, []TopicPartition) {
	i, j := 0, 0
	for i < len(session) || j < len(want) {
		var c int
		switch {
		case i == len(session):
			c = 1
		case j == len(want):
			c = -1
		default:
			c = CompareTopicPartitions(session[i].TP, want[j].TP)
		}
		switch {
		case c < 0:
			forgotten = append(forgotten, session[i].TP)
			i++
		case c > 0:
			parts = append(parts, want[j])
			j++
		default:
			if session[i] != want[j] {
				parts = append(parts, want[j])
			}
			i++
			j++
		}
	}
	return parts, forgotten
}

// CompareTopicPartitions orders topic-partitions by topic, then partition.
func CompareTopicPartitions(a, b TopicPartition) int {
	if a.Topic != b.Topic {
		if a.Topic < b.Topic {
			return -1
		}
		return 1
	}
	return int(a.Partition - b.Partition)
}
