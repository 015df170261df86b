package client

import (
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Behavior: an admin client talking straight to the controllers (KIP-919 style bootstrap
// controllers). Commands run one at a time in arrival order. Each attempt goes to the
// controller believed active (first the first of Controllers); NOT_CONTROLLER or no answer
// within the request timeout moves to the next controller and retries after 100ms. The answer
// is observed as an AdminResult. Not modelled: the controller id hint of a NOT_CONTROLLER
// answer, per-topic partial retries.

// AdminOptions configures an admin client.
type AdminOptions struct {
	Name           string
	Controllers    []int32
	RequestTimeout time.Duration // 0: 30s (request.timeout.ms)
}

// adminRetryBackoff is the pause before retrying a command.
const adminRetryBackoff = 100 * time.Millisecond

// adminRetry is the timer that resends the current command (attempt gen).
type adminRetry struct{ gen uint64 }

// Admin is a simulated admin client.
type Admin struct {
	o       AdminOptions
	env     node.Env
	queue   []any // requests; queue[0] is current
	active  int   // index into Controllers
	next    int64 // last correlation id used
	corr    int64 // current attempt, 0 when none in flight
	gen     uint64
	waiting bool // a retry timer is pending
	tmo     timeouts
	now     time.Duration // the time of the input being handled
}

// NewAdmin creates an admin client.
func NewAdmin(o AdminOptions, env node.Env, now time.Duration) *Admin {
	o.RequestTimeout = orDefault(o.RequestTimeout, 30*time.Second)
	return &Admin{o: o, env: env}
}

// Pending is the number of commands not answered yet.
func (a *Admin) Pending() int { return len(a.queue) }

// Step handles one input: an AdminCommand (from == 0), a timer or a controller's answer.
func (a *Admin) Step(now time.Duration, from int32, msg any) {
	a.now = now
	switch m := msg.(type) {
	case *AdminCommand:
		a.enqueue(m.Request)
	case adminRetry:
		if m.gen == a.gen && a.waiting {
			a.waiting = false
			a.attempt()
		}
		return
	case timeoutTick:
		for _, corr := range a.tmo.due(a.env, now, m) {
			if corr == a.corr && a.corr != 0 {
				a.corr = 0
				a.retryNext()
			}
		}
		return
	case *node.ConnectionReset:
		if a.corr != 0 && len(a.o.Controllers) > 0 && a.o.Controllers[a.active%len(a.o.Controllers)] == m.Peer {
			a.corr = 0
			a.retryNext()
		}
		return
	default:
		a.onResponse(msg)
		return
	}
	if len(a.queue) == 1 && a.corr == 0 && !a.waiting {
		a.attempt()
	}
}

func (a *Admin) enqueue(req any) {
	switch req.(type) {
	case *protocol.CreateTopicsRequest, *protocol.CreatePartitionsRequest,
		*protocol.ElectLeadersRequest, *protocol.IncrementalAlterConfigsRequest,
		*protocol.AlterPartitionReassignmentsRequest, *protocol.UnregisterBrokerRequest,
		*protocol.ListPartitionReassignmentsRequest:
		a.queue = append(a.queue, req)
	}
}

// attempt sends a copy of the current command with a fresh correlation id.
func (a *Admin) attempt() {
	if len(a.queue) == 0 || len(a.o.Controllers) == 0 {
		return
	}
	a.next++
	corr := a.next
	var out any
	switch r := a.queue[0].(type) {
	case *protocol.CreateTopicsRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	case *protocol.CreatePartitionsRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	case *protocol.ElectLeadersRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	case *protocol.IncrementalAlterConfigsRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	case *protocol.AlterPartitionReassignmentsRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	case *protocol.UnregisterBrokerRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	case *protocol.ListPartitionReassignmentsRequest:
		c := *r
		c.CorrelationID = corr
		out = &c
	}
	a.corr = corr
	a.env.Send(a.o.Controllers[a.active%len(a.o.Controllers)], out)
	a.tmo.add(a.env, a.now, a.o.RequestTimeout, corr)
}

// retryNext moves to the next controller and retries after 100ms.
func (a *Admin) retryNext() {
	a.active = (a.active + 1) % len(a.o.Controllers)
	a.gen++
	a.waiting = true
	a.env.After(adminRetryBackoff, adminRetry{gen: a.gen})
}

func (a *Admin) onResponse(msg any) {
	var corr int64
	notController := false
	switch r := msg.(type) {
	case *protocol.CreateTopicsResponse:
		corr = r.CorrelationID
		for _, t := range r.Topics {
			notController = notController || t.Error == protocol.NOT_CONTROLLER
		}
	case *protocol.CreatePartitionsResponse:
		corr, notController = r.CorrelationID, r.Error == protocol.NOT_CONTROLLER
	case *protocol.ElectLeadersResponse:
		corr = r.CorrelationID
		for _, e := range r.Results {
			notController = notController || e.Error == protocol.NOT_CONTROLLER
		}
	case *protocol.IncrementalAlterConfigsResponse:
		corr, notController = r.CorrelationID, r.Error == protocol.NOT_CONTROLLER
	case *protocol.AlterPartitionReassignmentsResponse:
		corr = r.CorrelationID
		for _, e := range r.Results {
			notController = notController || e.Error == protocol.NOT_CONTROLLER
		}
	case *protocol.UnregisterBrokerResponse:
		corr, notController = r.CorrelationID, r.Error == protocol.NOT_CONTROLLER
	case *protocol.ListPartitionReassignmentsResponse:
		corr, notController = r.CorrelationID, r.Error == protocol.NOT_CONTROLLER
	default:
		return
	}
	if a.corr == 0 || corr != a.corr || len(a.queue) == 0 {
		return // a stale answer to an attempt given up on
	}
	a.corr = 0
	if notController {
		a.retryNext()
		return
	}
	a.env.Observe(&AdminResult{Request: a.queue[0], Response: msg})
	a.queue[0] = nil
	a.queue = a.queue[1:]
	if len(a.queue) > 0 {
		a.attempt()
	}
}
