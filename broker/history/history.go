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
