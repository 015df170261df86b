package controller

import (
	"container/heap"
	"maps"
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

type heartbeatReq = protocol.BrokerHeartbeatRequest

// A small deterministic world for the controller tests (no dependency on package sim): a message
// queue with a fixed 1ms latency, timers, fake disks, three controllers and scripted brokers.
// A scripted broker only collects what it receives and, while alive, heartbeats to the active
// controller every broker.heartbeat.interval.ms, reporting the active controller's committed
// offset as its replayed metadata offset.

type prng struct{ s uint64 }

func (p *prng) next() uint64 { // splitmix64
	p.s += 0x9e3779b97f4a7c15
	z := p.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

type memDisk struct{ files map[string][]any }

func (d *memDisk) Append(file string, entry any) { d.files[file] = append(d.files[file], entry) }
func (d *memDisk) Truncate(file string, n int) {
	if n < len(d.files[file]) {
		d.files[file] = d.files[file][:n:n]
	}
}
func (d *memDisk) Read(file string) []any           { return d.files[file] }
func (d *memDisk) Len(file string) int              { return len(d.files[file]) }
func (d *memDisk) Write(file string, entries []any) { d.files[file] = slices.Clone(entries) }
func (d *memDisk) Flush(string)                     {}
func (d *memDisk) Remove(file string)               { delete(d.files, file) }
func (d *memDisk) Files() []string                  { return slices.Sorted(maps.Keys(d.files)) }

type event struct {
	at       time.Duration
	seq      uint64
	from, to int32
	msg      any
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

type testEnv struct {
	w      *world
	id     int32
	rng    prng
	halted bool
}

func (e *testEnv) ID() int32 { return e.id }
func (e *testEnv) Send(to int32, msg any) {
	e.w.push(event{at: e.w.now + time.Millisecond, from: e.id, to: to, msg: msg})
}
func (e *testEnv) After(d time.Duration, payload any) {
	e.w.push(event{at: e.w.now + d, from: e.id, to: e.id, msg: payload})
}
func (e *testEnv) Rand() uint64   { return e.rng.next() }
func (e *testEnv) Halt()          { e.halted = true }
func (e *testEnv) Observe(ev any) { e.w.observed = append(e.w.observed, ev) }

// scriptedBroker is a broker played by the test.
type scriptedBroker struct {
	id        int32
	epoch     int64
	heartbeat bool // send heartbeats every interval
	inbox     []any
	corr      int64
}

type heartbeatTick struct{}

type world struct {
	t          *testing.T
	cfg        config.Broker
	now        time.Duration
	seq        uint64
	q          eventQueue
	ctrls      map[int32]*Controller
	envs       map[int32]*testEnv
	brokers    map[int32]*scriptedBroker
	observed   []any
	controller []int32
}

func newWorld(t *testing.T, cfg config.Broker) *world {
	w := &world{t: t, cfg: cfg, ctrls: map[int32]*Controller{}, envs: map[int32]*testEnv{}, brokers: map[int32]*scriptedBroker{}}
	for i := 1; i <= 3; i++ {
		w.controller = append(w.controller, node.ControllerID(i))
	}
	for i, id := range w.controller {
		env := &testEnv{w: w, id: id, rng: prng{s: uint64(i+1) * 7919}}
		w.envs[id] = env
		w.ctrls[id] = New(id, w.controller, cfg, env, &memDisk{files: map[string][]any{}}, 0)
	}
	return w
}

func (w *world) push(e event) {
	w.seq++
	e.seq = w.seq
	heap.Push(&w.q, e)
}

// run delivers events until the clock reaches now+d.
func (w *world) run(d time.Duration) {
	end := w.now + d
	for len(w.q) > 0 && w.q[0].at <= end {
		e := heap.Pop(&w.q).(event)
		w.now = e.at
		if c := w.ctrls[e.to]; c != nil {
			if !w.envs[e.to].halted {
				c.Step(w.now, e.from, e.msg)
			}
			continue
		}
		if b := w.brokers[e.to]; b != nil {
			if _, ok := e.msg.(heartbeatTick); ok && e.from == b.id {
				if b.heartbeat {
					w.sendHeartbeat(b, false, false)
					w.push(event{at: w.now + w.cfg.BrokerHeartbeatInterval, from: b.id, to: b.id, msg: heartbeatTick{}})
				}
				continue
			}
			b.inbox = append(b.inbox, e.msg)
		}
	}
	w.now = end
}

// active returns the active controller, failing the test if there is none.
func (w *world) active() *Controller {
	w.t.Helper()
	for _, id := range w.controller {
		if c := w.ctrls[id]; !w.envs[id].halted && c.Active() {
			return c
		}
	}
	w.t.Fatalf("t=%v: no active controller", w.now)
	return nil
}

func (w *world) waitActive() *Controller {
	w.t.Helper()
	for range 100 {
		for _, id := range w.controller {
			if c := w.ctrls[id]; !w.envs[id].halted && c.Active() {
				return c
			}
		}
		w.run(100 * time.Millisecond)
	}
	w.t.Fatalf("t=%v: no active controller after 10s", w.now)
	return nil
}

func (w *world) broker(id int32) *scriptedBroker {
	b := w.brokers[id]
	if b == nil {
		b = &scriptedBroker{id: id}
		w.brokers[id] = b
	}
	return b
}

// request sends msg from broker (or client) id to the active controller.
func (w *world) request(from int32, msg any) {
	w.t.Helper()
	w.broker(from)
	w.push(event{at: w.now + time.Millisecond, from: from, to: w.active().id, msg: msg})
}

// take removes and returns the last message of type T in from's inbox.
func take[T any](w *world, id int32) T {
	w.t.Helper()
	b := w.broker(id)
	for i := len(b.inbox) - 1; i >= 0; i-- {
		if m, ok := b.inbox[i].(T); ok {
			b.inbox = slices.Delete(b.inbox, i, i+1)
			return m
		}
	}
	var zero T
	w.t.Fatalf("t=%v: broker %d got no %T; inbox %v", w.now, id, zero, b.inbox)
	return zero
}

func (w *world) sendHeartbeat(b *scriptedBroker, wantFence, wantShutDown bool) {
	var to *Controller
	for _, id := range w.controller {
		if c := w.ctrls[id]; !w.envs[id].halted && c.Active() {
			to = c
		}
	}
	if to == nil {
		return
	}
	b.corr++
	w.push(event{at: w.now + time.Millisecond, from: b.id, to: to.id, msg: &heartbeatReq{
		BrokerID: b.id, BrokerEpoch: b.epoch, CurrentMetadataOffset: to.Committed().Offset,
		WantFence: wantFence, WantShutDown: wantShutDown, CorrelationID: b.corr,
	}})
}

// startHeartbeats makes broker id heartbeat every broker.heartbeat.interval.ms.
func (w *world) startHeartbeats(id int32) {
	b := w.broker(id)
	if !b.heartbeat {
		b.heartbeat = true
		w.push(event{at: w.now, from: id, to: id, msg: heartbeatTick{}})
	}
}
