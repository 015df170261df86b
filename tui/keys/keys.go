// Package keys is every key of the terminal UI, defined once: the model's Update matches key
// presses against these bindings (key.Matches), the help overlay and the bottom hint are drawn
// from them, and each fault key carries the scenario statement it types.
package keys

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
)

// Binding is one key of the UI. Its key.Help is its line in the help overlay: the keys as the
// help shows them and what they do. A binding without help is explained on the line of the
// binding named in its comment (`]` on `[`'s line, "previous / next …").
type Binding struct {
	key.Binding
	Short string // the help line in at most 26 cells (two columns on small screens)
	Hint  string // its words in the bottom line ("" keeps it out)

	// Stmt is the scenario statement a fault key types, %s standing for the node it acts on
	// (the selected broker, or the selected partition's leader); with no %s it needs no
	// selection. Resume is the statement instead when that node is paused.
	Stmt, Resume string
}

// Acts reports whether the statement names a node (heal does not).
func (b *Binding) Acts() bool { return strings.Contains(b.Stmt, "%s") }

// Statement is the statement the fault key types about node.
func (b *Binding) Statement(node string, paused bool) string {
	s := b.Stmt
	if paused && b.Resume != "" {
		s = b.Resume
	}
	if !b.Acts() {
		return s
	}
	return fmt.Sprintf(s, node)
}

// KeyMap is every binding. The screen's bindings are its own fields; the checker pane and the
// command line, which take keys before the screen, have theirs in Checker and Command.
type KeyMap struct {
	ForceQuit Binding // works in every mode
	Confirm   Binding // runs the statement waiting for confirmation (kill; every fault in present mode)
	Caption   Binding // dismisses the caption shown (present mode queues them)

	Play, Step, ToMark, Back   Binding
	PrevMark, NextMark         Binding // NextMark: on PrevMark's line
	Start, Now                 Binding // Now: on Start's line
	Faster, Slower             Binding // Slower: on Faster's line
	Up, Down, Focus            Binding // Down, Focus: on Up's line
	Kill, Crash, Stop, Restart Binding
	Pause, Isolate, Heal, Slow Binding
	Command, Checker, Judge    Binding
	Write, Timeline, Lower     Binding
	AddBroker, RemoveBroker    Binding // elastic.go
	Reassign                   Binding // elastic.go
	Help, Quit                 Binding
	CheckerPane                CheckerKeys
	CommandLine                CommandKeys
}

// CheckerKeys are the checker pane's keys, matched before the screen's while it is open.
type CheckerKeys struct {
	Up, Down, Show Binding // Down, Show: on Up's line
	Close          Binding // said on the screen's Checker line
}

// CommandKeys edit the command line; any other key types its text.
type CommandKeys struct {
	Run, Cancel, Erase, Space Binding
}

func bind(keys []string, label, what, short, hint string) Binding {
	b := Binding{Binding: key.NewBinding(key.WithKeys(keys...)), Short: short, Hint: hint}
	if label != "" {
		b.SetHelp(label, what)
	}
	return b
}

func fault(k, what, short, hint, stmt string) Binding {
	b := bind([]string{k}, k, what, short, hint)
	b.Stmt = stmt
	return b
}

func plain(keys ...string) Binding { return bind(keys, "", "", "", "") }

