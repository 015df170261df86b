package cluster

import (
	"slices"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
)

// The isr-change kind (`nemesis kinds=cut,kill,isr-change`): faults timed by the cluster's own
// events, as Jepsen's targeted nemeses aim at a primary at its weakest moment. Besides its
// steps, the nemesis watches the ISR changes that partitions' leaders propose
// (Partition.maybeShrinkIsr and Partition.maybeExpandIsr, through AlterPartition); at each, the
// faults stream draws whether to strike, one time in two. A strike falls on that leader: when
// cut is among the kinds, the leader's links to the other members of the ISR it proposes are
// cut at once, so that the fetch answers it is sending them are lost; and the moment the leader
// learns the controller accepted the change, a node fault drawn from the kinds (kill, crash,
// stop, pause) falls on it. That moment is where KAFKA-7128 lives. After a shrink the leader's
// high watermark has just moved past what the remaining followers know, so the next leader
// starts with a lagging HW; after an expansion the new member counts as in sync though it has
// not received what the leader was sending it, and may be elected without it.
//
// A strike is a fault like a step's: the minority rule and the power-loss budget hold, and the
// next step undoes it (a step also forgets a strike still waiting for its commit). Without
// overlap or outage a strike comes only when no fault is in force; with overlap, only when no
// node fault is (its cuts, only when no network fault is); with outage, beside any faults. The
// draws happen at event times from the seed's faults stream, so a seed strikes at the same
// events every run. isr-change is not among the default kinds.

// isrWatch is a stepper's state with kinds=isr-change.
type isrWatch struct {
	node    []faultKind          // the node faults among the kinds
	cut     bool                 // a network fault is among the kinds
	seen    []broker.IsrProposed // proposals made during the step being reported
	waiting []strike             // strikes waiting for their change to commit
	ended   bool                 // the nemesis ended: the world's callbacks do nothing
}

// strike is a fault due on a leader once the ISR it proposed is committed.
type strike struct {
	leader int32
	tp     protocol.TopicPartition
	epoch  int32   // the leader epoch it proposed in
	isr    []int32 // the proposed ISR, sorted
}

// isrChangeOn turns on kinds=isr-change and hooks the stepper to the world's events.
func (s *Stepper) isrChangeOn(kinds []string) {
	w := &isrWatch{}
	for _, k := range kinds {
		switch k {
		case "kill":
			w.node = append(w.node, kill)
		case "crash":
			w.node = append(w.node, crash)
		case "stop":
			w.node = append(w.node, stop)
		case "pause":
			w.node = append(w.node, pause)
		case "cut":
			w.cut = true
		}
	}
	s.isr = w
	world := s.f.c.World
	world.OnObserve(func(_ time.Duration, _ int32, ev any) {
		if p, ok := ev.(*broker.IsrProposed); ok && !w.ended {
			w.seen = append(w.seen, *p)
		}
	})
	world.OnEvent(func(e *sim.Event) {
		if w.ended {
			return
		}
		if len(w.seen) > 0 {
			seen := w.seen
			w.seen = nil
			for _, p := range seen {
				s.isrProposed(p)
			}
		}
		if len(w.waiting) > 0 && e.Kind != sim.Fault {
			s.isrCommitted(e.Node)
		}
	})
}

// Strike says what a strike's faults reacted to: leader Leader proposed ISR ISR for TP (the cut
// falls then), or, with Committed, learnt the controller committed it (the node fault).
type Strike struct {
	Leader    int32
	TP        protocol.TopicPartition
	ISR       []int32 // sorted
	Committed bool
}

// OnStrike registers f to be called with the faults a strike applies (kinds=isr-change), when
// it applies them: between a step's and the next, at an event; st says what they reacted to.
func (s *Stepper) OnStrike(f func(fs []Fault, st Strike)) { s.onStrike = f }

