package broker

import (
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the produce path (KafkaApis.handleProduceRequest, Partition.appendRecordsToLeader
// and DelayedProduce).
// acks=all with a committed ISR below min.insync.replicas is refused before the append
// (NOT_ENOUGH_REPLICAS); otherwise the batch is appended with the leader epoch and, for acks=all,
// parked until the HW passes it. It then completes with NONE, or with
// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the maximal ISR has meanwhile fallen below
// min.insync.replicas; with REQUEST_TIMED_OUT when the request's timeout passes first; with
// NOT_LEADER_OR_FOLLOWER when leadership is lost. An idempotent duplicate is answered with the
// original offsets and, for acks=all, waits for those. An acks=0 request that fails is
// answered by closing the client's connection.
//
// A client's produce requests are handled one at a time, in the order they came: Kafka's
// SocketServer mutes a connection when it reads a request and unmutes it when the response is
// sent, so a request waiting in produce purgatory holds back the next one from the same client
// ("the broker's request processing allows only a single in-flight request per connection",
// the protocol guide), and responses return in request order. The next request is read only
// then; when the client closes the connection (a request timed out), the requests it had
// pipelined behind are never read.

// connectionCloser is the machine's way to close a client's connection (sim.Host).
type connectionCloser interface{ CloseConnection(peer int32) }

type delayedProduce struct {
	id        int64
	client    int32
	conn      *clientConn // the connection it came on
	corr      int64
	parts     []produceStatus
	remaining int
	done      bool
	// answer, when set, replaces the ProduceResponse: a WriteTxnMarkers append waiting for
	// acks=all (handleWriteTxnMarkers, txns.go).
	answer func(dp *delayedProduce)
	// resp, when set, is room for the answer made with the delayedProduce (newDelayedProduce).
	resp *protocol.ProduceResponse
}

type produceStatus struct {
	tp         protocol.TopicPartition
	err        protocol.ErrorCode
	baseOffset int64
	required   int64 // the HW that completes it: last offset + 1
	logStart   int64
	done       bool
}

// clientConn is a client's connection as the broker's SocketServer.Processor keeps it: muted
// while a request of it is being handled, the requests read after that one waiting their turn.
type clientConn struct {
	muted   bool
	waiting []*protocol.ProduceRequest
}

// handleProduce takes a ProduceRequest off a client's connection: handled now, or after the
// request being handled on that connection is answered.
func (b *Broker) handleProduce(now time.Duration, from int32, m *protocol.ProduceRequest) {
	c := b.conns[from]
	if c == nil {
		c = &clientConn{}
		b.conns[from] = c
	}
	if c.muted {
		c.waiting = append(c.waiting, m)
		return
	}
	b.processProduce(now, from, c, m)
}

// unmuteConnections handles the requests that waited on connections whose request was answered
// during this step (SocketServer's processCompletedSends, then the next read).
func (b *Broker) unmuteConnections(now time.Duration) {
	for len(b.unmuted) > 0 {
		from := b.unmuted[0]
		b.unmuted = b.unmuted[1:]
		c := b.conns[from]
		for c != nil && !c.muted && len(c.waiting) > 0 && !b.halted {
			m := c.waiting[0]
			c.waiting = c.waiting[1:]
			b.processProduce(now, from, c, m)
		}
	}
}

// closeConnection forgets a client's connection: the requests waiting on it are never read and
// the response to the one being handled has nowhere to go.
func (b *Broker) closeConnection(peer int32) {
	delete(b.conns, peer)
}

func (b *Broker) processProduce(now time.Duration, from int32, c *clientConn, m *protocol.ProduceRequest) {
	if b.addPartitionsFirst(now, from, c, m) {
		return // held until the leader has added the partitions to the transaction (txns.go)
	}
	dp := newDelayedProduce(len(m.Partitions))
	dp.client, dp.conn, dp.corr = from, c, m.CorrelationID
	for i, pp := range m.Partitions {
		st := &dp.parts[i]
		st.tp = pp.TP
		st.baseOffset = -1
		p := b.parts[pp.TP]
		switch {
		case p == nil || !p.isLeader:
			st.err, st.done = protocol.NOT_LEADER_OR_FOLLOWER, true
		case m.Acks != protocol.AcksAll && m.Acks != protocol.AcksNone && m.Acks != protocol.AcksLeader:
			st.err, st.done = protocol.INVALID_REQUIRED_ACKS, true
		case m.Acks == protocol.AcksAll && len(p.isr) < p.effectiveMinIsr():
			st.err, st.done = protocol.NOT_ENOUGH_REPLICAS, true
		default:
			appended, base, dup, code := p.log.AppendAsLeader(pp.Batch, p.leaderEpoch, now)
			st.logStart = p.log.LogStartOffset()
			if code != protocol.NONE {
				st.err, st.done = code, true
				break
			}
			st.baseOffset = base
			st.required = base + pp.Batch.Count()
			if m.Acks != protocol.AcksAll {
				st.done = true
			}
			if appended != nil && !dup {
				p.maybeIncrementHW(now) // the ISR could be just the leader
				p.wakeFetches(now)
			}
			if !st.done {
				if p.hw >= st.required {
					p.finishStatus(st)
				} else {
					p.produceWaiters = append(p.produceWaiters, dp)
				}
			}
		}
		if !st.done {
			dp.remaining++
		}
	}
	if m.Acks == protocol.AcksNone {
		// KafkaApis.handleProduceRequest: an acks=0 request has no response to carry an error,
		// so the broker closes the connection; the client then refreshes its metadata.
		for i := range dp.parts {
			if dp.parts[i].err != protocol.NONE {
				if c, ok := b.env.(connectionCloser); ok {
					c.CloseConnection(from)
				}
				break
			}
		}
		return
	}
	c.muted = true
	if dp.remaining == 0 {
		b.respondProduce(dp)
		return
	}
	b.delayedSeq++
	dp.id = b.delayedSeq
	b.expireProduceAt(now, now+m.Timeout, dp)
}

// finishStatus completes an acks=all partition whose HW has passed it
// (checkEnoughReplicasReachOffset).
func (p *Partition) finishStatus(st *produceStatus) {
	st.done = true
	if len(p.MaximalISR()) < p.effectiveMinIsr() {
		st.err = protocol.NOT_ENOUGH_REPLICAS_AFTER_APPEND
	}
}

// completeProduces re-checks the parked acks=all requests after the HW moved.
func (p *Partition) completeProduces(now time.Duration) {
	if len(p.produceWaiters) == 0 {
		return
	}
	kept := p.produceWaiters[:0]
	for _, dp := range p.produceWaiters {
		if dp.done {
			continue
		}
		waiting := false
		for i := range dp.parts {
			st := &dp.parts[i]
			if st.done || st.tp != p.tp {
				continue
			}
			if p.hw >= st.required {
				p.finishStatus(st)
				dp.remaining--
			} else {
				waiting = true
			}
		}
		if dp.remaining == 0 {
			p.b.respondProduce(dp)
		} else if waiting {
			kept = append(kept, dp)
		}
	}
	clear(p.produceWaiters[len(kept):])
	p.produceWaiters = kept
}

// failProduces ends every parked request of this partition with code (leadership lost).
func (p *Partition) failProduces(now time.Duration, code protocol.ErrorCode) {
	for _, dp := range p.produceWaiters {
		if dp.done {
			continue
		}
		for i := range dp.parts {
			st := &dp.parts[i]
			if !st.done && st.tp == p.tp {
				st.done, st.err = true, code
				dp.remaining--
			}
		}
		if dp.remaining == 0 {
			p.b.respondProduce(dp)
		}
	}
	clear(p.produceWaiters)
	p.produceWaiters = p.produceWaiters[:0]
}

func (b *Broker) expireDelayedProduce(now time.Duration, dp *delayedProduce) {
	if dp.done {
		return
	}
	for i := range dp.parts {
		if st := &dp.parts[i]; !st.done {
			st.done, st.err = true, protocol.REQUEST_TIMED_OUT
		}
	}
	dp.remaining = 0
	b.respondProduce(dp)
}

func (b *Broker) respondProduce(dp *delayedProduce) {
	if dp.done {
		return
	}
	dp.done = true
	if dp.answer != nil {
		dp.answer(dp)
		return
	}
	if b.conns[dp.client] != dp.conn {
		return // the client closed the connection
	}
	dp.conn.muted = false
	if len(dp.conn.waiting) > 0 {
		b.unmuted = append(b.unmuted, dp.client)
	}
	resp := dp.resp
	if resp == nil {
		resp = &protocol.ProduceResponse{Partitions: make([]protocol.ProducePartitionResponse, len(dp.parts))}
	}
	resp.CorrelationID = dp.corr
	for i, st := range dp.parts {
		r := protocol.ProducePartitionResponse{TP: st.tp, Error: st.err, BaseOffset: st.baseOffset, LogStartOffset: st.logStart,
			CurrentLeader: protocol.NoLeader, CurrentLeaderEp: protocol.UnknownEpoch}
		if st.err != protocol.NONE && st.err != protocol.NOT_ENOUGH_REPLICAS_AFTER_APPEND {
			r.BaseOffset = -1
		}
		if st.err == protocol.NOT_LEADER_OR_FOLLOWER {
			if mp := b.image.Partition(st.tp.Topic, st.tp.Partition); mp != nil {
				r.CurrentLeader, r.CurrentLeaderEp = mp.Leader, mp.LeaderEpoch
			}
		}
		resp.Partitions[i] = r
	}
	b.env.Send(dp.client, resp)
}

// newDelayedProduce makes a delayedProduce for n partitions, in one allocation with its answer
// when n is 1 (a producer sends one partition per leader, usually one per request). The
// answer is sent once, when the delayedProduce is done, and never touched again.
func newDelayedProduce(n int) *delayedProduce {
	if n == 1 {
		d := &struct {
			dp      delayedProduce
			one     [1]produceStatus
			resp    protocol.ProduceResponse
			oneResp [1]protocol.ProducePartitionResponse
		}{}
		d.dp.parts, d.dp.resp, d.resp.Partitions = d.one[:], &d.resp, d.oneResp[:]
		return &d.dp
	}
	return &delayedProduce{parts: make([]produceStatus, n)}
}
