package cluster

import (
	"slices"

	"kafkasim/sim"
)

// Overlapping faults (`nemesis kinds=partition,kill,overlap`). Jepsen's combined nemesis runs
// its fault packages side by side, each starting and stopping its own faults, so a partition
// and a kill may be in force together; the unclean election Jepsen found in Kafka in 2013
// needs exactly that: the leader cut off from its followers until the ISR shrinks to the
// leader alone (replica.lag.time.max.ms), then the leader killed, and an out-of-sync follower
// elected. With overlap, a step with one fault in force either undoes it or adds a fault of the
// other class (a node fault — kill, crash, stop, pause — beside a network fault — partition,
// isolate, cut, slow, loss — or the reverse), so at most two are in force, one of each class;
// a step with two in force undoes one of them. The partition kind then also cuts one broker
// off from every other broker (`partition 1 | 2 3`, Jepsen's partition of one node; the
// controllers still reach it), besides a pair, and a node fault beside a network fault falls one
// time in two on the node the network fault cut off. The minority rule and the power-loss budget
// hold as without overlap. The default kinds leave overlap out: a default nemesis keeps one
// fault at a time.

// overlap is a stepper's state with kinds=overlap.
type overlap struct {
	node, net []faultKind         // the menu's faults by class
	held      [][]sim.FaultAction // what undoes each fault in force, the oldest first
	net0      []bool              // whether held[i] undoes a network fault
	on        []int32             // the node held[i]'s fault fell on
	outage    bool                // kinds=outage: faults pile up (outage.go)
	crashed   []int32             // kinds=outage: brokers whose power loss still counts against the budget
}

// defaultKinds are NemesisKinds but overlap, outage, lag, producer and isr-change: what an
// empty kinds= means.
func defaultKinds() []string {
	return slices.DeleteFunc(slices.Clone(NemesisKinds), func(k string) bool {
		return k == "overlap" || k == "outage" || k == "lag" || k == "producer" || k == "isr-change"
	})
}

// overlapMenus sorts the faults kinds names into node and network faults, and adds the
// partition of one broker from the others.
func (s *Stepper) overlapMenus(kinds []string) {
	o := &overlap{outage: s.over != nil && s.over.outage}
	for _, k := range kinds {
		switch k {
		case "kill":
			o.node = append(o.node, kill)
		case "crash":
			o.node = append(o.node, crash)
		case "stop":
			o.node = append(o.node, stop)
		case "pause":
			o.node = append(o.node, pause)
		case "partition":
			o.net = append(o.net, partitionPair, partitionOne)
			s.menu = append(s.menu, partitionOne)
		case "isolate":
			o.net = append(o.net, isolate(true))
		case "cut":
			o.net = append(o.net, cutOneWay)
		case "slow":
			o.net = append(o.net, slowKind(kinds))
		case "loss":
			o.net = append(o.net, lossBetweenBrokers)
		}
	}
	s.over = o
}

// partitionOne cuts a broker off from every other broker (not from the controllers): one time
// in two a partition's leader (Jepsen's partition of the primaries), else broker id.
func partitionOne(f *faulter, id int32) bool {
	if l := f.leaders(); len(l) > 0 && f.r.Intn(2) == 0 {
		id = l[f.r.Intn(len(l))]
	}
	rest := slices.DeleteFunc(slices.Clone(f.c.BrokerIDs), func(b int32) bool { return b == id })
	if len(rest) > 0 {
		_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultPartition), Groups: [][]int32{{id}, rest}})
	}
	return true
}

// stepOverlap is Step with kinds=overlap: with nothing in force, a fault as Step applies one;
// with one, its undoing or (one time in two) a fault of the other class beside it; with two,
// the undoing of either.
func (s *Stepper) stepOverlap() []Fault {
	if s.over.outage {
		return s.stepOutage()
	}
	o, f, c := s.over, s.f, s.f.c
	n := len(f.log)
	if len(s.undo) == 0 {
		o.held, o.net0, o.on = nil, nil, nil
	} else if len(o.held) == 0 { // Undo left a restart due (a node still stopping)
		o.held, o.net0, o.on = [][]sim.FaultAction{slices.Clone(s.undo)}, []bool{false}, []int32{s.undo[0].Node}
	}
	var id int32
	switch {
	case len(o.held) == 0:
		if len(s.consumers) > 0 && (len(s.menu) == 0 || f.r.Intn(3) == 0) {
			f.consumerFault(s.consumers[f.r.Intn(len(s.consumers))])
		} else if t, ok := s.target(); ok {
			id = t
			s.menu[f.r.Intn(len(s.menu))](f, id)
		}
	case len(o.held) == 1 && f.r.Intn(2) == 0:
		menu := o.net
		if o.net0[0] {
			menu = o.node
		}
		if len(menu) == 0 {
			s.undoHeld(0)
			break
		}
		t, ok := s.target()
		// Beside a network fault, a node fault falls one time in two on the node it cut off
		// (the lone side of a partition, the isolated or slowed node): where the two interact.
		if cut := o.on[0]; o.net0[0] && f.r.Intn(2) == 0 && c.World.State(cut) == sim.Running {
			t, ok = cut, true
		}
		if ok {
			id = t
			menu[f.r.Intn(len(menu))](f, id)
		}
	default:
		s.undoHeld(f.r.Intn(len(o.held)))
		return f.log[n:]
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

// target draws the node a fault falls on (a controller one time in three when controllers are
// among the targets) and whether more of its group may go down (the minority rule); ok is
// false when the node is not running.
func (s *Stepper) target() (int32, bool) {
	f, c := s.f, s.f.c
	group := c.BrokerIDs
	if s.controllers && f.r.Intn(3) == 0 {
		group = c.controlPlane() // the ensemble in ZooKeeper mode
	}
	id := group[f.r.Intn(len(group))]
	down := 0
	for _, g := range group {
		if c.World.State(g) != sim.Running {
			down++
		}
	}
	f.minority = down+1 <= (len(group)-1)/2
	return id, c.World.State(id) == sim.Running
}

// undoHeld undoes the i-th fault in force; a restart of a node still stopping stays due.
func (s *Stepper) undoHeld(i int) {
	o := s.over
	var left []sim.FaultAction
	for _, a := range o.held[i] {
		if s.f.apply(a) != nil && s.f.c.World.State(a.Node) == sim.Stopping {
			left = append(left, a)
		}
	}
	if len(left) > 0 {
		o.held[i] = left
	} else {
		o.held, o.net0, o.on = slices.Delete(o.held, i, i+1), slices.Delete(o.net0, i, i+1), slices.Delete(o.on, i, i+1)
	}
	s.undo = slices.Concat(o.held...)
}

// leaders are the running brokers that lead a partition in the committed metadata, in topic
// and partition order (a broker leading two partitions is listed twice).
func (f *faulter) leaders() []int32 {
	im := f.c.Committed()
	if im == nil {
		return nil
	}
	var out []int32
	for _, name := range im.TopicNames() {
		for _, p := range im.Topics[name].Partitions {
			if p.Leader >= 0 && f.c.World.State(p.Leader) == sim.Running {
				out = append(out, p.Leader)
			}
		}
	}
	return out
}