// isrProposed draws whether to strike at a proposed ISR change, and cuts the leader's links to
// the other members of the ISR it proposes at once.
func (s *Stepper) isrProposed(p broker.IsrProposed) {
	w, f, c := s.isr, s.f, s.f.c
	b := c.Broker(p.Broker)
	if b == nil || len(w.node) == 0 || slices.ContainsFunc(w.waiting, func(st strike) bool { return st.leader == p.Broker }) {
		return
	}
	part := b.Partition(p.TP)
	if part == nil || !part.IsLeader() {
		return
	}
	nodeFree, netFree := s.isrRoom()
	if !nodeFree || f.r.Intn(2) != 0 {
		return
	}
	st := strike{leader: p.Broker, tp: p.TP, epoch: part.LeaderEpoch(), isr: slices.Sorted(slices.Values(p.ISR))}
	w.waiting = append(w.waiting, st)
	if !w.cut || !netFree {
		return
	}
	n := len(f.log)
	on := int32(-1)
	for _, id := range p.ISR {
		if id != p.Broker {
			_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultCut), Node: p.Broker, Peer: id})
			on = id
		}
	}
	s.struck(n, on, Strike{Leader: p.Broker, TP: p.TP, ISR: st.isr})
}

// isrRoom reports whether a strike may apply a node fault and a network fault now.
func (s *Stepper) isrRoom() (node, net bool) {
	switch {
	case s.over == nil:
		free := !s.InForce()
		return free, free
	case s.over.outage:
		return true, true
	}
	node, net = true, true
	for _, isNet := range s.over.net0 {
		if isNet {
			net = false
		} else {
			node = false
		}
	}
	return node, net
}

// isrCommitted fires the strikes on leader id whose ISR change it has learnt was committed, and
// forgets those it can no longer fire (it no longer leads, or leads in a newer epoch).
func (s *Stepper) isrCommitted(id int32) {
	w, f, c := s.isr, s.f, s.f.c
	for i := 0; i < len(w.waiting); i++ {
		st := w.waiting[i]
		if st.leader != id {
			continue
		}
		var part *broker.Partition
		if b := c.Broker(id); b != nil {
			part = b.Partition(st.tp)
		}
		if part != nil && part.IsLeader() && part.LeaderEpoch() == st.epoch && !slices.Equal(slices.Sorted(slices.Values(part.ISR())), st.isr) {
			continue // not committed yet
		}
		w.waiting = slices.Delete(w.waiting, i, i+1)
		i--
		if part == nil || !part.IsLeader() || part.LeaderEpoch() != st.epoch || c.World.State(id) != sim.Running {
			continue
		}
		down := 0
		for _, g := range c.BrokerIDs {
			if c.World.State(g) != sim.Running {
				down++
			}
		}
		f.minority = s.over != nil && s.over.outage || down+1 <= (len(c.BrokerIDs)-1)/2
		n := len(f.log)
		w.node[f.r.Intn(len(w.node))](f, id)
		s.struck(n, id, Strike{Leader: id, TP: st.tp, ISR: st.isr, Committed: true})
	}
}

// struck holds the faults a strike applied from log index n as faults in force (the next step
// undoes them) and reports them with what they reacted to.
func (s *Stepper) struck(n int, on int32, at Strike) {
	f := s.f
	if len(f.log) == n {
		return
	}
	var undo []sim.FaultAction
	net := false
	for _, a := range f.log[n:] {
		for _, u := range undoOf(a.Action) {
			if !slices.ContainsFunc(undo, func(v sim.FaultAction) bool { return v.Kind == u.Kind && v.Node == u.Node }) {
				undo = append(undo, u) // one heal undoes every cut
			}
		}
		net = net || a.Action.Kind != nil && a.Action.Kind.Network
	}
	if o := s.over; o != nil {
		if len(undo) > 0 {
			o.held, o.net0, o.on = append(o.held, undo), append(o.net0, net), append(o.on, on)
		}
		if o.outage {
			s.countCrashes(n)
		}
		s.undo = slices.Concat(o.held...)
	} else {
		s.undo = append(s.undo, undo...)
	}
	if s.onStrike != nil {
		s.onStrike(slices.Clone(f.log[n:]), at)
	}
}

// forgetStrikes drops the strikes waiting for a commit: a step came first.
func (s *Stepper) forgetStrikes() {
	if s.isr != nil {
		s.isr.waiting = nil
	}
}

// End undoes the fault in force, as Undo, and stops the stepper: it strikes no more.
func (s *Stepper) End() []Fault {
	if s.isr != nil {
		s.isr.ended = true
		s.isr.waiting = nil
	}
	return s.Undo()
}
