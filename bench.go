package main

import (
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"kafkasim/scenarios"
)

func newBenchCmd() *cobra.Command {
	var asJSON bool
	o := scenarios.BenchOptions{
		Duration: 60 * time.Second, Runs: 2 * runtime.NumCPU(), RSSDuration: 10 * time.Minute,
		LargeBrokers: 100, LargePartitions: 30000, LargeDuration: 10 * time.Second,
	}
	large := "100x30000"
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure how fast the simulator runs on this machine",
		Long:  scenarios.BenchHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Duration <= 0 {
				return usageErrorf("--duration %v: want a positive duration", o.Duration)
			}
			if o.Runs < 1 {
				return usageErrorf("--runs %d: want at least 1", o.Runs)
			}
			if o.RSSDuration < 0 || o.LargeDuration < 0 {
				return usageErrorf("--rss-duration, --large-duration: want a duration, 0 to skip")
			}
			var err error
			if o.LargeBrokers, o.LargePartitions, err = scenarios.ParseClusterSize(large); err != nil {
				return usageErrorf("--large %q: %v", large, err)
			}
			res, err := scenarios.Bench(o)
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
	fl.DurationVar(&o.Duration, "duration", o.Duration, "simulated time the classroom cluster runs")
	fl.IntVar(&o.Runs, "runs", o.Runs, "seeds of the leader-failover sweep (default: 2 x CPUs)")
	fl.DurationVar(&o.RSSDuration, "rss-duration", o.RSSDuration, "simulated time of the classroom run whose peak RSS is measured (0: skip)")
	fl.StringVar(&large, "large", large, "the large cluster, BROKERSxPARTITIONS")
	fl.DurationVar(&o.LargeDuration, "large-duration", o.LargeDuration, "simulated time the large cluster runs (0: skip)")
	return cmd
}
