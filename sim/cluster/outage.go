package cluster

import (
	"slices"
	"time"

	"kafkasim/sim"
)

// Two kinds that widen what a stepped nemesis may compose, for the historic bugs that one fault
// at a time (or a node fault beside a network fault, overlap.go) never reaches. Neither is among
// the default kinds, so a default nemesis is unchanged.
//
// outage lifts the minority rule for brokers and lets faults pile up: KIP-101's scenario 2 is a
// power loss of every replica at once (the follower down, then the leader), and KIP-966's "last
// replica standing" is two followers cut off until the ISR is the leader alone, then the leader's
// power lost. With outage, a step with n faults in force applies one more (one time in two, while
// n is below the number of brokers) or undoes one of them, drawn at random; node faults may take
// down every broker (controllers keep their majority), and a heal heals every network fault in
// force. Beside faults in force, a fault falls one time in two on a partition's leader. The
// power-loss budget counts overlapping unclean shutdowns, as KIP-966 states its promise (at most
// min.insync.replicas − 1 at once): a broker's power loss stays counted until the broker runs
// again and is back in the ISR of every partition it replicates, its lost records fetched
// again; then the budget has it back. Without outage the budget counts every power loss of the
// run.
//
// lag makes the slow kind's extra latency 1 to 60 s instead of under 200 ms: long enough for a
// follower to fall out of the ISR (replica.lag.time.max.ms, 30 s by default) and for a request
// to time out while the write it carries still lands (KAFKA-14402's hanging transaction).

// lagSlow is the slow kind's fault with kinds=lag.
func lagSlow(f *faulter, id int32) bool {
	extra := time.Second + time.Duration(f.r.Intn(59_000))*time.Millisecond
	_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultSlow), Node: id, Latency: extra})
	return true
}

// slowKind is the slow kind's fault: lagSlow with kinds=lag, else slow(200).
func slowKind(kinds []string) faultKind {
	if slices.Contains(kinds, "lag") {
		return lagSlow
	}
	return slow(200)
}

// outageOn turns on kinds=outage: its faults are held as overlap's are (undoHeld).
func (s *Stepper) outageOn() {
	if s.over == nil {
		s.over = &overlap{}
	}
	s.over.outage = true
}

// stepOutage is Step with kinds=outage.
func (s *Stepper) stepOutage() []Fault {
	o, f, c := s.over, s.f, s.f.c
	n := len(f.log)
	if len(s.undo) == 0 {
		o.held, o.net0, o.on = nil, nil, nil
	}
	s.restoreCrashes()
	defer s.countCrashes(n)
	if len(o.held) > 0 && (len(o.held) >= len(c.BrokerIDs) || f.r.Intn(2) == 0) {
		s.undoHeld(f.r.Intn(len(o.held)))
		return f.log[n:]
	}
	var id int32
	if len(s.consumers) > 0 && (len(s.menu) == 0 || f.r.Intn(3) == 0) {
		f.consumerFault(s.consumers[f.r.Intn(len(s.consumers))])
	} else if len(s.menu) > 0 {
		group := c.BrokerIDs
		if s.controllers && f.r.Intn(3) == 0 {
			group = c.Controllers
		}
		id = group[f.r.Intn(len(group))]
		down := 0
		for _, g := range group {
			if c.World.State(g) != sim.Running {
				down++
			}
		}
		// Brokers may all go down; controllers keep their majority.
		f.minority = !slices.Equal(group, c.Controllers) || down+1 <= (len(group)-1)/2
		// Beside faults in force, one time in two on a partition's leader: the last replica
		// standing is the one whose loss hurts.
		if l := f.leaders(); len(o.held) > 0 && len(l) > 0 && f.r.Intn(2) == 0 {
			id = l[f.r.Intn(len(l))]
		}
		if c.World.State(id) == sim.Running {
			s.menu[f.r.Intn(len(s.menu))](f, id)
		}
	}
	if len(f.log) > n {
		var undo []sim.FaultAction
		net := false
		for _, a := range f.log[n:] {
			undo = append(undo, undoOf(a.Action)...)
			net = net || a.Action.Kind != nil && a.Action.Kind.Network
		}
		if len(undo) > 0 {
			o.held, o.net0, o.on = append(o.held, undo), append(o.net0, net), append(o.on, id)
		}
	}
	s.undo = slices.Concat(o.held...)
	return f.log[n:]
}

// restoreCrashes gives the power-loss budget back for every broker whose power loss no longer
// overlaps: it runs and is in the ISR of every partition it replicates (committed metadata).
func (s *Stepper) restoreCrashes() {
	o, c := s.over, s.f.c
	if len(o.crashed) == 0 {
		return
	}
	im := c.Committed()
	o.crashed = slices.DeleteFunc(o.crashed, func(b int32) bool {
		if c.World.State(b) != sim.Running || im == nil {
			return false
		}
		for _, name := range im.TopicNames() {
			for _, p := range im.Topics[name].Partitions {
				if slices.Contains(p.Replicas, b) && !slices.Contains(p.ISR, b) {
					return false
				}
			}
		}
		s.f.crashes++
		return true
	})
}

// countCrashes notes the brokers whose power a step from log index n cut.
func (s *Stepper) countCrashes(n int) {
	for _, a := range s.f.log[n:] {
		if a.Action.Kind != nil && a.Action.Kind.Code == sim.FaultCrash && slices.Contains(s.f.c.BrokerIDs, a.Action.Node) {
			s.over.crashed = append(s.over.crashed, a.Action.Node)
		}
	}
}
