package broker

import (
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// Behavior: replication throttles (KIP-73). A broker keeps two ReplicationQuotaManagers, one
// for the bytes it sends as a leader and one for the bytes it fetches as a follower, each a
// SimpleRate over
// replication.quota.window.num (11) samples of replication.quota.window.size.seconds (1 s).
// The replica fetcher leaves a partition out of its fetch when shouldFollowerThrottle holds
// (RemoteLeaderEndPoint.buildFetch): the replica is not in sync (its last fetch left it below
// the leader's HW), it is listed in follower.replication.throttled.replicas for this broker,
// and the measured rate is above follower.replication.throttled.rate. Every fetch of a throttled
// partition records its bytes (ReplicaFetcherThread.processPartitionData). A partition left
// out is tried again after replica.fetch.backoff.ms, as the fetcher thread waits when its
// fetch is empty.
//
// The leader answers a follower's fetch of a partition with no records when
// ReplicaManager.shouldLeaderThrottle holds: the follower is not in the ISR, the replica is
// listed in leader.replication.throttled.replicas for this broker, and the leader's rate is
// above leader.replication.throttled.rate; such a partition does not complete a delayed fetch
// either (DelayedFetch.tryComplete), so the answer waits for replica.fetch.wait.max.ms. The
// bytes sent of throttled partitions are recorded (KafkaApis.sizeOfThrottledPartitions).

const (
	quotaSamples = 11          // replication.quota.window.num
	quotaWindow  = time.Second // replication.quota.window.size.seconds
)

// quotaSample is SampledStat.Sample.
type quotaSample struct {
	start, lastEvent time.Duration
	bytes            int64
}

// replicationQuota is ReplicationQuotaManager's sensor: a SimpleRate of bytes per second.
type replicationQuota struct {
	samples []quotaSample // up to quotaSamples+1 (SampledStat keeps one overlapping sample)
	current int

	// inSync is PartitionFetchState.isReplicaInSync per throttled partition: the last fetch
	// left the follower's LEO at or above the leader's HW. A partition not yet fetched is not.
	inSync map[protocol.TopicPartition]bool
	// throttled marks the partitions held back now, so that the trace shows the start and the
	// end of a hold, not every check.
	throttled map[protocol.TopicPartition]bool // held is the leader's last judgement of each follower replica it throttles.
	held      map[heldReplica]bool
}

func (q *replicationQuota) cur(now time.Duration) *quotaSample {
	if len(q.samples) == 0 {
		q.samples = append(q.samples, quotaSample{start: now, lastEvent: now})
	}
	return &q.samples[q.current]
}

// record is SampledStat.record: a sample is complete after one window; the next one reuses the
// oldest slot.
func (q *replicationQuota) record(now time.Duration, bytes int64) {
	s := q.cur(now)
	if now-s.start >= quotaWindow {
		q.current = (q.current + 1) % (quotaSamples + 1)
		if q.current >= len(q.samples) {
			q.samples = append(q.samples, quotaSample{})
		}
		s = &q.samples[q.current]
		*s = quotaSample{start: now, lastEvent: now}
	}
	s.bytes += bytes
	s.lastEvent = now
}

// rate is SimpleRate.measure: the bytes of the samples still in the window over the time since
// the oldest began, at least one window.
func (q *replicationQuota) rate(now time.Duration) float64 {
	q.cur(now)
	oldest := now
	total := int64(0)
	for i := range q.samples {
		s := &q.samples[i]
		if now-s.lastEvent >= quotaSamples*quotaWindow { // purgeObsoleteSamples
			*s = quotaSample{start: now, lastEvent: now}
		}
		total += s.bytes
		oldest = min(oldest, s.start)
	}
	elapsed := max(now-oldest, quotaWindow)
	return float64(total) / elapsed.Seconds()
}

// exceeded is isQuotaExceeded: the rate is above the bound (0: no bound).
func (q *replicationQuota) exceeded(now time.Duration, bound int64) bool {
	return bound > 0 && q.rate(now) > float64(bound)
}

// shouldLeaderThrottle is ReplicaManager.shouldLeaderThrottle for follower replica's fetch of p
// (replica < 0: a consumer, never throttled).
func (b *Broker) shouldLeaderThrottle(now time.Duration, p *Partition, replica int32) bool {
	if replica < 0 || !b.leaderThrottled(p) || slices.Contains(p.isr, replica) {
		return false
	}
	held := b.leaderQuota.exceeded(now, p.cfg.Throttle.LeaderRate)
	if b.leaderQuota.held == nil {
		b.leaderQuota.held = map[heldReplica]bool{}
	}
	b.leaderQuota.held[heldReplica{p.tp, replica}] = held
	return held
}

// heldReplica is a follower's replica whose fetches the leader's quota judged.
type heldReplica struct {
	tp      protocol.TopicPartition
	replica int32
}

// LeaderThrottles reports whether this broker, leading tp, answered follower replica's last
// fetch of it with no records because of its replication quota.
func (b *Broker) LeaderThrottles(tp protocol.TopicPartition, replica int32) bool {
	p := b.parts[tp]
	return p != nil && p.isLeader && b.leaderQuota.held[heldReplica{tp, replica}] && !slices.Contains(p.isr, replica)
}

// leaderSent records the bytes of a throttled partition sent to follower replica.
func (b *Broker) leaderSent(now time.Duration, p *Partition, replica int32, batches []*protocol.RecordBatch) {
	if replica < 0 || len(batches) == 0 || !b.leaderThrottled(p) {
		return
	}
	n := int64(0)
	for _, bt := range batches {
		n += bt.SizeBytes()
	}
	b.leaderQuota.record(now, n)
}

// leaderThrottled is ReplicationQuotaManager.isThrottled for this broker as a leader.
func (b *Broker) leaderThrottled(p *Partition) bool {
	t := p.cfg.Throttle
	return t.LeaderRate > 0 && config.Throttled(t.LeaderReplicas, p.tp.Partition, b.id)
}

// followerThrottled is ReplicationQuotaManager.isThrottled for this broker as a follower.
func (b *Broker) followerThrottled(p *Partition) bool {
	t := p.cfg.Throttle
	return t.FollowerRate > 0 && config.Throttled(t.FollowerReplicas, p.tp.Partition, b.id)
}

// throttleFollower holds p back from the next fetch when shouldFollowerThrottle holds. The
// fetcher (fetcher.go) calls it for every partition it is about to fetch.
func (b *Broker) throttleFollower(now time.Duration, p *Partition) {
	q := &b.followerQuota
	if p.backoffUntil > now || !b.followerThrottled(p) || q.inSync[p.tp] {
		q.setThrottled(b, p, false, 0)
		return
	}
	if !q.exceeded(now, p.cfg.Throttle.FollowerRate) {
		q.setThrottled(b, p, false, 0)
		return
	}
	p.backoffUntil = now + b.cfg.ReplicaFetchBackoff
	q.setThrottled(b, p, true, int64(q.rate(now)))
}

func (q *replicationQuota) setThrottled(b *Broker, p *Partition, on bool, rate int64) {
	if q.throttled[p.tp] == on {
		return
	}
	if q.throttled == nil {
		q.throttled = map[protocol.TopicPartition]bool{}
	}
	q.throttled[p.tp] = on
	b.env.Observe(&ReplicationThrottled{Broker: b.id, TP: p.tp, Throttled: on, Rate: rate, Bound: p.cfg.Throttle.FollowerRate})
}

// ReplicationThrottled reports whether the replication throttle holds this broker's replica of tp
// back from its fetches now.
func (b *Broker) ReplicationThrottled(tp protocol.TopicPartition) bool {
	return b.followerQuota.throttled[tp]
}

// followerFetched records a fetch answer of p: its bytes when p is throttled, and whether the
// follower is now in sync (AbstractFetcherThread: lag = leader HW - next fetch offset).
func (b *Broker) followerFetched(now time.Duration, p *Partition, r *protocol.FetchPartitionResponse) {
	if !b.followerThrottled(p) {
		return
	}
	q := &b.followerQuota
	n := int64(0)
	for _, bt := range r.Batches {
		n += bt.SizeBytes()
	}
	q.record(now, n)
	if q.inSync == nil {
		q.inSync = map[protocol.TopicPartition]bool{}
	}
	q.inSync[p.tp] = r.HighWatermark <= p.log.LogEndOffset()
}

// replicaFetchMaxBytes is replica.fetch.max.bytes: what a follower asks of one partition.
func (b *Broker) replicaFetchMaxBytes() int32 {
	if n := b.cfg.ReplicaFetchMaxBytes; n > 0 && n < maxFetchBytes {
		return int32(n)
	}
	return maxFetchBytes
}

// partitionMaxBytes is what the leader reads of one partition for fetch m: the request's bound
// when below maxFetchBytes (a follower's replica.fetch.max.bytes), at least one batch.
func partitionMaxBytes(m *protocol.FetchRequest) int {
	if m.MaxBytes > 0 && m.MaxBytes < maxFetchBytes {
		return int(m.MaxBytes)
	}
	return maxFetchBytes
}

// ReplicationThrottled: the follower's replication quota starts (Throttled) or stops holding
// back its fetches of TP. Rate is the measured rate and Bound follower.replication.throttled.rate,
// both in bytes per second.
type ReplicationThrottled struct {
	Broker      int32
	TP          protocol.TopicPartition
	Throttled   bool
	Rate, Bound int64
}
