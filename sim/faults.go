package sim

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// This file is the one definition of the fault verbs: their names, what they name, how they
// apply to a World, how they are packed into a trace event and how they read in words. The
// scenario language, the checker's report and the terminal UI all read this table.

// Fault codes (the kind of a Fault event; see Event.Fault).
const (
	FaultKill int64 = iota + 1
	FaultCrash
	FaultStop
	FaultRestart
	FaultPause
	FaultResume
	FaultPartition
	FaultIsolate
	FaultCut
	FaultSlow
	FaultLoss
	FaultHeal
)

// FaultArgs says what a fault verb names.
type FaultArgs uint8

// What fault verbs name.
const (
	ArgsNode   FaultArgs = iota + 1 // one node: kill 2
	ArgsGroups                      // two or more groups of nodes: partition 1 | 2 3
	ArgsLink                        // a one-way link: cut 1 -> 2
	ArgsNone                        // nothing: heal
)

// FaultParam says what a fault's number means; Param is its KEY in KEY=VALUE ("" for none).
type FaultParam uint8

// Fault parameters.
const (
	ParamNone    FaultParam = iota
	ParamLatency            // slow X latency=D: the extra latency
	ParamP                  // loss X -> Y p=P: the loss probability
)

// FaultKind is one fault verb.
type FaultKind struct {
	Code    int64
	Name    string     // the verb, as scenarios, the checker's report and the UI say it
	Args    FaultArgs  // what it names
	Param   FaultParam // its KEY=VALUE parameter, if any
	Network bool       // a network fault: heal undoes it
	Doc     string     // what it does, in a few words
	// Past says it happened, as a report's sentence does: {who} is the node ("Broker 1"),
	// {nodes} what the fault named ("1 | 2 3", "1 -> 2"), {detail} its parameter.
	Past string
	// Undoes: it ends a fault (restart, resume, heal) rather than starting one.
	Undoes bool
	apply  func(w *World, f FaultAction) error
}

// ParamKey is the KEY of the kind's KEY=VALUE parameter ("" for none).
func (k *FaultKind) ParamKey() string {
	switch k.Param {
	case ParamLatency:
		return "latency"
	case ParamP:
		return "p"
	}
	return ""
}

// faultKinds is the table, indexed by code. It is filled in init because the verbs' methods
// name themselves from it.
var faultKinds [FaultHeal + 1]*FaultKind

func init() {
	faultKinds = [...]*FaultKind{
		FaultKill: {Name: "kill", Past: "{who} was killed", Args: ArgsNode, Doc: "the process dies; the page cache still reaches the disk",
			apply: func(w *World, f FaultAction) error { return w.Kill(f.Node) }},
		FaultCrash: {Name: "crash", Past: "{who} lost power", Args: ArgsNode, Doc: "the machine loses power: every unflushed write is lost",
			apply: func(w *World, f FaultAction) error { return w.Crash(f.Node) }},
		FaultStop: {Name: "stop", Past: "{who} was shut down", Args: ArgsNode, Doc: "clean shutdown: flushes, then stops",
			apply: func(w *World, f FaultAction) error { return w.Stop(f.Node) }},
		FaultRestart: {Name: "restart", Past: "{who} restarted", Undoes: true, Args: ArgsNode, Doc: "start a killed, crashed or stopped node from its disk",
			apply: func(w *World, f FaultAction) error { return w.Restart(f.Node) }},
		FaultPause: {Name: "pause", Past: "{who} was paused", Args: ArgsNode, Doc: "freeze a node; messages to it wait",
			apply: func(w *World, f FaultAction) error { return w.Pause(f.Node) }},
		FaultResume: {Name: "resume", Past: "{who} resumed", Undoes: true, Args: ArgsNode, Doc: "unfreeze a paused node",
			apply: func(w *World, f FaultAction) error { return w.Resume(f.Node) }},
		FaultPartition: {Name: "partition", Past: "the network was partitioned ({nodes})", Args: ArgsGroups, Network: true, Doc: "no messages between the groups",
			apply: func(w *World, f FaultAction) error { w.Partition(f.Groups...); return nil }},
		FaultIsolate: {Name: "isolate", Past: "{who} was cut off from every other node", Args: ArgsNode, Network: true, Doc: "cut a node off from every other node",
			apply: func(w *World, f FaultAction) error { w.Isolate(f.Node); return nil }},
		FaultCut: {Name: "cut", Past: "messages {nodes} were cut", Args: ArgsLink, Network: true, Doc: "messages from one node to another are lost",
			apply: func(w *World, f FaultAction) error { w.Cut(f.Node, f.Peer); return nil }},
		FaultSlow: {Name: "slow", Past: "{who} was slowed ({detail})", Args: ArgsNode, Param: ParamLatency, Network: true, Doc: "every message to and from a node takes longer",
			apply: func(w *World, f FaultAction) error { w.Slow(f.Node, f.Latency); return nil }},
		FaultLoss: {Name: "loss", Past: "messages {nodes} were lost with {detail}", Args: ArgsLink, Param: ParamP, Network: true, Doc: "each message on a link is lost with probability p",
			apply: func(w *World, f FaultAction) error { w.Loss(f.Node, f.Peer, f.P); return nil }},
		FaultHeal: {Name: "heal", Past: "the network healed", Undoes: true, Args: ArgsNone, Doc: "undo every network fault",
			apply: func(w *World, f FaultAction) error { w.Heal(); return nil }},
	}
	for code, k := range faultKinds {
		if k != nil {
			k.Code = int64(code)
		}
	}
}

