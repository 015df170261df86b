package quorum

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Reference: KIP-595 (Leader election): three voters elect exactly one leader, which appends a
// LeaderChangeRecord first and becomes ready once it is committed; every voter follows it.
func TestElectionOfOneLeader(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		w := newWorld(t, seed, 3)
		l := w.waitReady(5 * time.Second)
		w.run(2 * time.Second)
		leaders := 0
		for _, id := range w.ids {
			n := w.nodes[id]
			if n.raft.IsLeader() {
				leaders++
				continue
			}
			if got, _ := n.raft.Leader(); got != l.id {
				t.Errorf("seed %d: %s follows %s; want %s", seed, node.Name(id), node.Name(got), node.Name(l.id))
			}
			if n.raft.Role() != RoleFollower {
				t.Errorf("seed %d: %s role %q; want %q", seed, node.Name(id), n.raft.Role(), RoleFollower)
			}
			if n.raft.Epoch() != l.raft.Epoch() {
				t.Errorf("seed %d: %s epoch %d; want %d", seed, node.Name(id), n.raft.Epoch(), l.raft.Epoch())
			}
			if n.raft.HighWatermark() != l.raft.HighWatermark() {
				t.Errorf("seed %d: %s HW %d; want leader's %d", seed, node.Name(id), n.raft.HighWatermark(), l.raft.HighWatermark())
			}
		}
		if leaders != 1 {
			t.Fatalf("seed %d: got %d leaders; want 1 (%s)", seed, leaders, w.roles())
		}
		first := l.raft.Entries(l.raft.HighWatermark()-1, l.raft.HighWatermark())
		if len(first) != 1 {
			t.Fatalf("seed %d: got %d entries at HW-1; want 1", seed, len(first))
		}
		lc, ok := first[0].Records[0].(metadata.LeaderChangeRecord)
		if !ok || lc.LeaderID != l.id || !slices.Equal(lc.Voters, w.cfg.Voters) {
			t.Errorf("seed %d: last committed entry %+v; want LeaderChangeRecord{%d %v}", seed, first[0], l.id, w.cfg.Voters)
		}
	}
}

// Reference: KIP-595 (fetch timeout, election timeout): after the leader dies a follower stops
// hearing from it, stands after controller.quorum.fetch.timeout.ms, and a new leader is elected
// within twice the election timeout on top of that (3 voters, 1–3 ms latency).
func TestReelectionAfterLeaderDeath(t *testing.T) {
	cfg := testConfig()
	bound := cfg.FetchTimeout + 2*cfg.ElectionTimeout
	var worst time.Duration
	for seed := uint64(1); seed <= 100; seed++ {
		w := newWorld(t, seed, 3)
		w.waitReady(5 * time.Second)
		w.runWithLoad(time.Duration(1+seed%3)*time.Second+time.Duration(seed*37)*time.Millisecond, 50*time.Millisecond)
		old := w.leader()
		oldEpoch := old.raft.Epoch()
		w.kill(old.id)
		died := w.now
		elected := func() bool { l := w.leader(); return l != nil && l.raft.Epoch() > oldEpoch }
		if !w.runUntil(died+2*bound, elected) {
			t.Fatalf("seed %d: no new leader %v after the leader died (%s)", seed, 2*bound, w.roles())
		}
		took := w.now - died
		worst = max(worst, took)
		if took > bound {
			t.Errorf("seed %d: new leader after %v; want ≤ %v", seed, took, bound)
		}
		// The old leader comes back and follows.
		w.restart(old.id)
		w.runWithLoad(3*time.Second, 100*time.Millisecond)
		if got := old.raft.Role(); got != RoleFollower {
			t.Errorf("seed %d: restarted old leader is %q; want %q (%s)", seed, got, RoleFollower, w.roles())
		}
	}
	t.Logf("worst re-election time: %v (bound %v)", worst, bound)
}

