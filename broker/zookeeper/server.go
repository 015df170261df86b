package zookeeper

import (
	"maps"
	"slices"
	"sort"
	"time"

	"kafkasim/broker/node"
)

// Config is the ensemble's configuration (zoo.cfg), with ZooKeeper's sample values.
type Config struct {
	Servers   []int32       // server.1 … server.N
	TickTime  time.Duration // tickTime=2000
	InitLimit int           // initLimit=10 ticks for followers to sync with a new leader
	SyncLimit int           // syncLimit=5 ticks a follower may go unheard (and the leader)
}

// DefaultConfig is zoo_sample.cfg's timing for servers.
func DefaultConfig(servers []int32) Config {
	return Config{Servers: servers, TickTime: 2 * time.Second, InitLimit: 10, SyncLimit: 5}
}

func (c Config) quorum() int { return len(c.Servers)/2 + 1 }

// finalizeWait is how long FastLeaderElection waits for a better vote once a quorum agrees.
const finalizeWait = 200 * time.Millisecond

// Disk files.
const (
	fileLog           = "version-2/log"
	fileAcceptedEpoch = "version-2/acceptedEpoch"
	fileCurrentEpoch  = "version-2/currentEpoch"
)

type timerKind uint8

const (
	tickElection timerKind = iota + 1 // resend notifications
	tickFinalize                      // a quorum agreed finalizeWait ago
	tickHalf                          // every tickTime/2: pings, liveness, session expiry
)

type timer struct {
	kind timerKind
	gen  int64
}

// TraceArg puts the timer kind in the trace.
func (t timer) TraceArg() int64 { return int64(t.kind) }

// learner is the leader's view of one follower (LearnerHandler).
type learner struct {
	receiving bool          // sent NEWLEADER: proposals flow to it
	synced    bool          // sent UPTODATE
	heard     time.Duration // last message from it
}

// clientSession is a session connected to this server.
type clientSession struct {
	id       int64
	client   int32
	timeout  time.Duration
	queue    []*Request // FIFO: one write in flight, reads wait behind it
	inflight bool
	opening  bool // the session's CreateSession is not applied yet
}

// Server is one ZooKeeper server (QuorumPeer with its ZooKeeperServer).
type Server struct {
	cfg  Config
	id   int32
	env  node.Env
	disk node.Disk

	state         PeerState
	acceptedEpoch int64
	currentEpoch  int64
	log           []*Txn // durable history
	committed     int    // entries of log committed and applied to tree
	tree          *Tree
	gen           int64 // timer generation: bumped at every state change

	// FastLeaderElection.
	round int64
	vote  Vote
	votes map[int32]Vote
	ooe   map[int32]Notification // notifications of peers out of the election

	// Following.
	leader    int32
	synced    bool
	heard     time.Duration
	upTo      int // follower: entries of the NEWLEADER history
	commitZx  int64
	lastStart time.Duration
	decided   time.Duration

	// Leading.
	learners    map[int32]*learner
	infos       map[int32]FollowerInfo
	newEpoch    int64
	established bool
	prep        *Tree
	counter     int64
	acks        map[int64]map[int32]bool
	deadlines   map[int64]time.Duration

	// Clients connected here.
	conns    map[int32]int64 // client node → session
	sessions map[int64]*clientSession
	watches  map[Watch][]int64
	touched  map[int64]bool
}

// New starts a server from its disk.
func New(cfg Config, env node.Env, disk node.Disk, now time.Duration) *Server {
	s := &Server{cfg: cfg, id: env.ID(), env: env, disk: disk, tree: NewTree(),
		conns: map[int32]int64{}, sessions: map[int64]*clientSession{}, watches: map[Watch][]int64{}, touched: map[int64]bool{}}
	if e := disk.Read(fileAcceptedEpoch); len(e) == 1 {
		s.acceptedEpoch = e[0].(int64)
	}
	if e := disk.Read(fileCurrentEpoch); len(e) == 1 {
		s.currentEpoch = e[0].(int64)
	}
	for _, e := range disk.Read(fileLog) {
		s.log = append(s.log, e.(*Txn))
	}
	s.goLooking(now)
	return s
}

