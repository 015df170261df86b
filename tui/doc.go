// Package tui is kafkasim's terminal UI (bubbletea v2): the classroom cluster live, or a
// scenario played with its captions and pause points; every partition's replicas with ISR, HW
// and LEO; faults from the keyboard or any scenario statement typed after `:`; pause, step and
// rewind (a fault injected while rewound forks a new timeline); the session written as a
// scenario file that `kafkasim run` replays to the same trace hash; the checker's live verdict
// and what it found so far (`a`: each anomaly or invariant violation with its explanation and
// the operations it names; enter shows the instant it began).
//
// Every view shows the world as of one event index: the snapshot taken right after the last
// line of the event log shown (session takes one after every logged event); n and ← move by
// those lines, [ and ] by the changes among them, and the story strip (tui/story) across the
// top places the instant shown among the run's faults, elections, ISR changes and findings. A
// scenario's end runs its finish and shows the verdict and every expectation (verdict.End).
//
// The UI only observes and sends commands: package session owns the simulation and takes the
// snapshots the views draw (tui/cluster, tui/partition, tui/events, tui/clients, tui/chart,
// tui/help, tui/verdict, tui/story, tui/reassign), all with the one Styles of tui/theme. The
// elastic keys type scenario statements too: b adds a broker, D decommissions the selected one,
// R opens a reassignment of the selected partition on the command line; the Reassignments view
// (under the partition's detail while a move is in progress, or v on a narrow screen) shows
// each move's adding and removing replicas and the new replicas' catch-up. Every key is a binding of
// tui/keys: the model matches presses against it, tui/help draws the overlay and the bottom line
// from it. Run is the entry point main.go calls.
//
// Left out for now: the Fetch/Produce message pane, mouse support, and a full replay of
// `run --trace` files (a trace file opens as a scrollable list of its faults, restarts and
// observations; the cluster pictures need the scenario, see Options.TracePath).
package tui
