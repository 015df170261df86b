package sim

import (
	"fmt"
	"io"
	"math"
	"sort"
	"time"
)

// Options configure a world. Start from DefaultOptions: zero values are taken literally (zero
// latency, no writeback, no stop timeout).
type Options struct {
	Seed            uint64
	LatencyMin      time.Duration // network.latency=1ms..5ms ; default 1ms..3ms
	LatencyMax      time.Duration
	OSFlushInterval time.Duration // page-cache writeback of every disk, default 30s (0 = off)
	StopTimeout     time.Duration // longest graceful stop before it is forced, default 30s (0 = never forced)
	DiscardTrace    bool          // keep only the running hash and counts (sweeps)
	// TraceLines, when set, receives every trace event as the line a trace file holds
	// (Trace.Describe), as it happens: with DiscardTrace, a run writes its trace file without
	// keeping the trace in memory. Trace.FlushLines flushes what is buffered.
	TraceLines io.Writer
	// ConnectionReset, when set, makes the message that tells a node its connections to peer
	// were reset: when a process dies (kill) or shuts down, every node it exchanged messages
	// with in that incarnation receives it over the network, after the messages already in
	// flight on that link. A power loss (crash) or a cut link delivers nothing.
	ConnectionReset func(peer int32) any
}

// DefaultOptions returns the defaults: latency 1ms..3ms, writeback every 30s, stop timeout 30s.
func DefaultOptions() Options {
	return Options{
		LatencyMin:      time.Millisecond,
		LatencyMax:      3 * time.Millisecond,
		OSFlushInterval: 30 * time.Second,
		StopTimeout:     30 * time.Second,
	}
}

// Node is what the world drives: one input at a time. from is the sender's id, the node's own
// id for a timer, 0 for an external input (Inject).
type Node interface {
	Step(now time.Duration, from int32, msg any)
}

// Stopper is implemented by nodes with a graceful (controlled) shutdown. The node calls
// Host.Halt when it is done.
type Stopper interface {
	Stop(now time.Duration)
}

// Factory builds a node from its host (and the host's disk). It is called at AddNode and at
// every Restart, and may already call h.Send and h.After.
type Factory func(h *Host) Node

// NodeState is a node's lifecycle state.
type NodeState uint8

// Node states. Absent is the state of an id that was never added.
const (
	Absent NodeState = iota
	Running
	Paused
	Stopping
	Stopped
	Killed
	Crashed
)

var stateNames = [...]string{"absent", "running", "paused", "stopping", "stopped", "killed", "crashed"}

func (s NodeState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "?"
}

// Stats counts what the world has done.
type Stats struct {
	Events     int64 // trace events
	Deliveries int64 // messages handed to nodes (Inject included)
	Drops      int64
	Timers     int64 // timers fired
	VoidTimers int64 // timers of a dead incarnation, discarded
	Injects    int64
	Observes   int64
	Faults     int64
	Writebacks int64
	Pending    int // events in the queue now
}

type nodeSlot struct {
	id      int32
	idx     int32
	name    string
	added   bool
	state   NodeState // Running, Stopping, Stopped, Killed, Crashed (Paused is the flag)
	paused  bool
	inc     uint32 // bumped at every death and every start
	starts  int64
	factory Factory
	node    Node
	host    *Host
	disk    *Disk
	rand    *Rand
	held    []item // deliveries and timers waiting for Resume
	port           // its network interface (network.go; embedded: faults set slow, isolate)
	// rebooting: the machine lost power with connections open; its restart resets them.
	rebooting bool
}

func (s *nodeSlot) alive() bool { return s.state == Running || s.state == Stopping }

