package scenarios

import (
	"fmt"
	"strings"
	"time"
)

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

// readToEnd runs the finish until every consumer has read to the end (caughtUp), within the
// finish window from start. A producer that still holds records its application handed it
// faster than it could send them is working through them, not stuck: a transactional producer
// sends transaction.records at a time and waits for each EndTxn (TransactionManager: the next
// transaction begins once commitTransaction returns), so a rate above what its transactions
// carry, or a fault that held them up, leaves a queue the finish must let it drain. While the
// producers complete records, the window starts again (bounded by MaxVirtualTime) unless the
// file set finish.timeout. On failure it says what the producers still hold.
func (p *Player) readToEnd(start, timeout time.Duration, caughtUp func() bool) (ok bool, held string) {
	c := p.c
	deadline := start + timeout
	done := p.producersCompleted()
	for {
		if c.RunUntil(caughtUp, deadline-c.Now()) {
			return true, ""
		}
		now, held := p.producersCompleted(), p.producersHolding()
		if p.s.finishSet || held == "" || now == done || c.Now()-start+timeout > MaxVirtualTime {
			return false, held
		}
		done, deadline = now, c.Now()+timeout
	}
}

// producersCompleted counts the records the file's producers have completed (acknowledged,
// failed or unknown).
func (p *Player) producersCompleted() int64 {
	var n int64
	for _, pd := range p.s.producers {
		if pr := p.c.Producer(pd.name); pr != nil {
			st := pr.Stats()
			n += st.Acked + st.Failed + st.Unknown
		}
	}
	return n
}

// producersHolding names the producers with records not completed yet, and how many.
func (p *Player) producersHolding() string {
	var out []string
	for _, pd := range p.s.producers {
		if pr := p.c.Producer(pd.name); pr != nil && pr.Stats().InFlight > 0 {
			out = append(out, fmt.Sprintf("%s holds %d records not completed", pd.name, pr.Stats().InFlight))
		}
	}
	return strings.Join(out, ", ")
}