// State is the server's role.
func (s *Server) State() PeerState { return s.state }

// ID is the server's node id.
func (s *Server) ID() int32 { return s.id }

// Leader is the leader this server follows or is, -1 while looking.
func (s *Server) Leader() int32 {
	switch s.state {
	case Leading:
		return s.id
	case Following:
		return s.leader
	}
	return -1
}

// Serving reports whether the server answers clients (a leader with a quorum synced, or a
// follower that got UPTODATE).
func (s *Server) Serving() bool {
	return s.state == Leading && s.established || s.state == Following && s.synced
}

// Epoch is the server's current epoch.
func (s *Server) Epoch() int64 { return s.currentEpoch }

// Zxid is the last zxid applied to the server's tree.
func (s *Server) Zxid() int64 { return s.tree.Zxid }

// LastLogged is the last zxid in the server's history.
func (s *Server) LastLogged() int64 {
	if len(s.log) == 0 {
		return 0
	}
	return s.log[len(s.log)-1].Zxid
}

// Tree is the server's committed data tree (read-only).
func (s *Server) Tree() *Tree { return s.tree }

// Connections is the number of client sessions connected to this server.
func (s *Server) Connections() int { return len(s.sessions) }

func (s *Server) peers() []int32 {
	var out []int32
	for _, p := range s.cfg.Servers {
		if p != s.id {
			out = append(out, p)
		}
	}
	return out
}

func (s *Server) persistEpochs() {
	s.disk.Write(fileAcceptedEpoch, []any{s.acceptedEpoch})
	s.disk.Flush(fileAcceptedEpoch)
	s.disk.Write(fileCurrentEpoch, []any{s.currentEpoch})
	s.disk.Flush(fileCurrentEpoch)
}

// Step handles one input.
func (s *Server) Step(now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case timer:
		s.onTimer(now, m)
	case *Notification:
		s.onNotification(now, from, m)
	case *FollowerInfo:
		s.onFollowerInfo(now, from, m)
	case *NewLeader:
		s.onNewLeader(now, from, m)
	case *AckNewLeader:
		s.onAckNewLeader(now, from, m)
	case *UpToDate:
		s.onUpToDate(now, from, m)
	case *Proposal:
		s.onProposal(now, from, m)
	case *Ack:
		s.onAck(now, from, m)
	case *Commit:
		s.onCommit(now, from, m)
	case *Ping:
		if s.state == Following && from == s.leader && m.Epoch == s.acceptedEpoch {
			s.heard = now
			s.env.Send(from, &PingAck{Epoch: m.Epoch, Touched: slices.Sorted(maps.Keys(s.touched))})
			clear(s.touched)
		}
	case *PingAck:
		if l := s.learner(from, m.Epoch); l != nil {
			l.heard = now
			for _, id := range m.Touched {
				s.touch(now, id)
			}
		}
	case *Forward:
		if s.state == Leading && s.established && m.Epoch == s.newEpoch {
			if l := s.learners[from]; l != nil {
				l.heard = now
			}
			s.propose(now, m.Req, m.From)
		}
	case *Connect:
		s.onConnect(now, from, m)
	case *Request:
		s.onRequest(now, from, m)
	case *node.ConnectionReset:
		s.onConnectionReset(now, m.Peer)
	}
}

// onConnectionReset: a client's connection closed (its session lives on until it expires), or
// a quorum peer's process died: the leader's LearnerHandler for it ends at once, and a
// follower that lost its leader's connection looks for a new one (Follower.followLeader).
func (s *Server) onConnectionReset(now time.Duration, peer int32) {
	if !node.IsZooKeeper(peer) {
		s.dropClient(peer)
		return
	}
	switch {
	case s.state == Leading:
		delete(s.learners, peer)
		if s.established {
			alive := 1
			for _, l := range s.learners {
				if l.synced {
					alive++
				}
			}
			if alive < s.cfg.quorum() {
				s.goLooking(now)
			}
		}
	case s.state == Following && peer == s.leader:
		s.goLooking(now)
	}
}