// FaultKinds lists the fault verbs in code order.
func FaultKinds() []*FaultKind {
	out := make([]*FaultKind, 0, len(faultKinds))
	for _, k := range faultKinds {
		if k != nil {
			out = append(out, k)
		}
	}
	return out
}

// FaultKindNamed is the fault verb called name, nil if there is none.
func FaultKindNamed(name string) *FaultKind {
	for _, k := range faultKinds {
		if k != nil && k.Name == name {
			return k
		}
	}
	return nil
}

// FaultKindOf is the fault verb with a code, nil for an unknown code.
func FaultKindOf(code int64) *FaultKind {
	if code > 0 && code < int64(len(faultKinds)) {
		return faultKinds[code]
	}
	return nil
}

// FaultAction is one fault as a statement says it: a verb and what it names.
type FaultAction struct {
	At      time.Duration
	Kind    *FaultKind
	Node    int32         // ArgsNode: the node; ArgsLink: the sending end
	Peer    int32         // ArgsLink: the receiving end
	Groups  [][]int32     // ArgsGroups: the groups, in order
	Latency time.Duration // ParamLatency
	P       float64       // ParamP
}

// Apply applies a fault to the world now. Only the node lifecycle verbs can fail (a node in the
// wrong state, or none of that id).
func (w *World) Apply(f FaultAction) error {
	if f.Kind == nil {
		return fmt.Errorf("fault: no verb")
	}
	return f.Kind.apply(w, f)
}

// Nodes is what the fault names, as a scenario writes it: "2", "1 | 2 3", "1 -> 2", "" for heal.
func (f FaultAction) Nodes(name func(int32) string) string {
	if f.Kind == nil {
		return ""
	}
	switch f.Kind.Args {
	case ArgsNode:
		return name(f.Node)
	case ArgsLink:
		return name(f.Node) + " -> " + name(f.Peer)
	case ArgsGroups:
		parts := make([]string, 0, len(f.Groups))
		for _, g := range f.Groups {
			if len(g) == 0 {
				continue
			}
			ns := make([]string, len(g))
			for i, id := range g {
				ns[i] = name(id)
			}
			parts = append(parts, strings.Join(ns, " "))
		}
		return strings.Join(parts, " | ")
	}
	return ""
}

// Detail is the fault's parameter as KEY=VALUE ("latency=50ms", "p=0.25"), "" if it has none.
func (f FaultAction) Detail() string {
	if f.Kind == nil {
		return ""
	}
	switch f.Kind.Param {
	case ParamLatency:
		return fmt.Sprintf("latency=%v", f.Latency)
	case ParamP:
		return fmt.Sprintf("p=%g", f.P)
	}
	return ""
}

