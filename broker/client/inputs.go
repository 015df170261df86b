package client

import (
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// External inputs: the world (scenario runner, tests, TUI) delivers these to a client through
// Step with from == 0, as pointers (&SendRecords{…}).

// SendRecords hands Count new records to the producer now.
type SendRecords struct{ Count int }

// SetRate changes the producer's continuous rate in records per second (0 stops).
type SetRate struct{ PerSecond float64 }

// AdminCommand makes the admin client send Request (a *protocol.CreateTopicsRequest,
// *protocol.CreatePartitionsRequest, *protocol.ElectLeadersRequest or
// *protocol.IncrementalAlterConfigsRequest; the admin assigns CorrelationID on a copy) to the
// active controller, retrying on NOT_CONTROLLER and timeouts until it gets an answer.
type AdminCommand struct{ Request any }

// Observations (env.Observe).

// AdminResult is observed by the admin when a command completes. Request is the request as
// the command gave it; Response is the controller's answer.
type AdminResult struct {
	Request  any
	Response any
}

// TruncationDetected is observed by a consumer that found, validating its position after a
// leader change, that the new leader's log ends below it for the epoch of the last consumed
// record (KIP-320; Java raises LogTruncationException, or seeks when a reset policy exists).
// The consumer then seeks to EndOffset.
type TruncationDetected struct {
	Client    string
	TP        protocol.TopicPartition
	Position  int64
	EndOffset int64
}

// Timer payloads (come back through Step with from == env.ID()).

// timeout fires request.timeout.ms after request corr was sent.

// wake re-evaluates a client's state at time at (linger, backoff).
type wake struct{ at time.Duration }

// metadataAge fires metadata.max.age.ms after a successful refresh of generation gen.
type metadataAge struct{ gen uint64 }

// rateTick creates the next record of a continuous rate of generation gen.
type rateTick struct{ gen uint64 }

// waker schedules wake timers without piling them up: one pending wake at the earliest time
// anything is due; a wake re-evaluates everything and asks for the next one.
type waker struct{ pending time.Duration } // -1: none

func (w *waker) at(env node.Env, now, t time.Duration) {
	if t < now {
		t = now
	}
	if w.pending >= now && w.pending <= t {
		return
	}
	w.pending = t
	env.After(t-now, wake{at: t})
}

func (w *waker) fired(t time.Duration) {
	if w.pending == t {
		w.pending = -1
	}
}

// maxTimer bounds durations handed to env.After (config.Forever means never).
const maxTimer = 365 * 24 * time.Hour

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
