package controller

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Behavior: partition reassignment (KIP-455; ReplicationControlManager.alterPartitionReassignments,
// PartitionReassignmentReplicas, PartitionReassignmentRevert). A reassignment goes through
// three stages, each a PartitionChangeRecord:
//
//  1. the new replicas join the assignment (Replicas = target + the ones being removed) and
//     AddingReplicas / RemovingReplicas are set; the leader stays;
//  2. the new replicas fetch from the leader until it adds them to the ISR (AlterPartition);
//  3. the change that makes the ISR hold every added replica completes the reassignment: the
//     removed replicas leave the replicas and the ISR, adding and removing are cleared, and if
//     the leader was removed a new one is elected from the target (the leader's AlterPartition
//     is then answered NEW_LEADER_ELECTED). Brokers that are no longer replicas stop theirs
//     and delete its log.
//
// A reassignment that only reorders, or only removes replicas whose removal leaves the ISR
// non-empty, completes at once. Reassigning a partition in the middle of a move starts from the
// current (merged) replicas, so reassigning back to the original replicas cancels the move
// once they are all in the ISR, as Kafka allows; a null target (Cancel) reverts the move
// outright (PartitionReassignmentRevert), refused when it would need an unclean election the
// topic does not allow.
//
// The replication throttle of a move is configs (ConfigRecords) the admin tool sets beside the
// reassignment; the brokers apply it (broker/quota.go). Not modelled: directories.

// ReassignmentReplicas is Kafka's PartitionReassignmentReplicas: the replicas a reassignment
// removes and adds, and the merged replica list (target first, then the removed ones).
type ReassignmentReplicas struct {
	Removing, Adding, Replicas []int32
}

// NewReassignmentReplicas computes the move from current to target. Removing and Adding are
// sorted (Kafka builds them from TreeSets).
func NewReassignmentReplicas(current, target []int32) ReassignmentReplicas {
	var r ReassignmentReplicas
	for _, id := range current {
		if !slices.Contains(target, id) {
			r.Removing = append(r.Removing, id)
		}
	}
	for _, id := range target {
		if !slices.Contains(current, id) {
			r.Adding = append(r.Adding, id)
		}
	}
	slices.Sort(r.Removing)
	slices.Sort(r.Adding)
	r.Replicas = append(slices.Clone(target), r.Removing...)
	return r
}

// InProgress is isReassignmentInProgress.
func (r ReassignmentReplicas) InProgress() bool { return len(r.Removing) > 0 || len(r.Adding) > 0 }

// CompletedReassignment is the replicas and ISR a completed reassignment leaves.
type CompletedReassignment struct {
	Replicas, ISR []int32
}

// MaybeComplete is maybeCompleteReassignment: with the target ISR isr, the reassignment is done
// when, once the removed replicas are taken out, the ISR is not empty and holds every replica.
func (r ReassignmentReplicas) MaybeComplete(isr []int32) *CompletedReassignment {
	if !r.InProgress() {
		return nil
	}
	newISR, newReplicas := isr, r.Replicas
	if len(r.Removing) > 0 {
		newISR = without(isr, r.Removing)
		if len(newISR) == 0 {
			return nil
		}
		newReplicas = without(r.Replicas, r.Removing)
		if len(newReplicas) == 0 {
			return nil
		}
	}
	if !containsAll(newISR, newReplicas) {
		return nil
	}
	return &CompletedReassignment{Replicas: newReplicas, ISR: newISR}
}

// OriginalReplicas is originalReplicas: the replicas before the move.
func (r ReassignmentReplicas) OriginalReplicas() []int32 { return without(r.Replicas, r.Adding) }

// ReassignmentRevert is Kafka's PartitionReassignmentRevert: the replicas and ISR left by
// cancelling the move in progress on p. Unclean is set when every ISR member was being added:
// the first original replica is put in the ISR, an unclean election.
type ReassignmentRevert struct {
	Replicas, ISR []int32
	Unclean       bool
}

// NewReassignmentRevert computes the revert of p's reassignment.
func NewReassignmentRevert(p *metadata.Partition) ReassignmentRevert {
	ongoing := ReassignmentReplicas{Removing: p.RemovingReplicas, Adding: p.AddingReplicas, Replicas: p.Replicas}
	rv := ReassignmentRevert{Replicas: ongoing.OriginalReplicas(), ISR: slices.Clone(without(p.ISR, p.AddingReplicas))}
	if len(rv.ISR) == 0 && len(rv.Replicas) > 0 {
		rv.ISR = []int32{rv.Replicas[0]}
		rv.Unclean = true
	}
	return rv
}

func (c *Controller) handleAlterPartitionReassignments(now time.Duration, from int32, req *protocol.AlterPartitionReassignmentsRequest) {
	resp := &protocol.AlterPartitionReassignmentsResponse{CorrelationID: req.CorrelationID, Results: make([]protocol.ReassignmentResult, len(req.Partitions))}
	nc := &protocol.AlterPartitionReassignmentsResponse{CorrelationID: req.CorrelationID, Results: make([]protocol.ReassignmentResult, len(req.Partitions))}
	for i, rp := range req.Partitions {
		nc.Results[i] = protocol.ReassignmentResult{TP: rp.TP, Error: protocol.NOT_CONTROLLER, ErrorMessage: "this controller is not active"}
	}
	if c.working == nil {
		c.env.Send(from, nc)
		return
	}
	var records []any
	for i, rp := range req.Partitions {
		res := protocol.ReassignmentResult{TP: rp.TP}
		rec, code, msg := c.alterPartitionReassignment(rp)
		res.Error, res.ErrorMessage = code, msg
		if rec != nil {
			records = c.applyChange(records, rec)
		}
		resp.Results[i] = res
	}
	if len(records) == 0 {
		c.env.Send(from, resp)
		return
	}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, resp, nc)
}

