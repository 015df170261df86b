package scenarios

import (
	"slices"

	"kafkasim/broker/protocol"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// The finish waits, event by event, until every partition is online and then until the run
// has caught up (caughtUp: no producer has records in flight, every group's partitions are
// owned by a member at the leader's HW, every processor settled, every consumer without a
// group read to the HW). Both are an AND over many items (every partition, every producer,
// every group's partition), asked after every event: with a thousand producers and a group
// of a thousand members, walking every item after every event (and, for a group's partition,
// every member) was most of a run's CPU.
//
// finishWatch answers the same question cheaply and exactly. The item that failed last (the
// witness) is asked first: while it still fails the answer is false, as the AND's would be.
// Only when it holds is every item asked again, in the original order, and the first that
// fails becomes the witness. A group member's assignment, positions, processing and group
// error are kept in a view refreshed only after an event at the member's node (World.OnEvent),
// since nothing else changes them; so a group's partition is asked in the time of its owners,
// not of the group.
type finishWatch struct {
	p       *Player
	witness func() bool // reports whether the item that failed last still fails; nil: none

	groups  []groupTopic              // a group and a topic its consumers read, once each, in the consumers' order
	procs   []*consumerDef            // processors, in order
	plain   []*consumerDef            // consumers without a group, in order
	views   []*memberView             // a group's consumers (processors included), in order
	byNode  map[int32]*memberView     // the views of started clients, by node
	owners  map[groupTP][]*memberView // the running members that have a partition assigned
	live    map[string]int            // a group's members running without a group error
	dirty   map[int32]bool            // nodes with an event since their views were refreshed
	unknown int                       // views of clients not started yet (refreshed every time)
}

type groupTP struct {
	group string
	tp    protocol.TopicPartition
}

type groupTopic struct{ group, topic string }

// memberView is what caughtUp asks of a group's consumer, as of its last event.
type memberView struct {
	name       string
	group      string
	known      bool // the client exists (a late client may not be started yet)
	running    bool // c.Consumer(name) != nil
	groupOK    bool // running with GroupError NONE
	assigned   []protocol.TopicPartition
	pos        map[protocol.TopicPartition]int64
	processing bool
}

func newFinishWatch(p *Player) *finishWatch {
	f := &finishWatch{p: p, byNode: map[int32]*memberView{}, owners: map[groupTP][]*memberView{},
		live: map[string]int{}, dirty: map[int32]bool{}}
	seen := map[groupTopic]bool{}
	for _, cd := range p.s.consumers {
		if cd.proc != nil {
			f.procs = append(f.procs, cd)
		}
		g := cd.cfg.Group
		if g == "" {
			f.plain = append(f.plain, cd)
			continue
		}
		for _, t := range cd.topicList() {
			if gt := (groupTopic{g, t}); !seen[gt] {
				seen[gt] = true
				f.groups = append(f.groups, gt)
			}
		}
		v := &memberView{name: cd.name, group: g}
		f.views = append(f.views, v)
		f.refresh(v)
	}
	if len(f.views) > 0 {
		p.c.World.OnEvent(f.onEvent) // from now on, every change to a view is an event at its node
	}
	return f
}

// onEvent marks the node an event happened at.
func (f *finishWatch) onEvent(e *sim.Event) {
	if f.byNode[e.Node] != nil {
		f.dirty[e.Node] = true
	}
}

// refresh reads v's consumer again.
func (f *finishWatch) refresh(v *memberView) {
	c := f.p.c
	if !v.known {
		if id, ok := c.Client(v.name); ok {
			v.known = true
			f.byNode[id] = v
		} else {
			f.unknown++
		}
	}
	if v.groupOK {
		f.live[v.group]--
	}
	for _, tp := range v.assigned {
		k := groupTP{v.group, tp}
		f.owners[k] = slices.DeleteFunc(f.owners[k], func(o *memberView) bool { return o == v })
	}
	v.running, v.groupOK, v.assigned, v.pos, v.processing = false, false, nil, nil, false
	cs := c.Consumer(v.name)
	if cs == nil {
		return
	}
	v.running = true
	v.groupOK = cs.GroupError() == protocol.NONE
	v.assigned = cs.Assigned()
	v.pos = cs.Positions()
	v.processing = cs.Processing()
	if v.groupOK {
		f.live[v.group]++
	}
	for _, tp := range v.assigned {
		k := groupTP{v.group, tp}
		f.owners[k] = append(f.owners[k], v)
	}
}

// refreshDirty refreshes the views of the members that had an event, and of the clients not
// started yet.
func (f *finishWatch) refreshDirty() {
	for id := range f.dirty { // each view is refreshed alone: the order does not matter
		f.refresh(f.byNode[id])
	}
	clear(f.dirty)
	if f.unknown > 0 { // a late client the script never reached (it failed before)
		f.unknown = 0
		for _, v := range f.views {
			if !v.known {
				f.refresh(v)
			}
		}
	}
}

// allOnline: every partition of the set-up's topics has a running, unfenced leader.
func (f *finishWatch) allOnline() bool {
	if f.witness != nil && f.witness() {
		return false
	}
	f.witness = nil
	c := f.p.c
	for _, td := range f.p.s.topics {
		for i := 0; i < td.partitions; i++ {
			if tp := cluster.TP(td.name, i); !c.Online(tp) {
				f.witness = func() bool { return !c.Online(tp) }
				return false
			}
		}
	}
	return true
}

// caughtUp is Player.caughtUp's question (see there), answered as the type's comment says.
func (f *finishWatch) caughtUp() bool {
	f.refreshDirty()
	if f.witness != nil && f.witness() {
		return false
	}
	f.witness = nil
	c := f.p.c
	for _, pd := range f.p.s.producers {
		if name := pd.name; f.producerBusy(name) {
			f.witness = func() bool { return f.producerBusy(name) }
			return false
		}
	}
	if len(f.groups) > 0 && c.Committed() == nil {
		// No active controller at this instant (an election under way): the topics'
		// partitions are unknown, and a group's read to the end cannot be told. Not caught up
		// (else a group would pass with no partition to read).
		f.witness = func() bool { return c.Committed() == nil }
		return false
	}
	for _, gt := range f.groups {
		if f.live[gt.group] == 0 {
			continue
		}
		for i := 0; i < c.PartitionCount(gt.topic); i++ {
			if gt, i := gt, i; !f.partitionCaughtUp(gt.group, cluster.TP(gt.topic, i)) {
				f.witness = func() bool {
					return f.live[gt.group] > 0 && i < c.PartitionCount(gt.topic) && !f.partitionCaughtUp(gt.group, cluster.TP(gt.topic, i))
				}
				return false
			}
		}
	}
	for _, cd := range f.procs {
		if name := cd.name; f.processorBusy(name) {
			f.witness = func() bool { return f.processorBusy(name) }
			return false
		}
	}
	for _, cd := range f.plain {
		if cd := cd; !f.p.consumerCaughtUp(cd) {
			f.witness = func() bool { return !f.p.consumerCaughtUp(cd) }
			return false
		}
	}
	return true
}

func (f *finishWatch) producerBusy(name string) bool {
	pr := f.p.c.Producer(name)
	return pr != nil && pr.Stats().InFlight > 0
}

func (f *finishWatch) processorBusy(name string) bool {
	pr := f.p.c.Processor(name)
	return pr != nil && !pr.Settled()
}

// partitionCaughtUp: tp's leader has committed all it holds (HW = LEO), and a running member
// of group g that has tp assigned, and is not processing, has reached that HW.
func (f *finishWatch) partitionCaughtUp(g string, tp protocol.TopicPartition) bool {
	c := f.p.c
	leader := c.Replica(c.Leader(tp), tp)
	if leader == nil || leader.HW() < leader.LEO() {
		return false
	}
	for _, v := range f.owners[groupTP{g, tp}] {
		if v.pos[tp] >= leader.HW() && !v.processing {
			return true
		}
	}
	return false
}
