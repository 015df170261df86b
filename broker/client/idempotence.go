package client

import (
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// Producer id states.
const (
	pidNone = iota
	pidRequesting
	pidReady
)

// transactionManager is the idempotent producer's state (the idempotence part of Java's
// TransactionManager, KIP-98 and KIP-360): the producer id and epoch from InitProducerId, the
// next sequence per partition, and the batches holding a sequence that is not resolved yet.
// Without enable.idempotence it stays empty and never holds the sender back.
type transactionManager struct {
	enabled bool
	state   int
	pid     int64
	epoch   int16
	corr    int64         // InitProducerId in flight
	to      int32         // the broker it went to
	after   time.Duration // no new InitProducerId before (retry.backoff.ms after an error)

	nextSeq     []int32     // per partition
	outstanding [][]*pbatch // per partition: batches holding a sequence, not done
}

func newTransactionManager(cfg *config.Producer) transactionManager {
	return transactionManager{enabled: cfg.EnableIdempotence, pid: protocol.NoProducerID, epoch: -1}
}

// grow adds sequence state for partitions metadata newly learnt of.
func (t *transactionManager) grow(n int) {
	for len(t.nextSeq) < n {
		t.outstanding = append(t.outstanding, nil)
		t.nextSeq = append(t.nextSeq, 0)
	}
}

// ready reports whether batches may be sent: idempotence off, or a producer id in hand.
func (t *transactionManager) ready() bool { return !t.enabled || t.state == pidReady }

// maybeInit sends InitProducerId when idempotence wants a producer id and none is asked for.
func (t *transactionManager) maybeInit(now time.Duration, net *netClient, meta *topicMeta, timeout time.Duration) {
	if !t.enabled || t.state != pidNone {
		return
	}
	if now < t.after {
		net.w.at(net.env, now, t.after)
	} else if to := meta.pick(net.env, t.to); to >= 0 {
		net.corr++
		t.corr, t.to, t.state = net.corr, to, pidRequesting
		net.env.Send(to, &protocol.InitProducerIdRequest{CorrelationID: net.corr, ProducerID: t.pid, ProducerEpoch: t.epoch})
		net.tmo.add(net.env, now, timeout, net.corr)
	}
}

// requesting reports whether InitProducerId is in flight to peer.
func (t *transactionManager) requesting(peer int32) bool {
	return t.state == pidRequesting && t.to == peer
}

// timedOut handles the timeout of request corr; it reports whether corr was ours.
func (t *transactionManager) timedOut(corr int64) bool {
	if corr != t.corr || t.state != pidRequesting {
		return false
	}
	t.state, t.corr = pidNone, 0
	return true
}

// onInitProducerID takes the producer id and epoch; sequences restart at 0. It reports whether
// the error asks for fresh metadata.
func (t *transactionManager) onInitProducerID(now, backoff time.Duration, r *protocol.InitProducerIdResponse) (refresh bool) {
	if r.CorrelationID != t.corr || t.state != pidRequesting {
		return false
	}
	t.corr = 0
	if r.Error != protocol.NONE {
		t.state, t.after = pidNone, now+backoff
		return r.Error.RefreshesMetadata()
	}
	t.pid, t.epoch, t.state = r.ProducerID, r.ProducerEpoch, pidReady
	for i := range t.nextSeq {
		t.nextSeq[i] = 0
	}
	return false
}

// bumpEpoch asks for a new producer epoch; batches not yet answered keep theirs and get new
// sequences when drained again.
func (t *transactionManager) bumpEpoch() {
	if t.state == pidReady {
		t.state = pidNone
	}
}

// stale reports whether b was given its sequence under another producer id or epoch.
func (t *transactionManager) stale(b *pbatch) bool { return b.pid != t.pid || b.pepoch != t.epoch }

// assignSequence gives b the next sequence of its partition on its first drain, or again after
// the producer epoch changed (sequences restart at 0 with a new epoch); retries within an epoch
// keep theirs. It reports whether b got a new one.
func (t *transactionManager) assignSequence(b *pbatch) bool {
	if !t.enabled || (b.seq >= 0 && !t.stale(b)) {
		return false
	}
	t.drop(b)
	b.pid, b.pepoch, b.seq = t.pid, t.epoch, t.nextSeq[b.part]
	t.nextSeq[b.part] += int32(len(b.records))
	t.outstanding[b.part] = append(t.outstanding[b.part], b)
	return true
}

// lostSequence reports whether b may already be in the log under an older producer epoch:
// resent under the new one it would not be recognised as a duplicate (the broker deduplicates
// per producer id and epoch, ProducerStateManager), so it must end with an unknown outcome.
func (t *transactionManager) lostSequence(b *pbatch) bool {
	return t.enabled && b.landed && b.seq >= 0 && t.stale(b)
}

// waitsForEarlier holds back a retried idempotent batch while a batch with a lower sequence
// is still in flight (Java drains a retry only as the first in-flight batch of its partition).
func (t *transactionManager) waitsForEarlier(b *pbatch) bool {
	if !b.sent || b.seq < 0 || t.stale(b) {
		return false
	}
	for _, o := range t.outstanding[b.part] {
		if o != b && o.inflight && o.pid == b.pid && o.pepoch == b.pepoch && o.seq < b.seq {
			return true
		}
	}
	return false
}

// earlierUnresolved reports whether a batch with a lower sequence than b's is not done.
func (t *transactionManager) earlierUnresolved(b *pbatch) bool {
	for _, o := range t.outstanding[b.part] {
		if o != b && o.pid == b.pid && o.pepoch == b.pepoch && o.seq < b.seq {
			return true
		}
	}
	return false
}

// drop forgets b's sequence (b is done, or gets a new one).
func (t *transactionManager) drop(b *pbatch) {
	if b.part < 0 || int(b.part) >= len(t.outstanding) {
		return
	}
	o := t.outstanding[b.part]
	for i := range o {
		if o[i] == b {
			t.outstanding[b.part] = append(o[:i], o[i+1:]...)
			return
		}
	}
}
