package gateway

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
)

// Fetch sessions over the wire (KIP-227, Fetch v7+): the client's SessionID, SessionEpoch and
// forgotten partitions go to the leader as they came, and its answer's SessionID and top-level
// error come back, so a real consumer runs incremental sessions against the model's
// FetchSessionCache (broker/fetchsession.go) as the simulated followers and consumers do. The
// gateway mirrors each session's partitions and fetch offsets (FetchSession's
// CachedPartitions as the client sent them): an incremental fetch names only what changed, and
// the history's polls need every answered partition's fetch offset. A session is the broker's,
// not the connection's: a client may carry it on to a new connection.

// fetchSessions are the sessions' fetch offsets, by broker and session id.
type fetchSessions map[sessionKey]map[protocol.TopicPartition]int64

type sessionKey struct {
	broker, id int32
}

// fetchOffsets is the fetch offset of every partition a fetch is served over: those it names
// (sessionless or full), or the session's as the fetch updates them (incremental; a session
// the connection does not know is the leader's to refuse). It forgets a session the fetch
// closes.
func (fs fetchSessions) fetchOffsets(broker int32, r *kmsg.FetchRequest, version int16) map[protocol.TopicPartition]int64 {
	offsets := map[protocol.TopicPartition]int64{}
	if version >= 7 && r.SessionEpoch > protocol.InitialEpoch {
		if s := fs[sessionKey{broker, r.SessionID}]; s != nil {
			offsets = s
		}
		for _, t := range r.ForgottenTopics {
			for _, p := range t.Partitions {
				delete(offsets, protocol.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	} else if version >= 7 && r.SessionID != protocol.InvalidSessionID {
		delete(fs, sessionKey{broker, r.SessionID}) // a full fetch closes the session it names
	}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			offsets[protocol.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = p.FetchOffset
		}
	}
	return offsets
}

// answered keeps the session the leader's answer opened or continued. FETCH_SESSION_ID_NOT_FOUND
// drops it: the leader has none. INVALID_FETCH_SESSION_EPOCH does not: the leader keeps the
// session and only refuses this fetch's epoch (FetchManager.newContext), as when a newer fetch in
// the session, from another connection, superseded a parked one; the fetch that carried the
// session on keeps its partitions here.
func (fs fetchSessions) answered(broker int32, r *kmsg.FetchRequest, version int16, m *protocol.FetchResponse, offsets map[protocol.TopicPartition]int64) {
	switch {
	case version < 7 || r.SessionEpoch == protocol.FinalEpoch:
	case m.Error == protocol.INVALID_FETCH_SESSION_EPOCH:
	case m.Error != protocol.NONE:
		delete(fs, sessionKey{broker, r.SessionID})
	case m.SessionID != protocol.InvalidSessionID:
		fs[sessionKey{broker, m.SessionID}] = offsets
	}
}

// FetchStats count the real clients' fetches by session (the leaders' answers without error).
type FetchStats struct {
	Sessionless int // no session: Fetch before v7, or SessionEpoch FINAL_EPOCH
	Full        int // full fetches that opened a session
	Incremental int // incremental fetches of a session
	Refused     int // answered FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH
}

func (s *store) countFetch(version int16, epoch int32, m *protocol.FetchResponse) {
	st := &s.fetches
	switch {
	case m.Error != protocol.NONE:
		st.Refused++
	case version < 7 || epoch == protocol.FinalEpoch || m.SessionID == protocol.InvalidSessionID && epoch == protocol.InitialEpoch:
		st.Sessionless++
	case epoch == protocol.InitialEpoch:
		st.Full++
	default:
		st.Incremental++
	}
}