// Reference: Raft's Election Safety property, checked after every step of a swarm with message loss,
// kills, crashes and partitions (world.check fails on two leaders in one epoch).
func TestNoTwoLeadersInOneEpoch(t *testing.T) {
	for seed := uint64(100); seed < 110; seed++ {
		t.Logf("seed %d", seed)
		w := newWorld(t, seed, 5)
		w.loss = 20
		swarm(w, 40*time.Second, 5)
		if len(w.leaders) < 2 {
			t.Errorf("seed %d: only %d epochs had a leader; the swarm did not exercise elections", seed, len(w.leaders))
		}
	}
}

// swarm runs random faults for d: kills and crashes of a minority, isolation of any node,
// restarts, heals, with a steady append load; then heals everything and checks the quorum
// recovers and agrees.
func swarm(w *world, d time.Duration, voters int) {
	t := w.t
	t.Helper()
	w.waitReady(10 * time.Second)
	end := w.now + d
	minority := (voters - 1) / 2
	for w.now < end {
		w.runWithLoad(time.Duration(200+w.rng.intn(800))*time.Millisecond, 30*time.Millisecond)
		id := w.ids[w.rng.intn(len(w.ids))]
		down := 0
		for _, o := range w.ids {
			if !w.nodes[o].alive && w.nodes[o].voter {
				down++
			}
		}
		switch w.rng.intn(6) {
		case 0:
			if down < minority || !w.nodes[id].voter {
				w.kill(id)
			}
		case 1:
			if down < minority || !w.nodes[id].voter {
				w.crash(id)
			}
		case 2:
			if l := w.leader(); l != nil && down < minority {
				w.crash(l.id) // power loss of the leader itself
			}
		case 3:
			w.isolate(id)
		case 4:
			w.heal()
		case 5:
			for _, o := range w.ids {
				w.restart(o)
			}
		}
	}
	w.heal()
	w.loss = 0
	for _, o := range w.ids {
		w.restart(o)
	}
	// A resigned leader that was cut off comes back one epoch up (pollResigned) and may cost one
	// more election; pre-vote (KIP-996) keeps any other voter that was cut off from deposing the
	// leader, so the quorum settles.
	var l *simNode
	for try := 0; try < 3; try++ {
		l = w.waitReady(10 * time.Second)
		epoch := l.raft.Epoch()
		w.appendValue()
		w.run(3 * time.Second)
		if l.raft.IsLeader() && l.raft.Epoch() == epoch {
			break
		}
	}
	if l = w.leader(); l == nil {
		t.Fatalf("no leader after healing (%s)", w.roles())
	}
	want := l.raft.Entries(0, l.raft.EndOffset())
	for _, id := range w.ids {
		n := w.nodes[id]
		var r replica = n.obs
		if n.raft != nil {
			r = n.raft
		}
		if r.HighWatermark() != l.raft.HighWatermark() {
			t.Errorf("%s: HW %d after healing; want leader's %d (%s)", node.Name(id), r.HighWatermark(), l.raft.HighWatermark(), w.roles())
		}
		got := r.Entries(0, r.EndOffset())
		if len(got) != len(want) {
			t.Errorf("%s: LEO %d after healing; want leader's %d", node.Name(id), len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].Epoch != want[i].Epoch || recordKey(got[i].Records) != recordKey(want[i].Records) {
				t.Errorf("%s: entry %d differs from the leader's", node.Name(id), i)
				break
			}
		}
	}
}

// Reference: Raft's safety properties (Leader Completeness, Log Matching, State Machine
// Safety): committed entries survive leader changes, crashes of a minority (page cache lost)
// and partitions; world.check verifies the properties after every step.
func TestCommittedEntriesSurviveFaults(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		voters := 3
		if seed%2 == 0 {
			voters = 5
		}
		w := newWorld(t, seed, voters, 1, 2)
		if seed%3 == 0 {
			w.loss = 10 // 1% of messages lost
		}
		swarm(w, 60*time.Second, voters)
		if len(w.committed) < 200 {
			t.Errorf("seed %d: only %d entries committed; want ≥ 200 under a 30 ms append load", seed, len(w.committed))
		}
	}
}

