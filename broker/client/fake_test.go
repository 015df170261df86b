package client

import (
	"slices"
	"sort"
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

// The test world: a fake clock, a fake env for the client under test, and a scripted fake
// cluster that answers the client's requests as a test dictates. No dependency on sim or
// broker.

const clientID int32 = 10001

type stepper interface {
	Step(now time.Duration, from int32, msg any)
}

type event struct {
	at   time.Duration
	seq  int
	from int32
	msg  any
}

type sentMsg struct {
	at  time.Duration
	to  int32
	msg any
}

type world struct {
	t        *testing.T
	now      time.Duration
	node     stepper
	queue    []event
	seq      int
	rng      uint64
	sent     []sentMsg
	observed []any
	closed   []int32 // peers whose connection the client closed
	latency  time.Duration
	handle   func(to int32, msg any) // the fake cluster
}

// fakeEnv is node.Env for the client under test.
type fakeEnv struct{ w *world }

func (e fakeEnv) ID() int32 { return clientID }
func (e fakeEnv) Send(to int32, msg any) {
	e.w.sent = append(e.w.sent, sentMsg{at: e.w.now, to: to, msg: msg})
	if e.w.handle != nil {
		e.w.handle(to, msg)
	}
}
func (e fakeEnv) After(d time.Duration, payload any) { e.w.push(e.w.now+d, clientID, payload) }
func (e fakeEnv) Rand() uint64 {
	e.w.rng ^= e.w.rng << 13
	e.w.rng ^= e.w.rng >> 7
	e.w.rng ^= e.w.rng << 17
	return e.w.rng
}
func (e fakeEnv) Halt() {}

// Observe keeps ev; a producer's batch (reused for its next one) as a copy of its operations,
// a consumer's poll (reused for its next one) as a copy.
func (e fakeEnv) Observe(ev any) {
	switch s := ev.(type) {
	case *history.Sends:
		ev = s.Ops()
	case *history.Op:
		op := *s
		op.Values, op.Offsets = slices.Clone(s.Values), slices.Clone(s.Offsets)
		ev = &op
	}
	e.w.observed = append(e.w.observed, ev)
}

// CloseConnection notes that the client closed its connection to peer (the broker would no
// longer read what it had pipelined on it).
func (e fakeEnv) CloseConnection(peer int32) { e.w.closed = append(e.w.closed, peer) }

func newWorld(t *testing.T) *world {
	return &world{t: t, rng: 0x9e3779b97f4a7c15, latency: time.Millisecond}
}

func (w *world) env() fakeEnv { return fakeEnv{w: w} }

func (w *world) push(at time.Duration, from int32, msg any) {
	w.seq++
	w.queue = append(w.queue, event{at: at, seq: w.seq, from: from, msg: msg})
}

// reply delivers msg from a broker to the client after the network latency.
func (w *world) reply(from int32, msg any) { w.push(w.now+w.latency, from, msg) }

// input delivers an external input (from == 0) now.
func (w *world) input(msg any) { w.node.Step(w.now, 0, msg) }

// runUntil delivers events in time order up to and including t, then sets the clock to t.
func (w *world) runUntil(t time.Duration) {
	for steps := 0; ; steps++ {
		if steps > 1_000_000 {
			w.t.Fatalf("runUntil(%v): too many events; the client spins", t)
		}
		if len(w.queue) == 0 {
			break
		}
		sort.SliceStable(w.queue, func(i, j int) bool {
			if w.queue[i].at != w.queue[j].at {
				return w.queue[i].at < w.queue[j].at
			}
			return w.queue[i].seq < w.queue[j].seq
		})
		ev := w.queue[0]
		if ev.at > t {
			break
		}
		w.queue = w.queue[1:]
		w.now = ev.at
		w.node.Step(w.now, ev.from, ev.msg)
	}
	w.now = t
}

// ops returns the history ops observed, in order.
func (w *world) ops() []*history.Op {
	var out []*history.Op
	for _, ev := range w.observed {
		if ops, ok := ev.(history.Ops); ok {
			for i := range ops {
				out = append(out, &ops[i])
			}
		}
		if op, ok := ev.(*history.Op); ok {
			out = append(out, op)
		}
	}
	return out
}

// produces returns the ProduceRequests sent, with their send times.
func (w *world) produces() []sentMsg {
	var out []sentMsg
	for _, s := range w.sent {
		if _, ok := s.msg.(*protocol.ProduceRequest); ok {
			out = append(out, s)
		}
	}
	return out
}

// produceAction is what the fake leader does with one partition of a ProduceRequest.
type produceAction struct {
	err    protocol.ErrorCode
	append bool // append even though err is returned (NOT_ENOUGH_REPLICAS_AFTER_APPEND)
	drop   bool // append (unless err is set) and never answer the request
}

// fakeCluster is a scripted cluster: one topic, leaders and epochs per partition, a log per
// partition (shared by all replicas unless a test swaps it), producer ids, deduplication of
// idempotent retries by (pid, epoch, sequence) answering the original offset.
type fakeCluster struct {
	w         *world
	topic     string
	brokers   []int32
	leaders   []int32
	epochs    []int32
	logs      [][]*protocol.RecordBatch
	hw        []int64 // -1: the log end
	nextPID   int64
	produceN  int
	onProduce func(n int, pp protocol.ProducePartition) produceAction
	listAt    func(tp protocol.TopicPartition, ts int64) (int64, protocol.ErrorCode) // nil: 0 / HW
	epochEnd  func(tp protocol.TopicPartition, epoch int32) protocol.OffsetForLeaderEpochPartitionResponse
	dropMeta  int
	pidReqs   int
	// answered is when each broker's last ProduceResponse arrives: a broker answers a
	// connection's produce requests in the order they came (SocketServer mutes the connection
	// while it handles one), so no answer arrives before an earlier one.
	answered map[int32]time.Duration
}

func newFakeCluster(w *world, partitions int, leader int32) *fakeCluster {
	c := &fakeCluster{w: w, topic: "t", brokers: []int32{1, 2, 3}}
	for i := 0; i < partitions; i++ {
		c.leaders = append(c.leaders, leader)
		c.epochs = append(c.epochs, 1)
		c.logs = append(c.logs, nil)
		c.hw = append(c.hw, -1)
	}
	w.handle = c.handle
	return c
}

func (c *fakeCluster) leo(p int32) int64 {
	l := c.logs[p]
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].NextOffset()
}

