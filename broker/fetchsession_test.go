package broker

import (
	"testing"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// sessionLeader leads orders/0 and orders/1 with broker 1 in both ISRs.
func sessionLeader() (*Broker, *sendsEnv) {
	b, _, env := leaderAwaitingFollower(nil)
	p := b.openPartition(0, protocol.TopicPartition{Topic: "orders", Partition: 1})
	p.makeLeader(0, &metadata.Partition{Topic: "orders", Replicas: []int32{3, 1}, ISR: []int32{3, 1}, Leader: 3, LeaderEpoch: 1})
	return b, env
}

func sessionFetch(id, epoch int32, parts []protocol.FetchPartition, forgotten ...protocol.TopicPartition) *protocol.FetchRequest {
	return &protocol.FetchRequest{ReplicaID: 1, ReplicaEpoch: -1, MaxBytes: 1 << 20, SessionID: id, SessionEpoch: epoch,
		Partitions: parts, Forgotten: forgotten}
}

func at(part int32, offset int64) protocol.FetchPartition {
	return protocol.FetchPartition{TP: protocol.TopicPartition{Topic: "orders", Partition: part}, FetchOffset: offset,
		CurrentLeaderEpoch: 1, LastFetchedEpoch: protocol.UnknownEpoch}
}

// lastFetchAnswer is the FetchResponse sent last; its partitions as "partition:HW" pairs.
func lastFetchAnswer(t *testing.T, env *sendsEnv) (*protocol.FetchResponse, []int64) {
	t.Helper()
	r, ok := env.sent[len(env.sent)-1].(*protocol.FetchResponse)
	if !ok {
		t.Fatalf("last sent %T; want a FetchResponse", env.sent[len(env.sent)-1])
	}
	var got []int64
	for _, p := range r.Partitions {
		got = append(got, int64(p.TP.Partition), p.HighWatermark)
	}
	return r, got
}

// Reference: KIP-227 (FetchSessionTest.testIncrementalFetchSession): a full fetch opens a
// session and is answered for every partition; an incremental fetch names only what changed,
// and its answer holds only the partitions with records or a new high watermark; a forgotten
// partition leaves the session.
func TestFetchSessionAnswersOnlyWhatChanged(t *testing.T) {
	b, env := sessionLeader()
	b.Step(time.Millisecond, 1, sessionFetch(protocol.InvalidSessionID, protocol.InitialEpoch, []protocol.FetchPartition{at(0, 0), at(1, 0)}))
	r, got := lastFetchAnswer(t, env)
	if r.SessionID == protocol.InvalidSessionID || len(got) != 4 {
		t.Fatalf("full fetch: session %d, partitions:HW %v; want a new session and both partitions", r.SessionID, got)
	}
	id := r.SessionID

	b.Step(2*time.Millisecond, testClient, &protocol.ProduceRequest{CorrelationID: 1, Acks: protocol.AcksLeader, Timeout: time.Second,
		Partitions: []protocol.ProducePartition{{TP: protocol.TopicPartition{Topic: "orders", Partition: 0}, Batch: batch(0, 1)}}})
	b.Step(3*time.Millisecond, 1, sessionFetch(id, 1, nil))
	if r, got = lastFetchAnswer(t, env); len(got) != 2 || got[0] != 0 || len(r.Partitions[0].Batches) != 1 {
		t.Fatalf("epoch 1: partitions:HW %v; want orders/0 alone, with its record", got)
	}

	// Fetching past the record moves the HW, after the answer was read (Partition.fetchRecords):
	// the next answer carries the new HW of orders/0 only.
	b.Step(4*time.Millisecond, 1, sessionFetch(id, 2, []protocol.FetchPartition{at(0, 1)}))
	if _, got = lastFetchAnswer(t, env); len(got) != 0 {
		t.Fatalf("epoch 2: partitions:HW %v; want none (nothing new yet)", got)
	}
	b.Step(5*time.Millisecond, 1, sessionFetch(id, 3, nil))
	if _, got = lastFetchAnswer(t, env); len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("epoch 3: partitions:HW %v; want [0 1] (orders/0's HW moved)", got)
	}

	// orders/1 forgotten, then named again: it rejoins and is answered in full.
	b.Step(6*time.Millisecond, 1, sessionFetch(id, 4, nil, protocol.TopicPartition{Topic: "orders", Partition: 1}))
	if s := b.fetchSessions.sessions[id]; len(s.fetch) != 1 || s.fetch[0].TP.Partition != 0 {
		t.Fatalf("session after forgetting orders/1: %+v; want orders/0 alone", s.fetch)
	}
	b.Step(7*time.Millisecond, 1, sessionFetch(id, 5, []protocol.FetchPartition{at(1, 0)}))
	if _, got = lastFetchAnswer(t, env); len(got) != 2 || got[0] != 1 {
		t.Fatalf("epoch 5: partitions:HW %v; want orders/1 (back in the session)", got)
	}
}

