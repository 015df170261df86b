package cluster

import (
	"fmt"
	"testing"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/zookeeper"
	"kafkasim/sim"
)

// Tests of the ZooKeeper ensemble on its own, named after ZooKeeper's guarantees.

// zkTestClient is a node holding a ZooKeeper client; tests drive it with injected actions.
type zkTestClient struct {
	c      *zookeeper.Client
	states []zookeeper.SessionState
	events []zookeeper.WatchedEvent
}

type zkAction func(now time.Duration, z *zkTestClient)

func (z *zkTestClient) Step(now time.Duration, from int32, msg any) {
	if a, ok := msg.(zkAction); ok {
		a(now, z)
		return
	}
	z.c.Handle(now, from, msg)
}

type zkEnsemble struct {
	w       *sim.World
	servers []int32
	clients map[string]int32
}

func newEnsemble(t *testing.T, n int, seed uint64) *zkEnsemble {
	t.Helper()
	o := sim.DefaultOptions()
	o.Seed = seed
	o.ConnectionReset = func(peer int32) any { return &node.ConnectionReset{Peer: peer} }
	e := &zkEnsemble{w: sim.New(o), clients: map[string]int32{}}
	for i := 1; i <= n; i++ {
		e.servers = append(e.servers, node.ZooKeeperID(i))
	}
	for _, id := range e.servers {
		e.w.AddNode(id, node.Name(id), func(h *sim.Host) sim.Node {
			return zookeeper.New(zookeeper.DefaultConfig(e.servers), h, h.Disk(), h.Now())
		})
	}
	if !e.w.RunUntil(func() bool { return e.leader() > 0 && e.serving() == n }, time.Minute) {
		t.Fatalf("ensemble of %d did not elect a leader", n)
	}
	return e
}

func (e *zkEnsemble) server(id int32) *zookeeper.Server {
	if n, ok := e.w.Node(id).(*zookeeper.Server); ok && e.w.State(id) == sim.Running {
		return n
	}
	return nil
}

// leader is the established leader, 0 if none.
func (e *zkEnsemble) leader() int32 {
	for _, id := range e.servers {
		if s := e.server(id); s != nil && s.State() == zookeeper.Leading && s.Serving() {
			return id
		}
	}
	return 0
}

func (e *zkEnsemble) serving() int {
	n := 0
	for _, id := range e.servers {
		if s := e.server(id); s != nil && s.Serving() {
			n++
		}
	}
	return n
}

func (e *zkEnsemble) addClient(t *testing.T, name string, timeout time.Duration) *zkTestClient {
	t.Helper()
	id := node.ClientBase + 1 + int32(len(e.clients))
	e.clients[name] = id
	e.w.AddNode(id, name, func(h *sim.Host) sim.Node {
		z := &zkTestClient{}
		z.c = zookeeper.NewClient(e.servers, timeout, h)
		z.c.OnState = func(now time.Duration, st zookeeper.SessionState) { z.states = append(z.states, st) }
		z.c.OnWatch = func(now time.Duration, ev *zookeeper.WatchedEvent) { z.events = append(z.events, *ev) }
		z.c.Start(h.Now())
		return z
	})
	z := e.w.Node(id).(*zkTestClient)
	if !e.w.RunUntil(z.c.Connected, 30*time.Second) {
		t.Fatalf("client %s did not connect", name)
	}
	return z
}

// do runs an action inside the client node and waits for its reply.
func (e *zkEnsemble) do(t *testing.T, name string, f func(now time.Duration, c *zookeeper.Client, cb zookeeper.Callback)) *zookeeper.Reply {
	t.Helper()
	var got *zookeeper.Reply
	e.w.Inject(e.clients[name], zkAction(func(now time.Duration, z *zkTestClient) {
		f(now, z.c, func(now time.Duration, r *zookeeper.Reply) { got = r })
	}))
	if !e.w.RunUntil(func() bool { return got != nil }, 30*time.Second) {
		t.Fatalf("%s: no reply", name)
	}
	return got
}