// Reference: KIP-595 check quorum (KAFKA-15489, LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR): a
// leader cut off from the voters resigns within 1.5 × the fetch timeout, not before the fetch
// timeout; the majority elects a new leader; after healing the old one follows.
func TestPartitionedLeaderResigns(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		w := newWorld(t, seed, 3)
		w.waitReady(5 * time.Second)
		w.runWithLoad(time.Second, 50*time.Millisecond)
		old := w.leader()
		oldEpoch := old.raft.Epoch()
		w.isolate(old.id)
		cut := w.now
		resigned := func() bool { return !old.raft.IsLeader() }
		limit := w.cfg.FetchTimeout*3/2 + 10*time.Millisecond
		if !w.runUntil(cut+limit, resigned) {
			t.Fatalf("seed %d: isolated leader still leads %v after the cut; want it resigned", seed, limit)
		}
		if took := w.now - cut; took < w.cfg.FetchTimeout {
			t.Errorf("seed %d: isolated leader resigned %v after the cut; want ≥ the fetch timeout %v", seed, took, w.cfg.FetchTimeout)
		}
		if got := old.raft.Role(); got != RoleResigned {
			t.Errorf("seed %d: isolated leader role %q; want %q", seed, got, RoleResigned)
		}
		if _, ok := old.raft.Append(w.now, []any{int64(-1)}); ok {
			t.Errorf("seed %d: Append on a resigned leader: got ok=true; want false", seed)
		}
		w.runWithLoad(4*time.Second, 50*time.Millisecond)
		l := w.leader()
		if l == nil || l == old || l.raft.Epoch() <= oldEpoch {
			t.Fatalf("seed %d: majority side has no new leader (%s)", seed, w.roles())
		}
		w.heal()
		// The resigned old leader moved one epoch up (pollResigned); with pre-vote (KIP-996) it
		// does not bump further alone, and it cannot win with its shorter log.
		w.runWithLoad(6*time.Second, 50*time.Millisecond)
		if l = w.leader(); l == nil || l == old {
			t.Fatalf("seed %d: after healing no leader or the stale one leads (%s)", seed, w.roles())
		}
		if id, e := old.raft.Leader(); id != l.id || e != l.raft.Epoch() || old.raft.Role() != RoleFollower {
			t.Errorf("seed %d: healed old leader: role %s, leader %s epoch %d; want follower of %s in %d",
				seed, old.raft.Role(), node.Name(id), e, node.Name(l.id), l.raft.Epoch())
		}
	}
}

// Reference: KIP-595 Fetch with DivergingEpoch (Partition.fetchRecords, KIP-279): a leader
// that kept appending while cut off has a divergent uncommitted suffix; after healing it
// truncates it and takes the new leader's log.
func TestDivergentFollowerTruncates(t *testing.T) {
	w := newWorld(t, 7, 3)
	w.waitReady(5 * time.Second)
	w.runWithLoad(time.Second, 50*time.Millisecond)
	old := w.leader()
	w.isolate(old.id)
	// Appends on the cut-off leader: never committed.
	var lost []int64
	for i := 0; i < 5; i++ {
		off, ok := old.raft.Append(w.now, []any{int64(-100 - i)})
		if !ok {
			t.Fatalf("Append on the cut-off leader before it resigns: got ok=false; want true")
		}
		lost = append(lost, off)
		w.check(old)
		w.run(10 * time.Millisecond)
	}
	hwBefore := old.raft.HighWatermark()
	if hwBefore > lost[0] {
		t.Fatalf("cut-off leader committed its appends: HW %d > %d", hwBefore, lost[0])
	}
	w.runWithLoad(5*time.Second, 20*time.Millisecond) // majority elects and writes over those offsets
	w.heal()
	w.runWithLoad(3*time.Second, 50*time.Millisecond)
	w.run(time.Second)
	l := w.leader()
	if l == old {
		t.Fatalf("old leader leads again; want it to follow")
	}
	got, want := old.raft.Entries(0, old.raft.EndOffset()), l.raft.Entries(0, l.raft.EndOffset())
	if len(got) != len(want) {
		t.Fatalf("old leader LEO %d; want %d", len(got), len(want))
	}
	for _, off := range lost {
		if v, _ := got[off].Records[0].(int64); v <= -100 {
			t.Errorf("offset %d still holds the uncommitted value %d; want it truncated", off, v)
		}
		if got[off].Epoch != want[off].Epoch {
			t.Errorf("offset %d epoch %d; want %d", off, got[off].Epoch, want[off].Epoch)
		}
	}
}