// Reference: KIP-227 (FetchManager.newContext): a fetch naming an unknown session, another
// replica's session, or the wrong epoch gets a top-level error and no partitions.
func TestFetchSessionErrors(t *testing.T) {
	b, env := sessionLeader()
	b.Step(time.Millisecond, 1, sessionFetch(protocol.InvalidSessionID, protocol.InitialEpoch, []protocol.FetchPartition{at(0, 0)}))
	r, _ := lastFetchAnswer(t, env)
	id := r.SessionID
	for _, tt := range []struct {
		name    string
		replica int32
		id      int32
		epoch   int32
		want    protocol.ErrorCode
	}{
		{"unknown session", 1, id + 1, 1, protocol.FETCH_SESSION_ID_NOT_FOUND},
		{"another replica's session", 2, id, 1, protocol.FETCH_SESSION_ID_NOT_FOUND},
		{"epoch from the future", 1, id, 2, protocol.INVALID_FETCH_SESSION_EPOCH},
		{"the right epoch", 1, id, 1, protocol.NONE},
		{"an epoch again", 1, id, 1, protocol.INVALID_FETCH_SESSION_EPOCH},
	} {
		m := sessionFetch(tt.id, tt.epoch, nil)
		m.ReplicaID = tt.replica
		b.Step(2*time.Millisecond, tt.replica, m)
		if r, got := lastFetchAnswer(t, env); r.Error != tt.want || tt.want != protocol.NONE && len(got) != 0 {
			t.Errorf("%s: error %v, partitions %v; want %v", tt.name, r.Error, got, tt.want)
		}
	}
}

// A follower's fetcher opens a session with its first fetch, then fetches incrementally; a
// session error makes its next fetch full (FetchSessionHandler.handleResponse), and so does a
// fetch given up (FetchSessionHandler.handleError).
func TestFetcherUsesFetchSession(t *testing.T) {
	env := &sendsEnv{}
	b := New(Options{ID: 3, Config: newTestBroker().cfg}, env, &memDisk{files: map[string][]any{}}, 0)
	p := b.openPartition(0, protocol.TopicPartition{Topic: "orders", Partition: 0})
	b.startFetching(0, p, 1)
	req := env.sent[len(env.sent)-1].(*protocol.FetchRequest)
	if req.SessionID != protocol.InvalidSessionID || req.SessionEpoch != protocol.InitialEpoch || len(req.Partitions) != 1 {
		t.Fatalf("first fetch: session %d epoch %d, %d partitions; want a full fetch opening a session", req.SessionID, req.SessionEpoch, len(req.Partitions))
	}
	answer := func(r *protocol.FetchResponse) *protocol.FetchRequest {
		r.CorrelationID = b.fetchers[1].corr
		b.Step(time.Millisecond, 1, r)
		return env.sent[len(env.sent)-1].(*protocol.FetchRequest)
	}
	req = answer(&protocol.FetchResponse{SessionID: 42})
	if req.SessionID != 42 || req.SessionEpoch != 1 || len(req.Partitions) != 0 {
		t.Fatalf("after the session opened: session %d epoch %d, %d partitions; want session 42 epoch 1, nothing changed", req.SessionID, req.SessionEpoch, len(req.Partitions))
	}
	req = answer(&protocol.FetchResponse{SessionID: 42, Error: protocol.INVALID_FETCH_SESSION_EPOCH})
	if req.SessionID != 42 || req.SessionEpoch != protocol.InitialEpoch || len(req.Partitions) != 1 {
		t.Fatalf("after INVALID_FETCH_SESSION_EPOCH: session %d epoch %d, %d partitions; want a full fetch closing session 42", req.SessionID, req.SessionEpoch, len(req.Partitions))
	}
	req = answer(&protocol.FetchResponse{Error: protocol.FETCH_SESSION_ID_NOT_FOUND})
	if req.SessionID != protocol.InvalidSessionID || req.SessionEpoch != protocol.InitialEpoch {
		t.Fatalf("after FETCH_SESSION_ID_NOT_FOUND: session %d epoch %d; want a full fetch opening a new session", req.SessionID, req.SessionEpoch)
	}
	answer(&protocol.FetchResponse{SessionID: 43})
	b.fetchers[1].disconnected(2 * time.Millisecond)
	b.fetchers[1].send(3 * time.Millisecond)
	if req = env.sent[len(env.sent)-1].(*protocol.FetchRequest); req.SessionID != 43 || req.SessionEpoch != protocol.InitialEpoch {
		t.Fatalf("after a reset connection: session %d epoch %d; want a full fetch closing session 43", req.SessionID, req.SessionEpoch)
	}
}