// World is the simulated universe. Not safe for concurrent use.
type World struct {
	opt      Options
	now      time.Duration
	seq      int64
	holdSeq  int64 // sequence numbers for resumed inputs: below every normal one
	q        events
	slots    []*nodeSlot
	byID     map[int32]int32
	lowID    []int32 // 1 + the slot index of ids below lowIDs, 0 for none: byID without hashing
	ids      []int32 // added ids, sorted
	network          // links, latency, loss and cuts (network.go; embedded: faults set links)
	root     *Rand
	streams  map[string]*Rand
	trace    *Trace
	stats    Stats
	nextWB   time.Duration
	onObs    []func(now time.Duration, node int32, ev any)
	onEvent  []func(e *Event)
	depth    int     // > 0 while a node steps or a fault applies: OnEvent callbacks wait
	pend     []Event // events awaiting OnEvent callbacks
	flushing bool
}

// New returns an empty world at time 0.
func New(o Options) *World {
	if o.LatencyMin < 0 {
		o.LatencyMin = 0
	}
	if o.LatencyMax < o.LatencyMin {
		o.LatencyMax = o.LatencyMin
	}
	w := &World{
		opt:     o,
		holdSeq: math.MinInt64,
		byID:    make(map[int32]int32),
		root:    NewRand(o.Seed),
		streams: make(map[string]*Rand),
		trace:   newTrace(o.DiscardTrace, o.TraceLines),
	}
	w.network = newNetwork(w.Rand("network"), o.LatencyMin, o.LatencyMax)
	if o.OSFlushInterval > 0 {
		w.nextWB = o.OSFlushInterval
	}
	return w
}

// Options returns the world's options.
func (w *World) Options() Options { return w.opt }

// Now is the current virtual time.
func (w *World) Now() time.Duration { return w.now }

// Rand returns the named stream forked from the seed ("network", "workload", "faults",
// "elections", …). The same name returns the same *Rand.
func (w *World) Rand(stream string) *Rand {
	r := w.streams[stream]
	if r == nil {
		r = w.root.Fork(stream)
		w.streams[stream] = r
	}
	return r
}

// Trace returns the world's trace.
func (w *World) Trace() *Trace { return w.trace }

// Stats returns the world's counters.
func (w *World) Stats() Stats {
	s := w.stats
	s.Events = int64(w.trace.n)
	s.Pending = w.q.len()
	return s
}

// OnObserve registers f to be called, synchronously, for every Host.Observe.
func (w *World) OnObserve(f func(now time.Duration, node int32, ev any)) {
	w.onObs = append(w.onObs, f)
}

// OnEvent registers f to be called once for every trace event, in trace order. Callbacks may
// apply faults and Inject, but must not step the world. Events recorded
// while a node steps (the delivery itself, its observations, drops of its sends) are reported
// when that step has returned, so f sees the node's state after the step. The *Event is valid
// only during the call.
func (w *World) OnEvent(f func(e *Event)) { w.onEvent = append(w.onEvent, f) }

func (w *World) record(kind EventKind, node, peer int32, typ uint16, arg int64) {
	e := Event{Time: w.now, Kind: kind, Node: node, Peer: peer, Type: typ, Arg: arg}
	w.trace.add(&e)
	if len(w.onEvent) > 0 {
		w.pend = append(w.pend, e)
		if w.depth == 0 {
			w.flushEvents()
		}
	}
}

// hold defers OnEvent callbacks until the matching release, so that they see the effects of
// what is being done (a step, a fault) rather than the state half-way.
func (w *World) hold() { w.depth++ }

func (w *World) release() {
	w.depth--
	if w.depth == 0 && len(w.pend) > 0 {
		w.flushEvents()
	}
}

func (w *World) flushEvents() {
	if w.flushing {
		return
	}
	w.flushing = true
	for i := 0; i < len(w.pend); i++ {
		e := w.pend[i]
		for _, f := range w.onEvent {
			f(&e)
		}
	}
	w.pend = w.pend[:0]
	w.flushing = false
}

// slot returns the slot for id, creating an absent one if needed.
func (w *World) slot(id int32) *nodeSlot {
	if i, ok := w.slotIndex(id); ok {
		return w.slots[i]
	}
	s := &nodeSlot{id: id, idx: int32(len(w.slots))}
	w.byID[id] = s.idx
	if id >= 0 && id < lowIDs {
		if int(id) >= len(w.lowID) {
			w.lowID = append(w.lowID, make([]int32, int(id)+1-len(w.lowID))...)
		}
		w.lowID[id] = s.idx + 1
	}
	w.slots = append(w.slots, s)
	w.network.addSlot()
	return s
}

