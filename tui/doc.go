// Package tui is kafkasim's terminal UI (bubbletea v2): the classroom cluster live, or a
// scenario played with its captions and pause points; every partition's replicas with ISR, HW
// and LEO; faults from the keyboard or any scenario statement typed after `:`; pause, step and
// rewind (a fault injected while rewound forks a new timeline); the session written as a
// scenario file that `kafkasim run` replays to the same trace hash; the checker's live verdict
// and what it found so far (`a`: each anomaly or invariant violation with its explanation and
// the operations it names; enter shows the instant it began).
//
// The UI only observes and sends commands: package session owns the simulation and takes the
// snapshots the views draw (tui/cluster, tui/partition, tui/events, tui/clients, tui/chart,
// tui/help, tui/verdict), all with the one Styles of tui/theme. Every key is a binding of
// tui/keys: the model matches presses against it, tui/help draws the overlay and the bottom line
// from it. Run is the entry point main.go calls.
//
// Left out for now: the Fetch/Produce message pane, mouse support, and a full replay of
// `run --trace` files (a trace file opens as a scrollable list of its faults, restarts and
// observations; the cluster pictures need the scenario, see Options.TracePath).
package tui
