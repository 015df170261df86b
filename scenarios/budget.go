package scenarios

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"kafkasim/sim/cluster"
)

// A run's memory budget. A scenario can ask for more than the machine holds (a million
// records a second, the largest cluster, a sweep of a hundred thousand worlds at once), so the
// runner gives the Go heap a budget: --memory, else the file's `config memory.limit`, else
// DefaultMemory. The Go collector's soft limit is set to it (it collects harder as the heap
// nears it), and between steps of budgetStep of virtual time Run reads the live heap
// (runtime/metrics) and stops a run that passed it, naming what it holds: history operations,
// log records, trace events, counted. The simulation and the checker never look: they stay
// deterministic, and a run either ends as it always does or is stopped with that failure.
//
// The worlds of one process share its heap: when a sweep's heap passes the budget, the world
// holding the most is the one stopped.

// DefaultMemory is the budget when neither --memory nor `config memory.limit` sets one.
const DefaultMemory int64 = 2 << 30

// worldMemory is the least a sweep's world is given: the sweep runs at most budget/worldMemory
// worlds at once.
const worldMemory int64 = 64 << 20

// budgetStep is how much virtual time Run advances between two looks at the heap, and
// heapEvery how many events at most (a million records a second fill the heap in a virtual
// second).
const (
	budgetStep = 10 * time.Second
	heapEvery  = 4096
)

// ParseMemory reads a memory size: 512MiB, 2GiB, 1.5GiB, 500MB, 2GB, or bytes (1073741824).
func ParseMemory(s string) (int64, error) {
	units := []struct {
		suffix string
		n      float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	num, mul := s, 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, mul = strings.TrimSuffix(s, u.suffix), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f*mul < 1<<20 || f*mul > math.MaxInt64/2 || num != strings.TrimSpace(num) {
		return 0, fmt.Errorf("%q is not a memory size of at least 1MiB (use 512MiB, 2GiB)", s)
	}
	return int64(f * mul), nil
}

// FormatMemory writes bytes as ParseMemory reads them: 512MiB, 2GiB, 1.5GiB.
func FormatMemory(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", b>>30)
	case b >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%dMiB", b>>20)
}

// Memory is a memory budget in bytes as a command-line flag takes it (a pflag.Value:
// --memory 2GiB); 0 is unset.
type Memory int64

// MemoryUsage describes --memory.
const MemoryUsage = "the Go heap's budget, e.g. `512MiB`, 2GiB: a run past it stops, naming what it holds (default: the file's config memory.limit, else 2GiB)"

func (m *Memory) String() string {
	if *m == 0 {
		return ""
	}
	return FormatMemory(int64(*m))
}

// Set parses a size as ParseMemory does.
func (m *Memory) Set(s string) error {
	n, err := ParseMemory(s)
	*m = Memory(n)
	return err
}

// Type names the flag's value in help text.
func (m *Memory) Type() string { return "size" }

// TuneGC trades memory for speed, within bounds: a simulation allocates many short-lived
// messages, and with Go's default GOGC=100 on a small heap much of the time goes to
// collecting them. After every collection the collector is tuned from the live heap: GOGC so
// that the heap may grow by gcHeadroom over what is live, at most 400% (a small heap: the
// classroom cluster's first minutes) and at least 50% (a large heap: a long run's history and
// logs, where Go's default 100% let 300 MiB live grow to 600; 25% past bigHeap); and
// the soft limit to the live heap plus that growth (at most the budget: DefaultMemory, or the
// run's own), which makes the runtime hand freed memory back to the system as it goes. A fixed
// GOGC=400 let a 100-MiB live heap grow to 500 MiB before a collection, and `kafkasim run`
// of ten classroom minutes peak at 720 MiB RSS. At 50%, thirty classroom minutes peak at
// 410 MiB RSS instead of 550 (issue 10's 512 MiB), for a fifth more CPU on that run; runs whose
// live heap stays under 64 MiB (the classroom's first six minutes: its logs and history grow the
// live heap by about 9 MiB a simulated minute) are not affected. GOGC and GOMEMLIMIT in the
// environment still win.
func TuneGC() {
	SetMemoryLimit(DefaultMemory)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(maxGCPercent)
		tuneAfterGC(new(gcSentinel))
	}
}

// gcHeadroom is how much the heap may grow over the live heap before a collection, as long as
// GOGC stays within minGCPercent..maxGCPercent.
const (
	gcHeadroom   = 64 << 20
	minGCPercent = 50
	maxGCPercent = 400
	// Past bigHeap of live heap (a long run's logs: ten classroom minutes of 1 KB values hold
	// about 700 MiB) the heap may grow by bigHeapGCPercent only, so that such a run stays under
	// 1 GiB of RSS (issue 14), for more collections on those runs alone.
	bigHeap          = 512 << 20
	bigHeapGCPercent = 25
)

// gcSentinel is garbage whose finalizer runs once after each collection, re-arming itself.
type gcSentinel struct{ _ [16]byte }

// tuned is the state TuneGC keeps: the budget SetMemoryLimit was last given (0: none), the
// ceiling of the soft limit it sets after each collection.
var tuned struct {
	sync.Mutex
	budget int64
}