func (s *Server) onTimer(now time.Duration, t timer) {
	if t.kind == tickHalf {
		s.halfTick(now)
		s.env.After(s.cfg.TickTime/2, t)
		return
	}
	if t.gen != s.gen || s.state != Looking {
		return
	}
	switch t.kind {
	case tickElection:
		s.broadcastVote()
		s.env.After(s.cfg.TickTime/2, t)
	case tickFinalize:
		if s.agreed(s.vote) {
			s.decide(now)
		}
	}
}

// halfTick, every tickTime/2: the leader pings and checks its quorum (Leader.lead), a follower
// checks it still hears its leader, the leader expires sessions (SessionTrackerImpl).
func (s *Server) halfTick(now time.Duration) {
	limit := time.Duration(s.cfg.SyncLimit) * s.cfg.TickTime
	switch s.state {
	case Following:
		if now-s.heard > limit {
			s.goLooking(now)
			return
		}
		if !s.synced && now-s.decided > time.Duration(s.cfg.InitLimit)*s.cfg.TickTime {
			s.goLooking(now)
			return
		}
		if !s.synced && s.upTo == 0 && now-s.lastStart > s.cfg.TickTime {
			s.lastStart = now
			s.env.Send(s.leader, &FollowerInfo{AcceptedEpoch: s.acceptedEpoch, LastZxid: s.LastLogged()})
		}
	case Leading:
		if !s.established {
			if now-s.lastStart > time.Duration(s.cfg.InitLimit)*s.cfg.TickTime {
				s.goLooking(now)
			}
			return
		}
		alive := 1
		for _, p := range slices.Sorted(maps.Keys(s.learners)) {
			l := s.learners[p]
			s.env.Send(p, &Ping{Epoch: s.newEpoch})
			if l.synced && now-l.heard <= limit {
				alive++
			}
		}
		if alive < s.cfg.quorum() {
			s.goLooking(now) // Leader.lead: "Not sufficient followers synced, only synced with sids"
			return
		}
		s.expireSessions(now)
	}
}

// --- election (FastLeaderElection) -----------------------------------------------------------

func (s *Server) selfVote() Vote {
	return Vote{Leader: s.id, Epoch: s.currentEpoch, Zxid: s.LastLogged()}
}

func (s *Server) goLooking(now time.Duration) {
	s.closeClients()
	s.state = Looking
	s.gen++
	s.round++
	s.synced, s.established = false, false
	s.learners, s.infos, s.acks, s.deadlines, s.prep = nil, nil, nil, nil, nil
	s.vote = s.selfVote()
	s.votes = map[int32]Vote{s.id: s.vote}
	s.ooe = map[int32]Notification{}
	if s.gen == 1 {
		s.env.After(s.cfg.TickTime/2, timer{kind: tickHalf})
	}
	s.env.Observe(&StateChanged{Server: s.id, State: Looking, Epoch: s.currentEpoch})
	s.broadcastVote()
	s.env.After(s.cfg.TickTime/2, timer{kind: tickElection, gen: s.gen})
	if len(s.cfg.Servers) == 1 {
		s.decide(now)
	}
}

func (s *Server) broadcastVote() {
	for _, p := range s.peers() {
		s.env.Send(p, &Notification{Vote: s.vote, Round: s.round, State: s.state})
	}
}

func (s *Server) agreed(v Vote) bool {
	n := 0
	for _, x := range s.votes {
		if x == v {
			n++
		}
	}
	return n >= s.cfg.quorum()
}