func (e *zkEnsemble) write(t *testing.T, name string, ops ...zookeeper.Op) *zookeeper.Reply {
	t.Helper()
	return e.do(t, name, func(now time.Duration, c *zookeeper.Client, cb zookeeper.Callback) { c.Multi(now, cb, ops...) })
}

func wantCode(t *testing.T, what string, r *zookeeper.Reply, want zookeeper.Code) {
	t.Helper()
	if r.Err != want {
		t.Fatalf("%s: got %v; want %v", what, r.Err, want)
	}
}

// A znode created twice: the second create fails with NODEEXISTS.
func TestZooKeeperCreateTwiceIsNodeExists(t *testing.T) {
	e := newEnsemble(t, 3, 1)
	e.addClient(t, "a", 6*time.Second)
	wantCode(t, "first create", e.write(t, "a", zookeeper.Create("/x", "1", false)), zookeeper.OK)
	wantCode(t, "second create", e.write(t, "a", zookeeper.Create("/x", "2", false)), zookeeper.NODEEXISTS)
	wantCode(t, "create under a missing parent", e.write(t, "a", zookeeper.Create("/no/such", "", false)), zookeeper.NONODE)
}

// Conditional setData: two writers read version 0; the first update wins, the second gets
// BADVERSION (the "cached zkVersion" refusal Kafka's partition state updates turn on).
func TestZooKeeperConditionalUpdateConflicts(t *testing.T) {
	e := newEnsemble(t, 3, 2)
	e.addClient(t, "a", 6*time.Second)
	e.addClient(t, "b", 6*time.Second)
	wantCode(t, "create", e.write(t, "a", zookeeper.Create("/state", "v0", false)), zookeeper.OK)
	r := e.write(t, "a", zookeeper.SetData("/state", "by a", 0))
	wantCode(t, "a's update at version 0", r, zookeeper.OK)
	if r.Versions[0] != 1 {
		t.Fatalf("version after the update: got %d; want 1", r.Versions[0])
	}
	wantCode(t, "b's update at version 0", e.write(t, "b", zookeeper.SetData("/state", "by b", 0)), zookeeper.BADVERSION)
	// A multi whose check fails changes nothing, all or nothing.
	wantCode(t, "multi", e.write(t, "b", zookeeper.Check("/state", 0), zookeeper.Create("/other", "", false)), zookeeper.BADVERSION)
	got := e.do(t, "b", func(now time.Duration, c *zookeeper.Client, cb zookeeper.Callback) {
		c.GetData(now, "/other", false, cb)
	})
	wantCode(t, "/other after the failed multi", got, zookeeper.NONODE)
	got = e.do(t, "b", func(now time.Duration, c *zookeeper.Client, cb zookeeper.Callback) {
		c.GetData(now, "/state", false, cb)
	})
	if got.Node.Data != "by a" || got.Node.Version != 1 {
		t.Fatalf("/state: got %v at version %d; want \"by a\" at 1", got.Node.Data, got.Node.Version)
	}
}