// lowIDs bounds the ids slotIndex finds in a table rather than the map: past the clients'
// (node.ClientBase, 10,000 on) and the gateway's connections (60,000 on); the table grows
// only to the largest id added.
const lowIDs = 1 << 17

// slotIndex returns the slot index of id, if it has a slot.
func (w *World) slotIndex(id int32) (int32, bool) {
	if id >= 0 && id < lowIDs {
		if int(id) < len(w.lowID) && w.lowID[id] > 0 {
			return w.lowID[id] - 1, true
		}
		return 0, false
	}
	i, ok := w.byID[id]
	return i, ok
}

func (w *World) lookup(id int32) *nodeSlot {
	if i, ok := w.slotIndex(id); ok {
		if s := w.slots[i]; s.added {
			return s
		}
	}
	return nil
}

// AddNode adds node id and starts it at Now() by calling f. name is shown to users and names
// the node's own random stream (forked from the seed as "node/"+name), so keep names unique. It panics on a programming error
// (id 0, a duplicate id, nil factory); use Add to get an error instead.
func (w *World) AddNode(id int32, name string, f Factory) {
	if err := w.Add(id, name, f); err != nil {
		panic(err)
	}
}

// Add is AddNode returning an error for id 0 (reserved for external input), a duplicate id or
// a nil factory.
func (w *World) Add(id int32, name string, f Factory) error {
	switch {
	case id == 0:
		return fmt.Errorf("add node: id 0 is reserved for external input")
	case f == nil:
		return fmt.Errorf("add node %d: nil factory", id)
	case w.lookup(id) != nil:
		return fmt.Errorf("add node %d: already exists", id)
	}
	s := w.slot(id)
	s.added = true
	s.name = name
	s.factory = f
	s.disk = NewDisk()
	s.rand = w.root.Fork("node/" + name)
	i := sort.Search(len(w.ids), func(i int) bool { return w.ids[i] >= id })
	w.ids = append(w.ids, 0)
	copy(w.ids[i+1:], w.ids[i:])
	w.ids[i] = id
	w.start(s)
	return nil
}

func (w *World) start(s *nodeSlot) {
	s.inc++
	s.state = Running
	s.paused = false
	s.starts++
	h := &Host{w: w, s: s, inc: s.inc}
	s.host = h
	w.hold()
	w.record(Start, s.id, 0, 0, s.starts)
	n := s.factory(h)
	if h.inc == s.inc { // the factory did not halt the node
		if n == nil { // no node to run: the process exits at once
			w.record(Halt, s.id, 0, 0, HaltExited)
			w.die(s, Stopped)
		} else {
			s.node = n
		}
	}
	w.release()
}

// die ends the current incarnation.
func (w *World) die(s *nodeSlot, st NodeState) {
	if st == Crashed {
		// A powered-off machine resets nothing; its peers' connections stay open until it
		// boots again and its operating system answers their next segment with a reset.
		s.rebooting = true
	} else {
		w.disconnect(s, true)
	}
	s.inc++
	s.state = st
	s.paused = false
	s.node = nil
	for i := range s.held {
		it := &s.held[i]
		if it.kind != kTimer {
			w.drop(it, DropDown)
		}
	}
	clear(s.held)
	s.held = s.held[:0]
}

// Node returns the current node object for id (nil if down or unknown).
func (w *World) Node(id int32) Node {
	if s := w.lookup(id); s != nil {
		return s.node
	}
	return nil
}

// Host returns id's host: the current incarnation's, or the last one's if the node is down.
func (w *World) Host(id int32) *Host {
	if s := w.lookup(id); s != nil {
		return s.host
	}
	return nil
}

// Disk returns id's disk (nil for an unknown id). A node keeps its disk across restarts.
func (w *World) Disk(id int32) *Disk {
	if s := w.lookup(id); s != nil {
		return s.disk
	}
	return nil
}

