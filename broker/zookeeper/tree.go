// Package zookeeper is a ZooKeeper ensemble modelled at the level of its guarantees, for
// Kafka's ZooKeeper mode (Kafka 3.x): servers z1..zN elect a leader by the highest (epoch,
// zxid, id) (FastLeaderElection), the leader synchronises a quorum to its history and then
// broadcasts every write as a proposal committed by a majority (ZAB), so writes are
// linearizable and each session's requests are answered in order (FIFO client order).
// Sessions are kept alive by pings and expire after their timeout at the leader
// (SessionTrackerImpl); an expired session's ephemeral znodes are deleted; watches fire once;
// conditional writes carry a version (BADVERSION) and creates fail on an existing znode
// (NODEEXISTS). Multi runs its operations all or nothing, as Kafka's controller uses it to
// check the /controller_epoch zkVersion with every write (KafkaZkClient.retryRequestsUntilConnected
// with a CheckOp).
//
// Behavior: not its wire format, no ACLs, no sequential znodes, no quotas, no observers, no
// snapshots (a follower is synchronised by the whole history, ZooKeeper's SNAP), no dynamic
// reconfiguration. Reads are served by the server the session is connected to, after that
// session's earlier writes (ZooKeeper's CommitProcessor), so they may be stale across
// sessions, as in ZooKeeper.
package zookeeper

import (
	"maps"
	"slices"
	"strings"
)

// Code is a ZooKeeper result code (KeeperException.Code), with its real name.
type Code int8

// Result codes.
const (
	OK                Code = 0
	CONNECTIONLOSS    Code = -4
	NONODE            Code = -101
	BADVERSION        Code = -103
	NODEEXISTS        Code = -110
	NOTEMPTY          Code = -111
	SESSIONEXPIRED    Code = -112
	NOCHILDRENFOREPHS Code = -108 // NOCHILDRENFOREPHEMERALS
)

func (c Code) String() string {
	switch c {
	case OK:
		return "OK"
	case CONNECTIONLOSS:
		return "CONNECTIONLOSS"
	case NONODE:
		return "NONODE"
	case BADVERSION:
		return "BADVERSION"
	case NODEEXISTS:
		return "NODEEXISTS"
	case NOTEMPTY:
		return "NOTEMPTY"
	case SESSIONEXPIRED:
		return "SESSIONEXPIRED"
	case NOCHILDRENFOREPHS:
		return "NOCHILDRENFOREPHEMERALS"
	}
	return "UNKNOWN"
}

// Znode is one node of the data tree with its Stat. Znodes are immutable: a write replaces one.
type Znode struct {
	Path           string
	Data           any   // what the client stored (immutable)
	Version        int32 // dataVersion: the zkVersion Kafka conditions its updates on
	Czxid, Mzxid   int64
	Pzxid          int64 // the last zxid that created or deleted a child
	EphemeralOwner int64 // the owning session, 0 for a persistent znode
}

// OpKind is the kind of a write operation.
type OpKind uint8

// Write operations.
const (
	OpCreate OpKind = iota + 1
	OpDelete
	OpSetData
	OpCheck // check a version without writing (a multi's CheckOp)
)

// Op is one write. Version -1 matches any version.
type Op struct {
	Kind      OpKind
	Path      string
	Data      any
	Version   int32
	Ephemeral bool
}

// Create, Delete, SetData and Check build operations.
func Create(path string, data any, ephemeral bool) Op {
	return Op{Kind: OpCreate, Path: path, Data: data, Ephemeral: ephemeral}
}
func Delete(path string, version int32) Op { return Op{Kind: OpDelete, Path: path, Version: version} }
func SetData(path string, data any, version int32) Op {
	return Op{Kind: OpSetData, Path: path, Data: data, Version: version}
}
func Check(path string, version int32) Op { return Op{Kind: OpCheck, Path: path, Version: version} }

// Txn is one entry of the replicated history. The leader decides its outcome when it prepares
// it (PrepRequestProcessor); every server applies it the same way.
type Txn struct {
	Zxid     int64
	Session  int64
	Xid      int64 // the client's request id; 0 for the leader's own (session expiry)
	Server   int32 // the server the client is connected to, which answers it
	Kind     TxnKind
	Ops      []Op
	Timeout  int64   // CreateSession: the session timeout in nanoseconds
	Err      Code    // the outcome; not OK: nothing changes
	ErrOp    int     // index of the failing op
	Versions []int32 // the new versions, one per op (SetData, Create), for the answer
}

// TxnKind is what a Txn does.
type TxnKind uint8

// Txn kinds.
const (
	TxnMulti TxnKind = iota + 1
	TxnCreateSession
	TxnCloseSession
)

// Tree is the data tree and the sessions, as applied up to some zxid.
type Tree struct {
	Nodes    map[string]*Znode
	Sessions map[int64]int64 // session → timeout (ns)
	Zxid     int64           // last applied
}