// Default is the UI's key map.
func Default() *KeyMap {
	km := &KeyMap{
		ForceQuit: plain("ctrl+c"),
		Confirm:   plain("y"),
		Caption:   bind([]string{"enter"}, "enter", "dismiss the caption (present mode: each waits, and play with it)", "dismiss the caption", ""),

		Play:     bind([]string{"space", "."}, "space", "play / pause (continues past a script's pause)", "play / pause", "space play/pause"),
		Step:     bind([]string{"n", "right"}, "n  →", "one event forward: the next line(s) of the event log", "one event forward", "n step"),
		ToMark:   bind([]string{"N"}, "N", "the next election, ISR change, truncation, fault or rebalance (as ])", "on to the next change", ""),
		Back:     bind([]string{"left"}, "←", "one event back: the previous line(s) of the event log", "one event back", "← back"),
		PrevMark: bind([]string{"["}, "[  ]", "previous / next election, ISR change, truncation, fault or rebalance", "previous / next change", ""),
		NextMark: plain("]"),
		Start:    bind([]string{"g"}, "g  G", "the start / now", "the start / now", ""),
		Now:      plain("G"),
		Faster:   bind([]string{"+", "="}, "+  -", "speed: one event at a time … as fast as it goes", "faster / slower", ""),
		Slower:   plain("-", "_"),
		Up:       bind([]string{"up", "k"}, "↑↓ j k tab", "select a partition, a broker or a client (tab switches the list)", "select (tab: which list)", "j/k select"),
		Down:     plain("down", "j"),
		Focus:    plain("tab"),

		Kill:    fault("K", "kill the selected broker or client (or the partition's leader); y confirms", "kill it (or the leader)", "K kill", "kill %s"),
		Crash:   fault("c", "crash it (power loss: unflushed writes lost)", "crash it (power loss)", "", "crash %s"),
		Stop:    fault("s", "stop it (controlled shutdown)", "stop it (clean shutdown)", "", "stop %s"),
		Restart: fault("r", "restart it (or the partition's first down replica)", "restart it", "r restart", "restart %s"),
		Pause:   fault("p", "pause / resume it", "pause / resume it", "", "pause %s"),
		Isolate: fault("i", "isolate it from every other node", "isolate it", "", "isolate %s"),
		Heal:    fault("h", "heal every network fault", "heal the network", "", "heal"),
		Slow:    fault("l", "slow it (+100ms per message)", "slow it (+100ms)", "", "slow %s latency=100ms"),

		Command:  bind([]string{":"}, ":", "command line: any scenario statement (:partition 1 | 2 3)", "any scenario statement", ": command"),
		Checker:  bind([]string{"a"}, "a", "checker: the verdict and what it found so far (esc closes)", "checker: verdict, findings", ""),
		Judge:    bind([]string{"x"}, "x", "judge the history now (else every 5s of virtual time)", "judge the history now", ""),
		Write:    bind([]string{"w"}, "w", "write the session as a scenario file", "write as a scenario file", "w write"),
		Timeline: bind([]string{"t"}, "t", "next timeline (a fault while rewound forks one)", "next timeline", ""),
		Lower:    bind([]string{"v"}, "v", "lower pane: events / clients / groups / HW-LEO chart / throughput / reassignments / ZooKeeper (narrow screens)", "lower pane (narrow)", ""),
		Help:     bind([]string{"?"}, "?", "this help", "this help", "? help"),
		Quit:     bind([]string{"q"}, "q", "quit", "quit", "q quit"),

		CheckerPane: CheckerKeys{
			Up:    bind([]string{"up", "k"}, "↑↓jk enter", "in the checker: select a finding; show when it began", "(checker) select, show", ""),
			Down:  plain("down", "j"),
			Show:  plain("enter"),
			Close: plain("esc"),
		},
		CommandLine: CommandKeys{
			Run:    plain("enter"),
			Cancel: plain("esc"),
			Erase:  plain("backspace"),
			Space:  plain("space"),
		},
	}
	km.Pause.Resume = "resume %s"
	elastic(km)
	return km
}

// Lines are the bindings with a line in the help overlay, in its order.
func (km *KeyMap) Lines() []*Binding {
	return []*Binding{
		&km.Play, &km.Step, &km.ToMark, &km.Back, &km.PrevMark, &km.Start, &km.Faster, &km.Up,
		&km.Kill, &km.Crash, &km.Stop, &km.Restart, &km.Pause, &km.Isolate, &km.Heal, &km.Slow,
		&km.AddBroker, &km.RemoveBroker, &km.Reassign,
		&km.Command, &km.Checker, &km.CheckerPane.Up, &km.Judge, &km.Write, &km.Timeline, &km.Lower,
		&km.Caption, &km.Help, &km.Quit,
	}
}

// Hints are the bindings of the bottom line, in its order.
func (km *KeyMap) Hints() []*Binding {
	return []*Binding{&km.Help, &km.Play, &km.Step, &km.Back, &km.Up, &km.Kill, &km.Restart, &km.Command, &km.Write, &km.Quit}
}

// Faults are the keys that type a fault statement.
func (km *KeyMap) Faults() []*Binding {
	return []*Binding{&km.Kill, &km.Crash, &km.Stop, &km.Restart, &km.Pause, &km.Isolate, &km.Slow, &km.Heal}
}
