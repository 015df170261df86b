package client

import (
	"reflect"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Behavior: a consume-transform-produce application (Kafka Streams' StreamThread with
// processing.guarantee=exactly_once_v2, reduced to one copy step): a consumer in a group reads
// the input topic and, for every record it has handled (processing=D), the producer writes the
// same value to the output topic, so each output traces back to its input by value.
//
// With a transactional.id it is exactly-once (KIP-98, KIP-447): the consumer reads
// read_committed and never commits by itself; each transaction holds the outputs of the records
// handled since the last one and, before EndTxn, the offsets after them
// (sendOffsetsToTransaction with the consumer's group metadata). When a transaction aborts
// (the TxnOffsetCommit refused after a rebalance, the producer fenced, a batch expired) or the
// group's generation moves, the outputs not yet in a transaction are dropped and, once no
// transaction is open, the consumer is rewound to the group's committed offsets (OffsetFetch
// with requireStable, which waits out a pending transactional commit) — as a task closed dirty
// re-initializes from its committed offsets. Every committed transaction records its offsets
// as the group's commits in the history.
//
// Without a transactional.id it is at-least-once: an idempotent producer writes the outputs and
// every commit.interval.ms (Kafka Streams' default for at_least_once: 30 s) the consumer
// commits the offsets (OffsetCommit) after the inputs whose outputs are all acknowledged, and
// again before it rejoins its group in a rebalance (onPartitionsRevoked); a commit that cannot
// go out (the member is rejoining) waits for the next step. An output that fails, or a new
// generation while outputs wait for their acknowledgement, rewinds the consumer to the
// committed offsets. A crash between the outputs and the commit makes the next owner write
// them again: at-least-once duplicates come from that window only.
//
// The consumer and the producer are two clients in one process, as in a Java application:
// they share the node, their correlation ids apart (the producer's from
// processorCorrelationBase), their timers tagged with the client they belong to.

// ProcessorOptions configures a processor.
type ProcessorOptions struct {
	Name      string
	From, To  string
	Consumer  config.Consumer // group.id, processing, auto.offset.reset
	Producer  config.Producer // transactional.id, transaction.version, transaction.timeout.ms; Finish()ed
	Bootstrap []int32
	// CommitOutsideTransaction plants a bug for the checker's tests (no config key reaches
	// it): a transactional processor commits its offsets with a plain OffsetCommit after the
	// transaction commits, every commit.interval.ms as at-least-once does, instead of sending
	// them to the transaction (eos-duplicate).
	CommitOutsideTransaction bool
}

// atLeastOnceCommitInterval is Kafka Streams' commit.interval.ms for
// processing.guarantee=at_least_once.
const atLeastOnceCommitInterval = 30 * time.Second

// commitTick wakes an at-least-once processor for its next commit.
type commitTick struct{}

// processorCorrelationBase is where the producer's correlation ids start, far above the
// consumer's.
const processorCorrelationBase = 1 << 40

// procTimer is a timer of one of the processor's clients.
type procTimer struct {
	producer bool
	payload  any
}

// TraceArg puts the client in the trace (1: the producer).
func (t procTimer) TraceArg() int64 {
	if t.producer {
		return 1
	}
	return 0
}

// procEnv is the node as one of the processor's clients sees it.
type procEnv struct {
	node.Env
	proc     *Processor
	producer bool
}

func (e procEnv) After(d time.Duration, payload any) {
	e.Env.After(d, procTimer{producer: e.producer, payload: payload})
}

func (e procEnv) Observe(ev any) {
	e.Env.Observe(ev)
	e.proc.observe(e.producer, ev)
}

// Halt: only the consumer ends the process (after it left its group on a clean stop).
func (e procEnv) Halt() {
	if !e.producer {
		e.Env.Halt()
	}
}

// procInput is an input record whose output was handed to the producer.
type procInput struct {
	tp    protocol.TopicPartition
	off   int64
	value int64
	gen   int32
	acked bool // at-least-once: its output is acknowledged
}

// ProcessorStats counts what a processor did.
type ProcessorStats struct {
	Processed int64 // outputs handed to the producer
	Committed int64 // transactions (or offset commits) done
	Rewinds   int64 // times the consumer went back to the committed offsets
}

// Processor is a consume-transform-produce client.
type Processor struct {
	o     ProcessorOptions
	env   node.Env
	name  string
	c     *Consumer
	p     *Producer
	eos   bool
	now   time.Duration
	stats ProcessorStats

	queue   []procInput // outputs handed to the producer, not yet in a transaction (eos) or committed (at-least-once)
	txn     []procInput // the inputs of the open transaction (eos)
	txnGen  int32
	gen     int32 // the consumer's generation the queued inputs belong to
	rewind  bool  // the consumer goes back to the committed offsets once no transaction is open
	polled  []*history.Op
	endings []bool

	lastCommit      time.Duration // at-least-once: the last commit
	commitScheduled bool
	late            []procInput // CommitOutsideTransaction: committed inputs whose offsets wait
}

// NewProcessor starts a processor's two clients.
func NewProcessor(o ProcessorOptions, env node.Env, now time.Duration) *Processor {
	pr := &Processor{o: o, env: env, name: o.Name, now: now, gen: -1, lastCommit: now}
	if pr.name == "" {
		pr.name = node.Name(env.ID())
	}
	pc := o.Producer
	pc.TransactionRecords = 1 << 30 // one transaction takes every output handled so far
	pr.eos = pc.TransactionalID != ""
	pr.p = NewProducer(ProducerOptions{Name: pr.name, Topic: o.To, Config: pc, Bootstrap: o.Bootstrap, CorrelationBase: processorCorrelationBase},
		procEnv{Env: env, proc: pr, producer: true}, now)
	if pr.p.tx != nil {
		pr.p.tx.hook = pr
	}
	cc := o.Consumer
	cc.EnableAutoCommit, cc.CommitModeSet = false, false
	if pr.eos {
		cc.IsolationLevel = "read_committed"
	}
	if cc.AutoOffsetReset == "" {
		cc.AutoOffsetReset = "earliest" // as Kafka Streams sets it
	}
	pr.c = NewConsumer(ConsumerOptions{Name: pr.name, Topic: o.From, Config: cc, Bootstrap: o.Bootstrap},
		procEnv{Env: env, proc: pr, producer: false}, now)
	if pr.c.grp != nil {
		pr.c.grp.appCommits = true
		if !pr.eos {
			pr.c.grp.onRevoke = pr.revoked
		}
	}
	return pr
}

// Stats counts what the processor did.
func (pr *Processor) Stats() ProcessorStats { return pr.stats }

// Consumer is the processor's consumer; Producer its producer.
func (pr *Processor) Consumer() *Consumer { return pr.c }

// Producer is the processor's producer.
func (pr *Processor) Producer() *Producer { return pr.p }

// Step routes one input to the client it belongs to, then reacts to what they did.
func (pr *Processor) Step(now time.Duration, from int32, msg any) {
	pr.now = now
	switch m := msg.(type) {
	case commitTick:
		pr.commitScheduled = false
	case procTimer:
		if m.producer {
			pr.p.Step(now, from, m.payload)
		} else {
			pr.c.Step(now, from, m.payload)
		}
	case *node.ConnectionReset:
		pr.c.Step(now, from, msg)
		pr.p.Step(now, from, msg)
	default:
		if correlationOf(msg) >= processorCorrelationBase {
			pr.p.Step(now, from, msg)
		} else {
			pr.c.Step(now, from, msg)
		}
	}
	pr.react(now)
}

// correlationOf reads a response's correlation id (-1 without one).
func correlationOf(msg any) int64 {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return -1
	}
	f := v.Elem().FieldByName("CorrelationID")
	if !f.IsValid() || f.Kind() != reflect.Int64 {
		return -1
	}
	return f.Int()
}

// Stop closes the processor cleanly: the producer ends (its open transaction is aborted by
// the coordinator later), the consumer leaves its group and ends the process.
func (pr *Processor) Stop(now time.Duration) {
	pr.p.Close(now)
	pr.c.Stop(now)
}

// Close reports the producer's pending outputs at the end of a run.
func (pr *Processor) Close(now time.Duration) { pr.p.Close(now) }

// observe takes note of what a client recorded: the consumer's handled polls, the
// at-least-once producer's outcomes. The producer reports a batch's records as one
// history.Sends (outcomes.batch) and a record that never joined a batch as one history.Op
// (outcomes.record); both are read here. An exactly-once processor learns its outputs' fate
// from its transactions instead (txnHook: began, ended).
func (pr *Processor) observe(producer bool, ev any) {
	if !producer {
		if op, ok := ev.(*history.Op); ok && op.Type == history.Poll {
			pr.polled = append(pr.polled, op)
		}
		return
	}
	if pr.eos {
		return
	}
	switch e := ev.(type) {
	case *history.Sends:
		for _, v := range e.Values {
			pr.sent(v, e.Outcome)
		}
	case *history.Op:
		if e.Type == history.Send && len(e.Values) == 1 {
			pr.sent(e.Values[0], e.Outcome)
		}
	case history.Ops:
		for i := range e {
			if e[i].Type == history.Send && len(e[i].Values) == 1 {
				pr.sent(e[i].Values[0], e[i].Outcome)
			}
		}
	}
}

// sent: an at-least-once output's outcome (the producer's send callback). An output that
// did not succeed rewinds the consumer to the committed offsets.
func (pr *Processor) sent(v int64, out history.Outcome) {
	for i := range pr.queue {
		q := &pr.queue[i]
		if q.value == v && !q.acked {
			if out == history.OK {
				q.acked = true
			} else {
				pr.rewind = true
			}
			return
		}
	}
}

// react handles what the step brought: records handled, transactions ended, acknowledgements.
func (pr *Processor) react(now time.Duration) {
	g := pr.c.grp
	if g == nil {
		return
	}
	if g.generation != pr.gen {
		if len(pr.queue) > 0 || len(pr.txn) > 0 {
			pr.rewind = true
		}
		pr.gen = g.generation
	}
	for _, committed := range pr.endings {
		if !committed {
			pr.rewind = true
		}
	}
	pr.endings = pr.endings[:0]
	if pr.rewind {
		pr.polled = pr.polled[:0]
		pr.dropQueued()
		if pr.p.tx == nil || pr.p.tx.idle() {
			pr.rewindConsumer(now)
		}
		return
	}
	for _, op := range pr.polled {
		if op.Generation != g.generation || op.Session != g.session() {
			continue
		}
		for i, v := range op.Values {
			pr.queue = append(pr.queue, procInput{tp: protocol.TopicPartition{Topic: op.Topic, Partition: op.Partition}, off: op.Offsets[i], value: v, gen: op.Generation})
			pr.output(now, v)
		}
	}
	pr.polled = pr.polled[:0]
	if pr.eos {
		pr.commitLate(now)
		pr.p.tx.run(now)
		return
	}
	pr.p.run(now)
	pr.commitAcked(now, false)
}

// output hands the producer an input's output: the same value.
func (pr *Processor) output(now time.Duration, v int64) {
	pr.stats.Processed++
	rec := protocol.Record{Value: v}
	if pr.eos {
		pr.p.tx.newValue(now, rec)
		return
	}
	p := pr.p
	p.out.stats.Sent++
	if !p.meta.known || len(p.unassigned) > 0 {
		p.unassigned = append(p.unassigned, pendingRecord{rec: rec, created: now})
		return
	}
	p.append(now, rec, now)
}

// revoked: at-least-once, before the consumer rejoins its group it commits the offsets after
// the outputs acknowledged so far, as Kafka Streams commits the tasks it gives up
// (StreamsRebalanceListener.onPartitionsRevoked, TaskManager.handleRevocation): a rebalance
// alone writes no output twice; only outputs not yet acknowledged are processed again.
func (pr *Processor) revoked(now time.Duration) {
	pr.commitAcked(now, true)
}

// commitAcked: at-least-once, the offsets after the acknowledged prefix of the queue are
// committed, every commit.interval.ms or at once when the partitions are revoked (force).
func (pr *Processor) commitAcked(now time.Duration, force bool) {
	if !force && now < pr.lastCommit+atLeastOnceCommitInterval {
		if !pr.commitScheduled && len(pr.queue) > 0 {
			pr.commitScheduled = true
			pr.env.After(pr.lastCommit+atLeastOnceCommitInterval-now, commitTick{})
		}
		return
	}
	n := 0
	for n < len(pr.queue) && pr.queue[n].acked {
		n++
	}
	if n == 0 {
		return
	}
	if !pr.c.grp.commitParts(now, offsetsAfter(pr.queue[:n])) {
		return // not a member of a stable generation: tried again at the next step
	}
	pr.lastCommit = now
	pr.queue = append(pr.queue[:0], pr.queue[n:]...)
	pr.stats.Committed++
}

// commitLate commits the offsets the planted CommitOutsideTransaction keeps, every
// commit.interval.ms.
func (pr *Processor) commitLate(now time.Duration) {
	if len(pr.late) == 0 {
		return
	}
	if now < pr.lastCommit+atLeastOnceCommitInterval {
		if !pr.commitScheduled {
			pr.commitScheduled = true
			pr.env.After(pr.lastCommit+atLeastOnceCommitInterval-now, commitTick{})
		}
		return
	}
	if !pr.c.grp.commitParts(now, offsetsAfter(pr.late)) {
		return
	}
	pr.lastCommit, pr.late = now, pr.late[:0]
}

// offsetsAfter is, per partition, the offset after the last of ins (in partition order).
func offsetsAfter(ins []procInput) []protocol.OffsetCommitPartition {
	var out []protocol.OffsetCommitPartition
	for _, in := range ins {
		found := false
		for i := range out {
			if out[i].TP == in.tp {
				out[i].Offset = max(out[i].Offset, in.off+1)
				found = true
			}
		}
		if !found {
			out = append(out, protocol.OffsetCommitPartition{TP: in.tp, Offset: in.off + 1, LeaderEpoch: protocol.UnknownEpoch})
		}
	}
	for i := 1; i < len(out); i++ { // insertion sort by partition: a handful of entries
		for j := i; j > 0 && out[j].TP.Partition < out[j-1].TP.Partition; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// dropQueued forgets the outputs not yet in a transaction (or not yet acknowledged).
func (pr *Processor) dropQueued() {
	pr.queue = pr.queue[:0]
	if pr.p.tx != nil {
		pr.p.tx.buf = pr.p.tx.buf[:0]
	}
}

// rewindConsumer sends the consumer back to the group's committed offsets: every owned
// partition waits for its OffsetFetch again, fetches in flight and records being handled are
// dropped, and a new reading session begins.
func (pr *Processor) rewindConsumer(now time.Duration) {
	c, g := pr.c, pr.c.grp
	pr.rewind = false
	pr.stats.Rewinds++
	g.handling = g.handling[:0]
	g.seeks++
	for i := range c.parts {
		if g.owns(i) {
			p := &c.parts[i]
			p.state, p.position, p.gen, p.fetchOK = cpCommitted, -1, p.gen+1, false
		}
	}
	if g.joined && g.coord >= 0 && now >= g.notBefore {
		g.fetchCommitted(now)
	}
	c.run(now)
}

// began: the producer opened a transaction with the first n outputs (txnHook).
func (pr *Processor) began(n int) {
	n = min(n, len(pr.queue))
	pr.txn = append(pr.txn[:0], pr.queue[:n]...)
	pr.queue = append(pr.queue[:0], pr.queue[n:]...)
	pr.txnGen = pr.gen
	if n > 0 {
		pr.txnGen = pr.txn[0].gen
	}
}

// offsets is sendOffsetsToTransaction's argument: the offsets after the transaction's inputs
// and the consumer's group metadata as of those inputs (txnHook).
func (pr *Processor) offsets() *txnOffsets {
	if len(pr.txn) == 0 || pr.o.CommitOutsideTransaction {
		return nil
	}
	g := pr.c.grp
	return &txnOffsets{group: pr.c.cfg.Group, generation: pr.txnGen, member: g.memberID, instance: pr.c.cfg.GroupInstanceID, parts: offsetsAfter(pr.txn)}
}

// ended: the open transaction committed (its offsets are the group's commits) or aborted
// (txnHook).
func (pr *Processor) ended(now time.Duration, committed bool) {
	ins := pr.txn
	pr.txn = nil
	pr.endings = append(pr.endings, committed)
	if !committed {
		// At once, before the producer opens its next transaction in this step: the outputs
		// handled after the aborted ones must not commit with offsets past the aborted inputs.
		pr.rewind = true
		pr.dropQueued()
		return
	}
	if len(ins) == 0 {
		return
	}
	pr.stats.Committed++
	parts := offsetsAfter(ins)
	if pr.o.CommitOutsideTransaction {
		pr.late = append(pr.late, ins...) // the planted bug: committed later, outside the transaction
		pr.commitLate(now)
		return
	}
	ops := make(history.Ops, len(parts))
	for i, p := range parts {
		ops[i] = history.Op{Client: pr.name, Type: history.Commit, Topic: p.TP.Topic, Partition: p.TP.Partition, Offsets: []int64{p.Offset},
			Invoke: now, Complete: now, Outcome: history.OK, Group: pr.c.cfg.Group, Generation: pr.txnGen}
	}
	pr.env.Observe(ops)
}

// Settled reports whether the processor has nothing in progress: no output waiting for a
// transaction or an acknowledgement, no transaction open, no rewind pending.
func (pr *Processor) Settled() bool {
	if len(pr.queue) > 0 || len(pr.txn) > 0 || len(pr.late) > 0 || pr.rewind {
		return false
	}
	return pr.p.tx == nil || (pr.p.tx.idle() && len(pr.p.tx.buf) == 0)
}