// NewTree is a tree holding only "/".
func NewTree() *Tree {
	return &Tree{Nodes: map[string]*Znode{"/": {Path: "/"}}, Sessions: map[int64]int64{}}
}

// Clone copies the tree (znodes are shared: they are immutable).
func (t *Tree) Clone() *Tree {
	return &Tree{Nodes: maps.Clone(t.Nodes), Sessions: maps.Clone(t.Sessions), Zxid: t.Zxid}
}

// Parent of a path ("/a/b" → "/a", "/a" → "/").
func Parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Children lists the names of path's children, sorted.
func (t *Tree) Children(path string) []string {
	prefix := path + "/"
	if path == "/" {
		prefix = "/"
	}
	var out []string
	for p := range t.Nodes {
		if p != "/" && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			out = append(out, p[len(prefix):])
		}
	}
	slices.Sort(out)
	return out
}

// Ephemerals lists the paths a session owns, sorted.
func (t *Tree) Ephemerals(session int64) []string {
	var out []string
	for p, n := range t.Nodes {
		if n.EphemeralOwner == session {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// check decides one op against t without changing it.
func (t *Tree) check(op Op, session int64) Code {
	n := t.Nodes[op.Path]
	switch op.Kind {
	case OpCreate:
		if n != nil {
			return NODEEXISTS
		}
		par := t.Nodes[Parent(op.Path)]
		if par == nil {
			return NONODE
		}
		if par.EphemeralOwner != 0 {
			return NOCHILDRENFOREPHS
		}
		if op.Ephemeral {
			if _, ok := t.Sessions[session]; !ok {
				return SESSIONEXPIRED
			}
		}
	case OpDelete:
		if n == nil {
			return NONODE
		}
		if op.Version >= 0 && op.Version != n.Version {
			return BADVERSION
		}
		if len(t.Children(op.Path)) > 0 {
			return NOTEMPTY
		}
	case OpSetData, OpCheck:
		if n == nil {
			return NONODE
		}
		if op.Version >= 0 && op.Version != n.Version {
			return BADVERSION
		}
	}
	return OK
}

// do applies one op that check accepted; it returns the znode's new version.
func (t *Tree) do(op Op, session, zxid int64) int32 {
	switch op.Kind {
	case OpCreate:
		owner := int64(0)
		if op.Ephemeral {
			owner = session
		}
		t.Nodes[op.Path] = &Znode{Path: op.Path, Data: op.Data, Czxid: zxid, Mzxid: zxid, Pzxid: zxid, EphemeralOwner: owner}
		t.touchParent(op.Path, zxid)
		return 0
	case OpDelete:
		delete(t.Nodes, op.Path)
		t.touchParent(op.Path, zxid)
	case OpSetData:
		n := *t.Nodes[op.Path]
		n.Data, n.Version, n.Mzxid = op.Data, n.Version+1, zxid
		t.Nodes[op.Path] = &n
		return n.Version
	case OpCheck:
		return t.Nodes[op.Path].Version
	}
	return -1
}

func (t *Tree) touchParent(path string, zxid int64) {
	if par := t.Nodes[Parent(path)]; par != nil {
		c := *par
		c.Pzxid = zxid
		t.Nodes[c.Path] = &c
	}
}

// Prepare decides a multi's outcome against t (all or nothing) and applies it to t, as the
// leader's PrepRequestProcessor does against its outstanding changes.
func (t *Tree) Prepare(x *Txn) {
	switch x.Kind {
	case TxnMulti:
		scratch := t
		if len(x.Ops) > 1 {
			scratch = t.Clone()
		}
		x.Versions = make([]int32, len(x.Ops))
		for i, op := range x.Ops {
			if c := scratch.check(op, x.Session); c != OK {
				x.Err, x.ErrOp = c, i
				x.Versions = nil
				return
			}
			x.Versions[i] = scratch.do(op, x.Session, x.Zxid)
		}
		if scratch != t {
			*t = *scratch
		}
		t.Zxid = x.Zxid
	default:
		t.Apply(x)
	}
}

// Apply applies a decided txn and returns the paths whose data changed, were created or were
// deleted (for watches), in order.
func (t *Tree) Apply(x *Txn) []Op {
	if x.Zxid <= t.Zxid && t.Zxid != 0 {
		return nil
	}
	t.Zxid = x.Zxid
	var changed []Op
	switch x.Kind {
	case TxnCreateSession:
		t.Sessions[x.Session] = x.Timeout
	case TxnCloseSession:
		if _, ok := t.Sessions[x.Session]; !ok {
			return nil
		}
		delete(t.Sessions, x.Session)
		for _, p := range t.Ephemerals(x.Session) {
			delete(t.Nodes, p)
			t.touchParent(p, x.Zxid)
			changed = append(changed, Op{Kind: OpDelete, Path: p})
		}
	case TxnMulti:
		if x.Err != OK {
			return nil
		}
		for _, op := range x.Ops {
			if op.Kind == OpCheck {
				continue
			}
			t.do(op, x.Session, x.Zxid)
			changed = append(changed, op)
		}
	}
	return changed
}
