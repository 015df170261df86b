// Package sim is the deterministic world every kafkasim node runs in: a virtual clock, one
// event queue, seeded random streams, a simulated network, simulated disks, node faults and a
// compact hash-chained trace (TigerBeetle's VOPR and etcd-raft's driver/core split).
//
// What it models:
//   - Time: virtual nanoseconds. The queue is a 4-ary heap ordered by (time, sequence), so
//     events due at the same instant run in the order they were scheduled.
//   - Randomness: one seed forked into named streams ("network", "workload", "faults", …) and
//     one stream per node, so a new fault does not shift the workload's draws.
//   - Network: per directed link, in-order delivery like a TCP connection, latency drawn from
//     [LatencyMin, LatencyMax] plus Slow extras; partitions, isolation, one-way cuts, loss.
//     A message is dropped if the link is cut at send or at delivery, a loss draw hits, or the
//     receiver is down or restarted since the send (a new incarnation is a new connection).
//     Messages to a paused node wait and arrive in order right after Resume.
//   - Disks: named files of immutable entries with a page cache and a durable state. A kill
//     keeps the page cache, a crash (power loss) drops every unflushed change, a stop flushes.
//     The OS writes the page cache back every OSFlushInterval, for killed nodes too.
//   - Nodes: state machines stepped with one input at a time; lifecycle Running, Paused,
//     Stopping, Stopped, Killed, Crashed. Timers belong to one incarnation.
//   - Trace: every event (delivery, drop, timer, inject, observe, fault, halt, start,
//     writeback) is a 32-byte record folded into a running 64-bit hash. Same seed and same
//     inputs give the same hash.
//
// What it leaves out: bandwidth and message sizes (latency does not grow with payload),
// connection set-up and TCP retransmission (a lost message is simply gone; the sender's
// request times out), reordering across different links beyond what latency causes, torn or
// corrupted disk writes, disk full, and clock drift (every node sees the world's clock).
//
// Where each concept lives: world.go the nodes, the event loop, timers and Host (a node's Env);
// queue.go the event heap; rand.go the seeded streams; network.go links, latency, in-order
// delivery, loss, cuts and connection resets; disk.go the disks; faults.go the table of fault
// verbs (names, arguments, wording, trace encoding, FaultLog) and verbs.go what each does to
// the world; trace.go the trace and its hash; tracefile.go the trace file that `run --trace`
// writes and `tui --trace` reads.
//
// sim imports nothing from kafkasim/broker: nodes satisfy Node (and optionally Stopper)
// structurally, and *Host and *Disk satisfy broker/node's Env and Disk.
package sim
