package broker

import (
	"slices"
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
		r.CorrelationID = b.fetchers.get(1).corr
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
	b.fetchers.get(1).disconnected(2 * time.Millisecond)
	b.fetchers.get(1).send(3 * time.Millisecond)
	if req = env.sent[len(env.sent)-1].(*protocol.FetchRequest); req.SessionID != 43 || req.SessionEpoch != protocol.InitialEpoch {
		t.Fatalf("after a reset connection: session %d epoch %d; want a full fetch closing session 43", req.SessionID, req.SessionEpoch)
	}
}

// A follower's session skips its quiet partitions (caught up, the HW at the LEO, nothing new
// since the last answer) where IncrementalFetchContext reads them all and leaves them out of
// the answer: the answers are the same, the follower's fetch and caught-up times still move
// (Partition.updateFollowerFetchState), and a partition is read again as soon as something a
// fetch reads changes: an append, or an ISR without the follower, whose next fetch must reach
// Partition.maybeExpandIsr. verifyQuiet checks every skip against the leader's state.
func TestQuietPartitionsAnswerAsRead(t *testing.T) {
	verifyQuiet = true
	defer func() { verifyQuiet = false }()
	b, env := sessionLeader()
	p0 := b.parts[protocol.TopicPartition{Topic: "orders", Partition: 0}]
	b.Step(time.Millisecond, 1, sessionFetch(protocol.InvalidSessionID, protocol.InitialEpoch, []protocol.FetchPartition{at(0, 0), at(1, 0)}))
	r, _ := lastFetchAnswer(t, env)
	id := r.SessionID
	s := b.fetchSessions.sessions[id]
	if !s.sent[0].quiet || !s.sent[1].quiet {
		t.Fatalf("after the full fetch: quiet %v %v; want both quiet (caught up, HW 0 = LEO 0)", s.sent[0].quiet, s.sent[1].quiet)
	}

	b.Step(2*time.Millisecond, 1, sessionFetch(id, 1, nil))
	if _, got := lastFetchAnswer(t, env); len(got) != 0 || len(s.answered) != 0 {
		t.Fatalf("epoch 1: partitions:HW %v, read %v; want nothing answered and nothing read", got, s.answered)
	}
	s.settleAll() // a quiet fetch's times reach the follower state lazily (fetchSession.settle)
	if r := p0.remote(1); r.lastFetchTime != 2*time.Millisecond || r.lastCaughtUp != 2*time.Millisecond {
		t.Fatalf("orders/0 follower: last fetch %v, caught up %v; want both 2ms (a quiet fetch still counts)", r.lastFetchTime, r.lastCaughtUp)
	}

	b.Step(3*time.Millisecond, testClient, &protocol.ProduceRequest{CorrelationID: 1, Acks: protocol.AcksLeader, Timeout: time.Second,
		Partitions: []protocol.ProducePartition{{TP: protocol.TopicPartition{Topic: "orders", Partition: 1}, Batch: batch(0, 1)}}})
	b.Step(4*time.Millisecond, 1, sessionFetch(id, 2, nil))
	if r, got := lastFetchAnswer(t, env); len(got) != 2 || got[0] != 1 || len(r.Partitions[0].Batches) != 1 {
		t.Fatalf("epoch 2: partitions:HW %v; want orders/1 alone, with its record", got)
	}
	if len(s.answered) != 1 || s.answered[0] != 1 || !s.sent[0].quiet || s.sent[1].quiet {
		t.Fatalf("epoch 2: read %v, quiet %v %v; want orders/1 read, orders/0 still quiet", s.answered, s.sent[0].quiet, s.sent[1].quiet)
	}

	// The controller drops the follower from orders/0's ISR: the quiet mark goes, and the next
	// fetch reads orders/0 (and would propose the follower back).
	p0.updateIsr(5*time.Millisecond, []int32{3}, p0.partitionEpoch+1)
	if s.sent[0].quiet {
		t.Fatalf("orders/0 still quiet after its ISR lost the follower")
	}
	b.Step(6*time.Millisecond, 1, sessionFetch(id, 3, []protocol.FetchPartition{at(1, 1)}))
	if len(s.answered) != 2 || s.answered[0] != 0 {
		t.Fatalf("epoch 3: read %v; want orders/0 (its ISR changed) and orders/1 (its fetch changed)", s.answered)
	}
}