// alterPartitionReassignment is ReplicationControlManager.alterPartitionReassignment for one
// partition: the change record (nil when nothing changes) or the error.
func (c *Controller) alterPartitionReassignment(rp protocol.ReassignablePartition) (*metadata.PartitionChangeRecord, protocol.ErrorCode, string) {
	name := rp.TP.Topic + "/" + strconv.Itoa(int(rp.TP.Partition))
	if c.working.Topics[rp.TP.Topic] == nil {
		return nil, protocol.UNKNOWN_TOPIC_OR_PARTITION, "unable to find a topic named " + rp.TP.Topic
	}
	p := c.working.Partition(rp.TP.Topic, rp.TP.Partition)
	if p == nil {
		return nil, protocol.UNKNOWN_TOPIC_OR_PARTITION, "unable to find partition " + name
	}
	if rp.Cancel {
		return c.cancelPartitionReassignment(name, p)
	}
	if code, msg := c.validateManualPartitionAssignment(rp.Replicas); code != protocol.NONE {
		return nil, code, msg
	}
	re := NewReassignmentReplicas(p.Replicas, rp.Replicas)
	b := NewPartitionChangeBuilder(p, c.acceptable, c.effectiveMinISR(p.Topic, c.topicConfig(p.Topic)), c.cfg.EligibleLeaderReplicas)
	b.completeEarly = c.cfg.Bugs.ReassignEarly
	if !sameList(re.Replicas, p.Replicas) {
		b.SetTargetReplicas(re.Replicas)
	}
	if len(re.Removing) > 0 {
		b.SetTargetRemoving(re.Removing)
	}
	if len(re.Adding) > 0 {
		b.SetTargetAdding(re.Adding)
	}
	return b.Build(), protocol.NONE, ""
}

// cancelPartitionReassignment reverts a move in progress (a null target in Kafka's request).
func (c *Controller) cancelPartitionReassignment(name string, p *metadata.Partition) (*metadata.PartitionChangeRecord, protocol.ErrorCode, string) {
	if !p.Reassigning() {
		return nil, protocol.NO_REASSIGNMENT_IN_PROGRESS, "no reassignment of " + name + " is in progress"
	}
	rv := NewReassignmentRevert(p)
	tc := c.topicConfig(p.Topic)
	if rv.Unclean && !tc.UncleanLeaderElectionEnable {
		return nil, protocol.INVALID_REPLICA_ASSIGNMENT, "unable to revert the assignment of " + name + " because it would require an unclean leader election"
	}
	b := c.builder(p).SetTargetISR(rv.ISR).SetTargetReplicas(rv.Replicas).SetTargetRemoving(nil).SetTargetAdding(nil)
	return b.Build(), protocol.NONE, ""
}

// validateManualPartitionAssignment: a non-empty list of registered brokers, none twice.
func (c *Controller) validateManualPartitionAssignment(replicas []int32) (protocol.ErrorCode, string) {
	if len(replicas) == 0 {
		return protocol.INVALID_REPLICA_ASSIGNMENT, "the manual partition assignment includes an empty replica list"
	}
	sorted := slices.Sorted(slices.Values(replicas))
	for i, id := range sorted {
		if c.working.Brokers[id] == nil {
			return protocol.INVALID_REPLICA_ASSIGNMENT, "the manual partition assignment includes broker " + strconv.Itoa(int(id)) + ", but no such broker is registered"
		}
		if i > 0 && sorted[i-1] == id {
			return protocol.INVALID_REPLICA_ASSIGNMENT, "the manual partition assignment includes the broker " + strconv.Itoa(int(id)) + " more than once"
		}
	}
	return protocol.NONE, ""
}

// handleListPartitionReassignments is ReplicationControlManager.listPartitionReassignments: the
// moves in progress in the committed metadata (Kafka reads at the last committed offset), all
// or those of the partitions asked about; unknown topics and partitions are left out.
func (c *Controller) handleListPartitionReassignments(from int32, req *protocol.ListPartitionReassignmentsRequest) {
	resp := &protocol.ListPartitionReassignmentsResponse{CorrelationID: req.CorrelationID}
	if c.working == nil {
		resp.Error, resp.ErrorMessage = protocol.NOT_CONTROLLER, "this controller is not active"
		c.env.Send(from, resp)
		return
	}
	im := c.committed
	add := func(p *metadata.Partition) {
		if p != nil && p.Reassigning() {
			resp.Reassignments = append(resp.Reassignments, protocol.OngoingReassignment{
				TP:       protocol.TopicPartition{Topic: p.Topic, Partition: p.Index},
				Replicas: slices.Clone(p.Replicas), AddingReplicas: slices.Clone(p.AddingReplicas), RemovingReplicas: slices.Clone(p.RemovingReplicas),
			})
		}
	}
	if req.Partitions == nil {
		for _, name := range im.TopicNames() {
			for _, p := range im.Topics[name].Partitions {
				add(p)
			}
		}
		c.env.Send(from, resp)
		return
	}
	tps := slices.SortedFunc(slices.Values(req.Partitions), compareTP)
	for _, tp := range slices.Compact(tps) {
		add(im.Partition(tp.Topic, tp.Partition)) // an unknown topic or partition is left out
	}
	c.env.Send(from, resp)
}

func compareTP(a, b protocol.TopicPartition) int {
	if a.Topic != b.Topic {
		return strings.Compare(a.Topic, b.Topic)
	}
	return int(a.Partition - b.Partition)
}
