package scenarios

import "time"

// groupSessionTimeout is the session of a KIP-848 member (group.consumer.session.timeout.ms,
// the broker's default; the simulator's coordinator does not let a file change it).
const groupSessionTimeout = 45 * time.Second

// finishWindow is how long the finish waits for the cluster to settle and the consumers to
// read to the end: the file's finish.timeout, or by default 60 s, lengthened for a file with a
// consumer group to what the group coordinator may take to stabilize after the last fault
// without anything being wrong.
//
// A classic group can need two session timeouts. A member killed while its JoinGroup was
// parked still counts as joined (ClassicGroupMember.hasSatisfiedHeartbeat: a member awaiting a
// join satisfies its heartbeats), so the join phase waits for the session of any member that
// died without rejoining (GroupMetadataManager.expireClassicGroupMemberHeartbeat), and then
// completes with the dead member in the new generation, maybe as its leader
// (ClassicGroup.maybeElectNewJoinedLeader keeps a leader that joined). A dead leader sends no
// SyncGroup: the other members' SyncGroups wait in CompletingRebalance (their retries after
// request.timeout.ms rejoin the same generation) until completeClassicGroupJoin's heartbeat
// timer expires the dead member one session later and the group rebalances without it. Kafka
// does the same; a window shorter than that would report the records not yet read as unseen.
func (s *Scenario) finishWindow() time.Duration {
	if s.finishSet {
		return s.finishTimeout
	}
	w := s.finishTimeout
	for _, cd := range s.consumers {
		if cd.cfg.Group == "" {
			continue
		}
		session := cd.cfg.SessionTimeout
		if cd.cfg.GroupProtocol == "consumer" {
			session = groupSessionTimeout
		}
		w = max(w, 2*session+30*time.Second)
	}
	return min(w, MaxVirtualTime)
}