// Reference: DelayedFetch and DelayedOperationPurgatory.checkAndComplete: a partition's new
// data completes the fetches waiting on it in the order they were parked, whichever way each
// was parked: a session's fetch through the session's registration on its partitions, a fetch
// without a session on the partitions themselves, and a session's fetch left waiting when the
// session parked another (its fetcher gave up on it).
func TestParkedFetchesWakeInParkingOrder(t *testing.T) {
	b, env := sessionLeader()
	answered := &fetchAnswers{sendsEnv: env}
	b.env = answered // a session answers into one buffer: note each answer as it is sent
	wait := func(f *protocol.FetchRequest, corr int64) *protocol.FetchRequest {
		f.MaxWait, f.MinBytes, f.CorrelationID = 500*time.Millisecond, 1, corr
		return f
	}
	b.Step(time.Millisecond, 1, sessionFetch(protocol.InvalidSessionID, protocol.InitialEpoch, []protocol.FetchPartition{at(0, 0), at(1, 0)}))
	r, _ := lastFetchAnswer(t, env)
	id := r.SessionID
	b.Step(2*time.Millisecond, 1, wait(sessionFetch(id, 1, nil), 11)) // parks through the session
	b.Step(3*time.Millisecond, 1, wait(sessionFetch(protocol.InvalidSessionID, protocol.FinalEpoch, []protocol.FetchPartition{at(0, 0)}), 12))
	b.Step(4*time.Millisecond, 1, wait(sessionFetch(id, 2, nil), 13)) // 11 left waiting
	answered.corrs = nil
	b.Step(5*time.Millisecond, testClient, &protocol.ProduceRequest{CorrelationID: 1, Acks: protocol.AcksLeader, Timeout: time.Second,
		Partitions: []protocol.ProducePartition{{TP: protocol.TopicPartition{Topic: "orders", Partition: 0}, Batch: batch(0, 1)}}})
	if got, want := answered.corrs, []int64{11, 12, 13}; !slices.Equal(got, want) {
		t.Fatalf("fetches answered after the append: %v; want %v (parking order)", got, want)
	}
}

// fetchAnswers notes the correlation id of every FetchResponse when it is sent.
type fetchAnswers struct {
	*sendsEnv
	corrs []int64
}

func (e *fetchAnswers) Send(to int32, m any) {
	if r, ok := m.(*protocol.FetchResponse); ok {
		e.corrs = append(e.corrs, r.CorrelationID)
	}
	e.sendsEnv.Send(to, m)
}

