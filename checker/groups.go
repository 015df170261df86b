package checker

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"kafkasim/broker/client"
	"kafkasim/broker/group"
	"kafkasim/broker/history"
)

// Consumer groups: what the history says about each group's deliveries and commits.
const (
	// GroupSkip: a group committed an offset past a record that no member of it received
	// (commit=before-processing permits it: at-most-once; it is still a loss).
	GroupSkip = "group-skip"
	// GroupDuplicate: a record the group received more than once. Counted and explained;
	// at-least-once delivery permits it, so it does not make the verdict invalid.
	GroupDuplicate = "group-duplicate"
	// OneOwnerPerGeneration (online): two members of one group own a partition in the same
	// generation; in a KIP-848 group, a member takes a partition that another member still
	// owns (revoke before assign), unless the coordinator fenced that member since.
	OneOwnerPerGeneration = "one-owner-per-generation"
)

// informational anomalies are reported but do not make a run invalid.
var informational = map[string]bool{GroupDuplicate: true}

type groupTP struct {
	group string
	k     tpKey
}

// groupSkips: for each group and partition, every commit (acknowledged, or of unknown
// outcome) at offset O must not pass a record of the log between the first offset the group
// received and O that no member of the group received.
//
// The offsets each group received are a sorted slice, not a set: ten classroom minutes hold
// 600,000 of them.
func (a *analysis) groupSkips() []Anomaly {
	received := map[groupTP]*distinct{}
	var buf history.Op
	for i := range a.h.Len() {
		op := a.at(i, &buf)
		if op.Type != history.Poll || op.Group == "" || op.Outcome != history.OK {
			continue
		}
		key := groupTP{op.Group, keyOf(op)}
		d := received[key]
		if d == nil {
			d = &distinct{}
			received[key] = d
		}
		for _, off := range op.Offsets {
			d.add(off)
		}
	}
	got := make(map[groupTP][]int64, len(received)) // sorted
	for key, d := range received {
		got[key] = d.sorted()
	}
	received = nil
	var out []Anomaly
	reported := map[groupTP]int64{}
	unreceived := map[groupTP][]int64{} // the partition's offsets from low on that no member received, ascending
	for i := range a.h.Len() {
		op := a.at(i, &buf)
		if op.Type != history.Commit || op.Group == "" || op.Outcome == history.Fail || len(op.Offsets) != 1 {
			continue
		}
		key := groupTP{op.Group, keyOf(op)}
		p := a.parts[key.k]
		if len(got[key]) == 0 || p == nil {
			continue
		}
		lo := got[key][0]
		un, ok := unreceived[key]
		if !ok { // once per group and partition, not once per commit: offsetAt is sorted
			for _, off := range p.offsetAt {
				if _, ok := slices.BinarySearch(got[key], off); off >= lo && !ok {
					un = append(un, off)
				}
			}
			unreceived[key] = un
		}
		from, _ := slices.BinarySearch(un, reported[key])
		to, _ := slices.BinarySearch(un, op.Offsets[0])
		missed := un[from:max(from, to)]
		if len(missed) == 0 {
			continue
		}
		reported[key] = op.Offsets[0]
		shown := missed
		if len(shown) > maxSkipped {
			shown = shown[:maxSkipped]
		}
		if a.explain(GroupSkip) {
			out = append(out, Anomaly{Name: GroupSkip, Ops: a.ops(i),
				Explanation: fmt.Sprintf("group %s committed %s at offset %d (%s, generation %d), past %d records no member of the group received: offsets %v",
					op.Group, key.k, op.Offsets[0], a.describe(i), op.Generation, len(missed), shown)})
		}
	}
	return out
}

