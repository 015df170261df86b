package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kafkasim/scenarios"
)

// seedRange is the seeds a sweep runs: A..B, of which shard I of N takes every s with
// (s - A) % N == I.
type seedRange struct {
	first, last  uint64
	shard, count uint64 // shard I of count N; 0 of 1 takes every seed
}

// parseSeeds parses "A-B" (or "N", one seed) as --seeds.
func parseSeeds(s string) (first, last uint64, err error) {
	a, b, isRange := strings.Cut(s, "-")
	first, err = strconv.ParseUint(strings.TrimSpace(a), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("--seeds %q: want A-B, e.g. 1-1000", s)
	}
	last = first
	if isRange {
		last, err = strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("--seeds %q: want A-B, e.g. 1-1000", s)
		}
	}
	if first == 0 {
		return 0, 0, fmt.Errorf("--seeds %q: seeds count from 1 (seed 0 stands for the file's own seed)", s)
	}
	if last < first {
		return 0, 0, fmt.Errorf("--seeds %q: %d is below %d", s, last, first)
	}
	return first, last, nil
}

// parseShard parses "I/N" as --shard: 0 <= I < N.
func parseShard(s string) (shard, count uint64, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		shard, err = strconv.ParseUint(strings.TrimSpace(a), 10, 64)
		if err == nil {
			count, err = strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("--shard %q: want I/N, e.g. 0/4 (0-based shard I of N)", s)
	}
	if count == 0 || shard >= count {
		return 0, 0, fmt.Errorf("--shard %q: shard %d of %d is not in 0..%d", s, shard, count, int64(count)-1)
	}
	return shard, count, nil
}

// each calls f for every seed of the range the shard takes, in increasing order, until f
// returns false.
func (r seedRange) each(f func(seed uint64) bool) {
	if r.count == 0 {
		r.count = 1
	}
	if r.last-r.first < r.shard {
		return
	}
	for s := r.first + r.shard; ; s += r.count {
		if !f(s) || r.last-s < r.count {
			return
		}
	}
}

// len is the number of seeds the shard takes.
func (r seedRange) len() uint64 {
	if r.count == 0 {
		r.count = 1
	}
	if r.last-r.first < r.shard {
		return 0
	}
	return (r.last-r.first-r.shard)/r.count + 1
}

type sweepFlags struct {
	seeds    string
	shard    string
	parallel int
	json     bool
}

func newSweepCmd() *cobra.Command {
	f := sweepFlags{parallel: runtime.NumCPU()}
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
			var r seedRange
			var err error
			if r.first, r.last, err = parseSeeds(f.seeds); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			r.count = 1
			if f.shard != "" {
				if r.shard, r.count, err = parseShard(f.shard); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			}
			if f.parallel < 1 {
				return usageErrorf("--parallel %d: want at least 1", f.parallel)
			}
			srcs, err := loadSources(args)
			if err != nil {
				return err
			}
			return sweep(cmd.OutOrStdout(), cmd.ErrOrStderr(), srcs, r, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.seeds, "seeds", "", "the seeds to run, `A-B` inclusive (required)")
	fl.StringVar(&f.shard, "shard", "", "run only shard `I/N`: the seeds s with (s - A) % N == I, I from 0")
	fl.IntVar(&f.parallel, "parallel", f.parallel, "worlds run at once, one per CPU unless set")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per run, one line each")
	return cmd
}

// sweepJob is one world to run; idx is its place in the output.
type sweepJob struct {
	idx  uint64
	src  int
	seed uint64
}

// runOne runs one world. An error or a panic becomes a failed result, so that the sweep goes
// on and names the seed that replays it.
func runOne(src source, seed uint64) (r *scenarios.Result) {
	start := time.Now()
	failedRun := func(msg string) *scenarios.Result {
		return &scenarios.Result{Scenario: src.name, Seed: seed, Failure: msg, WallSeconds: time.Since(start).Seconds()}
	}
	defer func() {
		if p := recover(); p != nil {
			r = failedRun(fmt.Sprintf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	s, err := src.load()
	if err != nil {
		return failedRun(err.Error())
	}
	r, err = scenarios.Run(s, scenarios.Options{Seed: seed})
	if err != nil {
		return failedRun(err.Error())
	}
	r.Cluster = nil // the world is done with: let it go
	return r
}

// sweep runs every seed of r for every source, parallel at a time, and prints the results in
// order.
func sweep(stdout, stderr io.Writer, srcs []source, r seedRange, f sweepFlags) error {
	total := r.len() * uint64(len(srcs))
	start := time.Now()
	jobs := make(chan sweepJob)
	results := make(chan struct {
		idx uint64
		r   *scenarios.Result
	})
	go func() {
		var idx uint64
		for i := range srcs {
			r.each(func(seed uint64) bool {
				jobs <- sweepJob{idx: idx, src: i, seed: seed}
				idx++
				return true
			})
		}
		close(jobs)
	}()
	var wg sync.WaitGroup
	for w := 0; w < f.parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- struct {
					idx uint64
					r   *scenarios.Result
				}{j.idx, runOne(srcs[j.src], j.seed)}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	bar := newProgress(stderr, total)
	pending := map[uint64]*scenarios.Result{}
	var next, passed uint64
	var failures []*scenarios.Result
	var werr error
	for res := range results {
		pending[res.idx] = res.r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if r.OK {
				passed++
			} else {
				failures = append(failures, r)
			}
			bar.clear()
			if werr == nil {
				if f.json {
					werr = writeJSON(stdout, r)
				} else {
					_, werr = fmt.Fprintln(stdout, summaryLine(r))
				}
			}
			bar.draw(next, uint64(len(failures)))
		}
	}
	bar.clear()
	if werr != nil {
		return &exitError{code: exitFailed, err: werr}
	}
	// With --json, stdout holds nothing but JSON lines; the summary goes to stderr.
	sum := stdout
	if f.json {
		sum = stderr
	}
	wall := time.Since(start).Seconds()
	fmt.Fprintf(sum, "sweep: %d runs, %d passed, %d failed (%.1fs wall, %d in parallel)\n",
		next, passed, len(failures), wall, f.parallel)
	for _, r := range failures {
		failure, _, _ := strings.Cut(r.Failure, "\n")
		fmt.Fprintf(sum, "FAILED %s seed %d: %s\n  replay: %s\n", r.Scenario, r.Seed, failure, scenarios.ReplayCommand(r))
	}
	if len(failures) > 0 {
		return failed
	}
	return nil
}

// progress is a one-line progress bar, drawn only when w is a terminal.
type progress struct {
	w     io.Writer
	on    bool
	total uint64
	start time.Time
}

func newProgress(w io.Writer, total uint64) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.on = true
	}
	return p
}

// draw shows done of total runs, failures and an estimate of the time left.
func (p *progress) draw(done, failures uint64) {
	if !p.on || p.total == 0 {
		return
	}
	const width = 30
	filled := int(done * width / p.total)
	eta := ""
	if done > 0 && done < p.total {
		el := time.Since(p.start)
		eta = "  ETA " + (el * time.Duration(p.total-done) / time.Duration(done)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d runs  %d failed%s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total, failures, eta)
}

// clear erases the bar, so that a line printed to the same terminal stays clean.
func (p *progress) clear() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
