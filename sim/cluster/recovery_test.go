package cluster

import (
	"slices"
	"testing"
	"time"
)

// Reference: KIP-704 (LeaderRecoveryState) on real brokers. The unclean election of Jepsen
// 2013 leaves the partition RECOVERING; the new leader cleared RECOVERING on becoming leader
// (Partition.makeLeader), so its first AlterPartition, the ISR expansion when a follower
// catches up, reports RECOVERED and the controller commits it.
func TestUncleanLeaderRecoversWithItsAlterPartition(t *testing.T) {
	c := newCluster(t, 3, 11, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "1", "unclean.leader.election.enable": "true"}, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 200, "acks", "all")
	c.RunFor(2 * time.Second)
	c.World.Partition([]int32{1}, []int32{2, 3})
	await(t, c, "ISR = {1}", 60*time.Second, func() bool { return slices.Equal(isr(c, p0), []int32{1}) })
	c.RunFor(5 * time.Second)
	_ = c.World.Kill(1)
	await(t, c, "unclean leader", 30*time.Second, func() bool { l := c.Leader(p0); return l == 2 || l == 3 })
	if ps := c.PartitionState(p0); !ps.Recovering() || len(ps.ISR) != 1 {
		t.Fatalf("after the unclean election: got state %v ISR %v; want RECOVERING with the leader alone", ps.LeaderRecoveryState, ps.ISR)
	}
	c.Recover()
	await(t, c, "ISR expands", 60*time.Second, func() bool { return len(isr(c, p0)) > 1 })
	if ps := c.PartitionState(p0); ps.Recovering() {
		t.Fatalf("after the leader's ISR expansion: got %v ISR %v; want RECOVERED", ps.LeaderRecoveryState, ps.ISR)
	}
}
