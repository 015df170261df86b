// Package cluster draws the cluster pane: every broker and controller with its state (running,
// killed, crashed, stopped, paused, fenced), the broker epoch, the active controller, and the
// network faults in force.
//
// Render is a pure function of a snapshot: it reads nothing else.
package cluster
