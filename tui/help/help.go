package help

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"kafkasim/tui/theme"
)

// Key is one binding: what it does, and in at most 26 cells for two columns on small screens.
type Key struct{ Keys, What, Short string }

// Keys is every key, in the order the help shows them.
var Keys = []Key{
	{"space", "play / pause (continues past a script's pause)", "play / pause"},
	{"n  →", "one event forward", "one event forward"},
	{"N", "forward to the next election, ISR change or fault", "on to the next change"},
	{"←", "one step back", "one step back"},
	{"[  ]", "previous / next election, ISR change or fault", "previous / next change"},
	{"g  G", "the start / now", "the start / now"},
	{"+  -", "speed: one event at a time … as fast as it goes", "faster / slower"},
	{"↑ ↓  tab", "select a partition or a broker (tab switches)", "select partition / broker"},
	{"k", "kill the selected broker (or the partition's leader)", "kill it (or the leader)"},
	{"c", "crash it (power loss: unflushed writes lost)", "crash it (power loss)"},
	{"s", "stop it (controlled shutdown)", "stop it (clean shutdown)"},
	{"r", "restart it (or the partition's first down replica)", "restart it"},
	{"p", "pause / resume it", "pause / resume it"},
	{"i", "isolate it from every other node", "isolate it"},
	{"h", "heal every network fault", "heal the network"},
	{"l", "slow it (+100ms per message)", "slow it (+100ms)"},
	{":", "command line: any scenario statement (:partition 1 | 2 3)", "any scenario statement"},
	{"a", "checker: the verdict and what it found so far (esc closes)", "checker: verdict, findings"},
	{"↑ ↓  enter", "in the checker: select a finding; show when it began", "(checker) select, show"},
	{"x", "judge the history now (else every 5s of virtual time)", "judge the history now"},
	{"w", "write the session as a scenario file", "write as a scenario file"},
	{"t", "next timeline (a fault while rewound forks one)", "next timeline"},
	{"v", "lower pane: events / clients / HW-LEO chart / throughput (narrow screens)", "lower pane (narrow)"},
	{"?", "this help", "this help"},
	{"q", "quit", "quit"},
}

// Overlay draws the help box, in two columns when one does not fit the height (80×24).
func Overlay(st *theme.Styles, width, height int) string {
	var b strings.Builder
	b.WriteString(st.Title.Render("Keys") + "\n")
	if len(Keys)+4 <= height || width < 80 {
		for _, k := range Keys {
			b.WriteString(fmt.Sprintf("%s  %s\n", st.Key.Render(fmt.Sprintf("%-10s", k.Keys)), k.What))
		}
	} else {
		rows := (len(Keys) + 1) / 2
		cell := func(k Key) string {
			return st.Key.Render(fmt.Sprintf("%-10s", k.Keys)) + " " + theme.Fit(k.Short, 26)
		}
		for i := 0; i < rows; i++ {
			line := cell(Keys[i])
			if j := i + rows; j < len(Keys) {
				line += "  " + cell(Keys[j])
			}
			b.WriteString(line + "\n")
		}
	}
	b.WriteString(st.Dim.Render("any key closes this help"))
	box := st.Box.Render(b.String())
	return lipgloss.Place(width, height, lipgloss.Center, lipgloss.Center, box)
}

// Hint is the bottom line.
func Hint(st *theme.Styles, width int) string {
	h := "? help · space play/pause · n step · ← back · ↑↓ select · k kill · r restart · : command · w write · q quit"
	return st.Dim.Render(theme.Fit(h, width))
}