// Reference: KIP-279 (AbstractFetcherThread): the follower truncates to the largest common prefix
// (min of the leader's end offset, its own end offset for that epoch and its LEO), and fetching
// again converges even when its entries below the leader's end offset carry another epoch.
func TestFollowerTruncationRule(t *testing.T) {
	mk := func(epochs ...int32) *metaLog {
		l := &metaLog{disk: newFakeDisk()}
		for i, e := range epochs {
			l.append(protocol.MetadataEntry{Offset: int64(i), Epoch: e})
		}
		return l
	}
	tests := []struct {
		name   string
		log    []int32
		div    protocol.EpochEndOffset
		hw     int64
		wantTo int64
		wantHW int64
	}{
		{"leader ends epoch earlier", []int32{1, 1, 2, 2, 2}, protocol.EpochEndOffset{Epoch: 2, EndOffset: 3}, 2, 3, 2},
		{"unknown epoch, leader's end beyond ours for it", []int32{1, 1, 2, 2, 2}, protocol.EpochEndOffset{Epoch: 1, EndOffset: 4}, 1, 2, 1},
		{"leader has no such epoch", []int32{2, 2}, protocol.EpochEndOffset{Epoch: protocol.UnknownEpoch, EndOffset: 0}, 0, 0, 0},
		{"leader's end past our LEO", []int32{1, 1, 3}, protocol.EpochEndOffset{Epoch: 1, EndOffset: 9}, 0, 2, 0},
		{"HW clamps to truncation", []int32{1, 1, 1, 1}, protocol.EpochEndOffset{Epoch: 1, EndOffset: 2}, 3, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mk(tt.log...)
			hw, ok := l.applyFetch(&protocol.QuorumFetchResponse{DivergingEpoch: tt.div, HighWatermark: 10}, tt.hw)
			if !ok || l.end() != tt.wantTo || hw != tt.wantHW {
				t.Errorf("got LEO %d HW %d ok %v; want LEO %d HW %d ok true", l.end(), hw, ok, tt.wantTo, tt.wantHW)
			}
			if got := l.disk.Len(LogFile); int64(got) != tt.wantTo {
				t.Errorf("disk holds %d entries; want %d", got, tt.wantTo)
			}
		})
	}
}

// Reference: KIP-279, the trap of truncating to min(leader end, LEO) only: follower [1 1 2 2 2]
// against leader [1 1 1 1 3 …]. Voters recover these logs from disk; the follower must converge
// to the leader's log instead of fetching at offset 4 forever.
func TestDivergentLogsFromDiskConverge(t *testing.T) {
	w := &world{
		t: t, rng: prng{s: 3}, nodes: map[int32]*simNode{}, cut: map[[2]int32]bool{},
		leaders: map[int32]int32{}, prefix: map[[2]int64]uint64{}, cfg: testConfig(),
	}
	w.cfg.Voters = []int32{node.ControllerID(1), node.ControllerID(2), node.ControllerID(3)}
	logs := map[int32][]int32{
		node.ControllerID(1): {1, 1, 1, 1, 3},
		node.ControllerID(2): {1, 1, 2, 2, 2},
		node.ControllerID(3): {1, 1, 1, 1, 3},
	}
	for _, id := range w.cfg.Voters {
		n := &simNode{id: id, voter: true, disk: newFakeDisk(), rng: prng{s: w.rng.next()}}
		for i, e := range logs[id] {
			// Offsets 2.. carry values distinct per epoch, so Log Matching sees real divergence.
			n.disk.Append(LogFile, protocol.MetadataEntry{Offset: int64(i), Epoch: e, Records: []any{int64(i*10) + int64(e)}})
		}
		n.disk.Write(StateFile, []any{ElectionState{Epoch: 3, VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}})
		for _, f := range n.disk.Files() {
			n.disk.Flush(f)
		}
		w.nodes[id] = n
		w.ids = append(w.ids, id)
	}
	for _, id := range w.ids {
		w.start(w.nodes[id])
	}
	l := w.waitReady(10 * time.Second)
	if l.id == node.ControllerID(2) {
		t.Fatalf("c2 (last epoch 2) won against logs with last epoch 3")
	}
	w.runWithLoad(2*time.Second, 50*time.Millisecond)
	f := w.nodes[node.ControllerID(2)].raft
	got, want := f.Entries(0, f.EndOffset()), l.raft.Entries(0, l.raft.EndOffset())
	if len(got) != len(want) || f.HighWatermark() != l.raft.HighWatermark() {
		t.Fatalf("c2 LEO %d HW %d; want %d %d", len(got), f.HighWatermark(), len(want), l.raft.HighWatermark())
	}
	for i := range got {
		if got[i].Epoch != want[i].Epoch {
			t.Fatalf("c2 offset %d epoch %d; want %d", i, got[i].Epoch, want[i].Epoch)
		}
	}
}

