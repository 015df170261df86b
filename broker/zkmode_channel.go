package broker

import (
	"maps"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// The ZooKeeper-era controller's channel to the brokers (ControllerChannelManager): one queue
// per broker, drained by its RequestSendThread one request at a time. A request waits for its
// answer up to controller.socket.timeout.ms; unanswered (the broker is cut off, paused or
// dead), the thread closes the connection, backs off 100 ms and sends the same request again,
// until it is answered or the broker leaves the controller's live brokers (removeBroker).
// Requests to one broker therefore arrive in order, each after the one before was answered.
// A resigning controller drops every queue.

// zkChannelBackoff is RequestSendThread's backoff before it sends again.
const zkChannelBackoff = 100 * time.Millisecond

// zkChannel is one broker's queue.
type zkChannel struct {
	queue    []any // LeaderAndIsr, UpdateMetadata and StopReplica requests
	inFlight bool
	corr     int64 // the correlation id of the request in flight
	sends    int   // how many times it has been sent
}

// zkChannelTimeout fires controller.socket.timeout.ms after a send.
type zkChannelTimeout struct {
	broker int32
	corr   int64
	sends  int
	gen    int64
}

// zkChannelResend fires after the backoff.
type zkChannelResend struct {
	broker int32
	corr   int64
	gen    int64
}

// ControllerRequestTimedOut: the controller's request to a broker went unanswered for
// controller.socket.timeout.ms; it is sent again.
type ControllerRequestTimedOut struct {
	Controller int32
	Broker     int32
	Sends      int
}

// TraceArg puts the broker in the trace.
func (e *ControllerRequestTimedOut) TraceArg() int64 { return int64(e.Broker) }

func corrOf(req any) int64 {
	switch r := req.(type) {
	case *protocol.LeaderAndIsrRequest:
		return r.CorrelationID
	case *protocol.UpdateMetadataRequest:
		return r.CorrelationID
	case *protocol.StopReplicaRequest:
		return r.CorrelationID
	}
	return 0
}

// channelSend queues a request for broker id (ControllerChannelManager.sendRequest).
func (c *zkController) channelSend(id int32, req any) {
	if c.channels == nil {
		c.channels = map[int32]*zkChannel{}
	}
	ch := c.channels[id]
	if ch == nil {
		ch = &zkChannel{}
		c.channels[id] = ch
	}
	ch.queue = append(ch.queue, req)
	if !ch.inFlight {
		c.channelTransmit(id, ch)
	}
}

// channelTransmit sends the head of the queue and arms its timeout.
func (c *zkController) channelTransmit(id int32, ch *zkChannel) {
	if len(ch.queue) == 0 {
		ch.inFlight = false
		return
	}
	req := ch.queue[0]
	ch.inFlight, ch.corr = true, corrOf(req)
	ch.sends++
	c.b.env.Send(id, req)
	c.b.env.After(c.b.cfg.ControllerSocketTimeout, zkChannelTimeout{broker: id, corr: ch.corr, sends: ch.sends, gen: c.gen})
}

// channelAnswered takes a broker's answer: the next request goes.
func (c *zkController) channelAnswered(from int32, corr int64) {
	ch := c.channels[from]
	if ch == nil || !ch.inFlight || ch.corr != corr {
		return
	}
	ch.queue[0] = nil
	ch.queue = ch.queue[1:]
	ch.sends = 0
	c.channelTransmit(from, ch)
}

// channelStep handles the channel's timers; false for other messages.
func (c *zkController) channelStep(msg any) bool {
	switch m := msg.(type) {
	case zkChannelTimeout:
		ch := c.channels[m.broker]
		if m.gen != c.gen || ch == nil || !ch.inFlight || ch.corr != m.corr || ch.sends != m.sends {
			return true
		}
		c.b.env.Observe(&ControllerRequestTimedOut{Controller: c.b.id, Broker: m.broker, Sends: ch.sends})
		c.b.env.After(zkChannelBackoff, zkChannelResend{broker: m.broker, corr: m.corr, gen: c.gen})
	case zkChannelResend:
		ch := c.channels[m.broker]
		if m.gen != c.gen || ch == nil || !ch.inFlight || ch.corr != m.corr {
			return true
		}
		c.channelTransmit(m.broker, ch)
	default:
		return false
	}
	return true
}

// channelRemove drops the queues of brokers no longer live (removeBroker).
func (c *zkController) channelRemove() {
	for _, id := range slices.Sorted(maps.Keys(c.channels)) {
		if _, ok := c.live[id]; !ok {
			delete(c.channels, id)
		}
	}
}