// groupDuplicates: a value the group received in two polls. The explanation names who
// received it in which generation, one anomaly per value in the order the values were first
// received.
//
// Every value a group received is one entry of a sorted slice, not a map entry keyed by group,
// partition and value: ten classroom minutes hold 600,000 received values, which took 130 MiB
// in a map and take 14 here.
func (a *analysis) groupDuplicates() []Anomaly {
	type got struct {
		v    int64
		poll int   // the poll's position
		g    int32 // the group and partition: an index into keys
		at   int32 // the value's place in the poll
	}
	n := 0
	var buf history.Op
	for i := range a.h.Len() {
		if op := a.at(i, &buf); op.Type == history.Poll && op.Group != "" && op.Outcome == history.OK {
			n += len(op.Values)
		}
	}
	gots := make([]got, 0, n)
	ids := map[groupTP]int32{}
	var keys []groupTP
	for i := range a.h.Len() {
		op := a.at(i, &buf)
		if op.Type != history.Poll || op.Group == "" || op.Outcome != history.OK {
			continue
		}
		key := groupTP{op.Group, keyOf(op)}
		id, ok := ids[key]
		if !ok {
			id = int32(len(keys))
			ids[key] = id
			keys = append(keys, key)
		}
		for at, v := range op.Values {
			gots = append(gots, got{v, i, id, int32(at)})
		}
	}
	slices.SortFunc(gots, func(x, y got) int {
		return cmp.Or(cmp.Compare(x.g, y.g), cmp.Compare(x.v, y.v), cmp.Compare(x.poll, y.poll), cmp.Compare(x.at, y.at))
	})
	type dup struct {
		first got   // where the value was first received
		polls []int // every poll that received it, ascending
	}
	var dups []dup
	for s := 0; s < len(gots); {
		e := s + 1
		for e < len(gots) && gots[e].g == gots[s].g && gots[e].v == gots[s].v {
			e++
		}
		if gots[e-1].poll != gots[s].poll {
			var is []int
			for _, g := range gots[s:e] {
				if len(is) == 0 || is[len(is)-1] != g.poll {
					is = append(is, g.poll)
				}
			}
			dups = append(dups, dup{gots[s], is})
		}
		s = e
	}
	gots = nil
	slices.SortFunc(dups, func(x, y dup) int {
		return cmp.Or(cmp.Compare(x.first.poll, y.first.poll), cmp.Compare(x.first.at, y.first.at))
	})
	var out []Anomaly
	for _, d := range dups {
		key, is := keys[d.first.g], d.polls
		var who []string
		for _, i := range is {
			op := a.at(i, &buf)
			who = append(who, fmt.Sprintf("%s in generation %d (%s)", op.Client, op.Generation, a.describe(i)))
		}
		if a.explain(GroupDuplicate) {
			out = append(out, Anomaly{Name: GroupDuplicate, Ops: a.ops(is...),
				Explanation: fmt.Sprintf("group %s received %d of %s %d times: %s", key.group, d.first.v, key.k, len(is), strings.Join(who, "; "))})
		}
	}
	return out
}

// ownerKey is a partition of a group in one generation.
type ownerKey struct {
	group string
	gen   int32
	tp    string
}

// groupAssigned: one-owner-per-generation. A generation's number names it only while the
// group's records last: a coordinator that lost them (its __consumer_offsets partition lost
// data to a power loss or an unclean election) starts the group again at generation 0, and
// its generation 1 is not the old one (groupEpochSeen forgets the old owners). The old
// members are fenced from it: their heartbeats and commits get UNKNOWN_MEMBER_ID.
func (o *Online) groupAssigned(e *client.GroupAssigned) {
	if e.Protocol == "consumer" {
		o.epochAssigned(e)
		return
	}
	if o.owners == nil {
		o.owners = map[ownerKey]string{}
	}
	if o.claims.highest == nil {
		o.claims.highest = map[string]int32{}
	}
	o.claims.highest[e.Group] = max(o.claims.highest[e.Group], e.Generation)
	for _, tp := range e.Partitions {
		k := ownerKey{e.Group, e.Generation, tp.String()}
		if prev, ok := o.owners[k]; ok && prev != e.Client {
			o.violate(k.group+"|"+k.tp+"|"+fmt.Sprint(k.gen), OneOwnerPerGeneration,
				"group %s generation %d: %s is assigned to both %s and %s", e.Group, e.Generation, tp, prev, e.Client)
			continue
		}
		o.owners[k] = e.Client
	}
}

