// Package session owns the simulation behind the terminal UI: a scenarios.Player driving a
// sim/cluster.Cluster, the display snapshots taken as it runs (so rewinding is instant), the
// event log in plain words, and the forks a fault injected while rewound starts.
//
// A timeline records every action done to its world (advance d, one event, to the next mark,
// a typed statement, continue). Replaying them from the seed reproduces the world exactly, and
// that is how a fork is made: a new world re-simulated to the instant shown, checked against
// the snapshot's trace hash, then the fault. The old timeline stays reachable. The two share
// what they have in common up to the fork: the snapshots, the judgements, and the history of
// client operations (history.Log.Share, chunk by chunk as the replay completes it: one copy of
// the common past). Each world, its nodes' logs and clients, is its own.
//
// The checker (check.go): every timeline attaches checker.Attach at boot, so the online
// invariants run on every event (violations are placed at their event's virtual time); the
// history analysis, too slow for a frame, runs on a frozen view of the history (no copy) off
// the UI's thread (JudgeWork, Judged) every JudgeEvery of virtual time at most, and only on
// new operations.
// Verdict is what was known at the instant shown, HeadVerdict what is known now.
//
// Snapshots are read through read-only getters only (replicas' LEO/HW/LogStart, the committed
// partition state, node states, broker epochs and fencing, client stats). Left out: the
// network view between two nodes beyond the faults in force (rebuilt from the trace's fault
// events), and the messages in flight.
package session
