package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/broker/history"
	"kafkasim/checker"
)

func newCheckCmd() *cobra.Command {
	var report string
	cmd := &cobra.Command{
		Use:   "check HISTORY",
		Short: "Judge a client history with the checker: verdict, anomalies, explanations",
		Long: strings.TrimSpace(`
check reads a history written by 'kafkasim run --history FILE' (JSON lines, one client
operation each), summarizes it (operations by type and outcome, clients, partitions, the span of
virtual time) and judges it with the checker: Jepsen's Kafka anomalies (lost-write, duplicate,
inconsistent-offsets, unseen, poll-skip, …) and porcupine's linearizability check per
partition. It prints the verdict, the count of each anomaly and their explanations, which name
the operations (client, virtual time, value, offset).

A history alone carries neither the run's faults nor its replicas: the online invariants
(HW <= LEO, StrongIsr, …) need a run ('kafkasim run' checks them), and no anomaly is marked as
permitted by a setting (acks=1, unclean elections), since the history does not say which were
in force. --report DIR writes DIR/index.html: the same with porcupine's visualization of the
partitions involved.

Exit status: 0 the verdict is valid; 1 invalid or unknown; 2 the history does not read (the
message names the line).`),
		Example: `  kafkasim run my.scenario --history h.jsonl && kafkasim check h.jsonl --report report/`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			fh, err := os.Open(path)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			h, err := history.ReadJSONLines(fh)
			fh.Close()
			if err != nil {
				return usageErrorf("%s: %v", path, err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprint(out, summarizeHistory(path, h))
			r := checker.Check(h, checker.Config{Idempotent: true})
			fmt.Fprintf(out, "verdict: %s", r.Verdict)
			if len(r.Counts) > 0 {
				fmt.Fprintf(out, " (%s)", anomalyList(r.Counts))
			}
			fmt.Fprintln(out)
			writeFindings(out, r, "  ")
			fmt.Fprintln(out, "note: a history alone: the online invariants need a run and were not checked")
			if report != "" {
				p := checker.Page{Title: path, History: h, Report: r}
				if err := checker.WriteReport(report, p); err != nil {
					return &exitError{code: exitFailed, err: fmt.Errorf("--report: %w", err)}
				}
				fmt.Fprintf(out, "report: %s\n", filepath.Join(report, checker.ReportFile))
			}
			if r.Verdict != checker.Valid {
				return failed
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&report, "report", "", "write the HTML report to `DIR`/index.html (verdict, anomalies, porcupine's visualization)")
	return cmd
}

// summarizeHistory counts a history's operations by type and outcome, in a fixed order.
func summarizeHistory(path string, h history.History) string {
	type key struct {
		typ     history.Type
		outcome history.Outcome
	}
	ops := map[key]int{}
	records := map[key]int{}
	clients := map[string]bool{}
	type partition struct {
		topic string
		index int32
	}
	partitions := map[partition]bool{}
	var first, last int64 = -1, 0
	for _, op := range h {
		k := key{op.Type, op.Outcome}
		ops[k]++
		records[k] += len(op.Values)
		clients[op.Client] = true
		partitions[partition{op.Topic, op.Partition}] = true
		if first < 0 || int64(op.Invoke) < first {
			first = int64(op.Invoke)
		}
		if int64(op.Complete) > last {
			last = int64(op.Complete)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d operations, %d clients, %d partitions", path, len(h), len(clients), len(partitions))
	if len(h) > 0 {
		fmt.Fprintf(&b, ", virtual time %.3fs to %.3fs", float64(first)/1e9, float64(last)/1e9)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  %-5s %8s %8s %8s %10s\n", "type", "ok", "fail", "unknown", "records")
	for _, t := range []history.Type{history.Send, history.Poll} {
		var n int
		for _, o := range []history.Outcome{history.OK, history.Fail, history.Unknown} {
			n += records[key{t, o}]
		}
		fmt.Fprintf(&b, "  %-5s %8d %8d %8d %10d\n", t, ops[key{t, history.OK}], ops[key{t, history.Fail}], ops[key{t, history.Unknown}], n)
	}
	tps := make([]partition, 0, len(partitions))
	for p := range partitions {
		tps = append(tps, p)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].topic != tps[j].topic {
			return tps[i].topic < tps[j].topic
		}
		return tps[i].index < tps[j].index
	})
	names := make([]string, len(tps))
	for i, p := range tps {
		names[i] = fmt.Sprintf("%s/%d", p.topic, p.index)
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, "  partitions: %s\n", strings.Join(names, " "))
	}
	return b.String()
}
