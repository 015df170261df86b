package group

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Events the coordinator records in the trace through its host's Observe (node.Env.Observe),
// for the terminal UI and the trace: what changed in a group, in the words of the classic
// protocol. Kafka logs the same moments at INFO in GroupMetadataManager ("Preparing to
// rebalance group … with old generation … (reason: …)", "Stabilized group … generation …",
// "Member … has left group … through explicit LeaveGroup", "Member … in group … has failed,
// removing it from the group", "Loading group metadata for … with generation …").
//
// They are found by comparing each loaded group with how it was after the broker's previous
// input (Watch), so the coordinator's own code carries no observation calls: the input that
// made the change (a request, a fired timer) gives the reason.

// Observer is what the coordinator's host may also be: it records events in the trace, and
// names the broker they are about.
type Observer interface {
	Observe(ev any)
	Node() int32
}

// StateChanged: the group moved From → To (ClassicGroup.transitionTo). Reason says why a
// rebalance began ("c2 left, session timeout", "c3 joined", "c1 rejoined").
type StateChanged struct {
	Broker     int32
	Group      string
	From, To   State
	Generation int32
	Reason     string
}

// MemberJoined: a member was added to the group (with its member id).
type MemberJoined struct {
	Broker int32
	Group  string
	Member string
	Client string // its client.id
}

// MemberLeft: a member was removed from the group, and why: "left the group" (LeaveGroup),
// "session timeout" (no heartbeat within session.timeout.ms), "did not rejoin in time" (the
// rebalance went on without it), "did not sync in time", "replaced by a restart" (a static
// member rejoined with a new member id).
type MemberLeft struct {
	Broker int32
	Group  string
	Member string
	Client string
	Reason string
	// Epoch: in a KIP-848 group, the group epoch from which the member's assignments no longer
	// count (the epoch its removal bumped the group to; past every epoch when a restarted
	// static member replaced it). 0 in a classic group.
	Epoch int32
}

// GenerationAssigned: the leader's assignment of Generation was stored and handed to every
// member: the group is Stable.
type GenerationAssigned struct {
	Broker     int32
	Group      string
	Kind       string // "classic", or "consumer" (KIP-848: Generation is the group epoch)
	Generation int32
	Protocol   string // the assignor chosen ("range")
	Leader     string // the leader's client.id
	Members    []Assignment
}

// Assignment is one member's partitions in a generation.
type Assignment struct {
	Member     string
	Client     string
	Partitions []protocol.TopicPartition
}

// OffsetCommitted: the group's committed offset of TP changed (the coordinator applied an
// OffsetCommit; the record is appended to __consumer_offsets). Client is the committing
// member's client.id ("" for a commit from outside the group).
type OffsetCommitted struct {
	Broker     int32
	Group      string
	Client     string
	Generation int32
	TP         protocol.TopicPartition
	Offset     int64
}

// Loaded: this broker became the group's coordinator and replayed it from its partition of
// __consumer_offsets (CoordinatorLoaderImpl).
type Loaded struct {
	Broker     int32
	Group      string
	Kind       string // "classic" or "consumer"
	State      State
	Generation int32
	Members    int
}

// Unloaded: this broker is no longer the group's coordinator (it lost the partition's
// leadership); the group is dead here.
type Unloaded struct {
	Broker int32
	Group  string
}

// TraceArg gives the trace a number to hash for each event.
func (e *StateChanged) TraceArg() int64       { return int64(e.Generation)<<8 | int64(e.To) }
func (e *MemberJoined) TraceArg() int64       { return int64(len(e.Member)) }
func (e *MemberLeft) TraceArg() int64         { return int64(len(e.Reason)) }
func (e *GenerationAssigned) TraceArg() int64 { return int64(e.Generation) }
func (e *OffsetCommitted) TraceArg() int64    { return e.Offset }
func (e *Loaded) TraceArg() int64             { return int64(e.Generation) }
func (e *Unloaded) TraceArg() int64           { return int64(e.Broker) }

// watch is how the groups looked after the broker's previous input.
type watch struct {
	parts  []int32 // the loaded shards, sorted
	groups map[string]*seenGroup
	order  []string // group ids in the order first seen (deterministic iteration)
}

type seenGroup struct {
	part    int32
	epoch   int32
	state   State
	gen     int32
	members []seenMember
	offsets map[protocol.TopicPartition]int64
	visited bool
}

type seenMember struct {
	id, client, instance string
	assignment           []protocol.TopicPartition
}

