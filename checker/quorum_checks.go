package checker

import (
	"strconv"

	"kafkasim/broker/node"
	"kafkasim/broker/quorum"
)

// OneQuorumLeaderPerEpoch is Raft's election safety for the KRaft metadata quorum: at most one
// controller becomes leader in an epoch. Kafka keeps it by persisting one vote per epoch
// (QuorumState.transitionToUnattachedVotedState refuses a second candidate with an
// IllegalStateException); a voter granting two candidates lets two majorities form in one
// epoch, and two active controllers may then each commit metadata at the same offsets.
const OneQuorumLeaderPerEpoch = "one-quorum-leader-per-epoch"

// quorumLeader notes a controller reporting that it leads the metadata quorum in an epoch, and
// holds a second leader of the same epoch as pending until the step that made it is checked
// (observations arrive during a step; the violation names the step).
func (o *Online) quorumLeader(sc quorum.StateChange) {
	if sc.Role != quorum.RoleLeader {
		return
	}
	if o.quorumLeaders == nil {
		o.quorumLeaders = map[int32]int32{}
	}
	first, ok := o.quorumLeaders[sc.Epoch]
	switch {
	case !ok:
		o.quorumLeaders[sc.Epoch] = sc.ID
	case first != sc.ID:
		o.quorumPending = append(o.quorumPending, [3]int32{sc.Epoch, first, sc.ID})
	}
}

// flushQuorum reports the pending second leaders, after the step that made them.
func (o *Online) flushQuorum() {
	for _, p := range o.quorumPending {
		o.violate(strconv.Itoa(int(p[0])), OneQuorumLeaderPerEpoch, "controllers %s and %s both lead the metadata quorum in epoch %d", node.Name(p[1]), node.Name(p[2]), p[0])
	}
	o.quorumPending = o.quorumPending[:0]
}
