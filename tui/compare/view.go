package compare

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"

	clusterview "kafkasim/tui/cluster"
	"kafkasim/tui/partition"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
	"kafkasim/tui/verdict"
)

// sideBySide is the least width that shows the worlds in two columns; below it they are
// stacked.
const sideBySide = 100

// Render draws the screen as a string (the golden tests compare it without colours): the
// header with the one clock, the captions, the two worlds, the bottom line.
func (m *Model) Render() string {
	w, h := max(m.w, 40), max(m.h, 12)
	parts := []string{m.st.Header.Render(theme.Fit(m.header(), w))}
	if c := m.captions(w); c != "" {
		parts = append(parts, c)
	}
	bodyH := h - lipgloss.Height(strings.Join(parts, "\n")) - 1
	var body string
	if w >= sideBySide {
		cw := (w - 3) / 2
		left := theme.Block(m.column(m.sides[0], cw, bodyH), cw, bodyH)
		right := theme.Block(m.column(m.sides[1], w-3-cw, bodyH), w-3-cw, bodyH)
		sep := strings.TrimSuffix(strings.Repeat(" │\n", bodyH), "\n")
		body = lipgloss.JoinHorizontal(lipgloss.Top, left, m.st.Dim.Render(sep), " ", right)
	} else {
		top := (bodyH - 1) / 2
		body = theme.Block(m.column(m.sides[0], w, top), w, top) + "\n" + m.st.Dim.Render(strings.Repeat("─", w)) + "\n" +
			theme.Block(m.column(m.sides[1], w, bodyH-1-top), w, bodyH-1-top)
	}
	return strings.Join(append(parts, body, m.footer(w)), "\n")
}

func (m *Model) header() string {
	state := "▶ playing"
	switch {
	case m.Ended():
		state = "■ the end"
	case m.paused():
		state = "‖ script pause"
	case !m.playing:
		state = "‖ paused"
	}
	var sets []string
	for _, sd := range m.sides {
		sets = append(sets, sd.Setting.String())
	}
	return fmt.Sprintf(" kafkasim · %s · %s · seed %d · %.3fs · %s ×%g", m.name, strings.Join(sets, " vs "), m.sides[0].S.Seed(), m.Now().Seconds(), state, speeds[m.speed].Seconds())
}

// captions are the say lines shown, shared: once when both worlds' latest is the same, else
// each under its setting.
func (m *Model) captions(w int) string {
	a, b := m.sides[0].S.Head().Caption, m.sides[1].S.Head().Caption
	var text []string
	switch {
	case a == b && a != "":
		text = append(text, "» "+a)
	case a != b:
		for _, sd := range m.sides {
			if c := sd.S.Head().Caption; c != "" {
				text = append(text, "» "+sd.Setting.String()+": "+c)
			}
		}
	}
	maxLines := 2
	if m.st.Present || m.h >= 40 {
		maxLines = 4
	}
	var lines []string
	for _, t := range text {
		lines = append(lines, theme.Wrap(t, w-4)...)
	}
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
		lines[0] = "… " + lines[0]
	}
	if len(lines) == 0 {
		return ""
	}
	return m.st.Caption.Render(strings.Join(lines, "\n"))
}

// column draws one world in width × height: its setting and verdict, its producers' records,
// the cluster, the partitions and (room permitting) the selected partition's replicas.
func (m *Model) column(sd *Side, width, height int) string {
	snap := sd.S.Head()
	v := sd.S.Verdict()
	title := m.st.Title.Render(sd.Setting.String())
	if snap.At != m.Now() {
		title += m.st.Dim.Render(fmt.Sprintf("  at %.3fs", snap.At.Seconds()))
	}
	if h := sd.S.Head(); h.Paused && !h.Ended {
		title += m.st.Warn.Render(fmt.Sprintf("  ‖ paused at line %d", h.Line))
	}
	lines := []string{theme.Fit(title, width), theme.Fit(m.records(sd), width), theme.Fit(m.verdictLine(sd, v), width)}
	sel := min(m.selPart, len(snap.Partitions)-1)
	cl := clusterview.Compact(snap, m.st, width, -1)
	room := height - len(lines) - lipgloss.Height(cl)
	dt := ""
	if sel >= 0 {
		dt = partition.Detail(snap, m.st, width, sel)
	}
	rows := len(snap.Partitions)
	if room-2-rows < lipgloss.Height(dt) {
		dt = ""
	}
	pt := partition.Render(snap, m.st, width, max(1, min(rows, room-2)), sel, len(snap.Partitions) > 1)
	if room < 3 { // a short screen: the table's column names say what it is
		_, pt, _ = strings.Cut(pt, "\n")
	}
	out := strings.Join(lines, "\n") + "\n" + cl + "\n" + pt
	if dt != "" {
		out += "\n" + dt
	}
	return out
}

// records is the producers' records: acknowledged, lost (acknowledged, and no longer in the
// leader's log), failed and in doubt.
func (m *Model) records(sd *Side) string {
	var acked, failed, unknown int64
	for _, c := range sd.S.Head().Clients {
		if c.Producer {
			acked, failed, unknown = acked+c.Acked, failed+c.Failed, unknown+c.Unknown
		}
	}
	n, known := sd.Lost()
	lost := m.st.Good.Render("lost 0")
	switch {
	case !known:
		lost = m.st.Warn.Render(fmt.Sprintf("lost ≥%d (a partition has no leader)", n))
	case n > 0:
		lost = m.st.Bad.Render(fmt.Sprintf("LOST %d", n))
	}
	return fmt.Sprintf("  records: acked %d · %s · failed %d · in doubt %d", acked, lost, failed, unknown)
}

// verdictLine is the checker's verdict so far and what it found, or the world's end.
func (m *Model) verdictLine(sd *Side, v *session.Verdict) string {
	if r := sd.S.Result(); r != nil {
		word, sty := "✓ valid", m.st.Good
		if r.Verdict != "valid" {
			word, sty = "✗ "+strings.ToUpper(r.Verdict), m.st.Bad
		}
		held := m.st.Good.Render("expectations held")
		if !r.OK {
			held = m.st.Bad.Render("✗ an expectation failed")
		}
		return fmt.Sprintf("  ■ ended at %.3fs: %s%s · %s", r.SimSeconds, sty.Render(word), m.st.Dim.Render(found(r.Anomalies)), held)
	}
	sty := m.st.Good
	switch v.Verdict {
	case "invalid":
		sty = m.st.Bad
	case "unknown", "":
		sty = m.st.Warn
	}
	return "  checker: " + sty.Render(verdict.Word(v)) + m.st.Dim.Render(found(v.Counts))
}

// found is " · lost-write 30 · unseen 2", the anomalies by name.
func found(counts map[string]int) string {
	var s string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		s += fmt.Sprintf(" · %s %d", k, counts[k])
	}
	return s
}

func (m *Model) footer(w int) string {
	switch {
	case m.cmdline:
		return theme.Fit(":"+m.input+"█  (runs in both worlds)", w)
	case m.confirm != "":
		return m.st.Warn.Render(theme.Fit(m.confirm+" in both worlds? y confirms, any other key cancels", w))
	case m.msg != "":
		return theme.Fit(m.msg, w)
	}
	return m.st.Dim.Render(theme.Fit("space play/pause · n step · +/- speed · j/k partition · K kill leader (both) · : statement (both) · q quit", w))
}
