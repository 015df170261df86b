package events

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Line is one event as shown.
func Line(e session.Event) string {
	return fmt.Sprintf("%9.3fs %s %s", e.At.Seconds(), e.Kind.Glyph(), e.Text)
}

// Render draws the last events that fit in width × height (title included), oldest first, each
// wrapped under its text rather than cut. Proposals are left out unless verbose.
func Render(evs []session.Event, st *theme.Styles, width, height int, verbose bool) string {
	if height < 1 {
		return ""
	}
	var lines []string // newest first, each event's lines reversed
	for i := len(evs) - 1; i >= 0 && len(lines) < height-1; i-- {
		e := evs[i]
		if e.Kind == session.Proposal && !verbose {
			continue
		}
		sty := func(s ...string) string { return strings.Join(s, "") }
		switch e.Kind {
		case session.Failure, session.Truncation:
			sty = st.Bad.Render
		case session.Fault:
			sty = st.Warn.Render
		case session.Election:
			sty = st.Leader.Render
		case session.Caption:
			sty = st.Caption.UnsetBorderStyle().UnsetPadding().Render
		case session.Proposal, session.Script:
			sty = st.Dim.Render
		}
		wrapped := Wrap(e, width)
		if room := height - 1 - len(lines); len(wrapped) > room {
			wrapped = wrapped[:room]
			wrapped[room-1] = theme.Fit(wrapped[room-1]+" …", width)
		}
		for j := len(wrapped) - 1; j >= 0; j-- {
			lines = append(lines, sty(theme.Fit(wrapped[j], width)))
		}
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	title := st.Title.Render("Events")
	return strings.Join(append([]string{title}, lines...), "\n")
}

// Wrap is one event's line broken at spaces into lines of width, the continuations indented
// under the text.
func Wrap(e session.Event, width int) []string {
	head := fmt.Sprintf("%9.3fs %s ", e.At.Seconds(), e.Kind.Glyph())
	indent := strings.Repeat(" ", ansi.StringWidth(head))
	if width-len(indent) < 16 {
		return []string{theme.Fit(Line(e), width)}
	}
	var out []string
	for i, l := range theme.Wrap(e.Text, width-len(indent)) {
		if i == 0 {
			out = append(out, head+l)
		} else {
			out = append(out, indent+l)
		}
	}
	if len(out) == 0 {
		out = append(out, head)
	}
	return out
}
