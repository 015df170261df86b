package zookeeper

import "time"

// Messages between servers (quorum peers) and between clients and servers. Plain structs
// named after ZooKeeper's packets; not its wire format.

// PeerState is a server's role (QuorumPeer.ServerState).
type PeerState uint8

// Server states.
const (
	Looking PeerState = iota + 1
	Following
	Leading
)

func (s PeerState) String() string {
	switch s {
	case Looking:
		return "looking"
	case Following:
		return "following"
	case Leading:
		return "leading"
	}
	return "?"
}

// Vote is a proposed leader with the history it holds (FastLeaderElection.Vote).
type Vote struct {
	Leader int32
	Epoch  int64 // the proposed leader's current epoch
	Zxid   int64 // its last logged zxid
}

// better reports whether v beats o: higher epoch, then zxid, then server id
// (FastLeaderElection.totalOrderPredicate).
func (v Vote) better(o Vote) bool {
	if v.Epoch != o.Epoch {
		return v.Epoch > o.Epoch
	}
	if v.Zxid != o.Zxid {
		return v.Zxid > o.Zxid
	}
	return v.Leader > o.Leader
}

// Notification is an election message (FastLeaderElection.Notification).
type Notification struct {
	Vote  Vote
	Round int64 // electionEpoch (logicalclock)
	State PeerState
}

// FollowerInfo: a follower connects to the leader it elected (Learner.registerWithLeader).
type FollowerInfo struct {
	AcceptedEpoch int64
	LastZxid      int64
}

// NewLeader: the leader's new epoch and its whole history (Leader.NEWLEADER after a SNAP sync).
type NewLeader struct {
	Epoch   int64
	History []*Txn
}

// AckNewLeader: the follower took the epoch and the history.
type AckNewLeader struct{ Epoch int64 }

// UpToDate: a quorum has the history; the follower may serve (Leader.UPTODATE).
type UpToDate struct {
	Epoch     int64
	Committed int // how many entries of the history are committed
}

// Proposal is a write the leader broadcasts (Leader.PROPOSAL).
type Proposal struct {
	Epoch int64
	Txn   *Txn
}

// Ack: the follower logged the proposal durably.
type Ack struct {
	Epoch int64
	Zxid  int64
}

// Commit: a majority logged the proposal (Leader.COMMIT).
type Commit struct {
	Epoch int64
	Zxid  int64
}

// Ping is the leader's heartbeat; the follower answers with the sessions its clients touched.
type Ping struct{ Epoch int64 }

// PingAck carries the sessions touched since the last one (Learner.ping).
type PingAck struct {
	Epoch   int64
	Touched []int64
}

// Forward is a client write a follower hands to the leader (FollowerRequestProcessor).
type Forward struct {
	Epoch int64
	Req   *Request
	From  int32 // the server the client is connected to
}

// --- client ↔ server ------------------------------------------------------------------------

// Connect opens or resumes a session (ConnectRequest).
type Connect struct {
	Session  int64 // 0: a new session
	Timeout  time.Duration
	LastZxid int64 // the last zxid the client has seen: a server behind it refuses
	Watches  []Watch
}

// Connected answers Connect (ConnectResponse); Session 0 means the session expired.
type Connected struct {
	Session int64
	Timeout time.Duration
}

// Disconnected: the server closed the connection (it lost its leader, or refused the client).
type Disconnected struct{}

// ReqKind is a client request kind.
type ReqKind uint8

// Client request kinds.
const (
	ReqMulti ReqKind = iota + 1 // create, delete, setData, check: one or several, all or nothing
	ReqGetData
	ReqExists
	ReqGetChildren
	ReqPing
	ReqClose
	reqCreateSession // a server's own: open the session of a Connect
)

// Request is a client request. Watch leaves a one-shot watch (getData/exists: on the znode;
// getChildren: on its children).
type Request struct {
	Session int64
	Xid     int64
	Kind    ReqKind
	Ops     []Op
	Path    string
	Watch   bool
	Timeout time.Duration // reqCreateSession
}

// Reply answers a Request.
type Reply struct {
	Xid      int64
	Zxid     int64
	Err      Code
	ErrOp    int
	Versions []int32 // a multi's new versions
	Node     *Znode  // getData, exists
	Children []string
}

// WatchKind is what a watch waits for.
type WatchKind uint8

// Watch kinds.
const (
	DataWatch  WatchKind = iota + 1 // getData, exists on a znode: changed or deleted
	ExistWatch                      // exists on a missing znode: created
	ChildWatch                      // getChildren: a child created or deleted, or the node deleted
)

// Watch is a registered watch.
type Watch struct {
	Kind WatchKind
	Path string
}

// EventType is a WatchedEvent's type (Watcher.Event.EventType).
type EventType uint8

// Event types.
const (
	NodeCreated EventType = iota + 1
	NodeDeleted
	NodeDataChanged
	NodeChildrenChanged
)

func (e EventType) String() string {
	return [...]string{"?", "NodeCreated", "NodeDeleted", "NodeDataChanged", "NodeChildrenChanged"}[e]
}

// WatchedEvent fires a watch, once.
type WatchedEvent struct {
	Type EventType
	Path string
}

// TraceArg puts the zxid in the trace.
func (p *Proposal) TraceArg() int64 { return p.Txn.Zxid }

// TraceArg puts the zxid in the trace.
func (c *Commit) TraceArg() int64 { return c.Zxid }