// State returns id's lifecycle state (Absent for an unknown id).
func (w *World) State(id int32) NodeState {
	s := w.lookup(id)
	if s == nil {
		return Absent
	}
	if s.paused {
		return Paused
	}
	return s.state
}

// IDs returns every added node id, sorted (a fresh slice).
func (w *World) IDs() []int32 { return append([]int32(nil), w.ids...) }

// Name returns id's display name ("" for an unknown id).
func (w *World) Name(id int32) string {
	if s := w.lookup(id); s != nil {
		return s.name
	}
	return ""
}

func (w *World) push(it item) {
	it.seq = w.seq
	w.seq++
	w.q.push(it, -1)
}

// pushTimer queues a timer set with delay d.
func (w *World) pushTimer(it item, d time.Duration) {
	it.seq = w.seq
	w.seq++
	w.q.push(it, d)
}

// advance moves the clock to t, running the OS writeback on the way if one is due.
func (w *World) advance(t time.Duration) {
	if w.nextWB > 0 && t >= w.nextWB {
		w.now = w.nextWB
		// Writebacks between nextWB and t see the same disks: one is enough.
		w.writeback()
		iv := w.opt.OSFlushInterval
		w.nextWB = (t/iv + 1) * iv
	}
	if t > w.now {
		w.now = t
	}
}

func (w *World) writeback() {
	for _, s := range w.slots {
		if s.disk != nil {
			s.disk.FlushAll()
		}
	}
	w.stats.Writebacks++
	w.record(Writeback, 0, 0, 0, 0) // after the flush: callbacks see clean disks
}

// Step processes the next event; false if the queue is empty.
func (w *World) Step() bool {
	if w.q.len() == 0 {
		return false
	}
	it := w.q.pop()
	w.advance(it.at)
	w.dispatch(&it)
	return true
}

// RunFor processes every event with time ≤ Now()+d, then sets Now() to Now()+d.
func (w *World) RunFor(d time.Duration) {
	end := w.now + d
	var it item
	for w.q.len() > 0 {
		top, from := w.q.next()
		if top.at > end {
			break
		}
		w.q.take(top, from, &it)
		w.advance(it.at)
		w.dispatch(&it)
	}
	w.advance(end)
}

// RunUntil processes events in order; after each, if cond() holds it stops and returns true
// (Now() is that event's time). cond is checked once before the first event too. If the next
// event is after Now()+limit (or there is none) it sets Now() to Now()+limit and returns cond().
func (w *World) RunUntil(cond func() bool, limit time.Duration) bool {
	if cond() {
		return true
	}
	end := w.now + limit
	for {
		if w.q.len() == 0 || w.q.at() > end {
			w.advance(end)
			return cond()
		}
		w.Step()
		if cond() {
			return true
		}
	}
}

// Inject delivers msg to node `to` at Now() with from == 0, after the events already due at
// Now(). It is recorded in the trace (as Inject, or as a Drop if the node is down then).
func (w *World) Inject(to int32, msg any) {
	s := w.slot(to)
	w.push(item{at: w.now, msg: msg, to: s.idx, from: -1, kind: kInject})
}

func (w *World) dispatch(it *item) {
	s := w.slots[it.to]
	switch it.kind {
	case kDeliver, kReset:
		if it.kind == kReset {
			w.network.resetArrived(it.from, it.to)
		}
		if !s.added || !s.alive() || s.inc != it.inc {
			w.drop(it, DropDown)
			if it.kind == kDeliver {
				w.refuse(it)
			}
			return
		}
		if it.from != it.to {
			if r := w.network.cutReason(w.slots[it.from], s); r != 0 {
				w.drop(it, r)
				return
			}
		}
		if s.paused {
			s.held = append(s.held, *it)
			return
		}
		w.stats.Deliveries++
		w.stepNode(s, Deliver, w.slots[it.from].id, it.msg)
	case kTimer:
		if !s.alive() || s.inc != it.inc {
			w.stats.VoidTimers++
			return
		}
		if s.paused {
			s.held = append(s.held, *it)
			return
		}
		w.stats.Timers++
		w.stepNode(s, Timer, s.id, it.msg)
	case kInject:
		if !s.added || !s.alive() {
			w.drop(it, DropDown)
			return
		}
		if s.paused {
			s.held = append(s.held, *it)
			return
		}
		w.stats.Injects++
		w.stats.Deliveries++
		w.stepNode(s, Inject, 0, it.msg)
	case kStopTimeout:
		if s.inc == it.inc && s.state == Stopping {
			w.hold()
			s.disk.FlushAll()
			w.record(Halt, s.id, 0, 0, HaltForced)
			w.die(s, Stopped)
			w.release()
		}
	}
}

