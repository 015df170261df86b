package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Removal is what a run saw the cluster remove from a partition's log, for a saved history to be
// judged as the run judged it: records that retention or the log cleaner removed by design are
// not lost, and those removed against the rules are. The online checker notes them as the run
// goes (checker/retention.go); `run --history FILE` writes them after the operations, one line
// each, and ReadWithRemovals reads them back.
type Removal struct {
	Kind      string        `json:"removal"` // RetentionRemoval, CompactionRemoval or IllegalRemoval
	Topic     string        `json:"topic"`
	Partition int32         `json:"partition"`
	At        time.Duration `json:"at,omitempty"`
	// Retention: the leader's log start offset moved to Start at At (UnifiedLog.deleteOldSegments).
	Start int64 `json:"start,omitempty"`
	// Compaction: the records at Offsets may go from At on (a later committed record of their key
	// supersedes them, or their tombstone's delete.retention.ms passed).
	Offsets []int64 `json:"offsets,omitempty"`
	// Against the rules: the records at [From, To) went though they should not have (deleted
	// above the HW, or a key's latest record compacted away): never forgiven.
	From int64 `json:"from,omitempty"`
	To   int64 `json:"to,omitempty"`
}

// Removal kinds.
const (
	RetentionRemoval  = "retention"
	CompactionRemoval = "compaction"
	IllegalRemoval    = "illegal"
)

// removalPrefix starts every removal line (Kind is Removal's first field).
var removalPrefix = []byte(`{"removal":`)

// WriteRemovals writes one removal per line, after a history's operations.
func WriteRemovals(w io.Writer, rs []Removal) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range rs {
		if err := enc.Encode(&rs[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadWithRemovals reads a history written by WriteJSONLines and the removals WriteRemovals put
// after it. A removal line that does not read, or names an unknown kind, no topic, or a negative
// partition, offset or time, is an error naming its line.
func ReadWithRemovals(r io.Reader) (History, []Removal, error) {
	var rs []Removal
	h, err := readLines(r, func(line int, b []byte) (bool, error) {
		if !bytes.HasPrefix(b, removalPrefix) {
			return false, nil
		}
		var rm Removal
		if err := json.Unmarshal(b, &rm); err != nil {
			return true, fmt.Errorf("line %d: %v", line, err)
		}
		if err := rm.validate(); err != nil {
			return true, fmt.Errorf("line %d: %v", line, err)
		}
		rs = append(rs, rm)
		return true, nil
	})
	return h, rs, err
}

func (rm *Removal) validate() error {
	switch {
	case rm.Kind != RetentionRemoval && rm.Kind != CompactionRemoval && rm.Kind != IllegalRemoval:
		return fmt.Errorf("removal %q unknown (want %s, %s or %s)", rm.Kind, RetentionRemoval, CompactionRemoval, IllegalRemoval)
	case rm.Topic == "":
		return fmt.Errorf("removal without a topic")
	case rm.Partition < 0 || rm.At < 0 || rm.Start < 0 || rm.From < 0 || rm.To < rm.From:
		return fmt.Errorf("removal with a negative partition, time or offset, or an empty range")
	}
	for _, o := range rm.Offsets {
		if o < 0 {
			return fmt.Errorf("removal with a negative offset %d", o)
		}
	}
	return nil
}
