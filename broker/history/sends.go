package history

import (
	"sync/atomic"
	"time"
)

// Sends are the records of one producer batch completed together: the compact form of the
// Ops the batch stands for, one send per record, observed as one event. A batch is a few
// numbers and two runs instead of one 200-byte Op per record: Log.AddSends stores it with its
// strings looked up once.
//
// A producer reuses its Sends (and the runs in it) for its next batch: an observer that
// keeps what it saw keeps Ops(), a copy.
type Sends struct {
	Client    string
	Topic     string
	Partition int32
	Values    []int64         // the records' values, in batch order
	Invokes   []time.Duration // when the application handed each record to the producer
	Complete  time.Duration
	Outcome   Outcome
	Base      int64 // the offset of the first record when acknowledged with offsets, else -1
	Error     string
	Txn       string // a transactional producer's: how the records' transaction ended (Op.Txn)
}

// Len is the number of operations (records).
func (s *Sends) Len() int { return len(s.Values) }

// TraceArg puts the number of operations in the trace, as Ops does.
func (s *Sends) TraceArg() int64 { return int64(len(s.Values)) }

// TraceAs makes the trace record Sends under the type of Ops, which they stand for: a trace
// does not change with the form a producer reports its batch in.
func (s *Sends) TraceAs() any { return Ops(nil) }

// Op returns operation i of the batch (its Index unset).
func (s *Sends) Op(i int) Op {
	op := Op{
		Client: s.Client, Type: Send, Topic: s.Topic, Partition: s.Partition,
		Values: []int64{s.Values[i]}, Invoke: s.Invokes[i], Complete: s.Complete,
		Outcome: s.Outcome, Error: s.Error, Txn: s.Txn,
	}
	if s.Base >= 0 {
		op.Offsets = []int64{s.Base + int64(i)}
	}
	return op
}

// Ops returns the batch's operations, one per record (a copy that shares nothing with s).
func (s *Sends) Ops() Ops {
	ops := make(Ops, len(s.Values))
	for i := range ops {
		ops[i] = s.Op(i)
	}
	return ops
}

// AddSends appends a batch's operations in record order, numbering them.
func (l *Log) AddSends(s *Sends) {
	n := len(s.Values)
	if n == 0 {
		return
	}
	b := sendBatch{
		complete: s.Complete, n: int32(n), partition: s.Partition, base: max(s.Base, -1),
		client: l.intern(s.Client), topic: l.intern(s.Topic), err: l.intern(s.Error),
		outcome: l.kind(string(s.Outcome)), txn: l.kind(s.Txn),
	}
	l.kind(string(Send))
	if n > 1 && consecutive(s.Values) {
		b.form |= consecutiveValues
	}
	if n > 2 && steady(s.Invokes[:n]) {
		b.form |= steadyInvokes
	}
	nv := int(b.values())
	var run []int64
	run, b.at = l.nums.run(nv + int(b.invokes()))
	copy(run, s.Values[:nv])
	if inv := run[nv:]; b.form&steadyInvokes != 0 {
		inv[0], inv[1] = int64(s.Invokes[0]), int64(s.Invokes[1]-s.Invokes[0])
	} else {
		for i := range n {
			inv[i] = int64(s.Invokes[i])
		}
	}
	if l.nBatches%chunkSize == 0 {
		l.batches = append(l.batches, make([]sendBatch, 0, chunkSize))
	}
	c := &l.batches[len(l.batches)-1]
	*c = append(*c, b)
	if b.form != 0 || b.base >= 0 {
		l.useSlab()
	}
	l.ents = append(l.ents, entry{start: int64(l.n), idx: int32(l.nBatches), batch: true})
	l.nBatches++
	l.grow(n)
}

// consecutive reports whether vs count up by one from the first.
func consecutive(vs []int64) bool {
	for i, v := range vs {
		if v != vs[0]+int64(i) {
			return false
		}
	}
	return true
}

// steady reports whether ts step by the same amount from each to the next.
func steady(ts []time.Duration) bool {
	for i := 2; i < len(ts); i++ {
		if ts[i]-ts[i-1] != ts[1]-ts[0] {
			return false
		}
	}
	return true
}

// slab hands out the value and offset slices of the operations Load rebuilds (consecutive
// values and offsets are held as the first alone; a batch's offsets as its base): cut from
// shared arrays, not allocated one by one, since the checker loads every
// operation several times. A slice handed out is never handed out again, so an Op loaded
// stays as it was for as long as it is kept (as one read in place does); and slices are
// taken by an atomic count, so that judges on several goroutines may load from one Log, as
// they may read it.
type slab struct {
	cur atomic.Pointer[slabArray]
}

type slabArray struct {
	nums [slabLen]int64
	used atomic.Int64
}

// slabLen is the number of int64s per array of a slab: small, so that an Op kept long (an
// anomaly's) keeps little else alive.
const slabLen = 1024

// useSlab readies l.loaded for Load: a Log rebuilds some of its operations' values.
func (l *Log) useSlab() {
	if l.loaded == nil {
		l.loaded = &slab{}
	}
}

// take returns n int64s no one else has.
func (s *slab) take(n int64) []int64 {
	if n > slabLen/8 {
		return make([]int64, n)
	}
	if a := s.cur.Load(); a != nil {
		if end := a.used.Add(n); end <= slabLen {
			return a.nums[end-n : end : end]
		}
	}
	return s.grow(n)
}

// grow starts a new array for take, unless another goroutine has, and takes n int64s.
func (s *slab) grow(n int64) []int64 {
	for {
		a := s.cur.Load()
		if a != nil {
			if end := a.used.Add(n); end <= slabLen {
				return a.nums[end-n : end : end]
			}
		}
		s.cur.CompareAndSwap(a, new(slabArray))
	}
}