func (s *Server) onNotification(now time.Duration, from int32, n *Notification) {
	if s.state != Looking {
		if n.State == Looking { // tell the looking peer who leads
			v := Vote{Leader: s.Leader(), Epoch: s.currentEpoch, Zxid: s.LastLogged()}
			s.env.Send(from, &Notification{Vote: v, Round: s.round, State: s.state})
		}
		return
	}
	if n.State != Looking {
		// A peer out of the election names its leader: follow it once a quorum says so and
		// the leader itself says it leads (FastLeaderElection.checkLeader).
		s.ooe[from] = *n
		count := 1
		for _, o := range s.ooe {
			if o.Vote.Leader == n.Vote.Leader {
				count++
			}
		}
		if l, ok := s.ooe[n.Vote.Leader]; ok && l.State == Leading && count >= s.cfg.quorum() {
			s.vote = n.Vote
			s.decide(now)
		}
		return
	}
	switch {
	case n.Round > s.round:
		s.round = n.Round
		s.votes = map[int32]Vote{}
		s.vote = s.selfVote()
		if n.Vote.better(s.vote) {
			s.vote = n.Vote
		}
		s.broadcastVote()
	case n.Round < s.round:
		s.env.Send(from, &Notification{Vote: s.vote, Round: s.round, State: s.state})
		return
	case n.Vote.better(s.vote):
		s.vote = n.Vote
		s.broadcastVote()
	}
	s.votes[from] = n.Vote
	s.votes[s.id] = s.vote
	if s.agreed(s.vote) {
		s.env.After(finalizeWait, timer{kind: tickFinalize, gen: s.gen})
	}
}

func (s *Server) decide(now time.Duration) {
	s.gen++
	s.lastStart, s.decided = now, now
	if s.vote.Leader == s.id {
		s.state = Leading
		s.learners = map[int32]*learner{}
		s.infos = map[int32]FollowerInfo{s.id: {AcceptedEpoch: s.acceptedEpoch, LastZxid: s.LastLogged()}}
		s.newEpoch = 0
		s.env.Observe(&StateChanged{Server: s.id, State: Leading, Epoch: s.currentEpoch})
		s.maybeNewEpoch(now)
		return
	}
	s.state = Following
	s.leader = s.vote.Leader
	s.heard = now
	s.synced = false
	s.upTo = 0
	s.env.Observe(&StateChanged{Server: s.id, State: Following, Epoch: s.currentEpoch, Leader: s.leader})
	s.env.Send(s.leader, &FollowerInfo{AcceptedEpoch: s.acceptedEpoch, LastZxid: s.LastLogged()})
}

// --- synchronisation (ZAB discovery and sync) ------------------------------------------------

func (s *Server) learner(from int32, epoch int64) *learner {
	if s.state != Leading || epoch != s.newEpoch {
		return nil
	}
	return s.learners[from]
}

func (s *Server) onFollowerInfo(now time.Duration, from int32, m *FollowerInfo) {
	if s.state != Leading {
		return
	}
	if s.newEpoch == 0 {
		s.infos[from] = *m
		s.maybeNewEpoch(now)
		return
	}
	s.sendNewLeader(now, from)
}

// maybeNewEpoch: once a quorum has connected, the new epoch is one above every accepted epoch
// (Leader.getEpochToPropose); the leader sends each follower its history.
func (s *Server) maybeNewEpoch(now time.Duration) {
	if len(s.infos) < s.cfg.quorum() {
		return
	}
	e := int64(0)
	for _, in := range s.infos {
		e = max(e, in.AcceptedEpoch)
	}
	s.newEpoch = e + 1
	s.acceptedEpoch = s.newEpoch
	s.persistEpochs()
	s.acks = map[int64]map[int32]bool{}
	s.acks[-1] = map[int32]bool{s.id: true} // NEWLEADER acks
	for _, p := range slices.Sorted(maps.Keys(s.infos)) {
		if p != s.id {
			s.sendNewLeader(now, p)
		}
	}
	s.maybeEstablish(now)
}

func (s *Server) sendNewLeader(now time.Duration, to int32) {
	s.learners[to] = &learner{receiving: true, heard: now}
	s.env.Send(to, &NewLeader{Epoch: s.newEpoch, History: slices.Clone(s.log)})
}

func (s *Server) onNewLeader(now time.Duration, from int32, m *NewLeader) {
	if s.state != Following || from != s.leader || m.Epoch < s.acceptedEpoch {
		return
	}
	s.heard = now
	s.acceptedEpoch, s.currentEpoch = m.Epoch, m.Epoch
	s.persistEpochs()
	s.log = m.History
	entries := make([]any, len(s.log))
	for i, x := range s.log {
		entries[i] = x
	}
	s.disk.Write(fileLog, entries)
	s.disk.Flush(fileLog)
	s.tree, s.committed, s.commitZx = NewTree(), 0, 0
	s.upTo = len(s.log)
	s.env.Send(from, &AckNewLeader{Epoch: m.Epoch})
}