// recEnv is a node.Env that records what a lone node does, for message-level tests.
type recEnv struct {
	id     int32
	rng    prng
	sent   []sentMsg
	timers []any
	onSend func(to int32, msg any)
}

type sentMsg struct {
	to  int32
	msg any
}

func (e *recEnv) ID() int32 { return e.id }
func (e *recEnv) Send(to int32, msg any) {
	if e.onSend != nil {
		e.onSend(to, msg)
	}
	e.sent = append(e.sent, sentMsg{to, msg})
}
func (e *recEnv) After(d time.Duration, payload any) { e.timers = append(e.timers, payload) }
func (e *recEnv) Rand() uint64                       { return e.rng.next() }
func (e *recEnv) Halt()                              {}
func (e *recEnv) Observe(any)                        {}

func (e *recEnv) last(t *testing.T) any {
	t.Helper()
	if len(e.sent) == 0 {
		t.Fatalf("nothing sent; want a response")
	}
	return e.sent[len(e.sent)-1].msg
}

// Reference: KIP-595 (Vote): a voter votes at most once per epoch, even across a restart, and
// its vote is flushed to quorum-state before the grant leaves.
func TestVoteOncePerEpochAcrossRestart(t *testing.T) {
	c1, c2, c3 := node.ControllerID(1), node.ControllerID(2), node.ControllerID(3)
	disk := newFakeDisk()
	disk.Write(StateFile, []any{ElectionState{Epoch: 5, VotedFor: c2, LeaderID: protocol.NoLeader}})
	disk.Flush(StateFile)
	env := &recEnv{id: c1, rng: prng{s: 1}}
	env.onSend = func(to int32, msg any) {
		if v, ok := msg.(*protocol.VoteResponse); ok && v.VoteGranted {
			st := disk.files[StateFile].durable[0].(ElectionState)
			if st.Epoch != v.LeaderEpoch || st.VotedFor != to {
				t.Errorf("grant to %s in epoch %d sent with durable state %+v; want the vote flushed first", node.Name(to), v.LeaderEpoch, st)
			}
		}
	}
	cfg := testConfig()
	cfg.ID, cfg.Voters = c1, []int32{c1, c2, c3}
	r := NewRaft(cfg, env, disk, 0)
	tests := []struct {
		from  int32
		epoch int32
		want  bool
	}{
		{c3, 5, false}, // already voted for c2 in 5
		{c2, 5, true},  // the same vote again
		{c3, 4, false}, // stale epoch
		{c3, 6, true},  // new epoch
		{c2, 6, false}, // already voted for c3 in 6
	}
	for _, tt := range tests {
		r.Handle(0, tt.from, &protocol.VoteRequest{CandidateEpoch: tt.epoch, CandidateID: tt.from, LastOffsetEpoch: 0, LastOffset: 0})
		got := env.last(t).(*protocol.VoteResponse)
		if got.VoteGranted != tt.want {
			t.Errorf("vote for %s in epoch %d: got granted=%v; want %v", node.Name(tt.from), tt.epoch, got.VoteGranted, tt.want)
		}
	}
	// Restart: the vote for c3 in epoch 6 is remembered.
	r = NewRaft(cfg, env, disk, 0)
	r.Handle(0, c2, &protocol.VoteRequest{CandidateEpoch: 6, CandidateID: c2})
	if got := env.last(t).(*protocol.VoteResponse); got.VoteGranted {
		t.Errorf("after restart, vote for c2 in epoch 6: got granted; want refused (voted for c3)")
	}
}

