package broker

import (
	"time"

	"kafkasim/broker/protocol"
)

// producerIDs hands out producer ids to InitProducerId requests from blocks the active
// controller allocates (KIP-730, Kafka's RPCProducerIdManager). When the block is used up the
// requests wait while one AllocateProducerIds is in flight; if no block comes within the
// controller request timeout they fail with COORDINATOR_NOT_AVAILABLE and the producers retry.
type producerIDs struct {
	next, end int64 // the current block: ids [next, end)
	requested bool  // an AllocateProducerIds is in flight
	sent      time.Duration
	waiters   []pidWaiter
}

type pidWaiter struct {
	from int32
	corr int64
}

// take returns the next id of the current block; false if it is used up.
func (p *producerIDs) take() (int64, bool) {
	if p.next >= p.end {
		return 0, false
	}
	id := p.next
	p.next++
	return id, true
}

func (b *Broker) handleInitProducerId(now time.Duration, from int32, m *protocol.InitProducerIdRequest) {
	if id, ok := b.pids.take(); ok {
		b.env.Send(from, &protocol.InitProducerIdResponse{CorrelationID: m.CorrelationID, ProducerID: id})
		return
	}
	b.pids.waiters = append(b.pids.waiters, pidWaiter{from: from, corr: m.CorrelationID})
	if !b.pids.requested {
		if c := b.activeController(); c >= 0 && b.lifecycle.registered() {
			b.pids.requested, b.pids.sent = true, now
			b.env.Send(c, &protocol.AllocateProducerIdsRequest{CorrelationID: b.nextCorr(), BrokerID: b.id, BrokerEpoch: b.lifecycle.epoch})
		} else {
			b.failPidWaiters(protocol.COORDINATOR_NOT_AVAILABLE)
		}
	}
}

// expireProducerIDRequest, at every heartbeat tick: a block that never came lets the waiting
// producers retry.
func (b *Broker) expireProducerIDRequest(now time.Duration) {
	if b.pids.requested && now-b.pids.sent >= b.cfg.ControllerQuorumRequestTimeout {
		b.pids.requested = false
		b.failPidWaiters(protocol.COORDINATOR_NOT_AVAILABLE)
	}
}

func (b *Broker) failPidWaiters(code protocol.ErrorCode) {
	for _, w := range b.pids.waiters {
		b.env.Send(w.from, &protocol.InitProducerIdResponse{CorrelationID: w.corr, Error: code, ProducerID: protocol.NoProducerID})
	}
	b.pids.waiters = b.pids.waiters[:0]
}

func (b *Broker) handleAllocateProducerIds(now time.Duration, m *protocol.AllocateProducerIdsResponse) {
	b.pids.requested = false
	if m.Error != protocol.NONE {
		b.failPidWaiters(m.Error)
		return
	}
	b.pids.next, b.pids.end = m.ProducerIDStart, m.ProducerIDStart+int64(m.ProducerIDLen)
	ws := b.pids.waiters
	b.pids.waiters = nil
	for _, w := range ws {
		b.handleInitProducerId(now, w.from, &protocol.InitProducerIdRequest{CorrelationID: w.corr})
	}
}
