package verdict

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"kafkasim/scenarios"
	"kafkasim/tui/theme"
)

// End draws a scenario's end in width columns: that the script ended and the finish ran, the
// checker's verdict with what it found, and every expectation of the file with ✓ or ✗ and what
// was seen, as `kafkasim run` judges them.
func End(r *scenarios.Result, st *theme.Styles, width int) string {
	failed := 0
	for _, e := range r.Expectations {
		if !e.OK {
			failed++
		}
	}
	head := fmt.Sprintf("■ The end of %s", r.Scenario)
	sum := fmt.Sprintf("the script ran to its end at %.3fs; the finish healed the faults, restarted the nodes and let the consumers read to the end", r.SimSeconds)
	var lines []string
	lines = append(lines, st.Title.Render(theme.Fit(head, width)))
	for _, l := range theme.Wrap(sum, width-2) {
		lines = append(lines, st.Dim.Render("  "+l))
	}
	vs := st.Good
	word := "✓ valid"
	switch r.Verdict {
	case "invalid":
		vs, word = st.Bad, "✗ INVALID"
	case "unknown":
		vs, word = st.Warn, "? unknown"
	case "":
		vs, word = st.Warn, "not judged (no checker)"
	}
	var found []string
	for _, n := range slices.Sorted(maps.Keys(r.Anomalies)) {
		found = append(found, fmt.Sprintf("%s %d", n, r.Anomalies[n]))
	}
	vline := "  verdict  " + vs.Render(word)
	if len(found) > 0 {
		vline += st.Dim.Render(" · " + strings.Join(found, " · "))
	}
	lines = append(lines, theme.Fit(vline, width))
	held := fmt.Sprintf("✓ all %d held", len(r.Expectations))
	hs := st.Good
	if failed > 0 {
		held, hs = fmt.Sprintf("✗ %d of %d failed", failed, len(r.Expectations)), st.Bad
	}
	lines = append(lines, theme.Fit("  expectations  "+hs.Render(held), width))
	for _, e := range r.Expectations {
		mark, sty := "✓", st.Good
		if !e.OK {
			mark, sty = "✗", st.Bad
		}
		l := fmt.Sprintf("  %s line %-3d %s", mark, e.Line, e.Text)
		if e.Got != "" {
			l += " — saw " + e.Got
		}
		lines = append(lines, sty.Render(theme.Fit(l, width)))
	}
	lines = append(lines, st.Dim.Render(theme.Fit("  ← [ g rewind (a fault there forks a new timeline) · a: the findings · q quits · "+scenarios.ReplayCommand(r)+" replays it", width)))
	return strings.Join(lines, "\n")
}