// Watch compares every loaded group with how it was after the previous input and observes
// what changed, cause being the input that was just handled (the broker calls it after each).
// Without a loaded shard it does nothing: runs without groups record no event.
func (c *Coordinator) Watch(now time.Duration, cause any) {
	w := &c.watch
	if !c.touched || (len(c.shards) == 0 && len(w.groups) == 0) {
		return
	}
	c.touched = false
	o, ok := c.host.(Observer)
	if !ok {
		return
	}
	broker := o.Node()
	if w.groups == nil {
		w.groups = map[string]*seenGroup{}
	}
	if !w.sameParts(c) {
		w.parts = slices.Sorted(maps.Keys(c.shards))
	}
	for _, p := range w.parts {
		s := c.shards[p]
		if s.loading {
			continue
		}
		for _, id := range s.order {
			g := s.groups[id]
			if g == nil || g.state == Dead {
				continue
			}
			seen := w.groups[id]
			if seen != nil && (seen.part != s.part || seen.epoch != s.epoch) {
				o.Observe(&Unloaded{Broker: broker, Group: id})
				seen = nil
			}
			if seen == nil {
				seen = &seenGroup{part: s.part, epoch: s.epoch, offsets: map[protocol.TopicPartition]int64{}}
				if _, known := w.groups[id]; !known {
					w.order = append(w.order, id)
				}
				w.groups[id] = seen
				if t, ok := cause.(Timer); ok && t.Kind == timerLoad {
					seen.update(g, s.offsets[id])
					seen.visited = true
					o.Observe(&Loaded{Broker: broker, Group: id, Kind: g.Kind(), State: g.state, Generation: g.Generation, Members: len(g.members)})
					continue
				}
			}
			seen.visited = true
			seen.diff(o, broker, g, s.offsets[id], cause)
		}
	}
	kept := w.order[:0]
	for _, id := range w.order {
		seen := w.groups[id]
		if seen.visited {
			seen.visited = false
			kept = append(kept, id)
			continue
		}
		delete(w.groups, id)
		o.Observe(&Unloaded{Broker: broker, Group: id})
	}
	w.order = kept
}

// sameParts reports whether the loaded shards are the ones last listed.
func (w *watch) sameParts(c *Coordinator) bool {
	if len(w.parts) != len(c.shards) {
		return false
	}
	for _, p := range w.parts {
		if c.shards[p] == nil {
			return false
		}
	}
	return true
}

func (sg *seenGroup) update(g *Group, offsets map[protocol.TopicPartition]Offset) {
	sg.state, sg.gen = g.state, g.Generation
	sg.members = sg.members[:0]
	for _, m := range g.members {
		sg.members = append(sg.members, seenMember{id: m.ID, client: m.ClientID, instance: m.InstanceID, assignment: slices.Clone(m.Assignment)})
	}
	for tp, off := range offsets {
		sg.offsets[tp] = off.Offset
	}
}

// sameMembers reports whether g has the members sg saw, in the same order: then none left
// and none joined.
func (sg *seenGroup) sameMembers(g *Group) bool {
	if len(sg.members) != len(g.members) {
		return false
	}
	for i, m := range g.members {
		if sg.members[i].id != m.ID {
			return false
		}
	}
	return true
}

