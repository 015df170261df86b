package help

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"kafkasim/tui/theme"
)

// Key is one binding.
type Key struct{ Keys, What string }

// Keys is every key, in the order the help shows them.
var Keys = []Key{
	{"space", "play / pause (continues past a script's pause)"},
	{"n  →", "one event forward"},
	{"N", "forward to the next election, ISR change or fault"},
	{"←", "one step back"},
	{"[  ]", "previous / next election, ISR change or fault"},
	{"g  G", "the start / now"},
	{"+  -", "speed: one event at a time … as fast as it goes"},
	{"↑ ↓  tab", "select a partition or a broker (tab switches)"},
	{"k", "kill the selected broker (or the partition's leader)"},
	{"c", "crash it (power loss: unflushed writes lost)"},
	{"s", "stop it (controlled shutdown)"},
	{"r", "restart it (or the partition's first down replica)"},
	{"p", "pause / resume it"},
	{"i", "isolate it from every other node"},
	{"h", "heal every network fault"},
	{"l", "slow it (+100ms per message)"},
	{":", "command line: any scenario statement (:partition 1 | 2 3)"},
	{"w", "write the session as a scenario file"},
	{"t", "next timeline (a fault while rewound forks one)"},
	{"v", "lower pane: events / clients / chart (narrow screens)"},
	{"?", "this help"},
	{"q", "quit"},
}

// Overlay draws the help box.
func Overlay(st *theme.Styles, width, height int) string {
	var b strings.Builder
	b.WriteString(st.Title.Render("Keys") + "\n")
	for _, k := range Keys {
		b.WriteString(fmt.Sprintf("%s  %s\n", st.Key.Render(fmt.Sprintf("%-9s", k.Keys)), k.What))
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