// epochClaims follows KIP-848 groups, where member epochs differ between members: a
// partition's owner is the member that last took it up, until it revokes it (its next
// assignment lacks it) or the coordinator fences it. A claim made at a member epoch below the
// group epoch of the member's removal is void (an answer sent before the removal); a client's
// claims as one member end when it claims as another (a restarted process); and when a
// coordinator shows the group at an epoch below one already claimed, it rebuilt the group
// without those records (lost with the __consumer_offsets data a crash took): every claim of
// the group is forgotten, their members will be told they are unknown.
type epochClaims struct {
	owner   map[groupPart]map[string]epochClaim // group and partition → member id → claim
	removed map[string]int32                    // group and member id → claims below this epoch are void
	highest map[string]int32                    // group → the highest member epoch claimed
}

type groupPart struct{ group, tp string }

type epochClaim struct {
	client string
	epoch  int32
}

// epochAssigned: a member of a KIP-848 group now owns e.Partitions at member epoch
// e.Generation: it drops what it no longer lists, and nobody else may still own what it lists.
func (o *Online) epochAssigned(e *client.GroupAssigned) {
	c := &o.claims
	if c.owner == nil {
		c.owner, c.removed = map[groupPart]map[string]epochClaim{}, map[string]int32{}
	}
	mine := map[string]bool{}
	for _, tp := range e.Partitions {
		mine[tp.String()] = true
	}
	for k, owners := range c.owner { // deletions only: the order does not matter
		if k.group != e.Group {
			continue
		}
		for id, cl := range owners {
			if (id == e.Member && !mine[k.tp]) || (id != e.Member && cl.client == e.Client) {
				delete(owners, id)
			}
		}
	}
	if below, ok := c.removed[e.Group+"\x00"+e.Member]; (ok && e.Generation < below) || e.Generation <= 0 {
		return // a late answer to a member fenced since, or no membership
	}
	for _, tp := range e.Partitions {
		k := groupPart{e.Group, tp.String()}
		if c.owner[k] == nil {
			c.owner[k] = map[string]epochClaim{}
		}
		for _, other := range slices.Sorted(maps.Keys(c.owner[k])) {
			prev := c.owner[k][other]
			if other == e.Member {
				continue
			}
			o.violate(e.Group+"|"+k.tp+"|"+fmt.Sprint(e.Generation), OneOwnerPerGeneration,
				"group %s: %s takes %s at member epoch %d while %s still owns it at member epoch %d (a partition is revoked before it is assigned)",
				e.Group, e.Client, tp, e.Generation, prev.client, prev.epoch)
		}
		c.owner[k][e.Member] = epochClaim{client: e.Client, epoch: e.Generation}
	}
	if c.highest == nil {
		c.highest = map[string]int32{}
	}
	c.highest[e.Group] = max(c.highest[e.Group], e.Generation)
}

// groupEpochSeen: a coordinator has group at group epoch (or generation) epoch; below an
// epoch (or generation) already claimed, the group was rebuilt: its claims are forgotten, of
// either protocol.
func (o *Online) groupEpochSeen(group string, epoch int32) {
	c := &o.claims
	if h, ok := c.highest[group]; !ok || epoch >= h {
		return
	}
	c.highest[group] = epoch
	for k := range o.owners { // deletions only: the order does not matter
		if k.group == group {
			delete(o.owners, k)
		}
	}
	for k := range c.owner { // deletions only: the order does not matter
		if k.group == group {
			delete(c.owner, k)
		}
	}
}

// groupMemberLeft: the coordinator removed a member of a KIP-848 group: its claims made below
// the group epoch of its removal are void.
func (o *Online) groupMemberLeft(e *group.MemberLeft) {
	if e.Epoch <= 0 {
		return // a classic group
	}
	c := &o.claims
	if c.owner == nil {
		c.owner, c.removed = map[groupPart]map[string]epochClaim{}, map[string]int32{}
	}
	c.removed[e.Group+"\x00"+e.Member] = e.Epoch
	for k, owners := range c.owner {
		if cl, ok := owners[e.Member]; ok && k.group == e.Group && cl.epoch < e.Epoch {
			delete(owners, e.Member)
		}
	}
}
