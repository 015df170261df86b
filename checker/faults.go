package checker

import (
	"fmt"
	"strings"
	"time"

	"kafkasim/broker/node"
	"kafkasim/sim"
)

// Fault is one fault of a run, as the HTML report marks it on the timeline.
type Fault struct {
	At        time.Duration
	Verb      string // sim.FaultName: kill, crash, partition, heal, …
	Nodes     string // "2", "1 | 2 3", "1 -> 2", "" for heal
	Detail    string // "latency 50ms", "p=0.1", "" if none
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
	events []sim.Event
}

// RecordFaults starts collecting w's faults.
func RecordFaults(w *sim.World) *FaultLog {
	l := &FaultLog{}
	w.OnEvent(func(e *sim.Event) {
		if e.Kind == sim.Fault {
			l.events = append(l.events, *e)
		}
	})
	return l
}

// FaultsFromTrace reads the faults of a kept trace.
func FaultsFromTrace(t *sim.Trace) []Fault {
	l := &FaultLog{}
	for i := 0; i < t.Len(); i++ {
		if e := t.At(i); e.Kind == sim.Fault {
			l.events = append(l.events, e)
		}
	}
	return l.Faults()
}

// Faults returns the faults in time order. The events of one partition (one per node, at one
// instant) make one fault.
func (l *FaultLog) Faults() []Fault {
	var out []Fault
	for i := 0; i < len(l.events); {
		e := l.events[i]
		code := e.Arg & 0xff
		f := Fault{At: e.Time, Verb: sim.FaultName(code)}
		param := e.Arg >> 8
		switch code {
		case sim.FaultPartition:
			var groups [][]string
			j := i
			for ; j < len(l.events); j++ {
				g := l.events[j]
				if g.Time != e.Time || g.Arg&0xff != sim.FaultPartition {
					break
				}
				gi := int(g.Arg >> 8)
				if gi < 0 || gi > 64 {
					gi = 0
				}
				for len(groups) <= gi {
					groups = append(groups, nil)
				}
				groups[gi] = append(groups[gi], node.Name(g.Node))
			}
			parts := make([]string, 0, len(groups))
			for _, g := range groups {
				if len(g) > 0 {
					parts = append(parts, strings.Join(g, " "))
				}
			}
			f.Nodes = strings.Join(parts, " | ")
			out = append(out, f)
			i = j
			continue
		case sim.FaultCut, sim.FaultLoss:
			f.Nodes = node.Name(e.Node) + " -> " + node.Name(e.Peer)
			if code == sim.FaultLoss {
				f.Detail = fmt.Sprintf("p=%g", float64(param)/1e6)
			}
		case sim.FaultHeal:
		default:
			f.Nodes = node.Name(e.Node)
			if code == sim.FaultSlow {
				f.Detail = fmt.Sprintf("latency=%v", time.Duration(param))
			}
		}
		out = append(out, f)
		i++
	}
	return out
}
