package session

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// Group is a consumer group as the snapshot shows it: its coordinator's view (members and
// their partitions, the committed offset and lag of every partition it reads), which members'
// processes are down, and, while no running coordinator has it, the group as last seen.
type Group struct {
	cluster.GroupView
	Down  []string // clients among the members whose process is not running
	Stale bool     // no running coordinator has the group loaded: the members are the last seen
}

// MemberDown reports whether client's process is down.
func (g *Group) MemberDown(client string) bool { return slices.Contains(g.Down, client) }

// takeGroups reads every group seen so far: named by a consumer's group.id or by a
// coordinator's event.
func (tl *Timeline) takeGroups() []Group {
	c := tl.c
	for _, name := range c.ClientNames() {
		if cs := c.Consumer(name); cs != nil && cs.Group() != "" {
			tl.seeGroup(cs.Group())
		}
	}
	var out []Group
	for _, id := range tl.groupIDs {
		g := Group{GroupView: c.GroupView(id)}
		if !g.Loaded {
			if last, ok := tl.lastGroup[id]; ok {
				coord := g.Coordinator
				parts := g.Partitions
				g.GroupView, g.Stale = last, true
				g.Coordinator = coord
				// The offsets and ends stay the present ones: committed offsets live on in
				// __consumer_offsets while no coordinator serves them.
				g.Partitions = parts
				for i := range g.Partitions {
					for _, m := range g.Members {
						if slices.Contains(m.Partitions, g.Partitions[i].TP) {
							g.Partitions[i].Owner = m.Client
						}
					}
				}
			}
		} else {
			tl.lastGroup[id] = g.GroupView
		}
		for _, m := range g.Members {
			if id, ok := c.Client(m.Client); ok && c.World.State(id) != sim.Running {
				g.Down = append(g.Down, m.Client)
			}
		}
		out = append(out, g)
	}
	return out
}

func (tl *Timeline) seeGroup(id string) {
	if !slices.Contains(tl.groupIDs, id) {
		tl.groupIDs = append(tl.groupIDs, id)
	}
}

// observeGroup turns a group coordinator's event into a line of the log. A rebalance's line
// names the members that left or joined, so theirs, at the same instant, are not repeated.
func (tl *Timeline) observeGroup(now time.Duration, ev any) bool {
	switch e := ev.(type) {
	case *group.StateChanged:
		tl.seeGroup(e.Group)
		switch e.To {
		case group.PreparingRebalance:
			text := e.Group + " rebalances"
			if e.Reason != "" {
				text += ": " + e.Reason
			}
			tl.add(Event{At: now, Kind: Rebalance, Text: text})
			tl.rebalanceAt, tl.rebalanceOf = now, e.Group
			tl.mark = true
		case group.CompletingRebalance:
			tl.add(Event{At: now, Kind: GroupNote, Text: fmt.Sprintf("%s generation %d formed: every member joined, the leader assigns", e.Group, e.Generation)})
		case group.Assigning, group.Reconciling:
			// KIP-848: a new group epoch; members reconcile one by one, revoking before others take.
			if e.Reason != "" {
				tl.add(Event{At: now, Kind: Rebalance, Text: fmt.Sprintf("%s rebalances: %s (group epoch %d)", e.Group, e.Reason, e.Generation)})
				tl.rebalanceAt, tl.rebalanceOf = now, e.Group
				tl.mark = true
			}
		case group.Empty:
			if e.From != group.Empty {
				tl.add(Event{At: now, Kind: Rebalance, Text: fmt.Sprintf("%s is empty (generation %d): no member left", e.Group, e.Generation)})
				tl.mark = true
			}
		}
	case *group.MemberJoined:
		tl.seeGroup(e.Group)
		if !tl.folded(now, e.Group) {
			tl.add(Event{At: now, Kind: GroupNote, Text: fmt.Sprintf("%s: %s joins (member %s)", e.Group, e.Client, e.Member)})
		}
	case *group.MemberLeft:
		tl.seeGroup(e.Group)
		if tl.folded(now, e.Group) {
			break
		}
		text := fmt.Sprintf("%s: %s removed, %s", e.Group, e.Client, e.Reason)
		if e.Reason == "left the group" {
			text = fmt.Sprintf("%s: %s left the group", e.Group, e.Client)
		}
		tl.add(Event{At: now, Kind: Rebalance, Text: text})
		tl.mark = true
	case *group.GenerationAssigned:
		tl.seeGroup(e.Group)
		var ms []string
		for _, m := range e.Members {
			ms = append(ms, m.Client+" "+TPSet(m.Partitions))
		}
		slices.Sort(ms) // by client: r1 before r2
		word := "generation"
		if e.Kind == "consumer" {
			word = "epoch"
		}
		tl.add(Event{At: now, Kind: Rebalance, Text: fmt.Sprintf("%s %s %d: %s", e.Group, word, e.Generation, strings.Join(ms, ", "))})
		tl.mark = true
	case *group.OffsetCommitted:
		tl.seeGroup(e.Group)
		who := e.Client
		if who == "" {
			who = e.Group
		}
		tl.add(Event{At: now, Kind: GroupNote, TP: e.TP.String(), Text: fmt.Sprintf("%s commits %s at %s", who, e.TP, Thousands(e.Offset))})
	case *group.Loaded:
		tl.seeGroup(e.Group)
		word := "generation"
		if e.Kind == "consumer" {
			word = "group epoch"
		}
		tl.add(Event{At: now, Kind: GroupNote, Text: fmt.Sprintf("broker %d loads %s from __consumer_offsets: %s, %s %d, %d members", e.Broker, e.Group, e.State, word, e.Generation, e.Members)})
	case *group.Unloaded:
		tl.add(Event{At: now, Kind: GroupNote, Text: fmt.Sprintf("broker %d is no longer %s's coordinator", e.Broker, e.Group)})
	default:
		return false
	}
	return true
}

// folded reports whether a member event of group g at now is said by the rebalance line just
// logged.
func (tl *Timeline) folded(now time.Duration, g string) bool {
	if len(tl.events) == 0 || tl.rebalanceOf != g || tl.rebalanceAt != now {
		return false
	}
	last := tl.events[len(tl.events)-1]
	return last.At == now && last.Kind == Rebalance && strings.HasPrefix(last.Text, g+" rebalances")
}

// TPSet writes partitions as {orders/0,orders/1}.
func TPSet(tps []protocol.TopicPartition) string {
	s := make([]string, len(tps))
	for i, tp := range tps {
		s[i] = tp.String()
	}
	return "{" + strings.Join(s, ",") + "}"
}

// Thousands writes n with commas between groups of three digits: 1,204.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// GroupPartition is one partition a group reads, as the snapshot has it.
type GroupPartition = cluster.GroupPartitionView

// GroupMember is one member of a group, as the snapshot has it.
type GroupMember = cluster.GroupMemberView
