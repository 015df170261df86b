// Package node is the contract between a node (broker, controller, client) and the machine it
// runs on. The simulator implements these interfaces; the nodes only consume them, so nothing in
// broker/ imports sim/ (etcd-raft's design: the core does no I/O, the driver does).
//
// Every method uses only built-in types, so a simulator type satisfies them structurally.
package node

import (
	"fmt"
	"time"
)

// Env is what a node may ask of its machine. A node never reads a clock: `now` is handed to it
// with every input. Calls only queue outputs; the world decides when they take effect.
type Env interface {
	// ID is this node's id (see the id ranges below).
	ID() int32
	// Send queues a message to another node. The network may delay, drop or hold it.
	Send(to int32, msg any)
	// After fires payload back to this node after d (delivered through Step with from == ID()).
	// There is no cancel: a node ignores timers it no longer wants (keep a generation number).
	After(d time.Duration, payload any)
	// Rand is this node's own seeded random stream.
	Rand() uint64
	// Halt ends the process, e.g. once a controlled shutdown is done. The world flushes the
	// disk first when the halt follows a stop.
	Halt()
	// Observe records something that happened inside the node (a state change, a client
	// operation) in the trace; the world hands it to its observers.
	Observe(ev any)
}

// Disk is a node's simulated disk: named files holding immutable entries. Writes land in the
// page cache; Flush makes a file durable. A process kill keeps the page cache, a power loss
// (crash) drops every unflushed change, so a restarted node sees only what it may.
type Disk interface {
	// Append adds one entry at the end of the file, creating it if needed.
	Append(file string, entry any)
	// Truncate keeps the first n entries.
	Truncate(file string, n int)
	// Read returns the file's entries as the page cache has them. The caller must not modify
	// the slice.
	Read(file string) []any
	// Len is the number of entries in the file.
	Len(file string) int
	// Write replaces the file's content at once (write a temporary file, then rename).
	Write(file string, entries []any)
	// Flush makes the file durable (fsync).
	Flush(file string)
	// Remove deletes the file. Deletion is durable at once.
	Remove(file string)
	// Files lists the files, sorted by name.
	Files() []string
}

// Node ids. Kafka's node.id is one number space shared by brokers and controllers; we keep
// brokers at 1..N as users number them, controllers from ControllerBase (shown as c1, c2, …)
// and clients from ClientBase.
const (
	ControllerBase int32 = 3000
	ZooKeeperBase  int32 = 9000 // ZooKeeper servers z1, z2, … (ZooKeeper mode)
	ClientBase     int32 = 10000
)

// ZooKeeperID is the node id of ZooKeeper server zI (1-based).
func ZooKeeperID(i int) int32 { return ZooKeeperBase + int32(i) }

// IsZooKeeper reports whether id names a ZooKeeper server.
func IsZooKeeper(id int32) bool { return id > ZooKeeperBase && id < ClientBase }

// ControllerID is the node id of controller cI (1-based).
func ControllerID(i int) int32 { return ControllerBase + int32(i) }

// IsController reports whether id names a controller.
func IsController(id int32) bool { return id > ControllerBase && id < ZooKeeperBase }

// IsBroker reports whether id names a broker.
func IsBroker(id int32) bool { return id > 0 && id <= ControllerBase }

// Name is how users see a node id: "3" for a broker, "c2" for a controller.
func Name(id int32) string {
	if IsController(id) {
		return fmt.Sprintf("c%d", id-ControllerBase)
	}
	if IsZooKeeper(id) {
		return fmt.Sprintf("z%d", id-ZooKeeperBase)
	}
	return fmt.Sprint(id)
}

// ConnectionReset is delivered by the machine when the connections to Peer were reset: its
// process died (kill -9 makes the operating system reset its sockets) or shut down. Requests in
// flight to Peer will never be answered, so a client fails them at once, as Kafka's
// NetworkClient does on a disconnect, instead of waiting for its request timeout. A power loss
// or a network cut resets nothing: then only timeouts tell.
type ConnectionReset struct {
	Peer int32
}

// TraceArg puts the peer in the trace.
func (r *ConnectionReset) TraceArg() int64 { return int64(r.Peer) }
