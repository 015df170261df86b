package main

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/scenarios"
	"kafkasim/tui"
)

func newSweepCmd() *cobra.Command {
	var seeds, shard string
	var nemesis bool
	var mode scenarios.MetadataMode
	sw := scenarios.Sweep{Parallel: runtime.NumCPU()}
	cmd := &cobra.Command{
		Use:   "sweep FILE... --seeds A-B",
		Short: "Run every seed of a range for each scenario file, on every core",
		Long: strings.TrimSpace(`
sweep runs each scenario file once per seed of --seeds, --parallel worlds at a time (each
world is independent and deterministic), and prints the results in seed order: one summary
line per run, or with --json one JSON object per run. At the end it prints how many runs
passed and failed, and for each failing file and seed the command that replays it. With a
terminal on stderr it shows a progress bar there.

--shard I/N runs only the seeds s with (s - A) % N == I (I counts from 0), so a sweep spreads
over a CI matrix or a Kubernetes Indexed Job with no coordinator; the shards' JSON lines
concatenate.

Exit status: 0 every run held its expectations; 1 some run failed; 2 bad input.`),
		Example: `  kafkasim sweep scenarios/leader-failover.scenario --seeds 1-1000
  kafkasim sweep a.scenario b.scenario --seeds 1-10000 --shard 3/8 --json > shard-3.jsonl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("seeds") {
				return usageErrorf("--seeds A-B is required")
			}
			var err error
			if sw.Seeds, err = scenarios.ParseSeeds(seeds, shard); err != nil {
				return usageErrorf("--%v", err)
			}
			if sw.Parallel < 1 {
				return usageErrorf("--parallel %d: want at least 1", sw.Parallel)
			}
			if sw.Files, err = scenarios.OpenAllWith(args, nemesis, mode); err != nil {
				return exitFor(false, err)
			}
			n, note := scenarios.CapParallel(sw.Parallel, int64(sw.Budget()))
			if sw.Parallel = n; note != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "kafkasim: %s\n", note)
			}
			stderr := cmd.ErrOrStderr()
			if tui.IsTerminal(stderr) {
				sw.Progress = stderr
			}
			return exitFor(sw.Print(cmd.OutOrStdout(), stderr))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&seeds, "seeds", "", "the seeds to run, `A-B` inclusive (required)")
	fl.StringVar(&shard, "shard", "", "run only shard `I/N`: the seeds s with (s - A) % N == I, I from 0")
	fl.IntVar(&sw.Parallel, "parallel", sw.Parallel, "worlds run at once, one per CPU unless set")
	fl.Var(&sw.Memory, "memory", scenarios.MemoryUsage)
	fl.BoolVar(&sw.JSON, "json", false, "print one JSON object per run, one line each")
	fl.BoolVar(&nemesis, "nemesis", false, "add a default nemesis (random faults of every kind, every 5s..15s) to every file")
	fl.Var(&mode, "metadata-mode", scenarios.MetadataModeUsage)
	return cmd
}