func (s *Server) onAckNewLeader(now time.Duration, from int32, m *AckNewLeader) {
	l := s.learner(from, m.Epoch)
	if l == nil {
		return
	}
	l.heard = now
	if !s.established {
		s.acks[-1][from] = true
		s.maybeEstablish(now)
		return
	}
	// A late joiner logged the whole history: it counts for the proposals still in flight.
	for _, x := range s.log[s.committed:] {
		if a := s.acks[x.Zxid]; a != nil {
			a[from] = true
		}
	}
	l.synced = true
	s.env.Send(from, &UpToDate{Epoch: s.newEpoch, Committed: s.committed})
	s.maybeCommit(now)
}

// maybeEstablish: a quorum took the new epoch and the history, which is now committed.
func (s *Server) maybeEstablish(now time.Duration) {
	if s.established || len(s.acks[-1]) < s.cfg.quorum() {
		return
	}
	s.established = true
	s.currentEpoch = s.newEpoch
	s.persistEpochs()
	delete(s.acks, -1)
	s.tree, s.committed = NewTree(), 0
	s.applyTo(now, len(s.log))
	s.prep = s.tree.Clone()
	s.counter = 0
	s.deadlines = map[int64]time.Duration{}
	for _, id := range slices.Sorted(maps.Keys(s.tree.Sessions)) {
		s.deadlines[id] = now + time.Duration(s.tree.Sessions[id])
	}
	for _, p := range slices.Sorted(maps.Keys(s.learners)) {
		l := s.learners[p]
		if l.receiving {
			l.synced = true
			s.env.Send(p, &UpToDate{Epoch: s.newEpoch, Committed: s.committed})
		}
	}
	s.env.Observe(&Established{Server: s.id, Epoch: s.newEpoch})
}

func (s *Server) onUpToDate(now time.Duration, from int32, m *UpToDate) {
	if s.state != Following || from != s.leader || m.Epoch != s.acceptedEpoch || s.synced {
		return
	}
	s.heard = now
	s.synced = true
	s.applyTo(now, max(m.Committed, s.indexOf(s.commitZx)))
	s.env.Observe(&StateChanged{Server: s.id, State: Following, Epoch: s.currentEpoch, Leader: s.leader, Synced: true})
}

// --- broadcast (ZAB) ---------------------------------------------------------------------------

// propose: the leader prepares a client request as a txn, logs it and sends it to the
// followers (ProposalRequestProcessor).
func (s *Server) propose(now time.Duration, r *Request, server int32) {
	s.counter++
	x := &Txn{Zxid: s.newEpoch<<32 | s.counter, Session: r.Session, Xid: r.Xid, Server: server}
	switch r.Kind {
	case reqCreateSession:
		x.Kind, x.Timeout = TxnCreateSession, int64(r.Timeout)
	case ReqClose:
		x.Kind = TxnCloseSession
		delete(s.deadlines, r.Session)
	default:
		x.Kind, x.Ops = TxnMulti, r.Ops
		if _, ok := s.prep.Sessions[r.Session]; !ok && r.Session != 0 {
			x.Ops, x.Err = nil, SESSIONEXPIRED
		}
	}
	if x.Err == OK {
		s.prep.Prepare(x)
	}
	if x.Kind == TxnCreateSession {
		s.deadlines[x.Session] = now + r.Timeout
	}
	s.log = append(s.log, x)
	s.disk.Append(fileLog, x)
	s.disk.Flush(fileLog)
	s.acks[x.Zxid] = map[int32]bool{s.id: true}
	for _, p := range slices.Sorted(maps.Keys(s.learners)) {
		if s.learners[p].receiving {
			s.env.Send(p, &Proposal{Epoch: s.newEpoch, Txn: x})
		}
	}
	s.maybeCommit(now)
}

