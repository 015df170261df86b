package help

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"kafkasim/tui/keys"
	"kafkasim/tui/theme"
)

// Overlay draws the help box from the key map's lines, in two columns when one does not fit the
// height (80×24).
func Overlay(st *theme.Styles, km *keys.KeyMap, width, height int) string {
	lines := km.Lines()
	var b strings.Builder
	b.WriteString(st.Title.Render("Keys") + "\n")
	label := func(k *keys.Binding) string { return st.Key.Render(fmt.Sprintf("%-10s", k.Help().Key)) }
	if len(lines)+4 <= height || width < 80 {
		for _, k := range lines {
			b.WriteString(fmt.Sprintf("%s  %s\n", label(k), k.Help().Desc))
		}
	} else {
		rows := (len(lines) + 1) / 2
		cell := func(k *keys.Binding) string { return label(k) + " " + theme.Fit(k.Short, 26) }
		for i := 0; i < rows; i++ {
			line := cell(lines[i])
			if j := i + rows; j < len(lines) {
				line += "  " + cell(lines[j])
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString(st.Dim.Render("any key closes this help"))
	box := st.Box.Render(b.String())
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, box)
}

// Hint is the bottom line: the key map's hints.
func Hint(st *theme.Styles, km *keys.KeyMap, width int) string {
	var hints []string
	for _, k := range km.Hints() {
		hints = append(hints, k.Hint)
	}
	return st.Dim.Render(theme.Fit(strings.Join(hints, " · "), width))
}
