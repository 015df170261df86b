// Package checker judges a run of the simulated cluster, the way Jepsen judges a real one.
//
// Two checkers, both deterministic:
//
//   - History analysis (Check), at the end of a run, over the client operations of
//     broker/history: Jepsen's Kafka anomaly set (lost-write, duplicate, inconsistent-offsets,
//     unseen, poll-skip, nonmonotonic-poll, nonmonotonic-send, their int- variants, G1a,
//     precommitted-read) with Jepsen's definitions adapted to our history (a send is one
//     record with its offset when acknowledged; a poll is one partition's records of one
//     fetch; unknown outcomes are Jepsen's :info), plus a linearizability check of each
//     partition against a model of a partition log, decided directly in linear time
//     (lindirect.go; porcupine, the oracle of its tests, searches only hand-made histories it
//     cannot decide). A verdict (valid, invalid, unknown) and every anomaly explained in words
//     that name the operations. Check judges one partition at a time and drops its log before
//     the next, so that a run of millions of operations needs little beyond its history.
//   - Online invariants (Attach), on every world event, against the live replicas: HW ≤ LEO,
//     logStart ≤ LSO ≤ HW, the leader is in the ISR, one leader per leader epoch, leader
//     epochs only grow, a leader's HW never goes back within its epoch, StrongIsr (every ISR
//     member holds the leader's records below its HW, from hachikuji/kafka-specification) and
//     committed records are never truncated except after an unclean election. A violation
//     stops nothing; it is recorded once, with the trace index where it first held.
//
// An anomaly that the run's configuration permits (loss after an unclean election, loss with
// acks=1, duplicates without idempotence) still makes the verdict invalid; its explanation
// names the setting.
//
// The report: WriteReport writes a self-contained HTML page: one sentence saying what
// happened (summary.go: the fault, the election that lost records, the loss), the faults and
// elections with charts of each replica's HW and LEO and of acknowledged against lost records
// (charts.go, inline SVG), the findings grouped by the election that caused them, each lost
// record counted once (records.go), the operations the findings name on a time axis, and
// porcupine's visualization of the partitions involved. RecordRun collects the faults,
// elections and HW/LEO samples from a running cluster; RecordFaults the faults alone.
//
// Left out: Elle's cycle anomalies (G0, G1c: they need transactions and ww/wr dependency
// graphs, and our clients have no transactions yet) and Jepsen's realtime-lag measurement.
package checker