// Words is the fault as a scenario statement: "partition 1 | 2 3", "slow 2 latency=50ms".
func (f FaultAction) Words(name func(int32) string) string {
	if f.Kind == nil {
		return "?"
	}
	s := f.Kind.Name
	if n := f.Nodes(name); n != "" {
		s += " " + n
	}
	if d := f.Detail(); d != "" {
		s += " " + d
	}
	return s
}

// The packing of a Fault event's Arg: the code in the low 8 bits, the parameter above (the
// group index of a partition's node, a slow's extra latency in nanoseconds, a loss's
// probability in parts per million). It is part of the trace hash: keep it.
func packFault(code, param int64) int64 { return code | param<<8 }

func unpackFault(arg int64) (code, param int64) { return arg & 0xff, arg >> 8 }

// faultEvent records a fault in the trace. Callers have validated the node first and hold
// OnEvent callbacks until the fault has taken effect.
func (w *World) faultEvent(node, peer int32, code, param int64) {
	w.stats.Faults++
	w.record(Fault, node, peer, 0, packFault(code, param))
}

// maxGroups bounds the group index read back from a partition's event.
const maxGroups = 1 << 10

// Fault decodes a Fault event. A partition records one event per node; its action names that
// one node, in its group (Groups has the node's group index + 1 entries, the last holding the
// node). ok is false for other events and unknown codes.
func (e Event) Fault() (f FaultAction, ok bool) {
	if e.Kind != Fault {
		return FaultAction{}, false
	}
	code, param := unpackFault(e.Arg)
	k := FaultKindOf(code)
	if k == nil {
		return FaultAction{}, false
	}
	f = FaultAction{At: e.Time, Kind: k, Node: e.Node, Peer: e.Peer}
	switch {
	case k.Args == ArgsGroups:
		gi := int(param)
		if gi < 0 || gi >= maxGroups {
			gi = 0
		}
		f.Groups = make([][]int32, gi+1)
		f.Groups[gi] = []int32{e.Node}
	case k.Param == ParamLatency:
		f.Latency = time.Duration(param)
	case k.Param == ParamP:
		f.P = float64(param) / 1e6
	}
	return f, true
}

// lossParam is a loss probability as recorded: parts per million.
func lossParam(p float64) int64 { return int64(math.Round(p * 1e6)) }

// FaultLog regroups a world's fault events into faults as statements say them: the events of
// one partition (one per node, consecutive in the trace, group indices not decreasing) make
// one fault. Feed it every event in trace order.
type FaultLog struct {
	faults    []FaultAction
	open      bool // the last event was a partition's: the next may extend it
	lastGroup int
}

// Add takes the next trace event. ok reports whether it was a fault; extended, whether it
// added a node to the last fault (a partition) rather than starting a new one.
func (l *FaultLog) Add(e Event) (extended, ok bool) {
	f, ok := e.Fault()
	if !ok {
		l.open = false
		return false, false
	}
	if f.Kind.Args == ArgsGroups {
		gi := len(f.Groups) - 1
		if n := len(l.faults); l.open && n > 0 && l.faults[n-1].At == f.At && gi >= l.lastGroup {
			last := &l.faults[n-1]
			for len(last.Groups) <= gi {
				last.Groups = append(last.Groups, nil)
			}
			last.Groups[gi] = append(last.Groups[gi], f.Node)
			l.lastGroup = gi
			return true, true
		}
		l.open, l.lastGroup = true, gi
	} else {
		l.open = false
	}
	l.faults = append(l.faults, f)
	return false, true
}

// Last is the fault the last Add started or extended (zero if none).
func (l *FaultLog) Last() FaultAction {
	if len(l.faults) == 0 {
		return FaultAction{}
	}
	return l.faults[len(l.faults)-1]
}

// Faults returns the faults so far, in trace order.
func (l *FaultLog) Faults() []FaultAction { return l.faults }

// Faults reads the faults of a kept trace, a partition as one fault.
func Faults(t *Trace) []FaultAction {
	var l FaultLog
	for i := 0; i < t.Len(); i++ {
		l.Add(t.At(i))
	}
	return l.Faults()
}
