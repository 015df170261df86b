// Package scenarios is the scenario language of kafkasim, its runner, and the library of
// scenario files that ship with it (*.scenario in this directory, embedded in the binary).
//
// A scenario (see SCENARIO_LANGUAGE.md) builds a cluster, starts clients, injects faults in
// order, narrates with `say`, and states what must hold with `await … within` and `expect`.
// Parse checks everything it can before anything runs (unknown words, bad numbers and
// durations, unknown nodes, topics and clients, impossible set-ups) and reports each problem as
// FILE:LINE:COLUMN. Run boots the cluster (sim/cluster) when the first statement that needs it
// runs, executes the statements, and finishes the run: it stops the producers' rates, heals the
// network, restarts every node that is down, lets the cluster settle and has every consumer
// read to the end, so that a lost write can be told apart from a slow one.
//
// Words added to the language here (the language allows additions):
//
//	send P N                 hand N records to producer P now
//	rate P R/s               change producer P's rate (0/s stops it)
//	finish recover=false     skip the finish; finish timeout=D bounds it (as config finish.timeout)
//	not CONDITION            negates a condition
//	lost P                   acknowledged records of producer P missing from the current leader's
//	                         log at their offset (a count; unknown while a partition has no
//	                         running leader); judged at an instant, so expect only
//	diverged TOPIC/I         two running replicas hold different records at the same offset
//	hw TOPIC/I@B             broker B's own high watermark (hw TOPIC/I is the leader's)
//	isr TOPIC/I@B            the ISR broker B knows (isr TOPIC/I is the active controller's);
//	                         a leader checks min.insync.replicas against its own, learnt from
//	                         the metadata log a little after the controller commits a change
//
// The checker judges every run (Options.NoCheck turns it off): its online invariants are
// attached when the cluster boots, the history is judged after the finish, and `expect verdict`
// and `expect [no] anomaly NAME` (anomaly and invariant names alike) are judged against it.
// Where each concept lives: lex.go splits lines into tokens; parse.go reads the set-up and node
// references; statements.go is the table of statements (name, set-up or not, parse, run): a
// new statement is one entry there; cond.go the conditions; unmodelled.go the words of
// capabilities not built yet, each a parse error naming the capability; player.go the one
// interpreter (Player plays a scenario a slice of virtual time at a time, for the terminal
// UI); run.go is Run: the Player driven to the end, then the finish and the verdict. Around one
// run: file.go opens a scenario by path or library name (library.go is the embedded library);
// headless.go runs files for the command (narration, --trace, --history, --report); output.go
// prints summaries, findings and --json; sweeper.go runs seeds in parallel, by shard; bench.go
// measures the classroom cluster for `kafkasim bench`. The fault
// verbs themselves (names, arguments, effect, wording) are sim's table (sim/faults.go).
//
// Left out for now: consumer groups, transactions, record sizes and compaction, elastic
// clusters and ZooKeeper mode (their words are parse errors, see unmodelled.go);
// `pause` (the TUI's pause point) is ignored by Run.
package scenarios