func tuneAfterGC(s *gcSentinel) {
	runtime.SetFinalizer(s, func(*gcSentinel) {
		pct := maxGCPercent
		if live := liveHeap(); live > 0 {
			floor := int64(minGCPercent)
			if live > bigHeap {
				floor = bigHeapGCPercent
			}
			pct = int(min(max(gcHeadroom*100/live, floor), maxGCPercent))
			tuned.Lock()
			if tuned.budget > 0 && os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(min(tuned.budget, live+max(live*int64(pct)/100, gcHeadroom)))
			}
			tuned.Unlock()
		}
		debug.SetGCPercent(pct)
		tuneAfterGC(new(gcSentinel))
	})
}

// SetMemoryLimit makes limit the Go collector's soft limit, unless GOMEMLIMIT in the
// environment sets one.
func SetMemoryLimit(limit int64) {
	if os.Getenv("GOMEMLIMIT") == "" && limit > 0 {
		tuned.Lock()
		tuned.budget = limit
		tuned.Unlock()
		debug.SetMemoryLimit(limit)
	}
}

// CapParallel is how many worlds a sweep runs at once when asked for parallel: at most four a
// CPU (more only wait for one) and at most one per worldMemory of the budget. note says why,
// when it is fewer than asked.
func CapParallel(parallel int, memory int64) (n int, note string) {
	cpus := 4 * runtime.NumCPU()
	mem := int(max(1, memory/worldMemory))
	n = min(parallel, cpus, mem)
	if n < parallel {
		note = fmt.Sprintf("--parallel %d: running %d worlds at once (at most 4 a CPU on %d CPUs, and %s each of the %s memory budget)",
			parallel, n, runtime.NumCPU(), FormatMemory(worldMemory), FormatMemory(memory))
	}
	return n, note
}

// liveHeap is the Go heap's live bytes as of the last collection.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// worlds are the runs under way in this process, and what each holds (its counted items).
var worlds struct {
	sync.Mutex
	held map[*Player]int
}

// count is something a run's world holds that grows with it.
type count struct {
	name, short string
	n           int
	kept        bool // it takes memory (a discarded trace is counted, not kept)
}

// counts are what the run holds, largest first.
func (p *Player) counts() []count {
	c := p.c
	records := 0
	for _, td := range p.s.topics {
		for i := range td.partitions {
			tp := cluster.TP(td.name, i)
			for id := int32(1); id <= int32(p.s.brokers); id++ {
				if r := c.Replica(id, tp); r != nil {
					records += int(r.LEO())
				}
			}
		}
	}
	events := count{"trace events (not kept)", "events", c.World.Trace().Len(), p.o.KeepTrace}
	if events.kept {
		events.name = "trace events"
	}
	out := []count{{"history operations", "ops", c.Ops(), true}, {"log records", "records", records, true}, events}
	slices.SortStableFunc(out, func(a, b count) int { return cmp.Compare(b.n, a.n) })
	return out
}

// overBudget reports why the run must stop ("" if it need not): the live heap passed limit
// and this world holds the most of the process's worlds.
func (p *Player) overBudget(limit int64) string {
	cs := p.counts()
	held := 0
	for _, c := range cs {
		if c.kept {
			held += c.n
		}
	}
	worlds.Lock()
	defer worlds.Unlock()
	if worlds.held == nil {
		worlds.held = map[*Player]int{}
	}
	worlds.held[p] = held
	live := liveHeap()
	if limit <= 0 || live <= limit {
		return ""
	}
	// The live heap is as of the last collection: it may still count a world that has
	// ended. Collect now and look again.
	runtime.GC()
	if live = liveHeap(); live <= limit {
		return ""
	}
	for _, n := range worlds.held {
		if n > held {
			return ""
		}
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
	}
	return fmt.Sprintf("memory budget %s exceeded at %.1fs of virtual time: the Go heap holds %s live; the run holds %s (raise the budget with --memory or config memory.limit, or make the run smaller)",
		FormatMemory(limit), p.c.Now().Seconds(), FormatMemory(live), strings.Join(parts, ", "))
}

// leave removes the run from the process's worlds.
func (p *Player) leave() {
	worlds.Lock()
	delete(worlds.held, p)
	worlds.Unlock()
}

// progressLine draws a long run's progress on a terminal: virtual time, the line running,
// what the run holds and the heap against the budget; at most a few times a second.
type progressLine struct {
	w     io.Writer
	drawn bool
	last  time.Time
}

func (b *progressLine) draw(p *Player, limit int64) {
	if b == nil || b.w == nil || time.Since(b.last) < 250*time.Millisecond {
		return
	}
	b.last = time.Now()
	line := ""
	if l := p.Line(); l > 0 {
		line = fmt.Sprintf("  line %d: %s", l, p.Current())
	}
	var held []string
	for _, c := range p.counts() {
		held = append(held, fmt.Sprintf("%d %s", c.n, c.short))
	}
	fmt.Fprintf(b.w, "\r\033[K%.0fs virtual  %d events  %d ops%s  %s  heap %s of %s", p.c.Now().Seconds(), p.c.World.Trace().Len(), p.c.Ops(), line, strings.Join(held, " "), FormatMemory(liveHeap()), FormatMemory(limit))
	b.drawn = true
}

// clear erases the line, so that narration printed to the same terminal stays clean.
func (b *progressLine) clear() {
	if b != nil && b.w != nil && b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

// clearing is a writer that clears the progress line before each write.
type clearing struct {
	w   io.Writer
	bar *progressLine
}

func (c clearing) Write(b []byte) (int, error) {
	c.bar.clear()
	return c.w.Write(b)
}
