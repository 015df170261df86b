// Package compare is the terminal UI's comparison (`kafkasim tui FILE --compare KEY=V1,V2`):
// one scenario and seed under two settings, the two worlds in one screen on one clock. Each
// world is a tui/session of its own (the file with the setting applied, as `kafkasim compare
// --set` applies it), drawn in a compact column by the views the UI already has (tui/cluster,
// tui/partition, tui/verdict) with its producers' acknowledged, lost and failed records; two
// columns side by side from 100 columns up, stacked below that.
//
// The worlds step together: time moves in steps of at most Quantum, the world behind first, so
// the two never stand more than one step apart, and a step, play and a typed statement (`:`)
// go to both. A pause of either script stops the screen with both worlds at its instant (the
// other brought up to it); space leaves it. A world whose script ends runs its finish and
// shows its end while the other plays on. The screen is always at the worlds' head: rewind,
// timelines and export are the single-world UI's.
package compare
