package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"kafkasim/checker"
	"kafkasim/sim/cluster"
)

// benchScenario is the library scenario whose sweep speed bench measures.
const benchScenario = "leader-failover.scenario"

// benchResult is what `kafkasim bench` measures. It is measured on the wall clock, so it is the
// one output of kafkasim that differs from run to run.
type benchResult struct {
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
	CPUs      int    `json:"cpus"`

	// The classroom cluster (cluster.Classroom(1)) running SimSeconds of virtual time, boot
	// excluded.
	SimSeconds          float64 `json:"sim_seconds"`
	WallSeconds         float64 `json:"wall_seconds"`
	SimSpeed            float64 `json:"sim_speed"` // simulated seconds per wall second
	EventsPerSecond     float64 `json:"events_per_second"`
	DeliveriesPerSecond float64 `json:"deliveries_per_second"`

	// A sweep of the library's leader-failover scenario over SweepRuns seeds on every core.
	SweepScenario    string  `json:"sweep_scenario"`
	SweepRuns        int     `json:"sweep_runs"`
	SweepFailed      int     `json:"sweep_failed"`
	SweepWallSeconds float64 `json:"sweep_wall_seconds"`
	SeedsPerMinute   float64 `json:"seeds_per_minute"`

	// checker.Check over a generated history of CheckOps operations over 10 partitions (the
	// issue asks for at most 1 s on one core).
	CheckOps        int     `json:"check_ops"`
	CheckSeconds10k float64 `json:"check_seconds_10k"`
	CheckVerdict    string  `json:"check_verdict"`

	PeakHeapMiB float64 `json:"peak_memory_mib"` // largest HeapAlloc sampled
	SysMiB      float64 `json:"sys_mib"`         // memory obtained from the OS at the end
}

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
  peak_memory_mib        the largest heap sampled during the measurements, MiB`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d <= 0 {
				return usageErrorf("--duration %v: want a positive duration", d)
			}
			if runs < 1 {
				return usageErrorf("--runs %d: want at least 1", runs)
			}
			res, err := bench(d, runs)
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, err := json.Marshal(res)
				if err != nil {
					return &exitError{code: exitFailed, err: err}
				}
				fmt.Fprintf(out, "%s\n", b)
				return nil
			}
			writeBench(out, res)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
	fl.DurationVar(&d, "duration", d, "simulated time the classroom cluster runs")
	fl.IntVar(&runs, "runs", runs, "seeds of the leader-failover sweep (default: 2 x CPUs)")
	return cmd
}

// bench runs the measurements.
func bench(d time.Duration, runs int) (*benchResult, error) {
	res := &benchResult{
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
	}
	stop := sampleMemory(res)

	c, err := cluster.Classroom(1)
	if err != nil {
		stop()
		return nil, err
	}
	before := c.World.Stats()
	start := time.Now()
	c.RunFor(d)
	wall := time.Since(start).Seconds()
	after := c.World.Stats()
	c.Close()
	res.SimSeconds = d.Seconds()
	res.WallSeconds = wall
	res.SimSpeed = d.Seconds() / wall
	res.EventsPerSecond = float64(after.Events-before.Events) / wall
	res.DeliveriesPerSecond = float64(after.Deliveries-before.Deliveries) / wall
	runtime.GC()

	src, ok := librarySource(benchScenario)
	if !ok {
		stop()
		return nil, fmt.Errorf("the scenario library has no %s", benchScenario)
	}
	res.SweepScenario = src.name
	res.SweepRuns = runs
	seeds := make(chan uint64)
	go func() {
		for i := 1; i <= runs; i++ {
			seeds <- uint64(i)
		}
		close(seeds)
	}()
	var mu sync.Mutex
	var wg sync.WaitGroup
	start = time.Now()
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				if r := runOne(src, seed); !r.OK {
					mu.Lock()
					res.SweepFailed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	res.SweepWallSeconds = time.Since(start).Seconds()
	res.SeedsPerMinute = float64(runs) / res.SweepWallSeconds * 60
	runtime.GC()

	h := checker.Synthetic("bench", 10, 910, nil)
	start = time.Now()
	rep := checker.Check(h, checker.Config{Idempotent: true})
	res.CheckSeconds10k = time.Since(start).Seconds()
	res.CheckOps, res.CheckVerdict = len(h), rep.Verdict
	stop()
	return res, nil
}

// sampleMemory records the largest HeapAlloc every 10ms until the returned stop is called,
// and then the memory obtained from the OS.
func sampleMemory(res *benchResult) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	var peak uint64
	read := func() runtime.MemStats {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
		return m
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		m := read()
		res.PeakHeapMiB = float64(peak) / (1 << 20)
		res.SysMiB = float64(m.Sys) / (1 << 20)
	}
}

// writeBench prints the figures for people.
func writeBench(w io.Writer, r *benchResult) {
	fmt.Fprintf(w, "kafkasim %s bench (%s, %s, %d CPUs)\n", version, r.GoVersion, r.Platform, r.CPUs)
	fmt.Fprintf(w, "classroom cluster, %.0f simulated seconds in %.2fs wall:\n", r.SimSeconds, r.WallSeconds)
	fmt.Fprintf(w, "  sim_speed              %12.1f  simulated seconds per wall second\n", r.SimSpeed)
	fmt.Fprintf(w, "  events_per_second      %12.0f\n", r.EventsPerSecond)
	fmt.Fprintf(w, "  deliveries_per_second  %12.0f\n", r.DeliveriesPerSecond)
	fmt.Fprintf(w, "%s, %d seeds on %d cores in %.2fs wall (%d failed):\n", r.SweepScenario, r.SweepRuns, r.CPUs, r.SweepWallSeconds, r.SweepFailed)
	fmt.Fprintf(w, "  seeds_per_minute       %12.1f\n", r.SeedsPerMinute)
	fmt.Fprintf(w, "checker, a history of %d operations over 10 partitions (verdict %s):\n", r.CheckOps, r.CheckVerdict)
	fmt.Fprintf(w, "  check_seconds_10k      %12.3f  seconds\n", r.CheckSeconds10k)
	fmt.Fprintf(w, "memory:\n")
	fmt.Fprintf(w, "  peak_memory_mib        %12.1f  largest heap sampled\n", r.PeakHeapMiB)
	fmt.Fprintf(w, "  sys_mib                %12.1f  obtained from the OS\n", r.SysMiB)
}
