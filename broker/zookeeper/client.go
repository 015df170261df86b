package zookeeper

import (
	"time"

	"kafkasim/broker/node"
)

// SessionState is what the client tells its owner about its session (Watcher.Event.KeeperState).
type SessionState uint8

// Session states.
const (
	SyncConnected SessionState = iota + 1
	Lost                       // lost the server; the session may still live
	Expired
)

// ClientTimer is the client's timer payload; its owner routes it back to Handle.
type ClientTimer struct{ gen int64 }

// TraceArg puts nothing special in the trace.
func (ClientTimer) TraceArg() int64 { return 0 }

// Callback receives a request's reply (Err CONNECTIONLOSS when the connection broke first,
// SESSIONEXPIRED when the session is gone).
type Callback func(now time.Duration, r *Reply)

// Client is a ZooKeeper client (ClientCnxn) living inside its owner node: the owner passes it
// every message and ClientTimer (Handle), and learns of session changes and watches through
// OnState and OnWatch. It connects to one server at a time, pings every third of the session
// timeout, gives up a server it has not heard from for two thirds of it, and moves on to the
// next; a reconnection carries the session and its watches over (SetWatches).
type Client struct {
	servers []int32
	timeout time.Duration
	env     node.Env

	OnState func(now time.Duration, st SessionState)
	OnWatch func(now time.Duration, ev *WatchedEvent)

	next      int
	server    int32
	session   int64
	connected bool
	closed    bool
	gen       int64
	heard     time.Duration
	sentAt    time.Duration
	lastZxid  int64
	xid       int64
	queue     []*Request // waiting for a connection
	pending   []*Request // sent, unanswered, in order
	cbs       map[int64]Callback
	watches   map[Watch]bool
	watchReqs map[int64]Watch
}

// NewClient makes a client; Start opens the session.
func NewClient(servers []int32, timeout time.Duration, env node.Env) *Client {
	return &Client{servers: servers, timeout: timeout, env: env, server: -1,
		cbs: map[int64]Callback{}, watches: map[Watch]bool{}, watchReqs: map[int64]Watch{}}
}

// Session is the session id, 0 before the first connection and after expiry.
func (c *Client) Session() int64 { return c.session }

// Connected reports whether the client has a live connection.
func (c *Client) Connected() bool { return c.connected }

// Server is the server the client talks to, -1 for none.
func (c *Client) Server() int32 { return c.server }

// Start opens a new session (after an expiry too: a new session, new ephemerals to create).
func (c *Client) Start(now time.Duration) {
	c.session, c.closed = 0, false
	clear(c.watches)
	c.next = int(uint64(c.env.ID()) % uint64(len(c.servers)))
	c.connect(now)
}

func (c *Client) connect(now time.Duration) {
	c.connected = false
	c.gen++
	c.server = c.servers[c.next%len(c.servers)]
	c.next++
	var ws []Watch
	ws = append(ws, sortedWatches(c.watches)...)
	c.env.Send(c.server, &Connect{Session: c.session, Timeout: c.timeout, LastZxid: c.lastZxid, Watches: ws})
	c.heard, c.sentAt = now, now
	c.env.After(c.connectTimeout(), ClientTimer{gen: c.gen})
}

// connectTimeout: ClientCnxn gives each server sessionTimeout / number of servers.
func (c *Client) connectTimeout() time.Duration { return c.timeout / time.Duration(len(c.servers)) }

func sortedWatches(m map[Watch]bool) []Watch {
	var out []Watch
	for w := range m {
		out = append(out, w)
	}
	sortWatches(out)
	return out
}

func sortWatches(ws []Watch) {
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && compareWatch(ws[j], ws[j-1]) < 0; j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

// Handle takes a message or timer meant for the client; false if it is not one.
func (c *Client) Handle(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case ClientTimer:
		if m.gen == c.gen && !c.closed {
			c.onTimer(now)
		}
	case *Connected:
		if from != c.server || c.closed {
			return true
		}
		c.heard = now
		if m.Session == 0 {
			c.expire(now)
			return true
		}
		c.session, c.connected = m.Session, true
		c.gen++
		c.env.After(c.timeout/3, ClientTimer{gen: c.gen})
		if c.OnState != nil {
			c.OnState(now, SyncConnected)
		}
		q := c.queue
		c.queue = nil
		for _, r := range q {
			c.send(now, r)
		}
	case *Disconnected:
		if from == c.server && !c.closed {
			c.lost(now)
		}
	case *node.ConnectionReset:
		if m.Peer == c.server && !c.closed {
			c.lost(now)
		}
		return node.IsZooKeeper(m.Peer)
	case *Reply:
		if from != c.server || !c.connected {
			return true
		}
		c.heard = now
		c.lastZxid = max(c.lastZxid, m.Zxid)
		if m.Xid < 0 {
			return true // a ping's answer
		}
		if len(c.pending) > 0 && c.pending[0].Xid == m.Xid {
			c.pending = c.pending[1:]
		}
		if w, ok := c.watchReqs[m.Xid]; ok {
			delete(c.watchReqs, m.Xid)
			switch {
			case m.Err == OK && w.Kind == ExistWatch:
				c.watches[Watch{Kind: DataWatch, Path: w.Path}] = true
			case m.Err == OK || m.Err == NONODE && w.Kind == ExistWatch:
				c.watches[w] = true
			}
		}
		if cb := c.cbs[m.Xid]; cb != nil {
			delete(c.cbs, m.Xid)
			cb(now, m)
		}
	case *WatchedEvent:
		if from != c.server {
			return true
		}
		c.heard = now
		for _, k := range []WatchKind{DataWatch, ExistWatch, ChildWatch} {
			delete(c.watches, Watch{Kind: k, Path: m.Path})
		}
		if c.OnWatch != nil {
			c.OnWatch(now, m)
		}
	default:
		return false
	}
	return true
}

