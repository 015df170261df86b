package group

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// offsetsLog is one partition of __consumer_offsets, shared by the brokers that lead it in turn.
type offsetsLog struct{ batches []*protocol.RecordBatch }

func (l *offsetsLog) end() int64 {
	if n := len(l.batches); n > 0 {
		return l.batches[n-1].NextOffset()
	}
	return 0
}

type sentMsg struct {
	to  int32
	msg any
}

type firing struct {
	at      time.Duration
	payload any
}

// fakeHost is a broker as the coordinator sees it: a log it may or may not lead, a clock, and
// the messages it sent.
type fakeHost struct {
	log    *offsetsLog
	lead   bool
	now    time.Duration
	sent   []sentMsg
	timers []firing
	rand   uint64
}

func (h *fakeHost) Append(_ int32, recs []protocol.Record, _ time.Duration) (int64, protocol.ErrorCode) {
	if !h.lead {
		return -1, protocol.NOT_LEADER_OR_FOLLOWER
	}
	b := &protocol.RecordBatch{BaseOffset: h.log.end(), Records: recs}
	h.log.batches = append(h.log.batches, b)
	return b.NextOffset(), protocol.NONE
}
func (h *fakeHost) Batches(int32) []*protocol.RecordBatch { return h.log.batches }
func (h *fakeHost) Send(to int32, msg any)                { h.sent = append(h.sent, sentMsg{to, msg}) }
func (h *fakeHost) After(d time.Duration, p any)          { h.timers = append(h.timers, firing{h.now + d, p}) }
func (h *fakeHost) Rand() uint64                          { h.rand++; return h.rand }

// coord is a coordinator on a fake host, leading partition 0 of a one-partition
// __consumer_offsets in epoch 0.
type coord struct {
	t *testing.T
	c *Coordinator
	h *fakeHost
}

func testConfig() Config {
	return Config{Partitions: 1, MinSessionTimeout: 6 * time.Second, MaxSessionTimeout: 30 * time.Minute,
		InitialRebalanceDelay: 3 * time.Second, CommitTimeout: 5 * time.Second, NewMemberJoinTimeout: 5 * time.Minute, LoadTime: 20 * time.Millisecond}
}

func newCoord(t *testing.T, log *offsetsLog, epoch int32) *coord {
	t.Helper()
	h := &fakeHost{log: log, lead: true}
	k := &coord{t: t, c: New(testConfig(), h), h: h}
	k.c.Leadership(h.now, 0, epoch)
	k.advance(time.Second) // the load
	return k
}

// advance moves the clock d, firing due timers in time order.
func (k *coord) advance(d time.Duration) {
	end := k.h.now + d
	for {
		i := -1
		for j, f := range k.h.timers {
			if f.at <= end && (i < 0 || f.at < k.h.timers[i].at) {
				i = j
			}
		}
		if i < 0 {
			break
		}
		f := k.h.timers[i]
		k.h.timers = slices.Delete(k.h.timers, i, i+1)
		k.h.now = f.at
		if t, ok := f.payload.(Timer); ok {
			k.c.OnTimer(k.h.now, t)
		}
	}
	k.h.now = end
}

// commitLog advances the high watermark to the log's end.
func (k *coord) commitLog() { k.c.HighWatermark(k.h.now, 0, k.h.log.end()) }

// request hands the coordinator msg from client node 100 and returns what it answered at once.
func (k *coord) request(msg any) []any {
	k.t.Helper()
	n := len(k.h.sent)
	if !k.c.Handle(k.h.now, 100, msg) {
		k.t.Fatalf("%T not handled", msg)
	}
	return k.answers(n)
}

func (k *coord) answers(from int) []any {
	var out []any
	for _, s := range k.h.sent[from:] {
		out = append(out, s.msg)
	}
	return out
}

func join(member, instance string, session time.Duration, corr int64) *protocol.JoinGroupRequest {
	return &protocol.JoinGroupRequest{CorrelationID: corr, GroupID: "g1", SessionTimeoutMs: int32(session / time.Millisecond),
		RebalanceTimeoutMs: 10_000, MemberID: member, GroupInstanceID: instance, ClientID: "c", ProtocolType: "consumer",
		Protocols: []protocol.GroupProtocol{{Name: "range", Topics: []string{"orders"}}}}
}