// Reference: Raft's election restriction: a vote needs a candidate log at least as
// up-to-date (last epoch, then end offset).
func TestVoteRequiresUpToDateLog(t *testing.T) {
	c1, c2 := node.ControllerID(1), node.ControllerID(2)
	tests := []struct {
		name      string
		lastEpoch int32
		lastOff   int64
		want      bool
	}{
		{"higher last epoch, shorter log", 3, 1, true},
		{"same epoch, same length", 2, 4, true},
		{"same epoch, longer", 2, 9, true},
		{"same epoch, shorter", 2, 3, false},
		{"lower last epoch, longer", 1, 99, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk := newFakeDisk()
			for i, e := range []int32{1, 1, 2, 2} {
				disk.Append(LogFile, protocol.MetadataEntry{Offset: int64(i), Epoch: e})
			}
			disk.Write(StateFile, []any{ElectionState{Epoch: 2, VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}})
			env := &recEnv{id: c1}
			cfg := testConfig()
			cfg.ID, cfg.Voters = c1, []int32{c1, c2, node.ControllerID(3)}
			r := NewRaft(cfg, env, disk, 0)
			r.Handle(0, c2, &protocol.VoteRequest{CandidateEpoch: 3, CandidateID: c2, LastOffsetEpoch: tt.lastEpoch, LastOffset: tt.lastOff})
			if got := env.last(t).(*protocol.VoteResponse).VoteGranted; got != tt.want {
				t.Errorf("got granted=%v; want %v", got, tt.want)
			}
		})
	}
}

