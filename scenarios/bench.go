package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"kafkasim/checker"
	"kafkasim/sim/cluster"
)

// benchScenario is the library scenario whose sweep speed Bench measures.
const benchScenario = "leader-failover.scenario"

// BenchResult is what `kafkasim bench` measures. It is measured on the wall clock, so it is the
// one output of kafkasim that differs from run to run.
type BenchResult struct {
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
	// checker.CheckOps over 1,000,000 operations over 10 partitions (checker.SyntheticLog; the
	// issue asks for at most 5 s on one core).
	CheckSeconds1M float64 `json:"check_seconds_1m"`

	PeakHeapMiB float64 `json:"peak_memory_mib"` // largest HeapAlloc sampled
	SysMiB      float64 `json:"sys_mib"`         // memory obtained from the OS at the end
}

// Bench measures the classroom cluster running d of virtual time on one core, a sweep of the
// library's leader-failover scenario over seeds 1..runs on every core, the checker judging a
// 10,000-operation history, and the memory all this takes.
func Bench(d time.Duration, runs int) (*BenchResult, error) {
	res := &BenchResult{
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
	}
	stop := sampleMemory(res)
	defer stop()

	c, err := cluster.Classroom(1)
	if err != nil {
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

	f := LibraryFile(benchScenario)
	if f == nil {
		return nil, fmt.Errorf("the scenario library has no %s", benchScenario)
	}
	res.SweepScenario = f.Name
	res.SweepRuns = runs
	sw := Sweep{Files: []*File{f}, Seeds: SeedRange{First: 1, Last: uint64(runs)}, Parallel: runtime.NumCPU()}
	t, _ := sw.Run(func(*Result) error { return nil })
	res.SweepFailed = len(t.Failures)
	res.SweepWallSeconds = t.WallSeconds
	res.SeedsPerMinute = float64(runs) / res.SweepWallSeconds * 60
	runtime.GC()

	h := checker.Synthetic("bench", 10, 910, nil)
	start = time.Now()
	rep := checker.Check(h, checker.Config{Idempotent: true})
	res.CheckSeconds10k = time.Since(start).Seconds()
	res.CheckOps, res.CheckVerdict = len(h), rep.Verdict
	runtime.GC()
	big := checker.SyntheticLog(10, 1_000_000)
	start = time.Now()
	if rep := checker.CheckOps(big, checker.Config{Idempotent: true}); rep.Verdict != checker.Valid {
		return nil, fmt.Errorf("the checker judged a valid generated history of %d operations %s", big.Len(), rep.Verdict)
	}
	res.CheckSeconds1M = time.Since(start).Seconds()
	stop()
	return res, nil
}

// sampleMemory records the largest HeapAlloc every 10ms until the returned stop is first
// called, and then the memory obtained from the OS.
func sampleMemory(res *BenchResult) (stop func()) {
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
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		close(done)
		<-finished
		m := read()
		res.PeakHeapMiB = float64(peak) / (1 << 20)
		res.SysMiB = float64(m.Sys) / (1 << 20)
	}
}

// Write prints the figures for people, or with asJSON as one JSON object; version is
// kafkasim's.
func (r *BenchResult) Write(w io.Writer, version string, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "kafkasim %s bench (%s, %s, %d CPUs)\n", version, r.GoVersion, r.Platform, r.CPUs)
	fmt.Fprintf(w, "classroom cluster, %.0f simulated seconds in %.2fs wall:\n", r.SimSeconds, r.WallSeconds)
	fmt.Fprintf(w, "  sim_speed              %12.1f  simulated seconds per wall second\n", r.SimSpeed)
	fmt.Fprintf(w, "  events_per_second      %12.0f\n", r.EventsPerSecond)
	fmt.Fprintf(w, "  deliveries_per_second  %12.0f\n", r.DeliveriesPerSecond)
	fmt.Fprintf(w, "%s, %d seeds on %d cores in %.2fs wall (%d failed):\n", r.SweepScenario, r.SweepRuns, r.CPUs, r.SweepWallSeconds, r.SweepFailed)
	fmt.Fprintf(w, "  seeds_per_minute       %12.1f\n", r.SeedsPerMinute)
	fmt.Fprintf(w, "checker, a history of %d operations over 10 partitions (verdict %s):\n", r.CheckOps, r.CheckVerdict)
	fmt.Fprintf(w, "  check_seconds_10k      %12.3f  seconds\n", r.CheckSeconds10k)
	fmt.Fprintf(w, "  check_seconds_1m       %12.3f  seconds for 1,000,000 operations over 10 partitions\n", r.CheckSeconds1M)
	fmt.Fprintf(w, "memory:\n")
	fmt.Fprintf(w, "  peak_memory_mib        %12.1f  largest heap sampled\n", r.PeakHeapMiB)
	fmt.Fprintf(w, "  sys_mib                %12.1f  obtained from the OS\n", r.SysMiB)
	return nil
}
