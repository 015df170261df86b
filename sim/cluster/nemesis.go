package cluster

import (
	"fmt"
	"slices"
	"strings"

	"kafkasim/broker/client"
	"kafkasim/sim"
)

// NemesisKinds are the kinds of fault a stepped nemesis may apply, as a scenario's `nemesis
// kinds=` names them: the node faults (kill, crash, stop, pause), the network faults
// (partition, isolate, cut, slow, loss), and two that widen the targets: controller (faults
// fall on KRaft controllers too) and client (group members are killed, paused and stopped,
// and links to clients lose messages); zookeeper makes faults fall on the ZooKeeper servers
// of a ZooKeeper-mode cluster, as controller does there too (zookeeper.go's controlPlane).
// Five more are never among the default kinds: overlap lets two faults be in force at once
// (overlap.go); outage lets faults pile up past the minority rule and lag makes slow links
// slow for seconds (outage.go); producer kills, pauses and stops producers as client does
// group members (a transactional producer gone after its late produce landed past its
// transaction's abort: KAFKA-14402's hanging transaction); isr-change strikes a partition's
// leader right after its ISR changes (isrchange.go).
var NemesisKinds = []string{"kill", "crash", "stop", "pause", "partition", "isolate", "cut", "slow", "loss", "controller", "client", "zookeeper", "overlap", "outage", "lag", "producer", "isr-change"}

// NemesisSpec is what a stepped nemesis may do.
type NemesisSpec struct {
	Kinds   []string // among NemesisKinds; empty = all
	Crashes int      // broker power losses allowed in the run (unclean shutdowns)
}

// Stepper is a nemesis driven one step at a time by its caller (the scenario player), from the
// world's "faults" stream and with the same fault kinds as Nemesis and Chaos. Unlike them it
// undoes each fault before it applies the next: a step either undoes the fault in force
// (restart, resume or heal) or applies a new one, so at most one of its faults is in force.
type Stepper struct {
	f           *faulter
	menu        []faultKind
	controllers bool
	consumers   []int32           // the clients faulted (kinds client and producer)
	undo        []sim.FaultAction // what undoes the fault in force, in order

	over *overlap // kinds=overlap: two faults may be in force (overlap.go)

	isr      *isrWatch             // kinds=isr-change: strikes at ISR changes (isrchange.go)
	onStrike func([]Fault, Strike) // called with a strike's faults (OnStrike)
}

// NewStepper starts a stepped nemesis on the cluster. An unknown kind is an error naming it.
func (c *Cluster) NewStepper(spec NemesisSpec) (*Stepper, error) {
	kinds := spec.Kinds
	if len(kinds) == 0 {
		kinds = defaultKinds()
	}
	s := &Stepper{f: &faulter{c: c, r: c.World.Rand("faults"), crashes: spec.Crashes}}
	for _, name := range c.clientNames {
		s.f.clients = append(s.f.clients, c.clients[name])
	}
	has := func(k string) bool { return slices.Contains(kinds, k) }
	for _, k := range kinds {
		switch k {
		case "kill":
			s.menu = append(s.menu, kill)
		case "crash":
			s.menu = append(s.menu, crash)
		case "stop":
			s.menu = append(s.menu, stop)
		case "pause":
			s.menu = append(s.menu, pause)
		case "partition":
			s.menu = append(s.menu, partitionPair)
			// Named together (not the default nemesis, whose 1,000 seeds in ZooKeeper mode
			// were measured without it), partition and zookeeper also cut a broker off from
			// the ensemble.
			if len(spec.Kinds) > 0 && has("zookeeper") && c.ZooKeeperMode() {
				s.menu = append(s.menu, partitionFromEnsemble)
			}
		case "isolate":
			s.menu = append(s.menu, isolate(true))
		case "cut":
			s.menu = append(s.menu, cutOneWay)
		case "slow":
			s.menu = append(s.menu, slowKind(kinds))
		case "loss":
			s.menu = append(s.menu, lossBetweenBrokers)
			if has("client") {
				s.menu = append(s.menu, lossToClient)
			}
		case "controller":
			s.controllers = true
		case "overlap":
			s.overlapMenus(kinds)
		case "zookeeper":
			s.controllers = s.controllers || c.ZooKeeperMode()
		case "outage":
			s.outageOn()
		case "lag":
		case "isr-change":
			s.isrChangeOn(kinds)
		case "client":
			for _, name := range c.clientNames {
				// Group members only: a standalone consumer that restarts reads again
				// from auto.offset.reset, which a history of one consumer cannot tell
				// from a nonmonotonic poll.
				if cs := c.Consumer(name); cs != nil && cs.Group() != "" {
					s.consumers = append(s.consumers, c.clients[name])
				}
			}
		case "producer":
			// A producer killed or stopped comes back as a new incarnation: an idempotent
			// one with a new producer id, a transactional one fencing its predecessor
			// (InitProducerId); its unacknowledged sends are unknown to the history.
			for _, name := range c.clientNames {
				if _, ok := c.World.Node(c.clients[name]).(*client.Producer); ok && !slices.Contains(s.consumers, c.clients[name]) {
					s.consumers = append(s.consumers, c.clients[name])
				}
			}
		default:
			return nil, fmt.Errorf("unknown fault kind %q (kinds are %s)", k, strings.Join(NemesisKinds, ", "))
		}
	}
	if len(s.menu) == 0 && len(s.consumers) == 0 {
		return nil, fmt.Errorf("no fault to apply: kinds=%s names only targets; add a fault kind such as kill", strings.Join(kinds, ","))
	}
	return s, nil
}