// Session expiry removes ephemerals: a client that stops pinging loses its session after the
// timeout, its ephemeral znode goes, and another session's watch on it fires NodeDeleted.
func TestZooKeeperSessionExpiryRemovesEphemerals(t *testing.T) {
	e := newEnsemble(t, 3, 3)
	e.addClient(t, "owner", 6*time.Second)
	watcher := e.addClient(t, "watcher", 6*time.Second)
	wantCode(t, "create ephemeral", e.write(t, "owner", zookeeper.Create("/controller", "1", true)), zookeeper.OK)
	wantCode(t, "exists with watch", e.do(t, "watcher", func(now time.Duration, c *zookeeper.Client, cb zookeeper.Callback) {
		c.Exists(now, "/controller", true, cb)
	}), zookeeper.OK)
	if err := e.w.Pause(e.clients["owner"]); err != nil {
		t.Fatal(err)
	}
	start := e.w.Now()
	gone := func() bool {
		l := e.server(e.leader())
		return l != nil && l.Tree().Nodes["/controller"] == nil
	}
	if !e.w.RunUntil(gone, 30*time.Second) {
		t.Fatal("the ephemeral znode outlived its session")
	}
	if d := e.w.Now() - start; d < 6*time.Second {
		t.Fatalf("session expired after %v; want at least the 6s timeout", d)
	}
	e.w.RunFor(time.Second)
	if len(watcher.events) != 1 || watcher.events[0].Type != zookeeper.NodeDeleted {
		t.Fatalf("watcher events: got %v; want one NodeDeleted", watcher.events)
	}
	// The watch was one-shot: a new /controller does not fire it again.
	wantCode(t, "recreate", e.write(t, "watcher", zookeeper.Create("/controller", "2", true)), zookeeper.OK)
	e.w.RunFor(time.Second)
	if len(watcher.events) != 1 {
		t.Fatalf("watcher events after recreate: got %v; want the one NodeDeleted only", watcher.events)
	}
	// The paused owner, resumed, learns its session expired.
	if err := e.w.Resume(e.clients["owner"]); err != nil {
		t.Fatal(err)
	}
	owner := e.w.Node(e.clients["owner"]).(*zkTestClient)
	e.w.RunFor(10 * time.Second)
	if n := len(owner.states); n == 0 || owner.states[n-1] != zookeeper.Expired {
		t.Fatalf("owner's states: got %v; want to end with Expired", owner.states)
	}
}

// Pings keep a session alive: an idle client keeps its ephemeral for many timeouts.
func TestZooKeeperHeartbeatsKeepSessionAlive(t *testing.T) {
	e := newEnsemble(t, 3, 4)
	e.addClient(t, "a", 6*time.Second)
	wantCode(t, "create ephemeral", e.write(t, "a", zookeeper.Create("/brokers", nil, false), zookeeper.Create("/brokers/1", "", true)), zookeeper.OK)
	e.w.RunFor(time.Minute)
	if e.server(e.leader()).Tree().Nodes["/brokers/1"] == nil {
		t.Fatal("an idle but pinging session lost its ephemeral")
	}
}

// Leader election after leader loss: the survivors elect the one with the highest (epoch,
// zxid, id), in a new epoch, and keep every committed write.
func TestZooKeeperLeaderElectionAfterLeaderLoss(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnsemble(t, 3, seed)
			old := e.leader()
			epoch := e.server(old).Epoch()
			e.addClient(t, "a", 18*time.Second)
			for i := 0; i < 5; i++ {
				wantCode(t, "create", e.write(t, "a", zookeeper.Create(fmt.Sprintf("/n%d", i), i, false)), zookeeper.OK)
			}
			if err := e.w.Kill(old); err != nil {
				t.Fatal(err)
			}
			if !e.w.RunUntil(func() bool { return e.leader() > 0 && e.serving() == 2 }, time.Minute) {
				t.Fatal("no new leader after the leader died")
			}
			nl := e.server(e.leader())
			if nl.Epoch() <= epoch {
				t.Fatalf("new leader's epoch: got %d; want above %d", nl.Epoch(), epoch)
			}
			// Highest id among equals: both survivors hold the same history.
			want := int32(0)
			for _, id := range e.servers {
				if id != old {
					want = max(want, id)
				}
			}
			if e.leader() != want {
				t.Fatalf("new leader: got %s; want %s (highest id with the same epoch and zxid)", node.Name(e.leader()), node.Name(want))
			}
			for i := 0; i < 5; i++ {
				if nl.Tree().Nodes[fmt.Sprintf("/n%d", i)] == nil {
					t.Fatalf("committed /n%d lost in the election", i)
				}
			}
			// The session moves to a surviving server and writes again.
			wantCode(t, "create after failover", e.write(t, "a", zookeeper.Create("/after", "", false)), zookeeper.OK)
			// The old leader comes back as a follower and catches up.
			if err := e.w.Restart(old); err != nil {
				t.Fatal(err)
			}
			if !e.w.RunUntil(func() bool { s := e.server(old); return s != nil && s.Serving() && s.Tree().Nodes["/after"] != nil }, time.Minute) {
				t.Fatal("the old leader did not rejoin and catch up")
			}
			if e.server(old).State() != zookeeper.Following {
				t.Fatalf("old leader rejoined as %v; want following", e.server(old).State())
			}
		})
	}
}

