package main

import (
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"kafkasim/scenarios"
)

func newBenchCmd() *cobra.Command {
	var asJSON bool
	d := 60 * time.Second
	runs := 2 * runtime.NumCPU()
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure how fast the simulator runs on this machine",
		Long: strings.TrimSpace(`
bench measures the classroom cluster (3 brokers, 3 controllers, 6 partitions with RF 3, a
producer at 1,000 records/s, a consumer) running 60 simulated seconds, then a sweep of the
library's leader-failover.scenario over 2 x CPUs seeds on every core, and prints:

  sim_speed              simulated seconds per wall second (one world, one core)
  events_per_second      trace events per wall second
  deliveries_per_second  messages handed to nodes per wall second
  seeds_per_minute       leader-failover runs per wall minute on every core
  check_seconds_10k      seconds the checker takes to judge a 10,000-operation history
                         over 10 partitions (anomalies and porcupine's linearizability)
  check_seconds_1m       the same for a 1,000,000-operation history
  peak_memory_mib        the largest heap sampled during the measurements, MiB`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d <= 0 {
				return usageErrorf("--duration %v: want a positive duration", d)
			}
			if runs < 1 {
				return usageErrorf("--runs %d: want at least 1", runs)
			}
			res, err := scenarios.Bench(d, runs)
			if err == nil {
				err = res.Write(cmd.OutOrStdout(), version, asJSON)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
	fl.DurationVar(&d, "duration", d, "simulated time the classroom cluster runs")
	fl.IntVar(&runs, "runs", runs, "seeds of the leader-failover sweep (default: 2 x CPUs)")
	return cmd
}
