package main

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
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
		Long: strings.TrimSpace(`
bench measures the classroom cluster (3 brokers, 3 controllers, 6 partitions with RF 3, a
producer at 1,000 records/s, a consumer) running 60 simulated seconds, then a large cluster
(100 brokers, 30,000 partitions with RF 3, 10,000 records/s) running 10 simulated seconds, then
a sweep of the library's leader-failover.scenario over 2 x CPUs seeds on every core, and prints:

  sim_speed              simulated seconds per wall second (one world, one core)
  sim_speed_cpu          simulated seconds per CPU second of the process (the collector's
                         included): the figure to compare on a busy machine
  allocs_per_sim_second  heap allocations per simulated second
  events_per_second      trace events per wall second
  deliveries_per_second  messages handed to nodes per wall second
  seeds_per_minute       leader-failover runs per wall minute on every core
  check_seconds_10k      seconds the checker takes to judge a 10,000-operation history
                         over 10 partitions (anomalies and porcupine's linearizability)
  large_cluster_speed    the large cluster's simulated seconds per wall second
                         (large_cluster_speed_cpu: per CPU second)
  check_seconds_1m       the same for a 1,000,000-operation history
  peak_memory_mib        the largest heap sampled during the measurements, MiB
  rss_10min_mib          the peak resident memory of a run of the classroom cluster for 10
                         simulated minutes with --trace, measured first, MiB`),
		Args: cobra.NoArgs,
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
			if o.LargeBrokers, o.LargePartitions, err = parseLarge(large); err != nil {
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

// parseLarge reads BROKERSxPARTITIONS ("100x30000").
func parseLarge(s string) (brokers, partitions int, err error) {
	b, p, ok := strings.Cut(s, "x")
	if ok {
		brokers, err = strconv.Atoi(b)
	}
	if ok && err == nil {
		partitions, err = strconv.Atoi(p)
	}
	if !ok || err != nil || brokers < 1 || partitions < 1 {
		return 0, 0, fmt.Errorf("want BROKERSxPARTITIONS, e.g. 100x30000")
	}
	return brokers, partitions, nil
}
