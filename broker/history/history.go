package history

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Type is the kind of operation.
type Type string

// Operation types.
const (
	Send Type = "send"
	Poll Type = "poll"
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
}

// Ops are operations completed together (the records of one producer batch), observed as one
// event.
type Ops []Op

// TraceArg puts the number of operations in the trace.
func (o Ops) TraceArg() int64 { return int64(len(o)) }

// History is a list of operations in completion order.
type History []Op

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
// names its line number.
func ReadJSONLines(r io.Reader) (History, error) {
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
	case Send, Poll:
	default:
		return fmt.Errorf("type %q is not send or poll", op.Type)
	}
	switch op.Outcome {
	case OK, Fail, Unknown:
	default:
		return fmt.Errorf("outcome %q is not ok, fail or unknown", op.Outcome)
	}
	if op.Client == "" || op.Topic == "" {
		return fmt.Errorf("client and topic are required")
	}
	if len(op.Offsets) != 0 && len(op.Offsets) != len(op.Values) {
		return fmt.Errorf("%d offsets for %d values", len(op.Offsets), len(op.Values))
	}
	if op.Complete < op.Invoke {
		return fmt.Errorf("complete %d before invoke %d", op.Complete, op.Invoke)
	}
	return nil
}

// chunkSize is the number of operations per chunk of a Log.
const chunkSize = 4096

// Log collects a growing history in fixed-size chunks, so that appending never copies what is
// already there (a run of ten simulated minutes records hundreds of thousands of operations).
type Log struct {
	chunks [][]Op
	n      int
}

// Add appends an operation, numbering it.
func (l *Log) Add(op Op) {
	if l.n%chunkSize == 0 {
		l.chunks = append(l.chunks, make([]Op, 0, chunkSize))
	}
	op.Index = l.n
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, op)
	l.n++
}

// Len is the number of operations.
func (l *Log) Len() int { return l.n }

// At returns operation i.
func (l *Log) At(i int) *Op { return &l.chunks[i/chunkSize][i%chunkSize] }

// History returns the operations from index `from` on as one slice (a copy).
func (l *Log) History(from int) History {
	if from >= l.n {
		return nil
	}
	h := make(History, 0, l.n-from)
	for i := from / chunkSize; i < len(l.chunks); i++ {
		c := l.chunks[i]
		if i == from/chunkSize {
			c = c[from%chunkSize:]
		}
		h = append(h, c...)
	}
	return h
}
