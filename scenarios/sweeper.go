package scenarios

import (
	"cmp"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The sweeper runs many seeds of scenario files, one independent world per seed, on every
// core. Each world is deterministic on its own; only the order in which they finish varies, and
// the sweeper hands the results on in seed order, so that its output is the same at any
// --parallel.

// SeedRange is the seeds a sweep runs: First..Last, of which shard Shard of Count takes every
// s with (s - First) % Count == Shard (`--shard I/N`), so that shards on several machines
// cover the range once between them. Count 0 stands for 1: every seed.
type SeedRange struct {
	First, Last  uint64
	Shard, Count uint64
}

// Each calls f for every seed of the range the shard takes, in increasing order, until f
// returns false.
func (r SeedRange) Each(f func(seed uint64) bool) {
	if r.Count == 0 {
		r.Count = 1
	}
	if r.Last-r.First < r.Shard {
		return
	}
	for s := r.First + r.Shard; ; s += r.Count {
		if !f(s) || r.Last-s < r.Count {
			return
		}
	}
}

// Len is the number of seeds the shard takes.
func (r SeedRange) Len() uint64 {
	if r.Count == 0 {
		r.Count = 1
	}
	if r.Last-r.First < r.Shard {
		return 0
	}
	return (r.Last-r.First-r.Shard)/r.Count + 1
}

// Sweep runs every seed of Seeds for every file, Parallel worlds at a time.
type Sweep struct {
	Files    []*File
	Seeds    SeedRange
	Parallel int       // worlds run at once, at least 1
	JSON     bool      // Print: one JSON object per run instead of its summary line
	Progress io.Writer // a terminal to draw a progress bar on; nil: none
	Memory   Memory    // the Go heap's budget for all the worlds at once; 0: the files' largest config memory.limit, else DefaultMemory
}

// SweepTotals is what a sweep found.
type SweepTotals struct {
	Runs, Passed uint64
	Failures     []*Result // in the order the runs were handed on
	WallSeconds  float64
}

// Print runs the sweep and prints each run in order to stdout (its summary line, or with JSON
// its JSON line), then the totals and, for each failed run, the command that replays it; with
// JSON the totals go to stderr, so that stdout holds nothing but JSON lines. ok is false when
// some run failed; an error (an *OutputError) is a line that could not be printed.
func (s *Sweep) Print(stdout, stderr io.Writer) (ok bool, err error) {
	t, err := s.Run(func(r *Result) error {
		if s.JSON {
			return WriteJSON(stdout, r)
		}
		_, err := fmt.Fprintln(stdout, SummaryLine(r))
		return err
	})
	if err != nil {
		return false, &OutputError{"", err}
	}
	totals := stdout
	if s.JSON {
		totals = stderr
	}
	writeSweepTotals(totals, t, s.Parallel)
	return len(t.Failures) == 0, nil
}

// Budget is the Go heap's budget for all the sweep's worlds at once: Memory, else the files'
// largest config memory.limit, else DefaultMemory.
func (s *Sweep) Budget() Memory {
	memory := s.Memory
	if memory == 0 {
		for _, f := range s.Files {
			if sc, err := f.Scenario(); err == nil {
				memory = max(memory, sc.memory)
			}
		}
	}
	return cmp.Or(memory, Memory(DefaultMemory))
}

// Run runs the sweep and hands each result to each in order: the files in order, each file's
// seeds in increasing order. Once each returns an error it is not called again, the sweep
// runs to the end, and Run returns that error.
func (s *Sweep) Run(each func(*Result) error) (SweepTotals, error) {
	type job struct {
		idx  uint64
		file *File
		seed uint64
	}
	type done struct {
		idx uint64
		r   *Result
	}
	start := time.Now()
	memory := s.Budget()
	SetMemoryLimit(int64(memory))
	jobs := make(chan job)
	results := make(chan done)
	go func() {
		var idx uint64
		for _, f := range s.Files {
			s.Seeds.Each(func(seed uint64) bool {
				jobs <- job{idx: idx, file: f, seed: seed}
				idx++
				return true
			})
		}
		close(jobs)
	}()
	var wg sync.WaitGroup
	for range max(1, s.Parallel) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				results <- done{j.idx, runOne(j.file, j.seed, memory)}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	bar := newProgress(s.Progress, s.Seeds.Len()*uint64(len(s.Files)))
	pending := map[uint64]*Result{}
	var t SweepTotals
	var err error
	for d := range results {
		pending[d.idx] = d.r
		for {
			r, ok := pending[t.Runs]
			if !ok {
				break
			}
			delete(pending, t.Runs)
			t.Runs++
			if r.OK {
				t.Passed++
			} else {
				t.Failures = append(t.Failures, r)
			}
			bar.clear()
			if err == nil {
				err = each(r)
			}
			bar.draw(t.Runs, uint64(len(t.Failures)))
		}
	}
	bar.clear()
	t.WallSeconds = time.Since(start).Seconds()
	return t, err
}

// runOne runs one world. An error or a panic becomes a failed result, so that the sweep goes
// on and names the seed that replays it.
func runOne(f *File, seed uint64, memory Memory) (r *Result) {
	start := time.Now()
	failedRun := func(msg string) *Result {
		return &Result{Scenario: f.Name, Seed: seed, Failure: msg, WallSeconds: time.Since(start).Seconds()}
	}
	defer func() {
		if p := recover(); p != nil {
			r = failedRun(fmt.Sprintf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	s, err := f.Scenario()
	if err != nil {
		return failedRun(err.Error())
	}
	r, err = Run(s, Options{Seed: seed, Memory: memory})
	if err != nil {
		return failedRun(err.Error())
	}
	r.Cluster = nil // the world is done with: let it go
	return r
}

// progress is a one-line progress bar on a terminal; with no terminal (w nil) it draws nothing.
type progress struct {
	w     io.Writer
	total uint64
	start time.Time
}

func newProgress(w io.Writer, total uint64) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

// draw shows done of total runs, failures and an estimate of the time left.
func (p *progress) draw(done, failures uint64) {
	if p.w == nil || p.total == 0 {
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
	if p.w != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// ParseSeeds parses the seeds of a sweep as `kafkasim sweep` takes them: "A-B" inclusive (or
// "N", one seed; seeds count from 1) and, unless shard is "", the shard "I/N" of them to take
// (0 <= I < N). An error names its input: `seeds "9-3": 3 is below 9`.
func ParseSeeds(seeds, shard string) (SeedRange, error) {
	r := SeedRange{Count: 1}
	a, b, isRange := strings.Cut(seeds, "-")
	var err error
	r.First, err = strconv.ParseUint(strings.TrimSpace(a), 10, 64)
	if err != nil {
		return SeedRange{}, fmt.Errorf("seeds %q: want A-B, e.g. 1-1000", seeds)
	}
	r.Last = r.First
	if isRange {
		r.Last, err = strconv.ParseUint(strings.TrimSpace(b), 10, 64)
		if err != nil {
			return SeedRange{}, fmt.Errorf("seeds %q: want A-B, e.g. 1-1000", seeds)
		}
	}
	if r.First == 0 {
		return SeedRange{}, fmt.Errorf("seeds %q: seeds count from 1 (seed 0 stands for the file's own seed)", seeds)
	}
	if r.Last < r.First {
		return SeedRange{}, fmt.Errorf("seeds %q: %d is below %d", seeds, r.Last, r.First)
	}
	if shard == "" {
		return r, nil
	}
	i, n, ok := strings.Cut(shard, "/")
	if ok {
		r.Shard, err = strconv.ParseUint(strings.TrimSpace(i), 10, 64)
		if err == nil {
			r.Count, err = strconv.ParseUint(strings.TrimSpace(n), 10, 64)
		}
	}
	if !ok || err != nil {
		return SeedRange{}, fmt.Errorf("shard %q: want I/N, e.g. 0/4 (0-based shard I of N)", shard)
	}
	if r.Count == 0 || r.Shard >= r.Count {
		return SeedRange{}, fmt.Errorf("shard %q: shard %d of %d is not in 0..%d", shard, r.Shard, r.Count, int64(r.Count)-1)
	}
	return r, nil
}