func (c *Client) onTimer(now time.Duration) {
	if !c.connected {
		c.lost(now) // the server did not answer the Connect in time
		return
	}
	if now-c.heard >= c.timeout*2/3 {
		c.lost(now) // ClientCnxn's read timeout
		return
	}
	c.env.Send(c.server, &Request{Session: c.session, Xid: -2, Kind: ReqPing})
	c.env.After(c.timeout/3, ClientTimer{gen: c.gen})
}

// lost: the connection broke. Requests in flight fail with CONNECTIONLOSS (their writes may
// or may not have been applied); the client tries the next server.
func (c *Client) lost(now time.Duration) {
	was := c.connected
	c.connected = false
	c.failPending(now, CONNECTIONLOSS)
	if was && c.OnState != nil {
		c.OnState(now, Lost)
	}
	c.connect(now)
}

func (c *Client) expire(now time.Duration) {
	c.connected = false
	c.session = 0
	c.closed = true
	c.gen++
	c.failPending(now, SESSIONEXPIRED)
	for _, r := range c.queue {
		if cb := c.cbs[r.Xid]; cb != nil {
			delete(c.cbs, r.Xid)
			cb(now, &Reply{Xid: r.Xid, Err: SESSIONEXPIRED})
		}
	}
	c.queue = nil
	clear(c.watches)
	if c.OnState != nil {
		c.OnState(now, Expired)
	}
}

func (c *Client) failPending(now time.Duration, code Code) {
	p := c.pending
	c.pending = nil
	clear(c.watchReqs)
	for _, r := range p {
		if cb := c.cbs[r.Xid]; cb != nil {
			delete(c.cbs, r.Xid)
			cb(now, &Reply{Xid: r.Xid, Err: code})
		}
	}
}

// Close ends the session at once (its ephemerals go), as a clean shutdown does.
func (c *Client) Close(now time.Duration) {
	if c.connected {
		c.env.Send(c.server, &Request{Session: c.session, Xid: c.nextXid(), Kind: ReqClose})
	}
	c.closed, c.connected = true, false
	c.gen++
}

func (c *Client) nextXid() int64 {
	c.xid++
	return c.xid
}

func (c *Client) do(now time.Duration, r *Request, cb Callback) {
	r.Xid = c.nextXid()
	if cb != nil {
		c.cbs[r.Xid] = cb
	}
	if c.closed {
		if cb != nil {
			delete(c.cbs, r.Xid)
			cb(now, &Reply{Xid: r.Xid, Err: SESSIONEXPIRED})
		}
		return
	}
	if !c.connected {
		c.queue = append(c.queue, r)
		return
	}
	c.send(now, r)
}

func (c *Client) send(now time.Duration, r *Request) {
	r.Session = c.session
	if r.Watch {
		k := DataWatch
		if r.Kind == ReqGetChildren {
			k = ChildWatch
		} else if r.Kind == ReqExists {
			k = ExistWatch // becomes a data watch if the znode exists: see Handle
		}
		c.watchReqs[r.Xid] = Watch{Kind: k, Path: r.Path}
	}
	c.pending = append(c.pending, r)
	c.env.Send(c.server, r)
}

// Multi runs ops all or nothing; a single op is a multi of one.
func (c *Client) Multi(now time.Duration, cb Callback, ops ...Op) {
	c.do(now, &Request{Kind: ReqMulti, Ops: ops}, cb)
}

// GetData reads a znode, leaving a watch if asked.
func (c *Client) GetData(now time.Duration, path string, watch bool, cb Callback) {
	c.do(now, &Request{Kind: ReqGetData, Path: path, Watch: watch}, cb)
}

// Exists reads a znode's stat; with watch, the watch fires when it is created, changed or
// deleted.
func (c *Client) Exists(now time.Duration, path string, watch bool, cb Callback) {
	c.do(now, &Request{Kind: ReqExists, Path: path, Watch: watch}, cb)
}

// GetChildren lists a znode's children, leaving a child watch if asked.
func (c *Client) GetChildren(now time.Duration, path string, watch bool, cb Callback) {
	c.do(now, &Request{Kind: ReqGetChildren, Path: path, Watch: watch}, cb)
}