func (s *Server) onProposal(now time.Duration, from int32, m *Proposal) {
	if s.state != Following || from != s.leader || m.Epoch != s.acceptedEpoch || s.upTo == 0 && !s.synced {
		return
	}
	// Proposals come in zxid order over one connection; a gap means the connection lost
	// messages, and ZooKeeper's follower would have lost its TCP connection: it reconnects.
	want := m.Epoch<<32 | 1
	if last := s.LastLogged(); last>>32 == m.Epoch {
		want = last + 1
	}
	if m.Txn.Zxid != want {
		s.goLooking(now)
		return
	}
	s.heard = now
	s.log = append(s.log, m.Txn)
	s.disk.Append(fileLog, m.Txn)
	s.disk.Flush(fileLog)
	s.env.Send(from, &Ack{Epoch: m.Epoch, Zxid: m.Txn.Zxid})
}

func (s *Server) onAck(now time.Duration, from int32, m *Ack) {
	l := s.learner(from, m.Epoch)
	if l == nil || !s.established {
		return
	}
	l.heard = now
	if a := s.acks[m.Zxid]; a != nil {
		a[from] = true
	}
	s.maybeCommit(now)
}

// maybeCommit commits proposals in zxid order as each gets a quorum of acks.
func (s *Server) maybeCommit(now time.Duration) {
	n := s.committed
	for n < len(s.log) && len(s.acks[s.log[n].Zxid]) >= s.cfg.quorum() {
		delete(s.acks, s.log[n].Zxid)
		n++
	}
	if n == s.committed {
		return
	}
	last := s.log[n-1].Zxid
	s.applyTo(now, n)
	for _, p := range slices.Sorted(maps.Keys(s.learners)) {
		if s.learners[p].receiving {
			s.env.Send(p, &Commit{Epoch: s.newEpoch, Zxid: last})
		}
	}
}

func (s *Server) onCommit(now time.Duration, from int32, m *Commit) {
	if s.state != Following || from != s.leader || m.Epoch != s.acceptedEpoch {
		return
	}
	s.heard = now
	s.commitZx = max(s.commitZx, m.Zxid)
	if s.synced {
		s.applyTo(now, s.indexOf(s.commitZx))
	}
}

// indexOf is the number of log entries with a zxid ≤ zxid.
func (s *Server) indexOf(zxid int64) int {
	return sort.Search(len(s.log), func(i int) bool { return s.log[i].Zxid > zxid })
}

// applyTo applies the log's entries up to n to the tree (FinalRequestProcessor): watches fire,
// the server answers its own clients' requests.
func (s *Server) applyTo(now time.Duration, n int) {
	for s.committed < n {
		x := s.log[s.committed]
		s.committed++
		changed := s.tree.Apply(x)
		for _, op := range changed {
			s.fire(op)
		}
		if x.Kind == TxnCloseSession {
			s.expired(x.Session)
		}
		if x.Server == s.id {
			s.answer(now, x)
		}
	}
}

// --- sessions ----------------------------------------------------------------------------------

func (s *Server) touch(now time.Duration, id int64) {
	if s.state == Leading {
		if _, ok := s.deadlines[id]; ok {
			s.deadlines[id] = now + time.Duration(s.prep.Sessions[id])
		}
		return
	}
	s.touched[id] = true
}

// expireSessions closes the sessions not heard from within their timeout.
func (s *Server) expireSessions(now time.Duration) {
	for _, id := range slices.Sorted(maps.Keys(s.deadlines)) {
		if s.deadlines[id] <= now {
			delete(s.deadlines, id)
			s.env.Observe(&SessionExpired{Session: id})
			s.propose(now, &Request{Session: id, Kind: ReqClose}, 0)
		}
	}
}

// expired: a session closed; its client, if connected here, learns it.
func (s *Server) expired(id int64) {
	cs := s.sessions[id]
	if cs == nil {
		return
	}
	s.env.Send(cs.client, &Connected{Session: 0})
	s.dropSession(cs)
}

// --- clients -----------------------------------------------------------------------------------

func (s *Server) closeClients() {
	for _, c := range slices.Sorted(maps.Keys(s.conns)) {
		s.env.Send(c, &Disconnected{})
	}
	clear(s.conns)
	clear(s.sessions)
	clear(s.watches)
	clear(s.touched)
}

