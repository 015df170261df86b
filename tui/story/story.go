// Package story draws the story of a run as a strip across the top of the screen: its faults,
// elections, consumer groups' rebalances (⟳), ISR changes, truncations, failures and the
// checker's findings as marks over virtual time, from the start to the newest instant
// simulated, with a cursor at the instant shown. Stepping and rewinding move the cursor, so a class sees where it is in the story.
package story

import (
	"fmt"
	"strings"
	"time"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Mark is the glyph of one thing in the story, by importance: a failure or a finding, a fault,
// an election, a group's rebalance or a truncation, an ISR change, a caption.
type Mark struct {
	At    time.Duration
	Glyph rune
	rank  int
}

// Marks picks the events and findings the strip shows. A partition's creation and the
// messages of the script are left out.
func Marks(evs []session.Event, findings []session.Finding) []Mark {
	var out []Mark
	for _, e := range evs {
		m := Mark{At: e.At}
		switch {
		case e.Kind == session.Failure:
			m.Glyph, m.rank = '✗', 6
		case e.Kind == session.Fault:
			m.Glyph, m.rank = '↯', 5 // ⚡ is two cells wide in many terminals
		case e.Kind == session.Election && !strings.Contains(e.Text, " created: "):
			m.Glyph, m.rank = '★', 4
		case e.Kind == session.Rebalance && strings.Contains(e.Text, " rebalances"):
			m.Glyph, m.rank = '⟳', 3 // a group began to rebalance: the consumers' election
		case e.Kind == session.Truncation:
			m.Glyph, m.rank = '✂', 3
		case e.Kind == session.ISRChange:
			m.Glyph, m.rank = '⇄', 2
		case e.Kind == session.Caption:
			m.Glyph, m.rank = '»', 1
		default:
			continue
		}
		out = append(out, m)
	}
	for _, f := range findings {
		out = append(out, Mark{At: f.At, Glyph: '✗', rank: 6})
	}
	return out
}

// Render draws the strip in width columns: with tall true, a lane of marks over a line with
// the cursor (▲) and the times; else one line whose cursor replaces the mark under it. head is
// the newest instant (the strip's right end), at the instant shown.
func Render(marks []Mark, head, at time.Duration, st *theme.Styles, width int, tall bool) string {
	label := "story "
	end := fmt.Sprintf(" %.1fs", head.Seconds())
	laneW := width - len(label) - len([]rune(end))
	if laneW < 10 {
		return ""
	}
	col := func(t time.Duration) int {
		if head <= 0 {
			return 0
		}
		return max(0, min(laneW-1, int(float64(t)/float64(head)*float64(laneW))))
	}
	lane := []rune(strings.Repeat("·", laneW))
	rank := make([]int, laneW)
	for _, m := range marks {
		c := col(m.At)
		if m.rank > rank[c] {
			lane[c], rank[c] = m.Glyph, m.rank
		}
	}
	cur := col(at)
	past := string(lane[:cur+1])
	future := string(lane[cur+1:])
	if !tall {
		past = string(lane[:cur]) + "▲"
		return st.Dim.Render(label) + st.Bold.Render(past) + st.Dim.Render(future) + st.Dim.Render(end)
	}
	top := st.Dim.Render(label) + st.Bold.Render(past) + st.Dim.Render(future) + st.Dim.Render(end)
	where := fmt.Sprintf("▲ %.3fs", at.Seconds())
	pad := len(label) + cur
	if pad+len([]rune(where)) > width {
		where = fmt.Sprintf("%.3fs ▲", at.Seconds())
		pad = max(0, len(label)+cur-len([]rune(where))+1)
	}
	return top + "\n" + theme.Fit(strings.Repeat(" ", pad)+where, width)
}
