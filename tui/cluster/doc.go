// Package cluster draws the cluster pane: every broker and controller with its state (running,
// killed, crashed, stopped, paused, fenced), the broker epoch, how many partitions of the
// users' topics each broker stores and leads, the active controller, and the network faults in
// force.
//
// Render is a pure function of a snapshot: it reads nothing else.
package cluster