// Reference: Partition.fetchRecords (leader epoch check, then DivergingEpoch) as the quorum
// leader applies it to QuorumFetchRequest: epoch fencing, then the divergence check against the leader-epoch cache.
func TestLeaderFetchDivergenceCheck(t *testing.T) {
	c1 := node.ControllerID(1)
	disk := newFakeDisk()
	for i, e := range []int32{1, 1, 1, 3, 3} {
		disk.Append(LogFile, protocol.MetadataEntry{Offset: int64(i), Epoch: e})
	}
	disk.Write(StateFile, []any{ElectionState{Epoch: 3, VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}})
	env := &recEnv{id: c1}
	cfg := testConfig()
	cfg.ID, cfg.Voters = c1, []int32{c1}
	r := NewRaft(cfg, env, disk, 0) // single voter: leads epoch 4, LeaderChangeRecord at 5
	if !r.Ready() || r.Epoch() != 4 || r.EndOffset() != 6 {
		t.Fatalf("single voter: ready %v epoch %d LEO %d; want true 4 6", r.Ready(), r.Epoch(), r.EndOffset())
	}
	tests := []struct {
		name        string
		epoch       int32
		offset      int64
		lastEpoch   int32
		wantErr     protocol.ErrorCode
		wantDiv     protocol.EpochEndOffset
		wantEntries int
	}{
		{"empty fetcher", 4, 0, 0, protocol.NONE, protocol.NoDivergence, 6},
		{"matching epoch 1 end", 4, 3, 1, protocol.NONE, protocol.NoDivergence, 3},
		{"unknown epoch 2", 4, 4, 2, protocol.NONE, protocol.EpochEndOffset{Epoch: 1, EndOffset: 3}, 0},
		{"past the end of epoch 3", 4, 6, 3, protocol.NONE, protocol.EpochEndOffset{Epoch: 3, EndOffset: 5}, 0},
		{"end of epoch 3", 4, 5, 3, protocol.NONE, protocol.NoDivergence, 1},
		{"caught up", 4, 6, 4, protocol.NONE, protocol.NoDivergence, 0},
		{"epoch below the log", 4, 2, 0, protocol.NONE, protocol.EpochEndOffset{Epoch: protocol.UnknownEpoch, EndOffset: 0}, 0},
		{"fenced epoch", 3, 6, 4, protocol.FENCED_LEADER_EPOCH, protocol.NoDivergence, 0},
		{"unknown leader epoch", 5, 6, 4, protocol.UNKNOWN_LEADER_EPOCH, protocol.NoDivergence, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.Handle(0, 1, &protocol.QuorumFetchRequest{CorrelationID: 9, ReplicaID: 1, LeaderEpoch: tt.epoch, FetchOffset: tt.offset, LastFetchedEpoch: tt.lastEpoch})
			got := env.last(t).(*protocol.QuorumFetchResponse)
			if got.Error != tt.wantErr || got.DivergingEpoch != tt.wantDiv || len(got.Entries) != tt.wantEntries || got.CorrelationID != 9 {
				t.Errorf("got err %v div %+v %d entries corr %d; want %v %+v %d corr 9",
					got.Error, got.DivergingEpoch, len(got.Entries), got.CorrelationID, tt.wantErr, tt.wantDiv, tt.wantEntries)
			}
			if tt.wantEntries > 0 && got.Entries[0].Offset != tt.offset {
				t.Errorf("first entry offset %d; want %d", got.Entries[0].Offset, tt.offset)
			}
			if got.Error == protocol.NONE && got.HighWatermark != 6 {
				t.Errorf("HW %d; want 6", got.HighWatermark)
			}
			if r.Role() != RoleLeader {
				t.Errorf("leader role after fetch: %q; want leader", r.Role())
			}
		})
	}
}

// Reference: KIP-595 single-voter quorum: the lone voter elects itself at once, commits each
// append by itself, and recovers its log after a restart in a new epoch.
func TestSingleVoter(t *testing.T) {
	w := newWorld(t, 1, 1)
	n := w.nodes[node.ControllerID(1)]
	if !n.raft.IsLeader() || !n.raft.Ready() || n.raft.Epoch() != 1 {
		t.Fatalf("single voter at start: leader %v ready %v epoch %d; want true true 1", n.raft.IsLeader(), n.raft.Ready(), n.raft.Epoch())
	}
	for i := int64(1); i <= 10; i++ {
		off, ok := n.raft.Append(w.now, []any{i})
		if !ok || n.raft.HighWatermark() != off+1 {
			t.Fatalf("append %d: got offset %d ok %v HW %d; want committed at once", i, off, ok, n.raft.HighWatermark())
		}
		w.check(n)
	}
	w.run(5 * time.Second)
	leo := n.raft.EndOffset()
	w.crash(n.id)
	w.restart(n.id)
	if !n.raft.IsLeader() || n.raft.Epoch() != 2 || n.raft.EndOffset() != leo+1 || n.raft.HighWatermark() != leo+1 {
		t.Fatalf("after restart: leader %v epoch %d LEO %d HW %d; want true 2 %d %d",
			n.raft.IsLeader(), n.raft.Epoch(), n.raft.EndOffset(), n.raft.HighWatermark(), leo+1, leo+1)
	}
}

