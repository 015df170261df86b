package reassign

import (
	"fmt"
	"strconv"
	"strings"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Render draws the moves in progress in snap in width columns and at most height lines (title
// included; height ≤ 0: no limit); "…" says what was left out.
func Render(snap *session.Snapshot, st *theme.Styles, width, height int) string {
	var moves []*session.Partition
	for i := range snap.Partitions {
		if snap.Partitions[i].Reassigning() {
			moves = append(moves, &snap.Partitions[i])
		}
	}
	title := st.Title.Render("Reassignments")
	switch len(moves) {
	case 0:
		title += st.Dim.Render("  none in progress")
	case 1:
		title += "  1 partition moving"
	default:
		title += fmt.Sprintf("  %d partitions moving", len(moves))
	}
	lines := []string{theme.Fit(title, width)}
	if len(moves) == 0 {
		lines = append(lines, st.Dim.Render(theme.Fit("  R reassigns the selected partition · b adds a broker · D removes the selected one", width)))
	}
	for _, p := range moves {
		lines = append(lines, move(p, st, width)...)
	}
	if height > 0 && len(lines) > height {
		cut := len(lines) - height + 1
		lines = append(lines[:height-1], st.Dim.Render(theme.Fit(fmt.Sprintf("  … %d more lines", cut), width)))
	}
	return strings.Join(lines, "\n")
}

// Height is the lines Render draws with no limit.
func Height(snap *session.Snapshot) int {
	n := 1
	moving := 0
	for _, p := range snap.Partitions {
		if p.Reassigning() {
			moving++
			n += 1 + len(p.Adding) + len(p.Removing)
		}
	}
	if moving == 0 {
		n++
	}
	return n
}

func move(p *session.Partition, st *theme.Styles, width int) []string {
	head := fmt.Sprintf("%s  replicas %s", p.Name(), ids(replicaIDs(p)))
	if len(p.Adding) > 0 {
		head += "  adding " + ids(p.Adding)
	}
	if len(p.Removing) > 0 {
		head += "  removing " + ids(p.Removing)
	}
	if p.Leader >= 0 {
		head += fmt.Sprintf("  leader %d", p.Leader)
	} else {
		head += "  no leader"
	}
	out := []string{st.Bold.Render(theme.Fit(head, width))}
	leaderLEO := int64(-1)
	if r := p.LeaderReplica(); r != nil {
		leaderLEO = r.LEO
	}
	barW := 10
	if width >= 120 {
		barW = 24
	}
	for _, a := range p.Adding {
		r := replica(p, a)
		var state string
		sty := st.Warn.Render
		switch {
		case r == nil || (!r.Up && !r.Stale):
			state, sty = "no replica yet", st.Dim.Render
		case !r.Up:
			state, sty = "down", st.Bad.Render
		case r.InISR:
			state, sty = "in the ISR", st.Good.Render
		case r.Throttled:
			state = "throttled (replication quota)"
		default:
			state = "catching up"
		}
		line := fmt.Sprintf("  + %-3d %s %s  %s", a, bar(r, leaderLEO, barW, st), progress(r, leaderLEO), state)
		out = append(out, sty(theme.Fit(line, width)))
	}
	for _, b := range p.Removing {
		what := "leaves once every added replica is in the ISR, and deletes its log"
		if b == p.Leader {
			what = "the leader: leadership moves to the first target replica in the ISR, then it leaves"
		}
		out = append(out, st.Dim.Render(theme.Fit(fmt.Sprintf("  - %-3d %s", b, what), width)))
	}
	return out
}

// bar is the added replica's LEO as a share of the leader's.
func bar(r *session.Replica, leaderLEO int64, w int, st *theme.Styles) string {
	filled := 0
	if r != nil && leaderLEO > 0 {
		filled = int(min(r.LEO, leaderLEO) * int64(w) / leaderLEO)
	} else if r != nil && leaderLEO == 0 {
		filled = w
	}
	return "[" + strings.Repeat(st.Committed, filled) + strings.Repeat(st.Empty, w-filled) + "]"
}

func progress(r *session.Replica, leaderLEO int64) string {
	if r == nil || leaderLEO < 0 {
		return "LEO ?"
	}
	pct := 100
	if leaderLEO > 0 {
		pct = int(min(r.LEO, leaderLEO) * 100 / leaderLEO)
	}
	return fmt.Sprintf("LEO %d/%d %3d%%", r.LEO, leaderLEO, pct)
}

func replica(p *session.Partition, b int32) *session.Replica {
	for i := range p.Replicas {
		if p.Replicas[i].Broker == b {
			return &p.Replicas[i]
		}
	}
	return nil
}

func replicaIDs(p *session.Partition) []int32 {
	out := make([]int32, len(p.Replicas))
	for i, r := range p.Replicas {
		out[i] = r.Broker
	}
	return out
}

func ids(v []int32) string {
	parts := make([]string, len(v))
	for i, id := range v {
		parts[i] = strconv.Itoa(int(id))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
