package main

import (
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/scenarios"
)

func newCheckCmd() *cobra.Command {
	var report string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check HISTORY",
		Short: "Judge a client history with the checker: verdict, anomalies, explanations",
		Long: strings.TrimSpace(`
check reads a history written by 'kafkasim run --history FILE' (JSON lines, one client
operation each), summarizes it (operations by type and outcome, clients, partitions, the span of
virtual time) and judges it with the checker: Jepsen's Kafka anomalies (lost-write, duplicate,
inconsistent-offsets, unseen, poll-skip, …) and linearizability per partition (decided in
linear time against a model of the partition's log; porcupine searches only what that cannot
decide, and draws the report). It prints the verdict, the count of each anomaly and their explanations, which name
the operations (client, virtual time, value, offset).

A history alone carries neither the run's faults nor its replicas: the online invariants
(HW <= LEO, StrongIsr, …) need a run ('kafkasim run' checks them), and no anomaly is marked as
permitted by a setting (acks=1, unclean elections), since the history does not say which were
in force. It does carry, after the operations, what the run saw retention and the log cleaner
remove ({"removal":...} lines: log start offsets, superseded records), so records deleted by
design are forgiven here as the run forgave them. --report DIR writes DIR/index.html: the same with porcupine's visualization of the
partitions involved.

Exit status: 0 the verdict is valid; 1 invalid or unknown; 2 the history does not read (the
message names the line).`),
		Example: `  kafkasim run my.scenario --history h.jsonl && kafkasim check h.jsonl --report report/`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitFor(scenarios.CheckHistoryAs(cmd.OutOrStdout(), args[0], report, asJSON))
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object (history, ops, verdict, anomalies) instead of the text")
	cmd.Flags().StringVar(&report, "report", "", "write the HTML report to `DIR`/index.html (verdict, anomalies, porcupine's visualization)")
	return cmd
}
