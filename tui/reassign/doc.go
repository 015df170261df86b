// Package reassign draws the Reassignments view: every partition being moved (KIP-455), as
// ListPartitionReassignments lists it, with its replicas, the replicas being added and
// removed, and each added replica's catch-up: its log end offset against the leader's, as a
// bar, and whether it is in the ISR yet, held back by the replication throttle (KIP-73), or
// down. The removed replicas say when they go: once every added replica is in the ISR (and
// leadership moves first if the leader is among them).
//
// Render is a pure function of a snapshot: it reads nothing else. Rewound, it shows the moves
// as they were at the event shown.
package reassign