// InForce reports whether one of the stepper's faults is in force.
func (s *Stepper) InForce() bool { return len(s.undo) > 0 }

// Rand is the stream the stepper draws from (the world's "faults" stream), for its caller's
// draws of the time to the next step.
func (s *Stepper) Rand() *sim.Rand { return s.f.r }

// Step undoes the fault in force, or applies a new one; it returns the faults it applied. A
// fault that is not allowed now (it would take down a majority, or exceed the power-loss
// budget) is not applied: the step does nothing.
func (s *Stepper) Step() []Fault {
	s.forgetStrikes()
	if s.over != nil {
		return s.stepOverlap()
	}
	n := len(s.f.log)
	if s.InForce() {
		s.Undo()
		return s.f.log[n:]
	}
	f, c := s.f, s.f.c
	if len(s.consumers) > 0 && (len(s.menu) == 0 || f.r.Intn(3) == 0) {
		f.consumerFault(s.consumers[f.r.Intn(len(s.consumers))])
	} else {
		group := c.BrokerIDs
		if s.controllers && f.r.Intn(3) == 0 {
			group = c.controlPlane()
		}
		id := group[f.r.Intn(len(group))]
		down := 0
		for _, g := range group {
			if c.World.State(g) != sim.Running {
				down++
			}
		}
		f.minority = down+1 <= (len(group)-1)/2
		if c.World.State(id) == sim.Running {
			s.menu[f.r.Intn(len(s.menu))](f, id)
		}
	}
	for _, a := range f.log[n:] {
		s.undo = append(s.undo, undoOf(a.Action)...)
	}
	return f.log[n:]
}

// Undo undoes the fault in force, if any, and returns the faults it applied. A node still in
// its controlled shutdown cannot restart yet: its restart stays due for the next call.
func (s *Stepper) Undo() []Fault {
	s.forgetStrikes()
	n := len(s.f.log)
	var left []sim.FaultAction
	for _, a := range s.undo {
		if s.f.apply(a) != nil && s.f.c.World.State(a.Node) == sim.Stopping {
			left = append(left, a)
		}
	}
	s.undo = left
	return s.f.log[n:]
}

// undoOf is what undoes a fault: a restart after a kill, crash or stop, a resume after a
// pause, a heal after a network fault.
func undoOf(a sim.FaultAction) []sim.FaultAction {
	if a.Kind == nil {
		return nil
	}
	switch {
	case a.Kind.Network:
		return []sim.FaultAction{{Kind: sim.FaultKindOf(sim.FaultHeal)}}
	case a.Kind.Code == sim.FaultPause:
		return []sim.FaultAction{{Kind: sim.FaultKindOf(sim.FaultResume), Node: a.Node}}
	case a.Kind.Code == sim.FaultKill, a.Kind.Code == sim.FaultCrash, a.Kind.Code == sim.FaultStop:
		return []sim.FaultAction{{Kind: sim.FaultKindOf(sim.FaultRestart), Node: a.Node}}
	}
	return nil
}