// stableGroup brings one dynamic member through join and sync into a Stable group of
// generation 1 owning orders/0 and returns its member id.
func (k *coord) stableGroup() string {
	k.t.Helper()
	r := k.request(join("", "", 10*time.Second, 1))
	jr := r[0].(*protocol.JoinGroupResponse)
	if jr.Error != protocol.MEMBER_ID_REQUIRED {
		k.t.Fatalf("first join: %v; want MEMBER_ID_REQUIRED", jr.Error)
	}
	id := jr.MemberID
	if r := k.request(join(id, "", 10*time.Second, 2)); len(r) != 0 {
		k.t.Fatalf("second join answered at once (%v); want it parked for the initial rebalance delay", r)
	}
	n := len(k.h.sent)
	k.advance(3 * time.Second)
	jr = k.answers(n)[0].(*protocol.JoinGroupResponse)
	if jr.Error != protocol.NONE || jr.GenerationID != 1 || jr.Leader != id {
		k.t.Fatalf("join: %+v; want generation 1 led by %s", jr, id)
	}
	k.request(&protocol.SyncGroupRequest{CorrelationID: 3, GroupID: "g1", GenerationID: 1, MemberID: id, ProtocolName: "range",
		Assignments: []protocol.SyncGroupAssignment{{MemberID: id, Partitions: []protocol.TopicPartition{{Topic: "orders", Partition: 0}}}}})
	n = len(k.h.sent)
	k.commitLog()
	if sr := k.answers(n); len(sr) != 1 || sr[0].(*protocol.SyncGroupResponse).Error != protocol.NONE {
		k.t.Fatalf("sync: %v; want the assignment once the group record is committed", sr)
	}
	return id
}

var orders0 = protocol.TopicPartition{Topic: "orders", Partition: 0}

func commitReq(member string, gen int32, off int64) *protocol.OffsetCommitRequest {
	return &protocol.OffsetCommitRequest{CorrelationID: 9, GroupID: "g1", GenerationID: gen, MemberID: member,
		Partitions: []protocol.OffsetCommitPartition{{TP: orders0, Offset: off, LeaderEpoch: 0}}}
}

func commitError(t *testing.T, msgs []any) protocol.ErrorCode {
	t.Helper()
	if len(msgs) != 1 {
		t.Fatalf("%d answers; want one OffsetCommitResponse", len(msgs))
	}
	return msgs[0].(*protocol.OffsetCommitResponse).Partitions[0].Error
}

// Reference: ClassicGroup.validateOffsetCommit (OffsetMetadataManagerTest
// testGenericGroupOffsetCommitWithIllegalGeneration): a member's commit carrying a generation
// other than the group's is refused with ILLEGAL_GENERATION and stores nothing; an unknown
// member gets UNKNOWN_MEMBER_ID; the current generation's commit is answered once committed.
func TestOffsetCommitWithStaleGenerationIsIllegalGeneration(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	id := k.stableGroup()
	end := k.h.log.end()
	if err := commitError(t, k.request(commitReq(id, 0, 42))); err != protocol.ILLEGAL_GENERATION {
		t.Errorf("commit of generation 0 in generation 1: %v; want ILLEGAL_GENERATION", err)
	}
	if err := commitError(t, k.request(commitReq("stranger", 1, 42))); err != protocol.UNKNOWN_MEMBER_ID {
		t.Errorf("commit by an unknown member: %v; want UNKNOWN_MEMBER_ID", err)
	}
	if _, ok := k.c.Committed("g1", orders0); ok || k.h.log.end() != end {
		t.Errorf("a refused commit was stored (log end %d → %d)", end, k.h.log.end())
	}
	if r := k.request(commitReq(id, 1, 42)); len(r) != 0 {
		t.Fatalf("commit answered before its record was committed: %v", r)
	}
	n := len(k.h.sent)
	k.commitLog()
	if err := commitError(t, k.answers(n)); err != protocol.NONE {
		t.Errorf("commit of the current generation: %v; want NONE", err)
	}
	if o, _ := k.c.Committed("g1", orders0); o.Offset != 42 {
		t.Errorf("committed %d; want 42", o.Offset)
	}
}

// Reference: GroupCoordinatorService.joinGroup: a session timeout outside
// [group.min.session.timeout.ms, group.max.session.timeout.ms] is INVALID_SESSION_TIMEOUT, and
// the member is not added.
func TestInvalidSessionTimeout(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	for _, d := range []time.Duration{5999 * time.Millisecond, 30*time.Minute + time.Millisecond} {
		r := k.request(join("", "", d, 1))
		if jr := r[0].(*protocol.JoinGroupResponse); jr.Error != protocol.INVALID_SESSION_TIMEOUT {
			t.Errorf("session.timeout.ms=%v: %v; want INVALID_SESSION_TIMEOUT", d, jr.Error)
		}
	}
	if g := k.c.Group("g1"); g != nil && len(g.Members()) > 0 {
		t.Errorf("members %d; want none", len(g.Members()))
	}
	if jr := k.request(join("", "", 6*time.Second, 2))[0].(*protocol.JoinGroupResponse); jr.Error != protocol.MEMBER_ID_REQUIRED {
		t.Errorf("session.timeout.ms=6s: %v; want MEMBER_ID_REQUIRED (accepted)", jr.Error)
	}
}

