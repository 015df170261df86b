package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

// The nemesis statement: random faults from the seed's "faults" stream while the script runs.
//
//	nemesis [kinds=kill,crash,...] [every=5s..15s] [for=D] [unclean.max=N]
//
// The faults are cluster.Stepper's (the same kinds as the Nemesis and Chaos drivers of the
// cluster's tests), each undone before the next. The player steps it between the events of the
// script's time-moving statements; the script's end (or for=D) ends it, undoing the fault in
// force. Every fault it applies is narrated, noted for the terminal UI and listed in the
// Result as a scenario statement at its instant.

// nemesisDef is a parsed nemesis statement.
type nemesisDef struct {
	kinds      []string
	every      [2]time.Duration // the time between steps is drawn in [every[0], every[1]]
	dur        time.Duration    // 0: until the last statement
	uncleanMax int              // broker power losses allowed; -1: min.insync.replicas − 1
}

// nemesisModifiers are the kinds that apply no fault of their own: they say where faults fall
// (controller, zookeeper), how they compose (overlap, outage), how long a slow lasts (lag) or
// when faults fall (isr-change).
var nemesisModifiers = []string{"controller", "zookeeper", "overlap", "outage", "lag", "isr-change"}

// Default nemesis pacing.
const (
	nemesisEveryMin = 5 * time.Second
	nemesisEveryMax = 15 * time.Second
)

// Fault is a fault a nemesis applied, as the scenario statement that applies it.
type Fault struct {
	At        time.Duration
	Statement string // "kill 2", "partition 1 | 3", "heal"
	// Await is the condition an isr-change strike's fault reacted to ("proposed isr orders/0@1
	// == {1,2}" for its cut, "isr orders/0@1 == {1,2}" for its node fault), "" for a step's
	// fault: shrink writes a strike after an await on it, so that the strike stays tied to
	// its ISR change when earlier faults move.
	Await string
}

// nemesisRun is a nemesis in progress.
type nemesisRun struct {
	def    *nemesisDef
	line   int
	st     *cluster.Stepper
	next   time.Duration // the virtual time of its next step
	end    time.Duration // 0: the script's end
	faults int
}

func (p *parser) nemesis(st *stmt, toks []token) error {
	def := &nemesisDef{every: [2]time.Duration{nemesisEveryMin, nemesisEveryMax}, uncleanMax: -1}
	st.nemesis = def
	keys, vals, err := p.pairs(toks[1:], "nemesis")
	if err != nil {
		return err
	}
	for i, k := range keys {
		t, v := toks[i+1], vals[i]
		switch k {
		case "kinds":
			for _, kind := range strings.Split(v, ",") {
				if !slices.Contains(cluster.NemesisKinds, kind) {
					return p.errAt(valueCol(t, k), "kinds: unknown fault kind %q (kinds are %s)", kind, strings.Join(cluster.NemesisKinds, ","))
				}
				if kind == "zookeeper" && p.s.zk.servers == 0 {
					return p.errAt(valueCol(t, k), "kinds: zookeeper: the cluster runs KRaft%s; there is no ZooKeeper ensemble to fault (cluster ... zookeeper=N)", p.turned())
				}
				def.kinds = append(def.kinds, kind)
			}
			if !slices.ContainsFunc(def.kinds, func(k string) bool { return k != "controller" && k != "zookeeper" }) {
				return p.errAt(valueCol(t, k), "kinds: %s names only where faults fall; add a fault kind such as kill", v)
			}
			if !slices.ContainsFunc(def.kinds, func(k string) bool { return !slices.Contains(nemesisModifiers, k) }) {
				return p.errAt(valueCol(t, k), "kinds: %s names only how and where faults fall; add a fault kind such as kill", v)
			}
			if slices.Contains(def.kinds, "isr-change") && !slices.ContainsFunc(def.kinds, func(k string) bool { return k == "kill" || k == "crash" || k == "stop" || k == "pause" }) {
				return p.errAt(valueCol(t, k), "kinds: isr-change strikes a partition's leader with a node fault; add kill, crash, stop or pause")
			}
		case "every":
			lo, hi, ok := strings.Cut(v, "..")
			if !ok {
				hi = lo
			}
			a, okA := parseDuration(lo)
			b, okB := parseDuration(hi)
			if !okA || !okB || a <= 0 || b < a {
				return p.errAt(valueCol(t, k), "every: %q is not a duration or a range of them (use every=10s or every=5s..15s)", v)
			}
			def.every = [2]time.Duration{a, b}
		case "for":
			if def.dur, err = p.durationValue(t, k, v); err != nil {
				return err
			}
		case "unclean.max":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p.errAt(valueCol(t, k), "unclean.max: %q is not a count (use unclean.max=1)", v)
			}
			def.uncleanMax = n
		default:
			return p.errTok(t, "nemesis: unknown key %q (keys: kinds, every, for, unclean.max)", k)
		}
	}
	return nil
}

// uncleanBudget is the default number of broker power losses a nemesis may cause:
// min.insync.replicas − 1 for the topic with the smallest effective one (Kafka's
// Partition.effectiveMinIsr: the smaller of min.insync.replicas and the replication factor),
// what KIP-966 promises to survive without losing committed data. ZooKeeper mode has no
// KIP-966 (zkUncleanBudget).
func (s *Scenario) uncleanBudget() int {
	if s.ZooKeeperMode() {
		return zkUncleanBudget
	}
	least := s.broker.Topic.MinInsyncReplicas
	for i, td := range s.topics {
		if i == 0 {
			least = td.repl
		}
		tc, err := config.TopicFrom(s.broker.Topic, td.configs)
		if err != nil {
			continue
		}
		least = min(least, tc.MinInsyncReplicas, td.repl)
	}
	return max(0, least-1)
}