// No writes without a quorum: a leader cut off from both followers stops serving, and a write
// sent to the minority side never succeeds.
func TestZooKeeperNoWritesWithoutQuorum(t *testing.T) {
	e := newEnsemble(t, 3, 6)
	l := e.leader()
	a := e.addClient(t, "a", 30*time.Second)
	if a.c.Server() != l {
		// Put the client with the leader: isolate the leader together with its client.
		t.Logf("client on %s, leader %s", node.Name(a.c.Server()), node.Name(l))
	}
	var others []int32
	for _, id := range e.servers {
		if id != a.c.Server() {
			others = append(others, id)
		}
	}
	e.w.Partition([]int32{a.c.Server(), e.clients["a"]}, others)
	var got *zookeeper.Reply
	e.w.Inject(e.clients["a"], zkAction(func(now time.Duration, z *zkTestClient) {
		z.c.Multi(now, func(now time.Duration, r *zookeeper.Reply) { got = r }, zookeeper.Create("/minority", "", false))
	}))
	e.w.RunFor(40 * time.Second)
	if got != nil && got.Err == zookeeper.OK {
		t.Fatal("a write succeeded on the minority side")
	}
	for _, id := range others {
		if s := e.server(id); s.Tree().Nodes["/minority"] != nil {
			t.Fatalf("%s holds the minority's write", node.Name(id))
		}
	}
	if !e.w.RunUntil(func() bool {
		return e.leader() != 0 && e.leader() != a.c.Server() || e.server(a.c.Server()).State() != zookeeper.Leading && e.leader() != 0
	}, time.Minute) {
		t.Fatal("the majority did not elect a leader")
	}
	e.w.Heal()
	if !e.w.RunUntil(func() bool { return e.serving() == 3 }, time.Minute) {
		t.Fatal("the ensemble did not heal")
	}
}

// FIFO client order: a session's pipelined writes are applied in the order sent, and a read
// sent after them sees them.
func TestZooKeeperFIFOClientOrder(t *testing.T) {
	e := newEnsemble(t, 3, 7)
	e.addClient(t, "a", 6*time.Second)
	wantCode(t, "create", e.write(t, "a", zookeeper.Create("/c", 0, false)), zookeeper.OK)
	var replies []*zookeeper.Reply
	e.w.Inject(e.clients["a"], zkAction(func(now time.Duration, z *zkTestClient) {
		for i := 0; i < 10; i++ {
			z.c.Multi(now, func(now time.Duration, r *zookeeper.Reply) { replies = append(replies, r) }, zookeeper.SetData("/c", i+1, int32(i)))
		}
		z.c.GetData(now, "/c", false, func(now time.Duration, r *zookeeper.Reply) { replies = append(replies, r) })
	}))
	e.w.RunUntil(func() bool { return len(replies) == 11 }, 30*time.Second)
	if len(replies) != 11 {
		t.Fatalf("replies: got %d; want 11", len(replies))
	}
	for i, r := range replies[:10] {
		if r.Err != zookeeper.OK {
			t.Fatalf("write %d: got %v; want OK (each conditional on the one before)", i, r.Err)
		}
	}
	if got := replies[10].Node.Data; got != 10 {
		t.Fatalf("read after the writes: got %v; want 10", got)
	}
}