// Reference: IncrementalFetchContext.updateAndGenerateResponseData and DelayedFetch: a session's
// next fetch may come while its last one is parked (a client that does not wait for its
// answers). The newer fetch moves the session's epoch on, so the older one, completed later by
// its own partitions (as they were when it came) or its deadline, is answered
// INVALID_FETCH_SESSION_EPOCH without partitions; the newer one is answered over the session's
// partitions as it left them, in its own response.
func TestFetchSessionNextFetchWhileParked(t *testing.T) {
	b, env := sessionLeader()
	rec := &fetchRecorder{sendsEnv: env}
	b.env = rec
	wait := func(f *protocol.FetchRequest, corr int64) *protocol.FetchRequest {
		f.MaxWait, f.MinBytes, f.CorrelationID = 500*time.Millisecond, 1, corr
		return f
	}
	b.Step(time.Millisecond, 1, sessionFetch(protocol.InvalidSessionID, protocol.InitialEpoch, []protocol.FetchPartition{at(0, 0)}))
	id := rec.answers[len(rec.answers)-1].SessionID
	b.Step(2*time.Millisecond, 1, wait(sessionFetch(id, 1, nil), 11))                                 // parks
	b.Step(3*time.Millisecond, 1, wait(sessionFetch(id, 2, []protocol.FetchPartition{at(1, 0)}), 12)) // orders/1 joins; parks
	rec.answers = nil
	b.Step(4*time.Millisecond, testClient, &protocol.ProduceRequest{CorrelationID: 1, Acks: protocol.AcksLeader, Timeout: time.Second,
		Partitions: []protocol.ProducePartition{{TP: protocol.TopicPartition{Topic: "orders", Partition: 0}, Batch: batch(0, 1)}}})
	if len(rec.answers) != 2 {
		t.Fatalf("answers after the append: %+v; want both parked fetches answered", rec.answers)
	}
	old, next := rec.answers[0], rec.answers[1]
	if old.CorrelationID != 11 || old.Error != protocol.INVALID_FETCH_SESSION_EPOCH || old.SessionID != id || len(old.Partitions) != 0 {
		t.Errorf("the older fetch's answer: %+v; want correlation 11, INVALID_FETCH_SESSION_EPOCH, session %d, no partitions", old, id)
	}
	var got []int32
	for _, p := range next.Partitions {
		got = append(got, p.TP.Partition)
	}
	if next.CorrelationID != 12 || next.Error != protocol.NONE || !slices.Equal(got, []int32{0, 1}) || len(next.Partitions[0].Batches) != 1 {
		t.Errorf("the newer fetch's answer: %+v; want correlation 12, orders/0 with its record and orders/1 (new to the session)", next)
	}

	// The session goes on: its next fetch is served over both partitions.
	b.Step(5*time.Millisecond, 1, sessionFetch(id, 3, []protocol.FetchPartition{at(0, 1)}))
	if r := rec.answers[len(rec.answers)-1]; r.Error != protocol.NONE || r.SessionID != id {
		t.Errorf("epoch 3: %+v; want an answer in session %d", r, id)
	}
}

// Reference: DelayedFetch.onExpiration: the older fetch, left parked by the session's next
// fetch, is answered INVALID_FETCH_SESSION_EPOCH at its deadline too.
func TestFetchSessionOlderParkedFetchExpires(t *testing.T) {
	b, env := sessionLeader()
	rec := &fetchRecorder{sendsEnv: env}
	b.env = rec
	b.Step(time.Millisecond, 1, sessionFetch(protocol.InvalidSessionID, protocol.InitialEpoch, []protocol.FetchPartition{at(0, 0), at(1, 0)}))
	id := rec.answers[len(rec.answers)-1].SessionID
	f := sessionFetch(id, 1, nil)
	f.MaxWait, f.MinBytes, f.CorrelationID = 100*time.Millisecond, 1, 11
	b.Step(2*time.Millisecond, 1, f) // parks
	g := sessionFetch(id, 2, nil, protocol.TopicPartition{Topic: "orders", Partition: 1})
	g.MaxWait, g.MinBytes, g.CorrelationID = 500*time.Millisecond, 1, 12
	b.Step(3*time.Millisecond, 1, g) // orders/1 leaves; parks
	rec.answers = nil
	b.onPurgatoryTimer(200*time.Millisecond, b.purgatory.gen)
	if len(rec.answers) != 1 {
		t.Fatalf("answers at the older fetch's deadline: %+v; want the older fetch's alone", rec.answers)
	}
	if r := rec.answers[0]; r.CorrelationID != 11 || r.Error != protocol.INVALID_FETCH_SESSION_EPOCH || len(r.Partitions) != 0 {
		t.Errorf("the older fetch's answer: %+v; want correlation 11, INVALID_FETCH_SESSION_EPOCH, no partitions", r)
	}
	b.onPurgatoryTimer(time.Second, b.purgatory.gen)
	if len(rec.answers) != 2 || rec.answers[1].CorrelationID != 12 || rec.answers[1].Error != protocol.NONE {
		t.Errorf("answers after the newer fetch's deadline: %+v; want correlation 12 answered", rec.answers)
	}
}

// fetchRecorder copies every FetchResponse when it is sent (a session reuses its buffer).
type fetchRecorder struct {
	*sendsEnv
	answers []protocol.FetchResponse
}

func (e *fetchRecorder) Send(to int32, m any) {
	if r, ok := m.(*protocol.FetchResponse); ok {
		c := *r
		c.Partitions = slices.Clone(r.Partitions)
		e.answers = append(e.answers, c)
	}
	e.sendsEnv.Send(to, m)
}
