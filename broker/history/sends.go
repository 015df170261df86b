package history

import "time"

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
		Outcome: s.Outcome, Error: s.Error,
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
	r := rec{
		complete: s.Complete, partition: s.Partition,
		client: l.intern(s.Client), topic: l.intern(s.Topic), err: l.intern(s.Error),
		typ: l.kind(string(Send)), outcome: l.kind(string(s.Outcome)),
		txn: l.kind(""), isolation: l.kind(""), nVals: 1, nOffs: -1,
	}
	if s.Base >= 0 {
		r.nOffs = 1
	}
	for i := 0; i < n; i++ {
		if l.n%chunkSize == 0 {
			l.chunks = append(l.chunks, make([]rec, 0, chunkSize))
		}
		r.invoke = s.Invokes[i]
		if s.Base >= 0 {
			r.at = l.nums.add2(s.Values[i], s.Base+int64(i))
		} else {
			r.at = l.nums.add1(s.Values[i])
		}
		c := &l.chunks[len(l.chunks)-1]
		*c = append(*c, r)
		l.n++
	}
}