// Reference: CoordinatorRuntime (scheduleUnloadOperation, scheduleLoadOperation) and
// CoordinatorLoaderImpl.load: when leadership of the group's __consumer_offsets partition
// moves, the old leader answers NOT_COORDINATOR (a parked join too), the new one
// COORDINATOR_LOAD_IN_PROGRESS while it replays the log, then serves the group and its
// committed offsets as the log has them.
func TestCoordinatorMovesWithOffsetsPartitionLeader(t *testing.T) {
	log := &offsetsLog{}
	a := newCoord(t, log, 0)
	id := a.stableGroup()
	a.request(commitReq(id, 1, 42))
	a.commitLog()
	// A second member's join is parked when leadership moves.
	jr := a.request(join("", "", 10*time.Second, 20))[0].(*protocol.JoinGroupResponse)
	a.request(join(jr.MemberID, "", 10*time.Second, 21))
	n := len(a.h.sent)
	a.h.lead = false
	a.c.Leadership(a.h.now, 0, -1)
	parked := a.answers(n)
	if len(parked) != 1 || parked[0].(*protocol.JoinGroupResponse).Error != protocol.NOT_COORDINATOR {
		t.Errorf("parked join on unload: %v; want NOT_COORDINATOR", parked)
	}
	if err := commitError(t, a.request(commitReq(id, 1, 50))); err != protocol.NOT_COORDINATOR {
		t.Errorf("commit to the old leader: %v; want NOT_COORDINATOR", err)
	}
	hb := &protocol.HeartbeatRequest{CorrelationID: 30, GroupID: "g1", GenerationID: 1, MemberID: id}
	if r := a.request(hb)[0].(*protocol.HeartbeatResponse); r.Error != protocol.NOT_COORDINATOR {
		t.Errorf("heartbeat to the old leader: %v; want NOT_COORDINATOR", r.Error)
	}

	bh := &fakeHost{log: log, lead: true, now: a.h.now}
	b := &coord{t: t, c: New(testConfig(), bh), h: bh}
	b.c.Leadership(bh.now, 0, 1)
	if err := commitError(t, b.request(commitReq(id, 1, 50))); err != protocol.COORDINATOR_LOAD_IN_PROGRESS {
		t.Errorf("commit while the new leader loads: %v; want COORDINATOR_LOAD_IN_PROGRESS", err)
	}
	if r := b.request(&protocol.OffsetFetchRequest{CorrelationID: 31, GroupID: "g1", Partitions: []protocol.TopicPartition{orders0}})[0].(*protocol.OffsetFetchResponse); r.Error != protocol.COORDINATOR_LOAD_IN_PROGRESS {
		t.Errorf("offset fetch while loading: %v; want COORDINATOR_LOAD_IN_PROGRESS", r.Error)
	}
	if r := b.request(hb)[0].(*protocol.HeartbeatResponse); r.Error != protocol.NONE {
		t.Errorf("heartbeat while loading: %v; want NONE (GroupCoordinatorService.heartbeat answers blindly)", r.Error)
	}
	b.advance(time.Second)
	b.c.HighWatermark(bh.now, 0, log.end())
	g := b.c.Group("g1")
	if g == nil || g.State() != Stable || g.Generation != 1 || len(g.Members()) != 1 || g.Members()[0].ID != id {
		t.Fatalf("replayed group %+v; want Stable generation 1 with member %s", g, id)
	}
	if o, ok := b.c.Committed("g1", orders0); !ok || o.Offset != 42 {
		t.Errorf("replayed committed offset %d (%v); want 42", o.Offset, ok)
	}
	if r := b.request(hb)[0].(*protocol.HeartbeatResponse); r.Error != protocol.NONE {
		t.Errorf("heartbeat after the replay: %v; want NONE", r.Error)
	}
	b.request(commitReq(id, 1, 50))
	n = len(bh.sent)
	b.commitLog()
	if err := commitError(t, b.answers(n)); err != protocol.NONE {
		t.Errorf("commit to the new coordinator: %v; want NONE", err)
	}
}

// Reference: GroupMetadataManager.classicGroupJoinExistingMember: a follower of a Stable group
// rejoining with unchanged metadata (after losing its coordinator, say) is answered at once
// with the current generation, on its own request: the answer carries its correlation id.
func TestKnownMemberRejoinWithSameMetadataIsAnswered(t *testing.T) {
	k := newCoord(t, &offsetsLog{}, 0)
	leader := k.stableGroup()
	jr := k.request(join("", "", 10*time.Second, 40))[0].(*protocol.JoinGroupResponse)
	k.request(join(jr.MemberID, "", 10*time.Second, 41)) // a rebalance: the leader must rejoin
	k.request(join(leader, "", 10*time.Second, 42))
	k.request(&protocol.SyncGroupRequest{CorrelationID: 43, GroupID: "g1", GenerationID: 2, MemberID: leader, ProtocolName: "range"})
	// CompletingRebalance: the follower's second join with the same metadata.
	r := k.request(join(jr.MemberID, "", 10*time.Second, 44))
	if len(r) != 1 || r[0].(*protocol.JoinGroupResponse).CorrelationID != 44 || r[0].(*protocol.JoinGroupResponse).GenerationID != 2 {
		t.Fatalf("rejoin in CompletingRebalance answered %+v; want generation 2 on correlation id 44", r)
	}
	k.commitLog()
	// Stable: again.
	r = k.request(join(jr.MemberID, "", 10*time.Second, 45))
	if len(r) != 1 || r[0].(*protocol.JoinGroupResponse).CorrelationID != 45 || r[0].(*protocol.JoinGroupResponse).Error != protocol.NONE {
		t.Fatalf("rejoin in Stable answered %+v; want generation 2 on correlation id 45", r)
	}
}
