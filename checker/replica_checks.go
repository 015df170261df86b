package checker

import (
	"fmt"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// checkReplica: the invariants of one replica on its own. HW ≤ LEO; logStart ≤ LSO ≤ HW
// (LSO = HW: no transactions yet); its leader epoch never goes back; as leader, its HW
// never goes back within the epoch. A new incarnation (restart) starts afresh.
// It reports whether the replica changed since it was last checked (a new incarnation, a
// truncation, or a different HW, LEO, log start, role or epoch).
func (o *Online) checkReplica(b int32, tp protocol.TopicPartition, r replica) bool {
	changed, _ := o.checkReplicaState(b, tp, r, o.reps[repKey{b, tp}])
	return changed
}

// checkReplicaState is checkReplica with the replica's remembered state already looked up
// (rs, nil if none); it returns the state it used (hosted.go keeps it).
func (o *Online) checkReplicaState(b int32, tp protocol.TopicPartition, r replica, rs *repState) (bool, *repState) {
	changed := rs == nil || rs.r != r || rs.truncated
	if rs == nil || rs.r != r {
		rs = &repState{r: r, epoch: r.LeaderEpoch(), hw: -1}
		o.reps[repKey{b, tp}] = rs
	}
	rs.truncated = false
	hw, leo, start := r.HW(), r.LEO(), r.LogStart()
	if !changed && hw == rs.hw && leo == rs.leo && start == rs.start && r.IsLeader() == rs.leading && r.LeaderEpoch() == rs.epoch {
		return false, rs
	}
	rs.hw, rs.leo, rs.start = hw, leo, start
	if hw > leo {
		o.violate(fmt.Sprintf("%d %s", b, tp), HWAtMostLEO, "broker %d's replica of %s has HW %d above its LEO %d", b, tp, hw, leo)
	}
	if start > hw {
		o.violate(fmt.Sprintf("%d %s", b, tp), LogStartAtMostLSO, "broker %d's replica of %s has log start %d above its LSO = HW %d", b, tp, start, hw)
	}
	ep := r.LeaderEpoch()
	if ep < rs.epoch {
		o.violate(fmt.Sprintf("%d %s", b, tp), EpochsGrow, "broker %d's replica of %s went from leader epoch %d back to %d", b, tp, rs.epoch, ep)
	}
	if r.IsLeader() {
		if rs.leading && rs.epoch == ep && hw < rs.leaderHW {
			o.violate(fmt.Sprintf("%d %s %d", b, tp, ep), LeaderHWMonotonic, "broker %d leading %s in epoch %d moved its HW back from %d to %d", b, tp, ep, rs.leaderHW, hw)
		}
		rs.leaderHW = hw
	}
	rs.leading = r.IsLeader()
	rs.epoch = ep
	return true, rs
}

// checkMetadata: the committed metadata of one partition. The leader is in the ISR
// (LeaderInIsr, kafka-specification); the leader epoch never goes back.
func (o *Online) checkMetadata(tp protocol.TopicPartition, mp *metadata.Partition) {
	if mp.Leader >= 0 && !containsID(mp.ISR, mp.Leader) {
		o.violate(fmt.Sprintf("%s %d", tp, mp.LeaderEpoch), LeaderInISR, "the committed metadata of %s names leader %d outside the ISR %v (leader epoch %d)", tp, mp.Leader, mp.ISR, mp.LeaderEpoch)
	}
	if prev, ok := o.metaEpoch[tp]; ok && mp.LeaderEpoch < prev {
		o.violate(fmt.Sprintf("%s %d", tp, mp.LeaderEpoch), EpochsGrow, "the committed leader epoch of %s went from %d back to %d", tp, prev, mp.LeaderEpoch)
	}
	o.metaEpoch[tp] = max(o.metaEpoch[tp], mp.LeaderEpoch)
}

func containsID(s []int32, id int32) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}