func runNemesis(p *Player, st *stmt) (NoteKind, error) {
	def := st.nemesis
	budget := def.uncleanMax
	if budget < 0 {
		budget = p.s.uncleanBudget()
	}
	if p.nem != nil {
		p.endNemesis()
	}
	stepper, err := p.c.NewStepper(cluster.NemesisSpec{Kinds: def.kinds, Crashes: budget})
	if err != nil {
		return 0, err
	}
	n := &nemesisRun{def: def, line: p.lineOf(st), st: stepper}
	stepper.OnStrike(func(fs []cluster.Fault, on cluster.Strike) { p.nemesisFaultsAfter(n, fs, strikeAwait(on)) })
	if def.dur > 0 {
		n.end = p.c.Now() + def.dur
	}
	p.nem = n
	n.schedule(p.c.Now())
	return NoteRan, nil
}

// schedule draws the time of the next step from the faults stream.
func (n *nemesisRun) schedule(now time.Duration) {
	n.next = now + n.def.every[0]
	if span := n.def.every[1] - n.def.every[0]; span > 0 {
		n.next += time.Duration(n.st.Rand().Int63n(int64(span/time.Millisecond)+1)) * time.Millisecond
	}
	if n.end > 0 && n.next > n.end {
		n.next = n.end
	}
}

// step runs the nemesis's step due now.
func (p *Player) nemesisStep() {
	n := p.nem
	if n.end > 0 && p.c.Now() >= n.end {
		p.endNemesis()
		return
	}
	p.nemesisFaults(n, n.st.Step())
	n.schedule(p.c.Now())
}

// endNemesis stops the nemesis, undoing the fault in force.
func (p *Player) endNemesis() {
	n := p.nem
	p.nem = nil
	p.nemesisFaults(n, n.st.End())
	p.narrate("nemesis: stopped after %d faults", n.faults)
}

func (p *Player) nemesisFaults(n *nemesisRun, fs []cluster.Fault) { p.nemesisFaultsAfter(n, fs, "") }

// strikeAwait is the condition a strike reacted to, as an await writes it.
func strikeAwait(on cluster.Strike) string {
	ids := make([]int64, len(on.ISR))
	for i, id := range on.ISR {
		ids[i] = int64(id)
	}
	c := fmt.Sprintf("isr %s/%d@%d == %s", on.TP.Topic, on.TP.Partition, on.Leader, setString(ids, nodeName))
	if !on.Committed {
		c = "proposed " + c
	}
	return c
}

// nemesisFaultsAfter lists faults the nemesis applied; await is the condition they reacted
// to ("" for a step's).
func (p *Player) nemesisFaultsAfter(n *nemesisRun, fs []cluster.Fault, await string) {
	for _, f := range fs {
		n.faults++
		p.res.Faults = append(p.res.Faults, Fault{At: f.At, Statement: f.What, Await: await})
		p.note(NoteRan, 0, "nemesis: %s", f.What)
		p.narrate("nemesis: %s", f.What)
		p.settled = false
	}
}

// runTime runs the cluster for at most lim, stopping early (and returning true) right after an
// event at which cond (if not nil) holds; a nemesis in progress takes its steps on the way.
func (p *Player) runTime(cond func() bool, lim time.Duration) bool {
	c := p.c
	end := c.Now() + lim
	for p.nem != nil && p.nem.next <= end {
		if d := p.nem.next - c.Now(); d >= 0 {
			if cond == nil {
				c.RunFor(d)
			} else if c.RunUntil(cond, d) {
				return true
			}
		}
		p.nemesisStep()
	}
	if cond == nil {
		c.RunFor(end - c.Now())
		return false
	}
	return c.RunUntil(cond, end-c.Now())
}

// WithNemesis is the scenario with a default nemesis (`nemesis`: every kind, every 5s..15s, until
// the last statement) as the first statement after its set-up; `sweep --nemesis` runs this.
// A scenario that has a nemesis of its own is returned as it is.
func WithNemesis(s *Scenario) (*Scenario, error) {
	if slices.ContainsFunc(s.stmts, func(st *stmt) bool { return st.nemesis != nil }) {
		return s, nil
	}
	st, err := s.parseOne("nemesis")
	if err != nil {
		return nil, err
	}
	i := 0
	for i < len(s.stmts) && s.stmts[i].line <= s.setupEnd {
		i++
	}
	st.line = s.setupEnd + 1
	if i < len(s.stmts) {
		st.line = s.stmts[i].line
	}
	cp := *s
	cp.stmts = slices.Insert(slices.Clone(s.stmts), i, st)
	cp.nemesis = true
	return &cp, nil
}

// faultsText lists a nemesis's faults, one a line, as "  12.345s  kill 2".
func faultsText(fs []Fault) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%9.3fs  %s\n", f.At.Seconds(), f.Statement)
	}
	return b.String()
}

// faultJSON is a nemesis's fault in --json output.
type faultJSON struct {
	At        float64 `json:"at"` // virtual seconds
	Statement string  `json:"statement"`
}

// AddNemesis is the files with WithNemesis applied on every parse (run --nemesis, sweep
// --nemesis).
func AddNemesis(files []*File) []*File {
	out := make([]*File, len(files))
	for i, f := range files {
		cp := *f
		cp.nemesis = true
		out[i] = &cp
	}
	return out
}

// OpenAllWith is OpenAll, with a default nemesis added to every file if nemesis is set, and
// every file turned to the metadata mode (--metadata-mode; the zero mode keeps each file's).
func OpenAllWith(paths []string, nemesis bool, mode MetadataMode) ([]*File, error) {
	files, err := OpenAll(paths)
	if err != nil {
		return nil, err
	}
	if nemesis {
		files = AddNemesis(files)
	}
	return WithMetadataMode(files, mode)
}
