package broker

import (
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/log"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Partition is this broker's replica of one partition: its log, and the replication state it
// keeps as leader (remote replicas, ISR, HW) or as follower (the leader it fetches from).
// Reference: Kafka's Partition.scala.
type Partition struct {
	// tp, hw, isLeader and the start of cfg (its flush policy) share the object's first cache
	// line: the broker's periodic passes over every partition (the HW checkpoint, the flush
	// check, the ISR expiration) read nothing else of a partition that has nothing to do. The
	// flags sit together and the object is 440 bytes, whose size class (448) keeps every
	// object on a cache line's start.
	tp           protocol.TopicPartition
	log          *log.Log
	hw           int64
	isLeader     bool
	started      bool // has taken a role since the broker started
	pendingGrows bool // (pending, below)
	quietMarked  bool // a session marked it quiet since the last unquiet
	cfg          config.Topic
	b            *Broker

	replicas       []int32
	leader         int32
	leaderEpoch    int32
	partitionEpoch int32
	followFrom     int32   // leader being fetched from, -1 for none
	isr            []int32 // the committed ISR

	leaderEpochStartOffset int64
	remotes                []remoteReplica // leader only: every replica but this one

	// An AlterPartition in flight (KIP-497): until committed, an expansion already counts in
	// the maximal ISR (pendingGrows), a shrink does not.
	pending     []int32
	pendingCorr int64

	produceWaiters []*delayedProduce
	fetchWaiters   []fetchWaiter    // parked fetches outside a session's registrations (fetch.go)
	parkedSessions []sessionParking // fetch sessions whose parked fetch waits on it (fetch.go)
	sessionWatches []sessionWatch   // fetch sessions that may hold it quiet (fetchsession.go)

	backoffUntil time.Duration // follower: no fetch before this (replica.fetch.backoff.ms)
}

// never is a time long before the simulation started (Kafka's 0 ms since the epoch).
const never = time.Duration(-1 << 62)

// remoteReplica is the leader's view of a follower (Replica.java).
type remoteReplica struct {
	id                 int32
	leo                int64 // -1 until the follower fetches in this leader epoch
	logStart           int64
	lastCaughtUp       time.Duration
	lastFetchTime      time.Duration
	lastFetchLeaderLEO int64
	brokerEpoch        int64
}

// TP is the partition's name.
func (p *Partition) TP() protocol.TopicPartition { return p.tp }

// Log is the replica's log (read-only use).
func (p *Partition) Log() *log.Log { return p.log }

// LEO is the log end offset.
func (p *Partition) LEO() int64 { return p.log.LogEndOffset() }

// HW is the replica's high watermark.
func (p *Partition) HW() int64 { return p.hw }

// LogStart is the log start offset.
func (p *Partition) LogStart() int64 { return p.log.LogStartOffset() }

// IsLeader reports whether this replica believes it leads the partition.
func (p *Partition) IsLeader() bool { return p.isLeader }

// Leader is the leader this replica believes in.
func (p *Partition) Leader() int32 { return p.leader }

// LeaderEpoch is the leader epoch this replica is in.
func (p *Partition) LeaderEpoch() int32 { return p.leaderEpoch }

// ISR is the committed ISR as this replica knows it.
func (p *Partition) ISR() []int32 { return p.isr }

// MaximalISR is the committed ISR plus a pending expansion (PartitionState.maximalIsr).
func (p *Partition) MaximalISR() []int32 {
	if p.pending != nil && p.pendingGrows {
		return p.pending
	}
	return p.isr
}

// LeaderEpochStartOffset is the LEO at which this leader's epoch began.
func (p *Partition) LeaderEpochStartOffset() int64 { return p.leaderEpochStartOffset }

// FollowerLEO is the leader's view of follower r's log end offset (-1 unknown).
func (p *Partition) FollowerLEO(r int32) int64 {
	for i := range p.remotes {
		if p.remotes[i].id == r {
			return p.remotes[i].leo
		}
	}
	return -1
}

func (p *Partition) inMaximalISR(r int32) bool { return slices.Contains(p.MaximalISR(), r) }

func (p *Partition) remote(r int32) *remoteReplica {
	for i := range p.remotes {
		if p.remotes[i].id == r {
			return &p.remotes[i]
		}
	}
	return nil
}

// makeLeader: Partition.makeLeader. The new epoch starts at the LEO; followers' states are
// reset (resetReplicaState): LEO unknown, caught-up time now for ISR members.
func (p *Partition) makeLeader(now time.Duration, mp *metadata.Partition) {
	p.b.stopFetching(p)
	p.started = true
	p.isLeader = true
	p.leader = p.b.id
	p.leaderEpoch = mp.LeaderEpoch
	p.partitionEpoch = mp.PartitionEpoch
	p.isr = mp.ISR
	p.pending = nil
	leo := p.log.LogEndOffset()
	p.log.AssignEpochStartOffset(mp.LeaderEpoch, leo)
	p.leaderEpochStartOffset = leo
	p.unquiet() // the sessions' quiet entries settle on the remotes about to go (fetchsession.go)
	p.remotes = p.remotes[:0]
	for _, r := range mp.Replicas {
		if r == p.b.id {
			continue
		}
		rs := remoteReplica{id: r, leo: -1, logStart: -1, brokerEpoch: -1, lastCaughtUp: never, lastFetchTime: never}
		if slices.Contains(mp.ISR, r) {
			rs.lastCaughtUp, rs.lastFetchTime = now, now
		}
		p.remotes = append(p.remotes, rs)
	}
	p.b.env.Observe(&BecameLeader{Broker: p.b.id, TP: p.tp, Epoch: p.leaderEpoch, StartOffset: leo, HW: p.hw})
	p.maybeIncrementHW(now)
	p.wakeFetches(now)
}

// makeFollower: Partition.makeFollower and the fetcher taking the partition up. With the
// default rules the follower truncates only when the leader answers a fetch with a diverging
// epoch (KIP-320 truncation on fetch); with truncation=high-watermark it truncates to its HW
// at once, as brokers did before KIP-101.
func (p *Partition) makeFollower(now time.Duration, mp *metadata.Partition) {
	wasLeader := p.isLeader
	p.b.stopFetching(p)
	p.started = true
	p.isLeader = false
	p.leader = mp.Leader
	p.leaderEpoch = mp.LeaderEpoch
	p.partitionEpoch = mp.PartitionEpoch
	p.isr = mp.ISR
	p.pending = nil
	p.unquiet() // the sessions' quiet entries settle on the remotes about to go (fetchsession.go)
	p.remotes = p.remotes[:0]
	if wasLeader {
		p.failProduces(now, protocol.NOT_LEADER_OR_FOLLOWER)
	}
	p.wakeFetches(now)
	if p.b.cfg.Truncation == config.TruncateHighWatermark {
		p.truncateTo(p.hw, "high-watermark")
	}
	p.b.env.Observe(&BecameFollower{Broker: p.b.id, TP: p.tp, Leader: mp.Leader, Epoch: mp.LeaderEpoch})
	p.backoffUntil = 0
	if mp.Leader >= 0 {
		p.b.startFetching(now, p, mp.Leader)
	}
}

// stopReplica: this broker is no longer a replica of the partition.
func (p *Partition) stopReplica(now time.Duration) {
	p.b.stopFetching(p)
	if p.isLeader {
		p.failProduces(now, protocol.NOT_LEADER_OR_FOLLOWER)
	}
	p.isLeader = false
	p.leader = protocol.NoLeader
	p.wakeFetches(now)
}

// updateRemotes: the leader's assignment changed in its own leader epoch (a reassignment added
// replicas): new followers start unknown and out of sync, replicas no longer assigned are
// forgotten (Partition.updateAssignmentAndIsr).
func (p *Partition) updateRemotes(now time.Duration, replicas []int32) {
	p.unquiet() // the sessions' quiet entries settle on the remotes about to move (fetchsession.go)
	kept := p.remotes[:0]
	for _, r := range p.remotes {
		if slices.Contains(replicas, r.id) {
			kept = append(kept, r)
		}
	}
	p.remotes = kept
	for _, r := range replicas {
		if r != p.b.id && p.remote(r) == nil {
			p.remotes = append(p.remotes, remoteReplica{id: r, leo: -1, logStart: -1, brokerEpoch: -1, lastCaughtUp: never, lastFetchTime: never})
		}
	}
	p.maybeIncrementHW(now)
}

func (p *Partition) truncateTo(offset int64, reason string) {
	leo := p.log.LogEndOffset()
	if offset >= leo {
		return
	}
	p.log.TruncateTo(offset)
	p.hw = min(p.hw, p.log.LogEndOffset())
	p.b.env.Observe(&Truncated{Broker: p.b.id, TP: p.tp, From: leo, To: p.log.LogEndOffset(), Reason: reason})
}

// updateIsr takes in an ISR committed by the controller (from the metadata log or an
// AlterPartition answer), if it is newer than what the replica has.
func (p *Partition) updateIsr(now time.Duration, isr []int32, partitionEpoch int32) {
	if partitionEpoch <= p.partitionEpoch {
		return
	}
	p.partitionEpoch = partitionEpoch
	p.isr = isr
	p.pending = nil
	if p.isLeader {
		p.maybeIncrementHW(now)
	}
}

// isCaughtUp: ReplicaState.isCaughtUp.
func (p *Partition) isCaughtUp(r *remoteReplica, leaderLEO int64, now time.Duration) bool {
	return r.leo == leaderLEO || now-r.lastCaughtUp <= p.b.cfg.ReplicaLagTimeMax
}

// maybeShrinkIsr removes followers that have not caught up within replica.lag.time.max.ms.
func (p *Partition) maybeShrinkIsr(now time.Duration) {
	p.unquiet() // the followers' fetch times settle (fetchSession.settle)
	if p.pending != nil {
		return
	}
	leo := p.log.LogEndOffset()
	var out []int32
	for _, id := range p.isr {
		if id == p.b.id {
			continue
		}
		if r := p.remote(id); r != nil && !p.isCaughtUp(r, leo, now) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return
	}
	newIsr := make([]int32, 0, len(p.isr))
	for _, id := range p.isr {
		if !slices.Contains(out, id) {
			newIsr = append(newIsr, id)
		}
	}
	p.proposeIsr(now, newIsr, false)
}

// maybeExpandIsr adds a follower that reached the HW and the start of this leader's epoch
// (Partition.maybeExpandIsr, Partition.isFollowerInSync). The epoch-start condition is
// KAFKA-7128's fix: a new leader's HW may lag records committed under the old leader, and a
// follower admitted at that HW could be elected without them. protocol
// isr.expansion=high-watermark brings the old rule back.
func (p *Partition) maybeExpandIsr(now time.Duration, r *remoteReplica) {
	if p.pending != nil || slices.Contains(p.isr, r.id) {
		return
	}
	if !p.b.eligible(r.id, r.brokerEpoch) {
		return
	}
	if r.leo < p.hw || (r.leo < p.leaderEpochStartOffset && p.b.cfg.IsrExpansion != config.ExpandAtHighWatermark) {
		return
	}
	newIsr := append(slices.Clone(p.isr), r.id)
	p.proposeIsr(now, newIsr, true)
}

func (p *Partition) proposeIsr(now time.Duration, isr []int32, grows bool) {
	c := p.b.activeController()
	if c < 0 || !p.b.lifecycle.registered() {
		return
	}
	corr := p.b.nextCorr()
	p.pending, p.pendingCorr, p.pendingGrows = isr, corr, grows
	states := make([]protocol.BrokerState, len(isr))
	for i, id := range isr {
		states[i] = protocol.BrokerState{BrokerID: id, BrokerEpoch: -1}
		if id == p.b.id {
			states[i].BrokerEpoch = p.b.lifecycle.epoch
		} else if r := p.remote(id); r != nil {
			states[i].BrokerEpoch = r.brokerEpoch
		}
	}
	p.b.alters[corr] = p
	p.b.env.Send(c, &protocol.AlterPartitionRequest{
		CorrelationID: corr, BrokerID: p.b.id, BrokerEpoch: p.b.lifecycle.epoch,
		// LeaderRecoveryState 0, RECOVERED: Partition.makeLeader clears RECOVERING (KIP-704),
		// so a leader's AlterPartition tells the controller it has recovered.
		Partitions: []protocol.AlterPartitionItem{{TP: p.tp, LeaderEpoch: p.leaderEpoch, PartitionEpoch: p.partitionEpoch, NewISR: states, LeaderRecoveryState: 0}},
	})
	p.b.env.After(p.b.cfg.ControllerQuorumRequestTimeout, timer{kind: tickAlterTimeout, key: corr})
	p.b.env.Observe(&IsrProposed{Broker: p.b.id, TP: p.tp, ISR: isr, Expand: grows})
	if grows {
		p.maybeIncrementHW(now) // an expansion counts at once (maximal ISR)
	}
}

// alterFailed reverts to the committed ISR (the controller refused, or no answer came).
func (p *Partition) alterFailed(now time.Duration, corr int64) {
	if p.pending != nil && p.pendingCorr == corr {
		p.pending = nil
		if p.isLeader {
			p.maybeIncrementHW(now)
		}
	}
}

func (b *Broker) handleAlterPartition(now time.Duration, m *protocol.AlterPartitionResponse) {
	p := b.alters[m.CorrelationID]
	if p == nil {
		return
	}
	delete(b.alters, m.CorrelationID)
	if m.Error != protocol.NONE || len(m.Partitions) == 0 {
		p.alterFailed(now, m.CorrelationID)
		return
	}
	r := m.Partitions[0]
	if r.Error != protocol.NONE || r.LeaderEpoch != p.leaderEpoch {
		p.alterFailed(now, m.CorrelationID)
		return
	}
	if p.pendingCorr == m.CorrelationID {
		p.pending = nil
	}
	p.updateIsr(now, r.ISR, r.PartitionEpoch)
}

// effectiveMinIsr: Partition.effectiveMinIsr (KAFKA-15583): min.insync.replicas may exceed
// the replication factor; the smaller of the two applies.
func (p *Partition) effectiveMinIsr() int {
	return min(p.cfg.MinInsyncReplicas, max(len(p.replicas), 1))
}

// maybeIncrementHW: Partition.maybeIncrementLeaderHW. With strict min ISR (KAFKA-15583,
// Kafka 3.7) the HW does not move while the committed ISR is smaller than the effective
// min.insync.replicas.
func (p *Partition) maybeIncrementHW(now time.Duration) {
	p.unquiet() // every leader append, ISR and replica change calls here first (fetchsession.go)
	if !p.isLeader {
		return
	}
	if p.b.cfg.StrictMinISR && len(p.isr) < p.effectiveMinIsr() {
		return
	}
	leo := p.log.LogEndOffset()
	newHW := leo
	if p.b.cfg.Bugs.HWPastLEO {
		newHW = leo + 1 // planted bug
	}
	for i := range p.remotes {
		r := &p.remotes[i]
		if r.leo < newHW && (p.inMaximalISR(r.id) || (p.isCaughtUp(r, leo, now) && p.b.eligible(r.id, r.brokerEpoch))) {
			newHW = r.leo
		}
	}
	if p.b.cfg.Bugs.HWRegress {
		// Planted bug: the HW over every replica with a known LEO, in sync or not, taken even
		// when lower. Kafka only ever moves the leader's HW forward.
		for i := range p.remotes {
			if r := &p.remotes[i]; r.leo >= 0 && r.leo < newHW {
				newHW = r.leo
			}
		}
		if newHW < p.hw {
			p.hw = newHW
			return
		}
	}
	if newHW > p.hw {
		p.hw = newHW
		p.b.coordinatorHighWatermark(now, p)
		p.completeProduces(now)
		p.wakeFetches(now)
	}
}

// updateFollowerFetchState: Replica.updateFetchStateOrThrow after a fetch without
// divergence, then ISR expansion and HW advancement.
func (p *Partition) updateFollowerFetchState(now time.Duration, r *remoteReplica, fetchOffset, logStart, leaderLEO int64, brokerEpoch int64) {
	if fetchOffset >= leaderLEO {
		r.lastCaughtUp = max(r.lastCaughtUp, now)
	} else if fetchOffset >= r.lastFetchLeaderLEO {
		r.lastCaughtUp = max(r.lastCaughtUp, r.lastFetchTime)
	}
	r.lastFetchLeaderLEO = leaderLEO
	r.lastFetchTime = now
	r.leo = fetchOffset
	r.logStart = logStart
	r.brokerEpoch = brokerEpoch
	p.maybeExpandIsr(now, r)
	p.maybeIncrementHW(now)
}

// cleanUp is the log's periodic clean-up on the retention tick: retention (cleanup.policy=delete,
// UnifiedLog.deleteOldSegments) below limit, then compaction (cleanup.policy=compact, the
// LogCleaner's pass over this log) below the HW. Every replica cleans its own log, as in Kafka.
func (p *Partition) cleanUp(now time.Duration, limit int64) {
	p.log.DeleteOldSegments(now, limit)
	p.log.Clean(now, p.hw, log.CleanerBugs{DropLatest: p.b.cfg.Bugs.CleanerDropsLatest, DropTombstones: p.b.cfg.Bugs.CleanerDropsTombstones})
	p.unquiet() // the log start may have moved (fetchsession.go)
	p.b.staleFetch(p)
}
