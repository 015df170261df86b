package checker

import (
	"fmt"
	"slices"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// ReassignKeepsMinISR: a reassignment (KIP-455) completes only once every target replica is in
// the ISR (PartitionReassignmentReplicas.maybeCompleteReassignment), so the move by itself
// never leaves the ISR smaller than the new replica set, and so never below
// min(min.insync.replicas, replication factor). Faults may shrink the ISR afterwards; the
// change that completes the move may not.
const ReassignKeepsMinISR = "reassignment-keeps-min-isr"

// assignment is a partition's assignment as the controller's appended records left it.
type assignment struct {
	replicas, adding, removing []int32
}

// reassignRecord follows the assignment through the partition records the controllers append,
// and judges each change that completes a reassignment, at once or later: the replicas become
// the target (Replicas without RemovingReplicas, where a cancellation,
// PartitionReassignmentRevert, gives Replicas without AddingReplicas) and the ISR must hold
// all of them.
func (o *Online) reassignRecord(rec any) {
	switch r := rec.(type) {
	case *metadata.PartitionRecord:
		o.assign[protocol.TopicPartition{Topic: r.Topic, Partition: r.Partition}] = assignment{replicas: r.Replicas}
	case *metadata.PartitionChangeRecord:
		tp := protocol.TopicPartition{Topic: r.Topic, Partition: r.Partition}
		old, ok := o.assign[tp]
		next := assignment{replicas: old.replicas, adding: r.AddingReplicas, removing: r.RemovingReplicas}
		if r.Replicas != nil {
			next.replicas = r.Replicas
		}
		o.assign[tp] = next
		if !ok || len(next.adding) > 0 || len(next.removing) > 0 {
			return
		}
		target := next.replicas
		if len(old.adding) == 0 && len(old.removing) == 0 {
			if len(dropAll(next.replicas, old.replicas)) == 0 && len(dropAll(old.replicas, next.replicas)) == 0 {
				return // no move, or only a new order
			}
			// A move whose target replicas were all in the ISR already completes in the
			// change that starts it (PartitionChangeBuilder.completeReassignmentIfNeeded).
		} else if !slices.Equal(target, dropAll(old.replicas, old.removing)) || slices.Equal(target, dropAll(old.replicas, old.adding)) {
			return // not a completion: a cancellation, or a new assignment
		}
		var missing []int32
		for _, b := range target {
			if !slices.Contains(r.ISR, b) {
				missing = append(missing, b)
			}
		}
		if len(missing) > 0 {
			o.violate(fmt.Sprintf("%s %d", tp, r.PartitionEpoch), ReassignKeepsMinISR,
				"the reassignment of %s to %v completed with ISR %v (%d of %d replicas): %v had not joined the ISR, so the move itself left the ISR short",
				tp, target, r.ISR, len(target)-len(missing), len(target), missing)
		}
	}
}

func dropAll(s, drop []int32) []int32 {
	out := make([]int32, 0, len(s))
	for _, b := range s {
		if !slices.Contains(drop, b) {
			out = append(out, b)
		}
	}
	return out
}
