package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
	"unsafe"
)

// Type is the kind of operation.
type Type string

// Operation types.
const (
	Send   Type = "send"
	Poll   Type = "poll"
	Commit Type = "commit" // a group's committed offset for the partition (Offsets[0]), acknowledged
)

// Outcome is what the client learnt.
type Outcome string

// Outcomes.
const (
	OK      Outcome = "ok"
	Fail    Outcome = "fail"
	Unknown Outcome = "unknown"
)

// Op is one client operation on one partition.
type Op struct {
	Index     int           `json:"index"`
	Client    string        `json:"client"`
	Type      Type          `json:"type"`
	Topic     string        `json:"topic"`
	Partition int32         `json:"partition"`
	Values    []int64       `json:"values"`
	Offsets   []int64       `json:"offsets,omitempty"`
	Invoke    time.Duration `json:"invoke"`
	Complete  time.Duration `json:"complete"`
	Outcome   Outcome       `json:"outcome"`
	Error     string        `json:"error,omitempty"`
	// Consumer groups: the group and generation a poll or commit belongs to, and the
	// consumer's session (member, generation and seeks): successive polls of one session
	// continue each other; across sessions (a rebalance, a seek, a restart) they need not.
	Group      string `json:"group,omitempty"`
	Generation int32  `json:"generation,omitempty"`
	Session    string `json:"session,omitempty"`
	// Transactions: how a transactional send's transaction ended (TxnCommitted, TxnAborted),
	// and the isolation level of a poll ("read_committed"; empty is read_uncommitted).
	Txn       string `json:"txn,omitempty"`
	Isolation string `json:"isolation,omitempty"`
}

// Transaction outcomes of a send (Op.Txn).
const (
	TxnCommitted = "committed"
	TxnAborted   = "aborted"
)

// ReadCommitted is Op.Isolation of a read_committed consumer's polls.
const ReadCommitted = "read_committed"

// Ops are operations completed together (the records of one producer batch), observed as one
// event.
type Ops []Op

// TraceArg puts the number of operations in the trace.
func (o Ops) TraceArg() int64 { return int64(len(o)) }

// History is a list of operations in completion order.
type History []Op

// Reader is a history read by position: a History, or a Log read in place.
type Reader interface {
	Len() int
	// Load returns operation i (0 ≤ i < Len()): a pointer into the history, or buf filled
	// with it. Either stays valid until buf is loaded again; neither may be modified.
	Load(i int, buf *Op) *Op
}

// Len is the number of operations.
func (h History) Len() int { return len(h) }

// Load returns a pointer to operation i; buf is unused.
func (h History) Load(i int, _ *Op) *Op { return &h[i] }

// Add appends an operation, numbering it.
func (h *History) Add(op Op) {
	op.Index = len(*h)
	*h = append(*h, op)
}

