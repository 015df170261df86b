package checker

import (
	"time"

	"kafkasim/broker/node"
	"kafkasim/sim"
)

// Fault is one fault of a run, as the HTML report marks it on the timeline.
type Fault struct {
	At        time.Duration
	Verb      string // the fault verb (sim's table): kill, crash, partition, heal, …
	Nodes     string // "2", "1 | 2 3", "1 -> 2", "" for heal
	Detail    string // "latency=50ms", "p=0.1", "" if none
	Statement string // the scenario statement that applied it ("FILE:LINE: text"), "" if unknown
}

// String is the fault as a scenario would say it: "crash 2", "partition 1 | 2 3".
func (f Fault) String() string {
	s := f.Verb
	if f.Nodes != "" {
		s += " " + f.Nodes
	}
	if f.Detail != "" {
		s += " " + f.Detail
	}
	return s
}

// FaultLog collects a world's faults from its events as they happen (it does not need the
// trace to be kept).
type FaultLog struct {
	log sim.FaultLog
}

// RecordFaults starts collecting w's faults.
func RecordFaults(w *sim.World) *FaultLog {
	l := &FaultLog{}
	w.OnEvent(func(e *sim.Event) { l.log.Add(*e) })
	return l
}

// FaultsFromTrace reads the faults of a kept trace.
func FaultsFromTrace(t *sim.Trace) []Fault { return faults(sim.Faults(t)) }

// Faults returns the faults in time order. The events of one partition (one per node, at one
// instant) make one fault.
func (l *FaultLog) Faults() []Fault { return faults(l.log.Faults()) }

func faults(as []sim.FaultAction) []Fault {
	var out []Fault
	for _, a := range as {
		out = append(out, Fault{At: a.At, Verb: a.Kind.Name, Nodes: a.Nodes(node.Name), Detail: a.Detail()})
	}
	return out
}