func (s *Server) dropClient(client int32) {
	if id, ok := s.conns[client]; ok {
		s.dropSession(s.sessions[id])
	}
}

func (s *Server) dropSession(cs *clientSession) {
	if cs == nil {
		return
	}
	delete(s.conns, cs.client)
	delete(s.sessions, cs.id)
	for _, w := range slices.SortedFunc(maps.Keys(s.watches), compareWatch) {
		ids := slices.DeleteFunc(s.watches[w], func(x int64) bool { return x == cs.id })
		if len(ids) == 0 {
			delete(s.watches, w)
		} else {
			s.watches[w] = ids
		}
	}
}

func compareWatch(a, b Watch) int {
	if a.Path != b.Path {
		if a.Path < b.Path {
			return -1
		}
		return 1
	}
	return int(a.Kind) - int(b.Kind)
}

func (s *Server) onConnect(now time.Duration, from int32, m *Connect) {
	if old, ok := s.conns[from]; ok {
		s.dropSession(s.sessions[old])
	}
	if !s.Serving() || m.LastZxid > s.tree.Zxid {
		s.env.Send(from, &Disconnected{})
		return
	}
	if m.Session == 0 {
		id := int64(s.id-node.ZooKeeperBase)<<48 | int64(s.env.Rand()&(1<<48-1))
		cs := &clientSession{id: id, client: from, timeout: m.Timeout, opening: true}
		s.conns[from], s.sessions[id] = id, cs
		cs.queue = append(cs.queue, &Request{Session: id, Kind: reqCreateSession, Timeout: m.Timeout})
		s.process(now, cs)
		return
	}
	timeout, ok := s.tree.Sessions[m.Session]
	if !ok {
		s.env.Send(from, &Connected{Session: 0})
		return
	}
	if prev := s.sessions[m.Session]; prev != nil {
		s.dropSession(prev)
	}
	cs := &clientSession{id: m.Session, client: from, timeout: time.Duration(timeout)}
	s.conns[from], s.sessions[m.Session] = m.Session, cs
	s.touch(now, m.Session)
	s.env.Send(from, &Connected{Session: m.Session, Timeout: cs.timeout})
	// The client's watches carried over (SetWatches): fire those whose change it missed.
	for _, w := range m.Watches {
		n := s.tree.Nodes[w.Path]
		var ev EventType
		switch {
		case w.Kind == ExistWatch && n != nil:
			ev = NodeCreated
		case w.Kind != ExistWatch && n == nil:
			ev = NodeDeleted
		case w.Kind == DataWatch && n.Mzxid > m.LastZxid:
			ev = NodeDataChanged
		case w.Kind == ChildWatch && n.Pzxid > m.LastZxid:
			ev = NodeChildrenChanged
		}
		if ev != 0 {
			s.env.Send(from, &WatchedEvent{Type: ev, Path: w.Path})
		} else {
			s.watches[w] = append(s.watches[w], m.Session)
		}
	}
}

func (s *Server) onRequest(now time.Duration, from int32, r *Request) {
	cs := s.sessions[r.Session]
	if cs == nil || cs.client != from || !s.Serving() {
		s.env.Send(from, &Disconnected{})
		return
	}
	s.touch(now, r.Session)
	if r.Kind == ReqPing {
		s.env.Send(from, &Reply{Xid: r.Xid, Zxid: s.tree.Zxid})
		return
	}
	cs.queue = append(cs.queue, r)
	s.process(now, cs)
}

// process runs a session's requests in order: reads at once, a write through the leader; the
// next waits until the write is applied here (CommitProcessor).
func (s *Server) process(now time.Duration, cs *clientSession) {
	for len(cs.queue) > 0 && !cs.inflight {
		r := cs.queue[0]
		cs.queue = cs.queue[1:]
		switch r.Kind {
		case ReqGetData, ReqExists, ReqGetChildren:
			s.env.Send(cs.client, s.read(cs, r))
		default:
			cs.inflight = true
			if s.state == Leading {
				s.propose(now, r, s.id)
			} else {
				s.env.Send(s.leader, &Forward{Epoch: s.acceptedEpoch, Req: r, From: s.id})
			}
		}
	}
}