// WriteJSONLines writes one operation per line.
func (h History) WriteJSONLines(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range h {
		if err := enc.Encode(&h[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSONLines reads a history written by WriteJSONLines. A malformed line is an error that
// names its line number and the field at fault: a missing client or topic, an unknown type or
// outcome, a negative index, partition, offset or time, offsets that do not match the values,
// a completion before the invocation. Indexes need not be 0..n-1 (a history cut from a longer
// one keeps its numbers); the checker names operations by them.
//
// Removal lines (WriteRemovals) are skipped; ReadWithRemovals reads them.
func ReadJSONLines(r io.Reader) (History, error) {
	h, _, err := ReadWithRemovals(r)
	return h, err
}

// readLines reads operations; other reads a line that is not one (reporting whether it was).
func readLines(r io.Reader, other func(line int, b []byte) (bool, error)) (History, error) {
	var h History
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		if done, err := other(line, b); done || err != nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		var op Op
		if err := json.Unmarshal(b, &op); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if err := op.validate(); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		h = append(h, op)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v", line+1, err)
	}
	return h, nil
}

func (op *Op) validate() error {
	switch op.Type {
	case Send, Poll, Commit:
	default:
		return fmt.Errorf("type %q is not send or poll (or a group's commit)", op.Type)
	}
	switch op.Outcome {
	case OK, Fail, Unknown:
	default:
		return fmt.Errorf("outcome %q is not ok, fail or unknown", op.Outcome)
	}
	if op.Client == "" || op.Topic == "" {
		return fmt.Errorf("client and topic are required")
	}
	if op.Index < 0 {
		return fmt.Errorf("index %d is negative", op.Index)
	}
	// A producer records partition -1 for a record that failed before it was assigned a
	// partition (DELIVERY_TIMEOUT while the metadata was unknown); nothing else has one.
	if op.Partition < -1 || op.Partition == -1 && (op.Type != Send || op.Outcome != Fail) {
		return fmt.Errorf("partition %d is negative (only a failed send may have partition -1: failed before it was assigned one)", op.Partition)
	}
	if len(op.Offsets) != 0 && len(op.Offsets) != len(op.Values) {
		return fmt.Errorf("%d offsets for %d values", len(op.Offsets), len(op.Values))
	}
	if op.Partition == -1 && len(op.Offsets) != 0 {
		return fmt.Errorf("offsets for partition -1: a send that was never assigned a partition has none")
	}
	for i, o := range op.Offsets {
		if o < 0 {
			return fmt.Errorf("offsets[%d] %d is negative", i, o)
		}
	}
	if op.Invoke < 0 {
		return fmt.Errorf("invoke %d is negative (times are nanoseconds of virtual time from 0)", op.Invoke)
	}
	if op.Complete < op.Invoke {
		return fmt.Errorf("complete %d before invoke %d", op.Complete, op.Invoke)
	}
	return nil
}

// chunkSize is the number of operations (or batches) per chunk of a Log; arenaSize the number
// of values per chunk of its value arena. A chunk is what a fork shares with its parent
// (Share): 64 KiB of records, 48 KiB of batches, 64 KiB of values, ten to fifteen
// seconds of the classroom each, so that a fork's unshared tail is small.
const (
	chunkSize = 1024
	arenaSize = 1 << 13
)

// Log collects a growing history compactly: operations in fixed-size chunks of pointer-free
// records (strings interned, each operation's values and offsets together in an int64
// arena, a run of consecutive ones as its first), so that appending never copies what is
// there and the garbage collector never scans it — a run of half an hour of simulated time
// records two million operations, and a record takes 64 bytes where an Op takes 200. A
// producer's batch (AddSends) is one record for the whole batch: a steady batch of
// consecutive values, as a producer at a fixed rate sends, is a fixed handful of numbers
// whatever its length. History rebuilds the []Op form; Load reads one operation in place.
type Log struct {
	chunks   [][]rec // the operations added one by one (Add), in order
	singles  int
	batches  [][]sendBatch // the batches added by AddSends, in order, in chunks of chunkSize
	nBatches int
	// ents are the runs of operations in order: a run of records, or a batch. blocks[b] is
	// the run holding operation b*blockOps, where the search for an operation starts.
	ents   []entry
	blocks []int32
	n      int
	nums   arena
	loaded *slab // where Load puts the value and offset of a send that the log does not hold one by one
	strs   []string
	strIdx map[string]uint32
	recent [8]recentStr // strings interned last, looked at before strIdx: a consumer's read interns five
	next   int
	empty  uint32   // 1 + the strs index of "", 0 before it is interned
	kinds  []string // closed sets of a few names: operation types, outcomes, Txn, Isolation
}

// blockOps is the number of operations per entry of Log.blocks.
const blockOps = 64

// entry is a run of operations from index start: records from chunks' record idx on, or
// batch idx.
type entry struct {
	start int64
	idx   int32
	batch bool
}

// sendBatch is a producer batch's operations: sends of one client, topic and partition,
// completed together with one outcome and error. Record k's offset, when acknowledged with
// offsets, is base+k (a batch is appended as one, ProduceResponse's base_offset). Its arena
// run holds the values, then the invoke times, each in the short form where it applies:
//
//   - consecutiveValues: the first value alone, record k's being first+k (a producer numbers
//     its records one after the other, and a batch holds records sent one after the other);
//   - steadyInvokes: the first invoke time and the step between one and the next (a
//     producer at a fixed rate creates its records at fixed steps);
//
// else one number a record. A steady batch of consecutive values is three numbers and this
// record, whatever its length.
type sendBatch struct {
	complete           time.Duration
	at                 int64
	base               int64 // the first record's offset; -1: acknowledged without offsets
	n                  int32
	partition          int32
	client, topic, err uint32
	outcome, txn       uint8 // txn: Op.Txn, interned in kinds
	form               uint8 // consecutiveValues, steadyInvokes
}

// The short forms of a sendBatch's runs.
const (
	consecutiveValues = 1 << iota
	steadyInvokes
)

// values is the length of b's run of values, invokes that of its invoke times.
func (b *sendBatch) values() int32 {
	if b.form&consecutiveValues != 0 {
		return 1
	}
	return b.n
}

func (b *sendBatch) invokes() int32 {
	if b.form&steadyInvokes != 0 {
		return 2
	}
	return b.n
}

// rec is an Op without pointers: its values are nVals int64s of the arena at `at`, its offsets
// the nOffs after them (nOffs -1: no offsets, as against none). A run of two or more
// consecutive values (offsets) is its first alone, its length negated in nVals (nOffs): a
// consumer's fetch returns a run of a partition's log, consecutive offsets, whose records a
// producer mostly sent in one batch, consecutive values.
type rec struct {
	invoke, complete time.Duration
	at               int64
	nVals, nOffs     int32
	partition        int32
	client, topic    uint32
	err              uint32
	group, session   uint32 // interned (group + 1; 0 without a group)
	generation       int32
	typ, outcome     uint8 // interned in kinds
	txn, isolation   uint8 // Op.Txn and Op.Isolation, interned in kinds
}

// arena stores int64 runs in chunks; a run never crosses a chunk.
type arena struct {
	chunks [][]int64
}

// add stores the run a followed by b, and returns where it starts.
func (ar *arena) add(a, b []int64) int64 {
	n := len(a) + len(b)
	if n == 0 {
		return 0
	}
	run, at := ar.run(n)
	copy(run[copy(run, a):], b)
	return at
}

// run reserves a run of n values and returns it, to be filled, and where it starts.
func (ar *arena) run(n int) ([]int64, int64) {
	if n > arenaSize {
		ar.chunks = append(ar.chunks, make([]int64, n))
		return ar.chunks[len(ar.chunks)-1], int64(len(ar.chunks)-1) * arenaSize
	}
	if len(ar.chunks) == 0 || len(ar.chunks[len(ar.chunks)-1])+n > arenaSize || cap(ar.chunks[len(ar.chunks)-1]) < arenaSize {
		ar.chunks = append(ar.chunks, make([]int64, 0, arenaSize))
	}
	c := &ar.chunks[len(ar.chunks)-1]
	k := len(*c)
	*c = (*c)[:k+n]
	return (*c)[k : k+n : k+n], int64(len(ar.chunks)-1)*arenaSize + int64(k)
}

func (ar *arena) get(at int64, n int32) []int64 {
	if n <= 0 {
		return nil
	}
	c := ar.chunks[at/arenaSize]
	off := at % arenaSize
	return c[off : off+int64(n) : off+int64(n)]
}

// recentStr is a string interned lately, by the address and length of its bytes.
type recentStr struct {
	p *byte
	n int
	i uint32
}

func (l *Log) intern(s string) uint32 {
	// A run has a few clients and topics, and a client passes the same string every time: most
	// look-ups find one of the last few strings by the address of its bytes, without hashing
	// or comparing them.
	if len(s) == 0 {
		if l.empty > 0 {
			return l.empty - 1
		}
	} else {
		p := unsafe.StringData(s)
		for k := range l.recent {
			if r := &l.recent[k]; r.p == p && r.n == len(s) {
				return r.i
			}
		}
	}
	i, ok := l.strIdx[s]
	if !ok {
		if l.strIdx == nil {
			l.strIdx = map[string]uint32{}
		}
		l.strs = append(l.strs, s)
		i = uint32(len(l.strs) - 1)
		l.strIdx[s] = i
	}
	if len(s) == 0 {
		l.empty = i + 1
	} else {
		l.recent[l.next] = recentStr{p: unsafe.StringData(s), n: len(s), i: i}
		l.next = (l.next + 1) % len(l.recent)
	}
	return i
}

// kind interns a name of a closed set (an operation type or outcome, a Txn or Isolation value) as
// a byte.
func (l *Log) kind(s string) uint8 {
	if i := slices.Index(l.kinds, s); i >= 0 {
		return uint8(i)
	}
	if len(l.kinds) > math.MaxUint8 {
		panic(fmt.Sprintf("history: more than %d kinds of names", math.MaxUint8+1))
	}
	l.kinds = append(l.kinds, s)
	return uint8(len(l.kinds) - 1)
}

// Add appends an operation, numbering it.
func (l *Log) Add(op Op) {
	if l.singles%chunkSize == 0 {
		l.chunks = append(l.chunks, make([]rec, 0, chunkSize))
	}
	r := rec{
		invoke: op.Invoke, complete: op.Complete, partition: op.Partition,
		client: l.intern(op.Client), topic: l.intern(op.Topic), err: l.intern(op.Error),
		typ: l.kind(string(op.Type)), outcome: l.kind(string(op.Outcome)),
		txn: l.kind(op.Txn), isolation: l.kind(op.Isolation),
		nVals: int32(len(op.Values)), nOffs: -1,
	}
	if op.Group != "" {
		r.group, r.session, r.generation = l.intern(op.Group)+1, l.intern(op.Session), op.Generation
	}
	vals, offs := op.Values, op.Offsets
	if offs != nil {
		r.nOffs = int32(len(offs))
	}
	if len(vals) > 1 && consecutive(vals) {
		vals, r.nVals = vals[:1], -r.nVals
	}
	if len(offs) > 1 && consecutive(offs) {
		offs, r.nOffs = offs[:1], -r.nOffs
	}
	if r.nVals < 0 || r.nOffs < -1 {
		l.useSlab()
	}
	r.at = l.nums.add(vals, offs)
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, r)
	if k := len(l.ents); k == 0 || l.ents[k-1].batch {
		l.ents = append(l.ents, entry{start: int64(l.n), idx: int32(l.singles)})
	}
	l.singles++
	l.grow(1)
}

// grow counts k more operations, in the last entry.
func (l *Log) grow(k int) {
	for b := (l.n + blockOps - 1) / blockOps; b*blockOps < l.n+k; b++ {
		l.blocks = append(l.blocks, int32(len(l.ents)-1))
	}
	l.n += k
}

// AddAll appends operations in order, numbering them.
func (l *Log) AddAll(ops []Op) {
	for i := range ops {
		l.Add(ops[i])
	}
}

// Len is the number of operations.
func (l *Log) Len() int { return l.n }

// At returns operation i.
func (l *Log) At(i int) Op {
	var op Op
	l.Load(i, &op)
	return op
}

// entryOf returns the entry holding operation i.
func (l *Log) entryOf(i int) *entry {
	lo := int(l.blocks[i/blockOps])
	hi := len(l.ents)
	if b := i/blockOps + 1; b < len(l.blocks) {
		hi = int(l.blocks[b]) + 1
	}
	// The last entry in [lo, hi) starting at or before i.
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if l.ents[m].start <= int64(i) {
			lo = m
		} else {
			hi = m
		}
	}
	return &l.ents[lo]
}

// loadRec fills op with record r, numbered i.
func (l *Log) loadRec(op *Op, i int, r *rec) {
	sv, so := r.nVals, max(r.nOffs, 0) // the lengths of the runs stored
	if sv < 0 {
		sv = 1
	}
	if r.nOffs < -1 {
		so = 1
	}
	run := l.nums.get(r.at, sv+so)
	*op = Op{
		Index: i, Client: l.strs[r.client], Type: Type(l.kinds[r.typ]), Topic: l.strs[r.topic],
		Partition: r.partition, Values: run[:sv:sv], Invoke: r.invoke,
		Complete: r.complete, Outcome: Outcome(l.kinds[r.outcome]), Error: l.strs[r.err],
		Txn: l.kinds[r.txn], Isolation: l.kinds[r.isolation],
	}
	if r.group != 0 {
		op.Group, op.Session, op.Generation = l.strs[r.group-1], l.strs[r.session], r.generation
	}
	if r.nOffs >= 0 {
		op.Offsets = run[sv:]
	}
	if r.nVals < 0 || r.nOffs < -1 {
		nv, no := max(-r.nVals, 0), max(-r.nOffs, 0)
		if no == 1 {
			no = 0 // -1: no offsets
		}
		buf := l.loaded.take(int64(nv + no))
		if nv > 0 {
			op.Values = counted(buf[:nv:nv], run[0])
		}
		if no > 0 {
			op.Offsets = counted(buf[nv:], run[sv])
		}
	}
	if op.Values == nil {
		op.Values = []int64{}
	}
	if op.Offsets == nil && r.nOffs == 0 {
		op.Offsets = []int64{}
	}
}

// counted fills s with first, first+1, … and returns it.
func counted(s []int64, first int64) []int64 {
	for i := range s {
		s[i] = first + int64(i)
	}
	return s
}

// loadSend fills op with operation k of batch b, numbered i, writing each field in place (an
// Op is 200 bytes, and the checker loads every operation several times).
func (l *Log) loadSend(op *Op, i int, b *sendBatch, k int) {
	op.Index, op.Client, op.Type, op.Topic = i, l.strs[b.client], Send, l.strs[b.topic]
	op.Partition, op.Complete, op.Outcome = b.partition, b.complete, Outcome(l.kinds[b.outcome])
	op.Error, op.Txn = l.strs[b.err], l.kinds[b.txn]
	op.Group, op.Generation, op.Session, op.Isolation = "", 0, "", ""
	nv := b.values()
	run := l.nums.get(b.at, nv+b.invokes())
	switch {
	case b.form&consecutiveValues == 0 && b.base < 0:
		op.Values, op.Offsets = run[k:k+1:k+1], nil // in place
	case b.base < 0:
		op.Values, op.Offsets = l.loaded.take(1), nil
		op.Values[0] = run[0] + int64(k)
	default:
		vo := l.loaded.take(2)
		op.Values, op.Offsets = vo[:1:1], vo[1:2:2]
		vo[0], vo[1] = run[0]+int64(k), b.base+int64(k)
		if b.form&consecutiveValues == 0 {
			vo[0] = run[k]
		}
	}
	if inv := run[nv:]; b.form&steadyInvokes != 0 {
		op.Invoke = time.Duration(inv[0] + int64(k)*inv[1])
	} else {
		op.Invoke = time.Duration(inv[k])
	}
}

// Load returns operation i in buf, which it fills (a Reader): the checker reads a run's
// history in place, one operation at a time, instead of copying it into a History, whose
// operations take several times the room of the log's records.
func (l *Log) Load(i int, buf *Op) *Op {
	e := l.entryOf(i)
	k := i - int(e.start)
	if e.batch {
		b := uint32(e.idx)
		l.loadSend(buf, i, &l.batches[b/chunkSize][b%chunkSize], k)
	} else {
		j := int(e.idx) + k
		l.loadRec(buf, i, &l.chunks[j/chunkSize][j%chunkSize])
	}
	return buf
}

// View is the log's first Len() operations as they are now, read in place (a Reader), for
// judging on another goroutine while the run goes on: a Log never writes again what it holds
// (records, batches, arena runs, strings), so appending to l afterwards changes nothing the
// view reads; only the lists of chunks, whose last header an append rewrites, are copied (a
// few words per 4,096 operations or batches). The view must not be added to.
func (l *Log) View() *Log {
	return &Log{
		chunks: slices.Clone(l.chunks), singles: l.singles, batches: slices.Clone(l.batches),
		nBatches: l.nBatches, ents: l.ents, blocks: l.blocks, n: l.n,
		nums: arena{chunks: slices.Clone(l.nums.chunks)}, loaded: &slab{}, strs: l.strs, kinds: l.kinds,
	}
}

// History returns the operations from index `from` on as one slice (a copy; the values and
// offsets slices are shared with the log and must not be modified).
func (l *Log) History(from int) History {
	if from >= l.n {
		return nil
	}
	h := make(History, l.n-from)
	for i := from; i < l.n; i++ {
		l.Load(i, &h[i-from])
	}
	return h
}
