package events

import (
	"fmt"
	"strings"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Line is one event as shown.
func Line(e session.Event) string {
	return fmt.Sprintf("%9.3fs %s %s", e.At.Seconds(), e.Kind.Glyph(), e.Text)
}

// Render draws the last events that fit in width × height (title included). Proposals are
// left out unless verbose.
func Render(evs []session.Event, st *theme.Styles, width, height int, verbose bool) string {
	if height < 1 {
		return ""
	}
	var lines []string
	for i := len(evs) - 1; i >= 0 && len(lines) < height-1; i-- {
		e := evs[i]
		if e.Kind == session.Proposal && !verbose {
			continue
		}
		l := theme.Fit(Line(e), width)
		switch e.Kind {
		case session.Failure, session.Truncation:
			l = st.Bad.Render(l)
		case session.Fault:
			l = st.Warn.Render(l)
		case session.Election:
			l = st.Leader.Render(l)
		case session.Caption:
			l = st.Caption.UnsetBorderStyle().UnsetPadding().Render(l)
		case session.Proposal, session.Script:
			l = st.Dim.Render(l)
		}
		lines = append(lines, l)
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	title := st.Title.Render("Events")
	return strings.Join(append([]string{title}, lines...), "\n")
}