func (c *fakeCluster) highWatermark(p int32) int64 {
	if c.hw[p] >= 0 {
		return c.hw[p]
	}
	return c.leo(p)
}

// appendBatch appends b (or finds its duplicate) and returns its base offset.
func (c *fakeCluster) appendBatch(p int32, b *protocol.RecordBatch) int64 {
	if b.Idempotent() {
		for _, x := range c.logs[p] {
			if x.ProducerID == b.ProducerID && x.ProducerEpoch == b.ProducerEpoch && x.BaseSequence == b.BaseSequence {
				return x.BaseOffset
			}
		}
	}
	base := c.leo(p)
	c.logs[p] = append(c.logs[p], b.Stamp(base, c.epochs[p], c.w.now))
	return base
}

// values lists partition p's values in log order.
func (c *fakeCluster) values(p int32) []int64 {
	var v []int64
	for _, b := range c.logs[p] {
		for i := range b.Len() {
			v = append(v, b.Value(i))
		}
	}
	return v
}

func (c *fakeCluster) handle(to int32, msg any) {
	switch m := msg.(type) {
	case *protocol.MetadataRequest:
		if c.dropMeta > 0 {
			c.dropMeta--
			return
		}
		tm := protocol.TopicMetadata{Name: c.topic}
		for i := range c.leaders {
			pm := protocol.PartitionMetadata{Partition: int32(i), Leader: c.leaders[i], LeaderEpoch: c.epochs[i]}
			if c.leaders[i] < 0 {
				pm.Error = protocol.LEADER_NOT_AVAILABLE
			}
			tm.Partitions = append(tm.Partitions, pm)
		}
		c.w.reply(to, &protocol.MetadataResponse{CorrelationID: m.CorrelationID, Brokers: c.brokers, Topics: []protocol.TopicMetadata{tm}})
	case *protocol.InitProducerIdRequest:
		c.pidReqs++
		c.nextPID++
		c.w.reply(to, &protocol.InitProducerIdResponse{CorrelationID: m.CorrelationID, ProducerID: 1000 + c.nextPID})
	case *protocol.ProduceRequest:
		resp := &protocol.ProduceResponse{CorrelationID: m.CorrelationID}
		drop := false
		for _, pp := range m.Partitions {
			c.produceN++
			act := produceAction{append: true}
			if c.onProduce != nil {
				act = c.onProduce(c.produceN, pp)
				act.append = act.append || act.err == protocol.NONE
			}
			if c.leaders[pp.TP.Partition] != to {
				act = produceAction{err: protocol.NOT_LEADER_OR_FOLLOWER}
			}
			pr := protocol.ProducePartitionResponse{TP: pp.TP, Error: act.err, BaseOffset: -1}
			if act.append {
				base := c.appendBatch(pp.TP.Partition, pp.Batch)
				if act.err == protocol.NONE {
					pr.BaseOffset = base
				}
			}
			drop = drop || act.drop
			resp.Partitions = append(resp.Partitions, pr)
		}
		if !drop && m.Acks != protocol.AcksNone {
			at := max(c.w.now+c.w.latency, c.answered[to])
			if c.answered == nil {
				c.answered = map[int32]time.Duration{}
			}
			c.answered[to] = at
			c.w.push(at, to, resp)
		}
	case *protocol.ListOffsetsRequest:
		resp := &protocol.ListOffsetsResponse{CorrelationID: m.CorrelationID}
		for _, lp := range m.Partitions {
			r := protocol.ListOffsetsPartitionResponse{TP: lp.TP, LeaderEpoch: c.epochs[lp.TP.Partition]}
			switch {
			case c.listAt != nil:
				r.Offset, r.Error = c.listAt(lp.TP, lp.Timestamp)
			case lp.Timestamp == protocol.EarliestOffset:
				r.Offset = 0
			default:
				r.Offset = c.highWatermark(lp.TP.Partition)
			}
			resp.Partitions = append(resp.Partitions, r)
		}
		c.w.reply(to, resp)
	case *protocol.OffsetForLeaderEpochRequest:
		resp := &protocol.OffsetForLeaderEpochResponse{CorrelationID: m.CorrelationID}
		for _, op := range m.Partitions {
			resp.Partitions = append(resp.Partitions, c.epochEnd(op.TP, op.LeaderEpoch))
		}
		c.w.reply(to, resp)
	case *protocol.FetchRequest:
		resp := &protocol.FetchResponse{CorrelationID: m.CorrelationID}
		any := false
		for _, fp := range m.Partitions {
			p := fp.TP.Partition
			r := protocol.FetchPartitionResponse{TP: fp.TP, HighWatermark: c.highWatermark(p), LastStableOffset: c.highWatermark(p)}
			switch {
			case c.leaders[p] != to:
				r.Error = protocol.NOT_LEADER_OR_FOLLOWER
				any = true
			case fp.CurrentLeaderEpoch < c.epochs[p]:
				r.Error = protocol.FENCED_LEADER_EPOCH
				any = true
			case fp.FetchOffset > c.highWatermark(p):
				r.Error = protocol.OFFSET_OUT_OF_RANGE
				any = true
			default:
				for _, b := range c.logs[p] {
					if b.NextOffset() > fp.FetchOffset && b.BaseOffset < c.highWatermark(p) {
						r.Batches = append(r.Batches, b)
						any = true
					}
				}
			}
			resp.Partitions = append(resp.Partitions, r)
		}
		if any {
			c.w.reply(to, resp)
		} else {
			c.w.push(c.w.now+m.MaxWait, to, resp) // long poll: nothing new within MaxWait
		}
	}
}
