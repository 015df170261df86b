package partition

import (
	"fmt"
	"slices"
	"strings"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Status is a partition's state in a word or two.
func Status(p session.Partition) string {
	switch {
	case p.Offline:
		return "✖ OFFLINE"
	case p.Unclean:
		return "! unclean leader"
	case len(p.ISR) < len(p.Replicas):
		return "▽ under-replicated"
	}
	return "✓ in sync"
}

// ReplicaStatus is a replica's role and state: glyph and word.
func ReplicaStatus(p session.Partition, r session.Replica) string {
	var parts []string
	switch {
	case !r.Up:
		parts = append(parts, "✖ down")
	case r.Broker == p.Leader:
		parts = append(parts, "★ leader")
	case r.InISR:
		parts = append(parts, "● in sync")
	default:
		parts = append(parts, "○ OUT OF SYNC")
	}
	if r.Up && !r.InISR && r.Broker == p.Leader {
		parts = append(parts, "not in ISR")
	}
	if r.InELR {
		parts = append(parts, "ELR")
	}
	if r.Truncated {
		parts = append(parts, "✂ TRUNCATED")
	}
	if r.Stale {
		parts = append(parts, "(last seen)")
	}
	return strings.Join(parts, ", ")
}

// Render draws the table in width columns; sel is the selected partition's index (-1 none),
// marked ▸ when the table has the focus (focused), bold only when it has not; rows bounds the
// lines of partitions (0: all), the selection in view and a line saying how many more there
// are above and below when they do not all fit.
func Render(snap *session.Snapshot, st *theme.Styles, width, rows, sel int, focused bool) string {
	var b strings.Builder
	title := st.PaneTitle("Partitions", "PARTITION")
	if focused {
		title += st.Dim.Render("  ◂ j/k select")
	}
	b.WriteString(title + "\n")
	wide := width >= 100
	if wide {
		b.WriteString(header(st, []column{{"PARTITION", "PARTITION", 14}, {"LEADER", "LEADER", 6}, {"EPOCH", "EPOCH", 5}, {"ISR", "ISR", 10}, {"ELR", "ELR", 8}, {"HW", "HW", -9}, {"", " STATE", 0}}) + "\n")
	} else {
		b.WriteString(header(st, []column{{"PARTITION", "PARTITION", 10}, {"LEADER", "LDR", 3}, {"EPOCH", "EP", 3}, {"ISR", "ISR", 8}, {"ELR", "ELR", 5}, {"HW", "HW", -7}, {"", "STATE", 0}}) + "\n")
	}
	n := len(snap.Partitions)
	more := rows > 0 && n > rows
	if more {
		rows = max(1, rows-1) // the last line says how many more
	}
	first := 0
	if rows > 0 && sel >= rows {
		first = sel - rows + 1
	}
	for i, p := range snap.Partitions {
		if rows > 0 && (i < first || i >= first+rows) {
			continue
		}
		cur := "  "
		if i == sel && focused {
			cur = st.Cursor + " "
		}
		leader := fmt.Sprint(p.Leader)
		if p.Leader < 0 {
			leader = "-1"
		}
		var hw int64 = -1
		if l := p.LeaderReplica(); l != nil && l.Up {
			hw = l.HW
		}
		hws := "-"
		if hw >= 0 {
			hws = fmt.Sprint(hw)
		}
		status := Status(p)
		if n := len(p.OpenTxns); n > 0 {
			status += fmt.Sprintf(" · %d open txn", n)
		}
		var line string
		if wide {
			line = fmt.Sprintf("%s%-14s %-6s %-5d %-10s %-8s %9s  %s", cur, p.Name(), leader, p.Epoch, session.Set(p.ISR), session.Set(p.ELR), hws, status)
		} else {
			line = fmt.Sprintf("%s%-10s %-3s %-3d %-8s %-5s %7s %s", cur, p.Name(), leader, p.Epoch, session.Set(p.ISR), session.Set(p.ELR), hws, status)
		}
		switch {
		case i == sel:
			line = st.Selected.Render(line)
		}
		switch {
		case p.Offline:
			line = st.Bad.Render(line)
		case len(p.ISR) < len(p.Replicas):
			line = st.Warn.Render(line)
		}
		b.WriteString(line + "\n")
	}
	if more {
		var parts []string
		if first > 0 {
			parts = append(parts, fmt.Sprintf("▴ %d more above", first))
		}
		if below := n - first - rows; below > 0 {
			parts = append(parts, fmt.Sprintf("▾ %d more below", below))
		}
		b.WriteString(st.Dim.Render(theme.Fit("  "+strings.Join(parts, " · ")+fmt.Sprintf(" (%d partitions: j/k scrolls)", n), width)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// column is one column of the table's header: the term that lights it (theme.Styles.Lit), its
// label and its width (negative: right-aligned; 0: as wide as the label).
type column struct {
	term, label string
	width       int
}

// header draws the table's header: "  " then each column after one space, dim; a column whose
// term the caption names is highlighted, with a ▸ in the space before its label.
func header(st *theme.Styles, cols []column) string {
	var b strings.Builder
	b.WriteString(st.Dim.Render(" "))
	for _, c := range cols {
		cell := " " + c.label
		switch {
		case c.width > 0:
			cell = fmt.Sprintf(" %-*s", c.width, c.label)
		case c.width < 0:
			cell = fmt.Sprintf(" %*s", -c.width, c.label)
		}
		if c.term == "" || !st.IsLit(c.term) {
			b.WriteString(st.Dim.Render(cell))
			continue
		}
		pad := len(cell) - len(strings.TrimLeft(cell, " "))
		b.WriteString(cell[:pad-1] + st.Highlight.Render("▸"+strings.TrimRight(cell[pad:], " ")) + strings.Repeat(" ", len(cell)-len(strings.TrimRight(cell, " "))))
	}
	return b.String()
}

// Detail draws the selected partition's replicas: each log as a bar, HW and LEO marked, lag.
func Detail(snap *session.Snapshot, st *theme.Styles, width, sel int) string {
	if sel < 0 || sel >= len(snap.Partitions) {
		return ""
	}
	p := snap.Partitions[sel]
	lo, hi := window(p)
	var b strings.Builder
	hwMark, leoMark := st.Dim.Render("| HW"), st.Dim.Render("▏LEO")
	if st.IsLit("HW") {
		hwMark = st.Highlight.Render(hwLit + " HW")
	}
	if st.IsLit("LEO") {
		leoMark = st.Highlight.Render(leoLit + "LEO")
	}
	offsets := st.Dim.Render(fmt.Sprintf("  log offsets %d..%d", lo, hi))
	if st.IsLit("OFFSET") {
		offsets = "  " + st.Highlight.Render(fmt.Sprintf("▸log offsets %d..%d", lo, hi))
	}
	lsoMark := ""
	if unstable(p) {
		lsoMark = st.Dim.Render("  " + lsoGlyph + " LSO")
	}
	b.WriteString(st.PaneTitle(p.Name()+" replicas", "REPLICAS", "LEADER") + offsets + st.Dim.Render(fmt.Sprintf("  %s ≤HW %s HW..LEO  ", st.Committed, st.Uncommitted)) + hwMark + st.Dim.Render("  ") + leoMark + lsoMark + segmentLegend(p, st) + "\n")
	const label, text = 12, 40 // "  broker N  " and the words after the bar
	barW := max(10, width-label-text)
	for _, r := range p.Replicas {
		name := fmt.Sprintf("  broker %-3d", r.Broker)
		bar := Bar(st, r, lo, hi, barW)
		info := fmt.Sprintf(" LEO %d HW %d", r.LEO, r.HW)
		if r.LSO < r.HW {
			info += fmt.Sprintf(" LSO %d", r.LSO)
		}
		if r.Lag > 0 {
			info += fmt.Sprintf(" lag %d", r.Lag)
		}
		info += "  " + ReplicaStatus(p, r)
		line := name + bar + info
		sty := st.Good
		switch {
		case !r.Up || r.Truncated:
			sty = st.Bad
		case !r.InISR:
			sty = st.Warn
		case r.Broker == p.Leader:
			sty = st.Leader
		}
		b.WriteString(sty.Render(theme.Fit(line, width)) + "\n")
		if st.Present {
			b.WriteString(strings.Repeat(" ", label) + Bar(st, r, lo, hi, barW) + "\n")
		}
	}
	if st.IsLit("AR", "ISR", "OSR") {
		b.WriteString(theme.Fit("  "+membershipLit(p, st), width) + "\n")
	} else {
		b.WriteString(st.Dim.Render(theme.Fit("  "+Membership(p), width)) + "\n")
	}
	if s := Logs(p, width-2); s != "" {
		b.WriteString(st.Dim.Render(theme.Fit("  "+s, width)) + "\n")
	}
	if s := OpenTxns(p); s != "" {
		b.WriteString(st.Warn.Render(theme.Fit("  "+s, width)) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// lsoGlyph marks the last stable offset on a bar when it is below the HW: read_committed
// consumers read up to it, not to the HW.
const lsoGlyph = "¦"

// unstable reports whether a replica of p has its last stable offset below its HW (a
// transaction is open below the HW).
func unstable(p session.Partition) bool {
	for _, r := range p.Replicas {
		if r.Up && r.LSO < r.HW {
			return true
		}
	}
	return false
}

// OpenTxns says which transactions are open on the partition's leader, oldest first: "open
// transactions: tx (pid 0, epoch 3) from 120 · pid 4 (epoch 0) from 131"; "" with none. The
// oldest holds the LSO: read_committed consumers wait there until its marker is written.
func OpenTxns(p session.Partition) string {
	if len(p.OpenTxns) == 0 {
		return ""
	}
	var out []string
	for _, o := range p.OpenTxns {
		who := fmt.Sprintf("pid %d (epoch %d)", o.ProducerID, o.Epoch)
		if o.Producer != "" {
			who = fmt.Sprintf("%s (pid %d, epoch %d)", o.Producer, o.ProducerID, o.Epoch)
		}
		out = append(out, who+fmt.Sprintf(" from %d", o.FirstOffset))
	}
	word := "transactions"
	if len(out) == 1 {
		word = "transaction"
	}
	return "open " + word + ": " + strings.Join(out, " · ")
}

// Logs says what each replica's log holds on disk — its bytes, its segments and its log start
// offset — and how the leader stores the latest batches: "on disk: 1 12.3 KB in 3 segments
// from 0 · 2 … · lz4 3.1:1" (the ratio of their uncompressed size to their size on disk), or
// "uncompressed". When that is wider than width, the short form: "disk 1: 12.3 KB/3 seg/0 ·
// 2: … · lz4 3.1:1". Down replicas are left out; "" when none runs.
func Logs(p session.Partition, width int) string {
	var long, short []string
	for _, r := range p.Replicas {
		if !r.Up {
			continue
		}
		seg := "segments"
		if r.Segments == 1 {
			seg = "segment"
		}
		long = append(long, fmt.Sprintf("%d %s in %d %s from %d", r.Broker, Size(r.Bytes), r.Segments, seg, r.LogStart))
		short = append(short, fmt.Sprintf("%d: %s/%d seg/%d", r.Broker, Size(r.Bytes), r.Segments, r.LogStart))
	}
	if len(long) == 0 {
		return ""
	}
	var codec string
	switch p.Codec {
	case "":
	case "none":
		codec = " · uncompressed"
	default:
		codec = fmt.Sprintf(" · %s %.1f:1", p.Codec, p.Ratio)
	}
	s := "on disk: " + strings.Join(long, " · ") + codec
	if len([]rune(s)) > width {
		s = "disk " + strings.Join(short, " · ") + codec
	}
	return s
}

// Size renders bytes in the scenario language's units: 812 B, 12.3 KB, 4.0 MB, 1.2 GB.
func Size(n int64) string { return session.Size(n) }

// Membership names the replica sets as the seed documents teach them: AR, the assigned
// replicas, is the ISR (in sync with the leader) plus the OSR (out of sync).
func Membership(p session.Partition) string {
	var ar, osr []int32
	for _, r := range p.Replicas {
		ar = append(ar, r.Broker)
		if !slices.Contains(p.ISR, r.Broker) {
			osr = append(osr, r.Broker)
		}
	}
	return fmt.Sprintf("AR %s = ISR %s + OSR %s", session.Set(ar), session.Set(p.ISR), session.Set(osr))
}

// membershipLit is Membership with the sets the caption names highlighted and marked ▸.
func membershipLit(p session.Partition, st *theme.Styles) string {
	var ar, osr []int32
	for _, r := range p.Replicas {
		ar = append(ar, r.Broker)
		if !slices.Contains(p.ISR, r.Broker) {
			osr = append(osr, r.Broker)
		}
	}
	set := func(term string, s []int32) string {
		if st.IsLit(term) {
			return st.Highlight.Render("▸" + term + " " + session.Set(s))
		}
		return st.Dim.Render(term + " " + session.Set(s))
	}
	return set("AR", ar) + st.Dim.Render(" = ") + set("ISR", p.ISR) + st.Dim.Render(" + ") + set("OSR", osr)
}

// The HW and LEO markers on the bars when the caption names them: heavier than | and ▏.
const hwLit, leoLit = "┃", "▌"

// window picks the offsets the bars span: up to the highest LEO, from a little before the
// lowest HW, LEO or LSO, so that lags and open transactions show.
func window(p session.Partition) (int64, int64) {
	var hi int64
	lo := int64(-1)
	for _, r := range p.Replicas {
		hi = max(hi, r.LEO)
		m := min(r.HW, r.LEO)
		if r.Up && r.LSO < m {
			m = r.LSO // an open transaction holds the LSO back: the bar shows how far
		}
		if lo < 0 || m < lo {
			lo = m
		}
	}
	if lo < 0 {
		lo = 0
	}
	pad := max(10, (hi-lo)/3)
	lo = max(0, lo-pad)
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}

// segmentLegend names the segment marks when a replica's log has rolled (a log of one segment
// has none to show).
func segmentLegend(p session.Partition, st *theme.Styles) string {
	for _, r := range p.Replicas {
		if len(r.Rolls) > 0 {
			return st.Dim.Render("  ╎ roll ┇ active segment")
		}
	}
	return ""
}

// Bar draws a replica's log from lo to hi in width cells: committed (≤ HW), uncommitted
// (HW..LEO), empty past the LEO, with '|' at the HW, '▏' at the LEO and '¦' at the LSO when
// an open transaction holds it below the HW, and its segments: '╎' where the log rolled, '┇'
// where the active segment begins (only the active one when the boundaries would crowd the
// bar).
func Bar(st *theme.Styles, r session.Replica, lo, hi int64, width int) string {
	if width < 3 {
		return ""
	}
	inner := width - 2
	span := float64(hi - lo)
	cell := func(off int64) int {
		c := int(float64(off-lo) / span * float64(inner))
		return max(0, min(inner-1, c))
	}
	out := make([]string, inner)
	hwC, leoC := cell(r.HW), cell(r.LEO)
	for i := range out {
		switch {
		case r.LEO <= lo:
			out[i] = st.Empty
		case i < hwC:
			out[i] = st.Committed
		case i <= leoC && r.LEO > r.HW:
			out[i] = st.Uncommitted
		case i < leoC:
			out[i] = st.Committed
		default:
			out[i] = st.Empty
		}
	}
	var visible []int64
	for _, b := range r.Rolls {
		if b > lo && b < hi {
			visible = append(visible, b)
		}
	}
	for i, b := range visible {
		switch {
		case i == len(visible)-1 && b == r.Rolls[len(r.Rolls)-1]:
			out[cell(b)] = "┇" // the active segment
		case len(visible) <= inner/3:
			out[cell(b)] = "╎"
		}
	}
	if r.LEO > lo {
		out[leoC] = "▏"
		if st.IsLit("LEO") {
			out[leoC] = st.Highlight.Render(leoLit)
		}
	}
	if r.LSO < r.HW && r.LSO > lo {
		out[cell(r.LSO)] = lsoGlyph
	}
	if r.HW > lo && r.HW < hi {
		out[hwC] = "|"
		if st.IsLit("HW") {
			out[hwC] = st.Highlight.Render(hwLit)
		}
	}
	return "[" + strings.Join(out, "") + "]"
}