func (s *Server) read(cs *clientSession, r *Request) *Reply {
	rep := &Reply{Xid: r.Xid, Zxid: s.tree.Zxid}
	n := s.tree.Nodes[r.Path]
	switch {
	case n == nil && r.Kind == ReqExists:
		if r.Watch {
			s.addWatch(Watch{Kind: ExistWatch, Path: r.Path}, cs.id)
		}
		rep.Err = NONODE
	case n == nil:
		rep.Err = NONODE
	case r.Kind == ReqGetChildren:
		rep.Node, rep.Children = n, s.tree.Children(r.Path)
		if r.Watch {
			s.addWatch(Watch{Kind: ChildWatch, Path: r.Path}, cs.id)
		}
	default:
		rep.Node = n
		if r.Watch {
			s.addWatch(Watch{Kind: DataWatch, Path: r.Path}, cs.id)
		}
	}
	return rep
}

func (s *Server) addWatch(w Watch, session int64) {
	if !slices.Contains(s.watches[w], session) {
		s.watches[w] = append(s.watches[w], session)
	}
}

// fire triggers the one-shot watches a change sets off (WatchManager.triggerWatch).
func (s *Server) fire(op Op) {
	switch op.Kind {
	case OpCreate:
		s.trigger(Watch{Kind: ExistWatch, Path: op.Path}, NodeCreated)
		s.trigger(Watch{Kind: ChildWatch, Path: Parent(op.Path)}, NodeChildrenChanged)
	case OpDelete:
		s.trigger(Watch{Kind: DataWatch, Path: op.Path}, NodeDeleted)
		s.trigger(Watch{Kind: ChildWatch, Path: op.Path}, NodeDeleted)
		s.trigger(Watch{Kind: ChildWatch, Path: Parent(op.Path)}, NodeChildrenChanged)
	case OpSetData:
		s.trigger(Watch{Kind: DataWatch, Path: op.Path}, NodeDataChanged)
	}
}

func (s *Server) trigger(w Watch, ev EventType) {
	ids := s.watches[w]
	if len(ids) == 0 {
		return
	}
	delete(s.watches, w)
	for _, id := range ids {
		if cs := s.sessions[id]; cs != nil {
			s.env.Send(cs.client, &WatchedEvent{Type: ev, Path: w.Path})
		}
	}
}

// answer replies to the request a txn carried, once applied here.
func (s *Server) answer(now time.Duration, x *Txn) {
	cs := s.sessions[x.Session]
	if cs == nil || !cs.inflight {
		return
	}
	cs.inflight = false
	switch x.Kind {
	case TxnCreateSession:
		cs.opening = false
		s.env.Send(cs.client, &Connected{Session: cs.id, Timeout: cs.timeout})
	case TxnCloseSession:
		return // expired() already dropped it
	default:
		s.env.Send(cs.client, &Reply{Xid: x.Xid, Zxid: x.Zxid, Err: x.Err, ErrOp: x.ErrOp, Versions: x.Versions})
	}
	s.process(now, cs)
}

// --- observations ------------------------------------------------------------------------------

// StateChanged: a server became looking, following or leading.
type StateChanged struct {
	Server int32
	State  PeerState
	Epoch  int64
	Leader int32
	Synced bool
}

// TraceArg puts the state in the trace.
func (e *StateChanged) TraceArg() int64 { return int64(e.State) }

// Established: a leader has a quorum synchronised in its new epoch and serves.
type Established struct {
	Server int32
	Epoch  int64
}

// TraceArg puts the epoch in the trace.
func (e *Established) TraceArg() int64 { return e.Epoch }

// SessionExpired: the leader expired a session not heard from within its timeout.
type SessionExpired struct{ Session int64 }

// TraceArg puts the session in the trace.
func (e *SessionExpired) TraceArg() int64 { return e.Session }

// History is the server's committed history (read-only).
func (s *Server) History() []*Txn { return s.log[:s.committed] }
