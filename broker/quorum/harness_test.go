package quorum

import (
	"container/heap"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// A tiny deterministic world for the quorum tests: a seeded PRNG of our own, a message queue
// with per-message latency, fake disks with a page cache, kill/crash/restart and partitions.
// It does not use package sim.

type prng struct{ s uint64 }

// next is splitmix64.
func (p *prng) next() uint64 {
	p.s += 0x9e3779b97f4a7c15
	z := p.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (p *prng) intn(n int) int { return int(p.next() % uint64(n)) }

// --- disk -------------------------------------------------------------------------------------

type fakeFile struct{ cache, durable []any }

type fakeDisk struct{ files map[string]*fakeFile }

func newFakeDisk() *fakeDisk { return &fakeDisk{files: map[string]*fakeFile{}} }

func (d *fakeDisk) file(name string) *fakeFile {
	f := d.files[name]
	if f == nil {
		f = &fakeFile{}
		d.files[name] = f
	}
	return f
}

func (d *fakeDisk) Append(file string, entry any) {
	f := d.file(file)
	f.cache = append(f.cache, entry)
}
func (d *fakeDisk) Truncate(file string, n int) {
	f := d.file(file)
	if n < len(f.cache) {
		f.cache = f.cache[:n:n]
	}
}
func (d *fakeDisk) Read(file string) []any {
	if f := d.files[file]; f != nil {
		return f.cache
	}
	return nil
}
func (d *fakeDisk) Len(file string) int              { return len(d.Read(file)) }
func (d *fakeDisk) Write(file string, entries []any) { d.file(file).cache = slices.Clone(entries) }
func (d *fakeDisk) Flush(file string) {
	// Entries are immutable and the cache only grows by append (Truncate and Write clip or
	// replace it), so the durable image can share the cache's array up to its length.
	f := d.file(file)
	f.durable = f.cache[:len(f.cache):len(f.cache)]
}
func (d *fakeDisk) Remove(file string) { delete(d.files, file) }
func (d *fakeDisk) Files() []string    { return slices.Sorted(maps.Keys(d.files)) }

// crash drops every unflushed change (power loss).
func (d *fakeDisk) crash() {
	for _, n := range d.Files() {
		f := d.files[n]
		f.cache = f.durable[:len(f.durable):len(f.durable)]
	}
}

// --- events -----------------------------------------------------------------------------------

type event struct {
	at       time.Duration
	seq      uint64
	from, to int32
	msg      any
	inc      int // target incarnation for timers; -1 for messages
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// --- nodes ------------------------------------------------------------------------------------

type simNode struct {
	id    int32
	voter bool
	alive bool
	inc   int
	disk  *fakeDisk
	rng   prng
	raft  *Raft
	obs   *Observer
	// lastHW is the node's high watermark after its last step (HW never goes down within an
	// incarnation).
	lastHW int64
}

type simEnv struct {
	w *world
	n *simNode
}

func (e *simEnv) ID() int32              { return e.n.id }
func (e *simEnv) Send(to int32, msg any) { e.w.send(e.n.id, to, msg) }
func (e *simEnv) After(d time.Duration, payload any) {
	if d < 0 {
		e.w.t.Fatalf("node %d: After(%v): negative delay", e.n.id, d)
	}
	e.w.push(event{at: e.w.now + d, from: e.n.id, to: e.n.id, msg: payload, inc: e.n.inc})
}
func (e *simEnv) Rand() uint64 { return e.n.rng.next() }
func (e *simEnv) Halt()        {}
func (e *simEnv) Observe(ev any) {
	if sc, ok := ev.(StateChange); ok {
		e.w.logf("%s %s e%d leader %s leo %d", node.Name(sc.ID), sc.Role, sc.Epoch, node.Name(sc.LeaderID), e.w.leo(e.n))
		e.w.changes = append(e.w.changes, sc)
	}
}

type world struct {
	t       testing.TB
	now     time.Duration
	seq     uint64
	q       eventQueue
	rng     prng
	cfg     Config
	nodes   map[int32]*simNode
	ids     []int32 // sorted
	cut     map[[2]int32]bool
	loss    uint64 // per mille
	steps   int
	changes []StateChange

	// invariants
	leaders     map[int32]int32     // epoch → leader
	prefix      map[[2]int64]uint64 // (offset, epoch) → hash of the log prefix ending there
	committed   []uint64            // prefix hash by offset, for offsets below some node's HW
	commitEpoch []int32             // epoch of the node that first showed the offset committed

	nextValue int64
	trace     bool
	noCheck   bool // benchmarks: skip the invariant checks
}

func (w *world) logf(format string, args ...any) {
	if w.trace {
		w.t.Logf("t=%v "+format, append([]any{w.now}, args...)...)
	}
}

func testConfig() Config {
	return Config{
		ElectionTimeout:    time.Second,
		ElectionBackoffMax: time.Second,
		FetchTimeout:       2 * time.Second,
		RequestTimeout:     2 * time.Second,
		FetchMaxWait:       500 * time.Millisecond,
	}
}

func newWorld(t testing.TB, seed uint64, voters int, observers ...int32) *world {
	t.Helper()
	w := &world{
		t:       t,
		rng:     prng{s: seed},
		nodes:   map[int32]*simNode{},
		cut:     map[[2]int32]bool{},
		leaders: map[int32]int32{},
		prefix:  map[[2]int64]uint64{},
	}
	w.cfg = testConfig()
	for i := 1; i <= voters; i++ {
		w.cfg.Voters = append(w.cfg.Voters, node.ControllerID(i))
	}
	for _, id := range w.cfg.Voters {
		w.addNode(id, true)
	}
	for _, id := range observers {
		w.addNode(id, false)
	}
	return w
}

func (w *world) addNode(id int32, voter bool) *simNode {
	n := &simNode{id: id, voter: voter, disk: newFakeDisk(), rng: prng{s: w.rng.next()}}
	w.nodes[id] = n
	w.ids = append(w.ids, id)
	slices.Sort(w.ids)
	w.start(n)
	return n
}

func (w *world) start(n *simNode) {
	n.alive = true
	n.inc++
	n.lastHW = 0
	cfg := w.cfg
	cfg.ID = n.id
	env := &simEnv{w: w, n: n}
	if n.voter {
		n.raft = NewRaft(cfg, env, n.disk, w.now)
	} else {
		n.obs = NewObserver(cfg, env, n.disk, w.now)
	}
	w.check(n)
}

func (w *world) push(e event) {
	w.seq++
	e.seq = w.seq
	heap.Push(&w.q, e)
}

func (w *world) send(from, to int32, msg any) {
	if w.loss > 0 && w.rng.next()%1000 < w.loss {
		return
	}
	d := time.Millisecond + time.Duration(w.rng.next()%uint64(2*time.Millisecond))
	w.push(event{at: w.now + d, from: from, to: to, msg: msg, inc: -1})
}

// --- faults -----------------------------------------------------------------------------------

func (w *world) kill(id int32) {
	w.logf("kill %s", node.Name(id))
	n := w.nodes[id]
	n.alive = false
	n.raft, n.obs = nil, nil
}
func (w *world) crash(id int32) { w.logf("crash:"); w.kill(id); w.nodes[id].disk.crash() }
func (w *world) restart(id int32) {
	if n := w.nodes[id]; !n.alive {
		w.logf("restart %s", node.Name(id))
		w.start(n)
	}
}
func (w *world) isolate(id int32) {
	w.logf("isolate %s", node.Name(id))
	for _, o := range w.ids {
		if o != id {
			w.cut[[2]int32{id, o}] = true
			w.cut[[2]int32{o, id}] = true
		}
	}
}
func (w *world) heal() { w.logf("heal"); clear(w.cut) }

// --- running ----------------------------------------------------------------------------------

// step delivers the next event; false when the queue is empty.
func (w *world) step() bool {
	if len(w.q) == 0 {
		return false
	}
	e := heap.Pop(&w.q).(event)
	w.now = e.at
	n := w.nodes[e.to]
	if n == nil || !n.alive || (e.inc >= 0 && e.inc != n.inc) || w.cut[[2]int32{e.from, e.to}] {
		return true
	}
	var handled bool
	if n.raft != nil {
		handled = n.raft.Handle(w.now, e.from, e.msg)
	} else {
		handled = n.obs.Handle(w.now, e.from, e.msg)
	}
	if !handled {
		w.t.Fatalf("t=%v node %d did not handle %T", w.now, n.id, e.msg)
	}
	w.steps++
	if !w.noCheck {
		w.check(n)
	}
	return true
}

// runUntil steps until the clock passes t (or stop returns true after a step).
func (w *world) runUntil(t time.Duration, stop func() bool) bool {
	for len(w.q) > 0 && w.q[0].at <= t {
		w.step()
		if w.t.Failed() {
			w.t.FailNow()
		}
		if stop != nil && stop() {
			return true
		}
	}
	if w.now < t {
		w.now = t
	}
	return false
}

func (w *world) run(d time.Duration) { w.runUntil(w.now+d, nil) }

// leader returns the live voter that leads the highest epoch, or nil.
func (w *world) leader() *simNode {
	var best *simNode
	for _, id := range w.ids {
		n := w.nodes[id]
		if n.alive && n.raft != nil && n.raft.IsLeader() && (best == nil || n.raft.Epoch() > best.raft.Epoch()) {
			best = n
		}
	}
	return best
}

func (w *world) readyLeader() *simNode {
	if l := w.leader(); l != nil && l.raft.Ready() {
		return l
	}
	return nil
}

// waitReady runs until some voter is a ready leader, failing after d.
func (w *world) waitReady(d time.Duration) *simNode {
	w.t.Helper()
	if l := w.readyLeader(); l != nil {
		return l
	}
	if !w.runUntil(w.now+d, func() bool { return w.readyLeader() != nil }) {
		w.t.Fatalf("t=%v: no ready leader after %v; roles %s", w.now, d, w.roles())
	}
	return w.readyLeader()
}

// appendValue appends a fresh value at the ready leader, if any.
func (w *world) appendValue() {
	if l := w.readyLeader(); l != nil {
		w.nextValue++
		if _, ok := l.raft.Append(w.now, []any{w.nextValue}); !ok {
			w.t.Fatalf("Append at ready leader %d: got ok=false; want true", l.id)
		}
		w.check(l)
	}
}

// runWithLoad runs for d, appending a value every interval at whichever voter is ready.
func (w *world) runWithLoad(d, interval time.Duration) {
	end := w.now + d
	for w.now < end {
		w.appendValue()
		w.runUntil(min(w.now+interval, end), nil)
	}
}

func (w *world) roles() string {
	s := ""
	for _, id := range w.ids {
		n := w.nodes[id]
		switch {
		case !n.alive:
			s += fmt.Sprintf(" %s:dead", node.Name(id))
		case n.raft != nil:
			s += fmt.Sprintf(" %s:%s/e%d/hw%d/leo%d", node.Name(id), n.raft.Role(), n.raft.Epoch(), n.raft.HighWatermark(), n.raft.EndOffset())
		default:
			l, e := n.obs.Leader()
			s += fmt.Sprintf(" %s:obs(%s,e%d)/hw%d/leo%d", node.Name(id), node.Name(l), e, n.obs.HighWatermark(), n.obs.EndOffset())
		}
	}
	return s
}

// --- invariants, checked after every step --------------------------------------------------------

func recordKey(rs []any) uint64 {
	if len(rs) == 0 {
		return 0
	}
	switch r := rs[0].(type) {
	case int64:
		return uint64(r)
	case metadata.LeaderChangeRecord:
		return 1<<62 | uint64(r.LeaderID)
	}
	return 1 << 61
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x100000001b3
	return h ^ (h >> 29)
}

type replica interface {
	HighWatermark() int64
	EndOffset() int64
	Entries(from, to int64) []protocol.MetadataEntry
}

// check verifies the node just stepped:
//   - Election Safety: at most one leader per epoch;
//   - Log Matching: two logs holding an entry with the same offset and epoch hold the same
//     prefix up to it;
//   - State Machine Safety: every node's entries below its HW are the committed ones, and the
//     committed prefix never changes;
//   - Leader Completeness: a leader holds every committed entry;
//   - HW ≤ LEO, and HW never goes down within an incarnation.
func (w *world) check(n *simNode) {
	t := w.t
	t.Helper()
	var r replica
	if n.raft != nil {
		r = n.raft
		if n.raft.IsLeader() {
			e := n.raft.Epoch()
			if other, ok := w.leaders[e]; ok && other != n.id {
				t.Fatalf("t=%v epoch %d: got leaders %s and %s; want one", w.now, e, node.Name(other), node.Name(n.id))
			}
			w.leaders[e] = n.id
		}
	} else {
		r = n.obs
	}
	var epoch int32
	if n.raft != nil {
		epoch = n.raft.Epoch()
	} else {
		_, epoch = n.obs.Leader()
	}
	hw, leo := r.HighWatermark(), r.EndOffset()
	if hw > leo {
		t.Fatalf("t=%v %s: got HW %d > LEO %d; want HW ≤ LEO", w.now, node.Name(n.id), hw, leo)
	}
	if hw < n.lastHW {
		t.Fatalf("t=%v %s: HW went down from %d to %d", w.now, node.Name(n.id), n.lastHW, hw)
	}
	n.lastHW = hw
	entries := r.Entries(0, leo)
	if int64(len(entries)) != leo {
		t.Fatalf("%s: got %d entries for [0,%d); want %d", node.Name(n.id), len(entries), leo, leo)
	}
	var h uint64
	var last int32
	for i, e := range entries {
		if e.Offset != int64(i) {
			t.Fatalf("%s: entry %d has offset %d", node.Name(n.id), i, e.Offset)
		}
		if e.Epoch < last {
			t.Fatalf("%s: epoch goes down at offset %d: %d after %d", node.Name(n.id), i, e.Epoch, last)
		}
		last = e.Epoch
		h = mix(mix(h, uint64(e.Epoch)), recordKey(e.Records))
		k := [2]int64{int64(i), int64(e.Epoch)}
		if p, ok := w.prefix[k]; !ok {
			w.prefix[k] = h
		} else if p != h {
			t.Fatalf("t=%v %s: Log Matching broken at offset %d epoch %d", w.now, node.Name(n.id), i, e.Epoch)
		}
		if int64(i) < hw {
			if i < len(w.committed) {
				if w.committed[i] != h {
					t.Fatalf("t=%v %s: committed entry at offset %d changed (HW %d)", w.now, node.Name(n.id), i, hw)
				}
			} else {
				if len(w.committed) == i {
					w.logf("%s commits from %d (HW %d)", node.Name(n.id), i, hw)
				}
				w.committed = append(w.committed, h)
				w.commitEpoch = append(w.commitEpoch, epoch)
			}
		}
	}
	if n.raft != nil && n.raft.IsLeader() {
		// Leader Completeness (Raft): an entry committed in epoch E is in the log of every
		// leader of an epoch > E. (A stale leader of an older epoch may lack it until it learns
		// of the newer epoch or resigns.)
		c := -1
		for i, e := range w.commitEpoch {
			if e < epoch {
				c = i
			}
		}
		if c >= 0 {
			if len(entries) <= c {
				t.Fatalf("t=%v leader %s of epoch %d: got LEO %d; want ≥ %d (committed before its epoch)", w.now, node.Name(n.id), epoch, len(entries), c+1)
			}
			var h2 uint64
			for i := 0; i <= c; i++ {
				h2 = mix(mix(h2, uint64(entries[i].Epoch)), recordKey(entries[i].Records))
			}
			if h2 != w.committed[c] {
				t.Fatalf("t=%v leader %s of epoch %d lacks entries committed before its epoch (Leader Completeness)", w.now, node.Name(n.id), epoch)
			}
		}
	}
}

func (w *world) leo(n *simNode) int64 {
	if n.raft != nil {
		return n.raft.EndOffset()
	}
	if n.obs != nil {
		return n.obs.EndOffset()
	}
	return -1
}
