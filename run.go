package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/gateway"
	"kafkasim/scenarios"
	"kafkasim/tui"
)

// seedUsage describes --seed: 0 lets scenarios.Run take the file's own seed.
const seedUsage = "the simulation's seed (0: the file's own config seed=N, else 1)"

func newRunCmd() *cobra.Command {
	var seed uint64
	var out scenarios.Outputs
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run scenario files headless and report whether their expectations held",
		Long: strings.TrimSpace(`
run plays each scenario file from start to finish (faults, waits, the finish that heals and
restarts everything), has the checker judge its history, and prints its narration and one
summary line: ok or FAILED, seed, trace hash, simulated seconds, events, client operations, wall
time, the checker's verdict and its anomaly counts. A failed run also prints what failed and
the command that replays it exactly; a verdict other than valid prints the checker's
explanations. --report DIR writes DIR/index.html: the verdict, each anomaly with the operations
it names, and porcupine's visualization of the partitions involved with the run's faults marked.

A FILE that does not exist but names a scenario of the built-in library
(e.g. leader-failover.scenario) runs that one.

Exit status: 0 every expectation held; 1 an expectation failed; 2 bad input (a scenario that
does not parse prints FILE:LINE:COL: what is wrong).`),
		Example: `  kafkasim run scenarios/leader-failover.scenario
  kafkasim run my.scenario --seed 42 --trace trace.txt --history history.jsonl
  kafkasim run unclean-election.scenario --report report/
  kafkasim run *.scenario --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 && (out.Trace != "" || out.History != "" || out.Report != "") {
				return usageErrorf("--trace, --history and --report take one scenario FILE; got %d", len(args))
			}
			if tui.IsTerminal(cmd.ErrOrStderr()) {
				out.Progress = cmd.ErrOrStderr()
			}
			return runFiles(cmd.OutOrStdout(), args, seed, out)
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&seed, "seed", 0, seedUsage)
	fl.BoolVar(&out.JSON, "json", false, "print one JSON object per run, one line each, instead of the narration")
	fl.StringVar(&out.Trace, "trace", "", "write the trace to `FILE`, one line per event")
	fl.StringVar(&out.History, "history", "", "write the client history to `FILE` as JSON lines")
	fl.Var(&out.Memory, "memory", scenarios.MemoryUsage)
	gateway.ReplayFlag(cmd, exitFor)
	fl.BoolVar(&out.Nemesis, "nemesis", false, "add a default nemesis (random faults of every kind) to every file, as sweep --nemesis")
	fl.Var(&out.Mode, "metadata-mode", scenarios.MetadataModeUsage)
	fl.StringVar(&out.Report, "report", "", "write the checker's HTML report to `DIR`/index.html (verdict, anomalies, porcupine's visualization with the faults)")
	return cmd
}

// runFiles opens every path (a bad one is rejected before anything runs), then runs each.
func runFiles(stdout io.Writer, paths []string, seed uint64, out scenarios.Outputs) error {
	files, err := scenarios.OpenAllWith(paths, out.Nemesis, out.Mode)
	if err != nil {
		return exitFor(false, err)
	}
	return exitFor(scenarios.RunFiles(stdout, files, seed, out))
}
