package groups

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"kafkasim/broker/protocol"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Render draws the groups of snap in width columns and at most height lines (title included;
// height ≤ 0: no limit). A group that does not fit whole shows its header and members first,
// its partitions as room allows, and "…" says what was left out.
func Render(snap *session.Snapshot, st *theme.Styles, width, height int) string {
	lines := []string{st.PaneTitle("Groups", "GROUP")}
	if len(snap.Groups) == 0 {
		lines = append(lines, st.Dim.Render(theme.Fit("  no consumer group", width)))
	}
	for i := range snap.Groups {
		lines = append(lines, group(&snap.Groups[i], st, width)...)
	}
	if height > 0 && len(lines) > height {
		cut := len(lines) - height + 1
		lines = append(lines[:height-1], st.Dim.Render(theme.Fit(fmt.Sprintf("  … %d more lines (v: other panes; a wider screen shows more)", cut), width)))
	}
	return strings.Join(lines, "\n")
}

// Height is the lines Render draws with no limit.
func Height(snap *session.Snapshot) int {
	n := 1
	if len(snap.Groups) == 0 {
		n++
	}
	for i := range snap.Groups {
		g := &snap.Groups[i]
		n += 1 + len(g.Members) + 1 + len(g.Partitions)
		if len(g.Members) == 0 {
			n++
		}
	}
	return n
}

func group(g *session.Group, st *theme.Styles, width int) []string {
	head := fmt.Sprintf("%s  %s  %s", g.ID, state(g), generation(g))
	proto := g.Protocol
	if g.Assignor != "" {
		proto += " (" + g.Assignor + ")"
	}
	head += "  " + proto + "  " + coordinator(g)
	if g.Leader != "" {
		head += "  leader " + g.Leader
	}
	sty := st.Good.Render
	switch {
	case g.Stale || !g.Loaded:
		sty = st.Bad.Render
	case g.State != "stable":
		sty = st.Warn.Render
	}
	out := []string{sty(theme.Fit(head, width))}
	if len(g.Members) == 0 {
		out = append(out, st.Dim.Render(theme.Fit("  no member", width)))
	}
	members := slices.SortedFunc(slices.Values(g.Members), func(a, b session.GroupMember) int { return cmp.Compare(a.Client, b.Client) })
	for _, m := range members {
		name := m.Client
		if name == g.Leader {
			name += "★"
		}
		line := fmt.Sprintf("  %-4s %s", name, assignment(m.Partitions))
		if g.Protocol == "consumer" {
			line += fmt.Sprintf("  epoch %d", m.Epoch)
			if len(m.Revoking) > 0 {
				line += "  revoking " + assignment(m.Revoking)
			} else if m.State != "" && m.State != "stable" {
				line += "  " + m.State
			}
		}
		msty := st.Good.Render
		if g.MemberDown(m.Client) {
			line = fmt.Sprintf("  %-4s %s  ✖ down: still a member until its session times out", name, assignment(m.Partitions))
			msty = st.Bad.Render
		}
		if width >= 120 {
			line += st.Dim.Render("  member " + m.ID)
			if m.InstanceID != "" {
				line += st.Dim.Render(", static " + m.InstanceID)
			}
		}
		out = append(out, msty(theme.Fit(line, width)))
	}
	col := 12 // the partition column, wider for a longer topic-partition name
	for _, p := range g.Partitions {
		col = max(col, len(p.TP.String()))
	}
	out = append(out, st.Dim.Render(theme.Fit(fmt.Sprintf("  %-*s %-5s %10s %10s %8s", col, "partition", "owner", "committed", "end", "lag"), width)))
	for _, p := range g.Partitions {
		owner := p.Owner
		if owner == "" {
			owner = "—"
		}
		committed, end, lag := "none", "?", "?"
		if p.Committed >= 0 {
			committed = session.Thousands(p.Committed)
		}
		if p.End >= 0 {
			end, lag = session.Thousands(p.End), session.Thousands(p.Lag)
		}
		line := fmt.Sprintf("  %-*s %-5s %10s %10s %8s", col, p.TP, owner, committed, end, lag)
		psty := st.Good.Render
		if p.End < 0 || p.Owner == "" || g.MemberDown(p.Owner) {
			psty = st.Warn.Render
		}
		out = append(out, psty(theme.Fit(line, width)))
	}
	return out
}

// assignment writes a member's partitions: {orders/0,orders/1} when they are of one topic, and
// topic by topic when they are of several (a consumer of several topics): orders/{0,1}
// payments/{2}.
func assignment(tps []protocol.TopicPartition) string {
	if len(tps) == 0 || !slices.ContainsFunc(tps, func(tp protocol.TopicPartition) bool { return tp.Topic != tps[0].Topic }) {
		return session.TPSet(tps)
	}
	sorted := slices.SortedFunc(slices.Values(tps), func(a, b protocol.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	var b strings.Builder
	for i, tp := range sorted {
		switch {
		case i == 0:
			fmt.Fprintf(&b, "%s/{%d", tp.Topic, tp.Partition)
		case tp.Topic != sorted[i-1].Topic:
			fmt.Fprintf(&b, "} %s/{%d", tp.Topic, tp.Partition)
		default:
			fmt.Fprintf(&b, ",%d", tp.Partition)
		}
	}
	b.WriteString("}")
	return b.String()
}

func state(g *session.Group) string {
	switch {
	case g.Stale:
		return g.State + " (as last seen)"
	case !g.Loaded:
		return "unknown"
	}
	return g.State
}

// generation is a classic group's generation, or a consumer group's group epoch and target
// assignment epoch (KIP-848).
func generation(g *session.Group) string {
	switch {
	case g.Protocol == "consumer" && !g.Loaded && !g.Stale:
		return "epoch ?"
	case g.Protocol == "consumer":
		return fmt.Sprintf("epoch %d (assignment %d)", g.Generation, g.Assignment)
	case !g.Loaded && !g.Stale:
		return "generation ?"
	}
	return fmt.Sprintf("generation %d", g.Generation)
}

func coordinator(g *session.Group) string {
	switch {
	case g.Coordinator < 0:
		return "no coordinator"
	case g.Stale:
		return fmt.Sprintf("coordinator %d, not serving it", g.Coordinator)
	case !g.Loaded:
		return fmt.Sprintf("coordinator %d loading", g.Coordinator)
	}
	return fmt.Sprintf("coordinator %d", g.Coordinator)
}
