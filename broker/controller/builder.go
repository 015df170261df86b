package controller

import (
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Behavior: PartitionChangeBuilder computes one partition's next state the way KRaft's
// PartitionChangeBuilder does: the target ISR, the eligible leader replicas (KIP-966), the
// leader election and the leader recovery state (KIP-704: an unclean election sets RECOVERING,
// only a target state set from the leader's AlterPartition clears it), with the leader epoch
// bumped on every leader change and the partition epoch on every change. It is pure: the
// caller says which replicas are acceptable leaders (registered, unfenced, not in controlled
// shutdown).
//
// Reassignment (KIP-455) is the builder's too: targetReplicas, targetAdding and targetRemoving
// are the assignment the change aims at (default: the partition's own); when the target ISR
// holds every replica being added and at least one not being removed, the reassignment
// completes in the same change (completeReassignmentIfNeeded: the removed replicas leave the
// replicas and the ISR, adding and removing are cleared). Elections look at the target
// replicas, and a change whose replicas no longer hold every old one bumps the leader epoch
// even when the leader stays (triggerLeaderEpochBumpForReplicaReassignmentIfNeeded).
//
// Not modelled: directory
// assignments, metadata versions (the builder is Kafka 4.x's: leader recovery supported, no
// leader epoch bump on ISR shrink), useLastKnownLeaderInBalancedRecovery=false.

// Election is the kind of leader election a change runs.
type Election int8

const (
	// ElectionOnline keeps the current leader if valid, else elects from the ISR (or ELR).
	ElectionOnline Election = iota
	// ElectionPreferred elects the first replica of the assignment when it is valid.
	ElectionPreferred
	// ElectionUnclean is ElectionOnline falling back to any acceptable replica
	// (unclean.leader.election.enable, or ElectLeaders with the unclean type).
	ElectionUnclean
)

func (e Election) String() string {
	switch e {
	case ElectionOnline:
		return "online"
	case ElectionPreferred:
		return "preferred"
	case ElectionUnclean:
		return "unclean"
	}
	return "unknown"
}

// PartitionChangeBuilder builds a PartitionChangeRecord for one partition.
type PartitionChangeBuilder struct {
	p          *metadata.Partition
	acceptable func(int32) bool
	minISR     int
	elr        bool
	election   Election
	targetISR  []int32
	isrSet     bool
	unclean    []int32
	clearELR   bool
	targetLRS  metadata.LeaderRecoveryState
	lrsSet     bool

	targetReplicas []int32
	targetAdding   []int32
	targetRemoving []int32

	completeEarly bool // planted bug (config.Bugs.ReassignEarly)
}

// NewPartitionChangeBuilder starts a change of p. isAcceptableLeader reports whether a replica
// may lead (and join the ISR): registered, unfenced, not in controlled shutdown (KIP-841).
// minISR is the topic's min.insync.replicas; eligibleLeaderReplicas turns KIP-966 on.
func NewPartitionChangeBuilder(p *metadata.Partition, isAcceptableLeader func(int32) bool, minISR int, eligibleLeaderReplicas bool) *PartitionChangeBuilder {
	return &PartitionChangeBuilder{p: p, acceptable: isAcceptableLeader, minISR: minISR, elr: eligibleLeaderReplicas,
		targetReplicas: p.Replicas, targetAdding: p.AddingReplicas, targetRemoving: p.RemovingReplicas}
}

// SetTargetReplicas sets the replicas the change aims at (default: the current ones).
func (b *PartitionChangeBuilder) SetTargetReplicas(r []int32) *PartitionChangeBuilder {
	b.targetReplicas = r
	return b
}

// SetTargetAdding sets the replicas a reassignment is adding.
func (b *PartitionChangeBuilder) SetTargetAdding(r []int32) *PartitionChangeBuilder {
	b.targetAdding = r
	return b
}

// SetTargetRemoving sets the replicas a reassignment is removing.
func (b *PartitionChangeBuilder) SetTargetRemoving(r []int32) *PartitionChangeBuilder {
	b.targetRemoving = r
	return b
}

// SetTargetISR sets the ISR the change aims at (default: the current ISR).
func (b *PartitionChangeBuilder) SetTargetISR(isr []int32) *PartitionChangeBuilder {
	b.targetISR, b.isrSet = isr, true
	return b
}

// SetElection sets the election type (default ElectionOnline).
func (b *PartitionChangeBuilder) SetElection(e Election) *PartitionChangeBuilder {
	b.election = e
	return b
}

// SetUncleanShutdownReplicas names replicas that restarted after an unclean shutdown: they
// may have lost their log suffix, so they leave the ELR (KAFKA-15586). The last known leader
// stays in lastKnownElr: it is the last resort when ISR and ELR are empty, and electing it is
// marked unclean anyway (Kafka 4.x docs: "else last known leader if unfenced").
func (b *PartitionChangeBuilder) SetUncleanShutdownReplicas(ids []int32) *PartitionChangeBuilder {
	b.unclean = ids
	return b
}

// SetTargetLeaderRecoveryState sets the leader recovery state the change aims at (default:
// the current one); AlterPartition passes the leader's reported state.
func (b *PartitionChangeBuilder) SetTargetLeaderRecoveryState(s metadata.LeaderRecoveryState) *PartitionChangeBuilder {
	b.targetLRS, b.lrsSet = s, true
	return b
}

// ClearELR drops the current ELR before it is recomputed (a change of min.insync.replicas
// invalidates it, KIP-966).
func (b *PartitionChangeBuilder) ClearELR() *PartitionChangeBuilder {
	b.clearELR = true
	return b
}

// Build computes the change. It returns nil when nothing would change.
func (b *PartitionChangeBuilder) Build() *metadata.PartitionChangeRecord {
	p := b.p
	targetISR := p.ISR
	if b.isrSet {
		targetISR = b.targetISR
	}

	// completeReassignmentIfNeeded.
	targetReplicas, targetAdding, targetRemoving := b.targetReplicas, b.targetAdding, b.targetRemoving
	rr := ReassignmentReplicas{Removing: targetRemoving, Adding: targetAdding, Replicas: targetReplicas}
	done := rr.MaybeComplete(targetISR)
	if done == nil && b.completeEarly && rr.InProgress() && len(without(targetISR, targetRemoving)) > 0 {
		// Planted bug: complete without waiting for the target replicas to join the ISR.
		done = &CompletedReassignment{Replicas: without(targetReplicas, targetRemoving), ISR: without(targetISR, targetRemoving)}
	}
	if done != nil {
		targetISR, targetReplicas = done.ISR, done.Replicas
		targetAdding, targetRemoving = nil, nil
	}

	targetELR := p.ELR
	if b.clearELR {
		targetELR = nil
	}
	targetLKE := p.LastKnownELR

	// maybePopulateTargetElr (KIP-966).
	if !b.elr {
		targetELR, targetLKE = nil, nil
	} else if len(targetISR) >= b.minISR {
		targetELR, targetLKE = nil, nil
	} else {
		// ELR := (ELR ∪ currentISR) \ targetISR \ uncleanShutdownReplicas, in assignment order.
		// Only replicas of the target assignment: a replica a reassignment removes deletes its
		// log, so it may never be elected from the ELR (or as last known leader) if it comes
		// back. Kafka builds the candidates from the old ISR whatever the target replicas; with
		// the assignment unchanged the two agree.
		var elr []int32
		for _, r := range targetReplicas {
			if (metadata.Contains(targetELR, r) || metadata.Contains(p.ISR, r)) &&
				!metadata.Contains(targetISR, r) && !metadata.Contains(b.unclean, r) {
				elr = append(elr, r)
			}
		}
		targetELR = elr
		targetLKE = without(targetLKE, targetISR)
	}
	if !containsAll(targetReplicas, targetLKE) {
		targetLKE = without(targetLKE, without(targetLKE, targetReplicas))
	}

	leader, unclean := b.elect(targetReplicas, targetISR, targetELR, targetLKE)

	newISR, newELR, newLKE := targetISR, targetELR, targetLKE
	if leader != protocol.NoLeader {
		switch {
		case unclean:
			// The new leader came from outside the ISR and ELR: its log is the truth now
			// (possible data loss), so the ISR is just the leader and the ELR is void.
			newISR, newELR = []int32{leader}, nil
		case len(targetISR) == 0:
			// Elected from the ELR: it becomes the ISR (KIP-966), and ISR and ELR stay disjoint.
			newISR = []int32{leader}
			newELR = without(targetELR, newISR)
			if len(newISR) >= b.minISR {
				newELR = nil
			}
		}
		newLKE = nil // the partition has a leader again
	} else if len(targetISR) == 0 {
		if !b.elr {
			// Before KIP-966 the ISR is never emptied: the last member stays and the partition
			// goes leaderless (TLA ControllerShrinkIsr, "ISR never emptied").
			newISR = p.ISR
		} else if p.Leader != protocol.NoLeader {
			// The partition goes leaderless: remember its last leader (Kafka 4.x
			// lastKnownElr). It may also sit in the ELR.
			newLKE = []int32{p.Leader}
		}
	}

	rec := &metadata.PartitionChangeRecord{
		Topic:               p.Topic,
		Partition:           p.Index,
		ISR:                 newISR,
		ELR:                 newELR,
		LastKnownELR:        newLKE,
		Leader:              leader,
		LeaderEpoch:         p.LeaderEpoch,
		PartitionEpoch:      p.PartitionEpoch,
		LeaderRecoveryState: p.LeaderRecoveryState,
		Replicas:            targetReplicas,
		AddingReplicas:      targetAdding,
		RemovingReplicas:    targetRemoving,
	}
	// triggerLeaderEpochBumpForReplicaReassignmentIfNeeded: replicas that leave the assignment
	// must see a new leader epoch even when the leader stays.
	bump := leader == p.Leader && !containsAll(targetReplicas, p.Replicas)
	if leader != p.Leader || bump {
		rec.LeaderEpoch++
		rec.Unclean = unclean
		if unclean {
			// tryElection: the new leader's log is the truth now; it is RECOVERING until it
			// says otherwise.
			rec.LeaderRecoveryState = metadata.LeaderRecovering
		}
	}
	if b.lrsSet && b.targetLRS != p.LeaderRecoveryState {
		rec.LeaderRecoveryState = b.targetLRS
	}
	if leader == p.Leader && !bump && sameList(newISR, p.ISR) && sameList(newELR, p.ELR) && sameList(newLKE, p.LastKnownELR) &&
		rec.LeaderRecoveryState == p.LeaderRecoveryState && sameList(targetReplicas, p.Replicas) &&
		sameList(targetAdding, p.AddingReplicas) && sameList(targetRemoving, p.RemovingReplicas) {
		return nil
	}
	rec.PartitionEpoch++
	return rec
}

// isValidNewLeader: r ∈ targetISR, or targetISR = ∅ and r ∈ targetELR; and acceptable.
func (b *PartitionChangeBuilder) isValidNewLeader(r int32, isr, elr []int32) bool {
	if r == protocol.NoLeader {
		return false
	}
	if !metadata.Contains(isr, r) && !(len(isr) == 0 && metadata.Contains(elr, r)) {
		return false
	}
	return b.acceptable(r)
}

// canElectLastKnownLeader: ELR on, ISR and ELR empty, one last known leader, acceptable.
func (b *PartitionChangeBuilder) canElectLastKnownLeader(isr, elr, lke []int32) bool {
	return b.elr && len(isr) == 0 && len(elr) == 0 && len(lke) == 1 && b.acceptable(lke[0])
}

func (b *PartitionChangeBuilder) elect(replicas, isr, elr, lke []int32) (leader int32, unclean bool) {
	p := b.p
	if b.election == ElectionPreferred {
		// electPreferredLeader.
		if len(replicas) > 0 && b.isValidNewLeader(replicas[0], isr, elr) {
			return replicas[0], false
		}
		if b.isValidNewLeader(p.Leader, isr, elr) {
			return p.Leader, false
		}
		for i := 1; i < len(replicas); i++ {
			if b.isValidNewLeader(replicas[i], isr, elr) {
				return replicas[i], false
			}
		}
		if b.canElectLastKnownLeader(isr, elr, lke) {
			return lke[0], true
		}
		return protocol.NoLeader, false
	}
	// electAnyLeader.
	if b.isValidNewLeader(p.Leader, isr, elr) {
		return p.Leader, false
	}
	for _, r := range replicas {
		if b.isValidNewLeader(r, isr, elr) {
			return r, false
		}
	}
	if b.canElectLastKnownLeader(isr, elr, lke) {
		return lke[0], true
	}
	if b.election == ElectionUnclean {
		for _, r := range replicas {
			if b.acceptable(r) {
				return r, true
			}
		}
	}
	return protocol.NoLeader, false
}

// without returns set minus drop, sharing set when nothing is dropped.
func without(set, drop []int32) []int32 {
	n := 0
	for _, r := range set {
		if !metadata.Contains(drop, r) {
			n++
		}
	}
	if n == len(set) {
		return set
	}
	if n == 0 {
		return nil
	}
	out := make([]int32, 0, n)
	for _, r := range set {
		if !metadata.Contains(drop, r) {
			out = append(out, r)
		}
	}
	return out
}

// sameList reports whether a and b hold the same replicas in the same order (nil == empty),
// as Kafka compares replica lists.
func sameList(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// containsAll reports whether set holds every member of sub (Replicas.contains).
func containsAll(set, sub []int32) bool {
	for _, r := range sub {
		if !metadata.Contains(set, r) {
			return false
		}
	}
	return true
}