// stepNode records the input (kind Deliver, Timer or Inject) and steps the node with it. OnEvent
// callbacks for the input and for whatever the step records run after the step.
func (w *World) stepNode(s *nodeSlot, kind EventKind, from int32, msg any) {
	n := s.node
	if n == nil {
		panic(fmt.Sprintf("sim: node %d is %v with no node object", s.id, s.state))
	}
	w.hold()
	code, arg := w.trace.codeArg(msg)
	w.record(kind, s.id, from, code, arg)
	n.Step(w.now, from, msg)
	w.release()
}

func (w *World) drop(it *item, reason int64) {
	var from int32
	if it.from >= 0 {
		from = w.slots[it.from].id
	}
	w.dropMsg(w.slots[it.to].id, from, it.msg, reason)
}

func (w *World) dropMsg(to, from int32, msg any, reason int64) {
	w.stats.Drops++
	w.record(Drop, to, from, w.trace.code(msg), reason)
}

// Host is a node's machine: its id, network, timers, random stream, disk. It implements
// broker/node.Env. A Host belongs to one incarnation: after the node dies its calls do nothing.
type Host struct {
	w   *World
	s   *nodeSlot
	inc uint32
}

func (h *Host) live() bool { return h.inc == h.s.inc }

// ID is the node's id.
func (h *Host) ID() int32 { return h.s.id }

// Name is the node's display name.
func (h *Host) Name() string { return h.s.name }

// Now is the current virtual time (for factories; Step gets `now` handed in).
func (h *Host) Now() time.Duration { return h.w.now }

// Disk is the node's disk.
func (h *Host) Disk() *Disk { return h.s.disk }

// Send queues msg to node `to` over the simulated network.
func (h *Host) Send(to int32, msg any) {
	if h.live() {
		h.w.send(h.s, to, msg)
	}
}

// After fires payload back to this node (from == its id) after d, for this incarnation only.
func (h *Host) After(d time.Duration, payload any) {
	if !h.live() {
		return
	}
	if d < 0 {
		d = 0
	}
	h.w.pushTimer(item{at: h.w.now + d, msg: payload, to: h.s.idx, from: h.s.idx, inc: h.inc, kind: kTimer}, d)
}

// Rand returns the next number from the node's own stream (forked from the seed by name; it
// continues across restarts).
func (h *Host) Rand() uint64 { return h.s.rand.Uint64() }

// RandStream is the node's own stream, for Intn, Duration and the like.
func (h *Host) RandStream() *Rand { return h.s.rand }

// Halt ends the process. After a Stop the disk is flushed first and the node is Stopped; from a
// running node it is a process exit: Stopped without a flush.
func (h *Host) Halt() {
	if !h.live() {
		return
	}
	s := h.s
	w := h.w
	w.hold()
	defer w.release()
	if s.state == Stopping {
		s.disk.FlushAll()
		w.record(Halt, s.id, 0, 0, HaltStopped)
	} else {
		w.record(Halt, s.id, 0, 0, HaltExited)
	}
	w.die(s, Stopped)
}

// Observe records ev in the trace (Type = its type, Arg = its TraceArg) and hands it to every
// OnObserve callback.
func (h *Host) Observe(ev any) {
	if !h.live() {
		return
	}
	w := h.w
	w.stats.Observes++
	code, arg := w.trace.codeArg(ev)
	w.record(Observe, h.s.id, 0, code, arg)
	for _, f := range w.onObs {
		f(w.now, h.s.id, ev)
	}
}