// diff observes what changed in g since sg, in this order: the state (a rebalance's reason
// names the members that left or joined), members removed and added, the generation's
// assignment, the committed offsets.
func (sg *seenGroup) diff(o Observer, broker int32, g *Group, offsets map[protocol.TopicPartition]Offset, cause any) {
	var left, joined []seenMember
	if !sg.sameMembers(g) { // a settled group's heartbeats and commits skip the search
		// Sets of ids (looked up, never iterated): a group of a thousand joining one member
		// at a time would otherwise cost a million comparisons per join.
		now := make(map[string]bool, len(g.members))
		for _, m := range g.members {
			now[m.ID] = true
		}
		was := make(map[string]bool, len(sg.members))
		for _, old := range sg.members {
			was[old.id] = true
			if !now[old.id] {
				left = append(left, old)
			}
		}
		for _, m := range g.members {
			if !was[m.ID] {
				joined = append(joined, seenMember{id: m.ID, client: m.ClientID, instance: m.InstanceID})
			}
		}
	}
	assigned := g.state == Stable && (sg.state != Stable || sg.gen != g.Generation || !sg.sameAssignment(g))
	var commits []*OffsetCommitted
	client := ""
	if r, ok := cause.(*protocol.OffsetCommitRequest); ok && r.GroupID == g.ID {
		if m := g.member(r.MemberID); m != nil {
			client = m.ClientID
		}
	}
	for tp, off := range offsets {
		if prev, ok := sg.offsets[tp]; !ok || prev != off.Offset {
			commits = append(commits, &OffsetCommitted{Broker: broker, Group: g.ID, Client: client, Generation: g.Generation, TP: tp, Offset: off.Offset})
		}
	}
	if len(left) == 0 && len(joined) == 0 && sg.state == g.state && sg.gen == g.Generation && !assigned && len(commits) == 0 {
		return
	}
	if sg.state != g.state {
		ev := &StateChanged{Broker: broker, Group: g.ID, From: sg.state, To: g.state, Generation: g.Generation}
		if g.state == PreparingRebalance || (g.modern != nil && (g.state == Assigning || g.state == Reconciling) && sg.gen != g.Generation) {
			ev.Reason = rebalanceReason(g, left, joined, cause)
		}
		o.Observe(ev)
	}
	for _, m := range left {
		ev := &MemberLeft{Broker: broker, Group: g.ID, Member: m.id, Client: m.client, Reason: leftReason(g, m, cause)}
		if g.modern != nil {
			ev.Epoch = g.Generation
			if ev.Reason == "replaced by a restart" {
				ev.Epoch = math.MaxInt32
			}
		}
		o.Observe(ev)
	}
	for _, m := range joined {
		o.Observe(&MemberJoined{Broker: broker, Group: g.ID, Member: m.id, Client: m.client})
	}
	if assigned {
		ev := &GenerationAssigned{Broker: broker, Group: g.ID, Kind: g.Kind(), Generation: g.Generation, Protocol: g.Protocol}
		for _, m := range g.members {
			if m.ID == g.Leader {
				ev.Leader = m.ClientID
			}
			ev.Members = append(ev.Members, Assignment{Member: m.ID, Client: m.ClientID, Partitions: slices.Clone(m.Assignment)})
		}
		o.Observe(ev)
	}
	slices.SortFunc(commits, func(a, b *OffsetCommitted) int {
		return cmp.Or(cmp.Compare(a.TP.Topic, b.TP.Topic), cmp.Compare(a.TP.Partition, b.TP.Partition))
	})
	for _, e := range commits {
		o.Observe(e)
	}
	sg.update(g, offsets)
}

func (sg *seenGroup) sameAssignment(g *Group) bool {
	if len(sg.members) != len(g.members) {
		return false
	}
	for i, m := range g.members {
		if sg.members[i].id != m.ID || !slices.Equal(sg.members[i].assignment, m.Assignment) {
			return false
		}
	}
	return true
}

// leftReason says why member m left g, from the input that removed it.
func leftReason(g *Group, m seenMember, cause any) string {
	switch c := cause.(type) {
	case *protocol.LeaveGroupRequest:
		if c.GroupID == g.ID && (c.MemberID == m.id || c.MemberID == "" && c.GroupInstanceID != "" && c.GroupInstanceID == m.instance) {
			return "left the group"
		}
	case *protocol.JoinGroupRequest:
		if m.instance != "" && c.GroupInstanceID == m.instance {
			return "replaced by a restart"
		}
	case *protocol.ConsumerGroupHeartbeatRequest:
		if c.GroupID == g.ID && c.MemberEpoch < 0 && c.MemberID == m.id {
			return "left the group"
		}
		if m.instance != "" && c.InstanceID == m.instance && c.MemberEpoch == 0 {
			return "replaced by a restart"
		}
	case Timer:
		switch c.Kind {
		case timerHeartbeat:
			if c.Key == heartbeatKey(g.ID, m.id) {
				return "session timeout"
			}
		case timerSync:
			return "did not sync in time"
		case timerRevocation:
			if c.Key == revocationKey(g.ID, m.id) {
				return "did not revoke in time"
			}
		}
	}
	return "did not rejoin in time"
}

// rebalanceReason says why g began to rebalance.
func rebalanceReason(g *Group, left, joined []seenMember, cause any) string {
	var parts []string
	for _, m := range left {
		r := leftReason(g, m, cause)
		if r == "left the group" {
			parts = append(parts, m.client+" left the group")
		} else {
			parts = append(parts, m.client+" left, "+r)
		}
	}
	for _, m := range joined {
		parts = append(parts, m.client+" joined")
	}
	if len(parts) == 0 {
		switch c := cause.(type) {
		case *protocol.JoinGroupRequest:
			if c.GroupID == g.ID {
				parts = append(parts, c.ClientID+" rejoined")
			}
		case *protocol.ConsumerGroupHeartbeatRequest:
			if c.GroupID == g.ID {
				parts = append(parts, c.ClientID+" changed its subscription")
			}
		case *protocol.SyncGroupRequest:
			parts = append(parts, "the assignment could not be stored")
		case Timer:
			if c.Kind == timerWrite {
				parts = append(parts, "the assignment could not be stored")
			}
		}
	}
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}
