package scenarios

import (
	"fmt"

	"kafkasim/broker/protocol"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// The conditions on a replica's log as bytes: bytes (its size on disk), segments (how many),
// logstart (its log start offset), keys (distinct non-null keys among its records) and records
// (the records it holds, transaction markers aside: fewer than its offsets once the cleaner has
// removed some, from inside batches too). Without @B they look at the partition's leader.

var recordSubjects = map[string]subject{"bytes": sBytes, "segments": sSegments, "logstart": sLogStart, "keys": sKeys, "records": sRecords}

var recordWords = map[subject]string{sBytes: "bytes", sSegments: "segments", sLogStart: "logstart", sKeys: "keys", sRecords: "records"}

func (k *cond) recordValue(c *cluster.Cluster, tp protocol.TopicPartition) (int64, bool, string) {
	what := recordWords[k.subj] + " " + k.tpName()
	id := k.broker
	if id > 0 {
		what = fmt.Sprintf("%s@%d", what, id)
	} else if id = c.Leader(tp); id < 0 {
		return 0, false, what + " is unknown (no leader)"
	}
	r := c.Replica(id, tp)
	if r == nil {
		why := fmt.Sprintf("broker %d is not running or has no replica", id)
		if k.broker == 0 && c.World.State(id) == sim.Running {
			why = fmt.Sprintf("leader %d has not taken up its replica yet", id)
		}
		return 0, false, fmt.Sprintf("%s is unknown (%s)", what, why)
	}
	l := r.Log()
	var v int64
	switch k.subj {
	case sBytes:
		v = l.SizeBytes()
	case sSegments:
		v = int64(len(l.Segments()))
	case sLogStart:
		v = l.LogStartOffset()
	case sKeys:
		keys := map[string]struct{}{}
		for _, b := range l.Batches() {
			if b.Control {
				continue
			}
			for i := range b.Len() {
				if k := b.Key(i); k != "" { // a null key is no key
					keys[k] = struct{}{}
				}
			}
		}
		v = int64(len(keys))
	case sRecords:
		for _, b := range l.Batches() {
			if !b.Control {
				v += int64(b.Len())
			}
		}
	}
	return v, true, fmt.Sprintf("%s is %d", what, v)
}