// Reference: KIP-595 EndQuorumEpoch: a leader that resigns gracefully hands over well before the
// fetch timeout, to its most up-to-date follower.
func TestGracefulResignElectsAtOnce(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		w := newWorld(t, seed, 3)
		w.waitReady(5 * time.Second)
		w.runWithLoad(time.Second, 50*time.Millisecond)
		old := w.leader()
		epoch := old.raft.Epoch()
		old.raft.Resign(w.now)
		if old.raft.IsLeader() || old.raft.Role() != RoleResigned {
			t.Fatalf("seed %d: after Resign: role %q; want resigned", seed, old.raft.Role())
		}
		w.kill(old.id)
		at := w.now
		if !w.runUntil(at+w.cfg.FetchTimeout, func() bool { l := w.leader(); return l != nil && l.raft.Epoch() > epoch }) {
			t.Fatalf("seed %d: no new leader within the fetch timeout after a graceful resign (%s)", seed, w.roles())
		}
		if took := w.now - at; took > w.cfg.ElectionBackoffMax {
			t.Errorf("seed %d: handover took %v; want ≤ %v", seed, took, w.cfg.ElectionBackoffMax)
		}
	}
}

// Raft.Handle and Observer.Handle refuse inputs that are not the quorum's.
func TestHandleRefusesOtherInputs(t *testing.T) {
	cfg := testConfig()
	cfg.ID, cfg.Voters = node.ControllerID(1), []int32{node.ControllerID(1)}
	r := NewRaft(cfg, &recEnv{id: cfg.ID}, newFakeDisk(), 0)
	o := NewObserver(Config{ID: 1, Voters: cfg.Voters}, &recEnv{id: 1}, newFakeDisk(), 0)
	for _, msg := range []any{"tick", &protocol.FetchRequest{}, observerTimer{kind: timerFetch}} {
		if r.Handle(0, 5, msg) {
			t.Errorf("Raft.Handle(%T): got true; want false", msg)
		}
	}
	for _, msg := range []any{"tick", &protocol.FetchRequest{}, raftTimer{kind: timerFetch}} {
		if o.Handle(0, 5, msg) {
			t.Errorf("Observer.Handle(%T): got true; want false", msg)
		}
	}
}

// Reference: Raft's commitment rule (the paper's Figure 8) and KIP-595: a new leader does not commit entries of
// earlier epochs by counting replicas; the high watermark moves only once an entry of its own
// epoch (its LeaderChangeRecord) is on a majority.
func TestCommitOnlyByCountingCurrentEpoch(t *testing.T) {
	c1, c2, c3 := node.ControllerID(1), node.ControllerID(2), node.ControllerID(3)
	disk := newFakeDisk()
	for i, e := range []int32{1, 1, 2, 2} {
		disk.Append(LogFile, protocol.MetadataEntry{Offset: int64(i), Epoch: e})
	}
	disk.Write(StateFile, []any{ElectionState{Epoch: 3, VotedFor: protocol.NoLeader, LeaderID: protocol.NoLeader}})
	env := &recEnv{id: c1}
	cfg := testConfig()
	cfg.ID, cfg.Voters = c1, []int32{c1, c2, c3}
	r := NewRaft(cfg, env, disk, 0)
	r.becomeCandidate(0)
	r.Handle(0, c2, &protocol.VoteResponse{LeaderID: protocol.NoLeader, LeaderEpoch: 4, VoteGranted: true})
	if !r.IsLeader() || r.Epoch() != 4 || r.EndOffset() != 5 {
		t.Fatalf("after a majority of votes: leader %v epoch %d LEO %d; want true 4 5", r.IsLeader(), r.Epoch(), r.EndOffset())
	}
	steps := []struct {
		offset    int64
		lastEpoch int32
		wantHW    int64
		wantReady bool
	}{
		{4, 2, 0, false}, // c2 holds the epoch-2 entries: not committed by counting
		{5, 4, 5, true},  // c2 holds the LeaderChangeRecord: everything up to it commits
	}
	for _, s := range steps {
		r.Handle(0, c2, &protocol.QuorumFetchRequest{CorrelationID: 1, ReplicaID: c2, LeaderEpoch: 4, FetchOffset: s.offset, LastFetchedEpoch: s.lastEpoch})
		if r.HighWatermark() != s.wantHW || r.Ready() != s.wantReady {
			t.Errorf("after c2 fetches at %d: got HW %d ready %v; want %d %v", s.offset, r.HighWatermark(), r.Ready(), s.wantHW, s.wantReady)
		}
	}
}
