package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/checker"
	"kafkasim/sim/cluster"
)

// Options tune a run.
type Options struct {
	Seed      uint64                                                              // 0 = the file's `config seed=N` if any, else 1
	Narrate   io.Writer                                                           // say lines with virtual time, failed expectations, the replay command; nil = silent
	Observe   func(c *cluster.Cluster)                                            // optional: called once the cluster exists (the TUI and the checker hook in here)
	KeepTrace bool                                                                // false → sim.Options.DiscardTrace (sweeps); the hash is the same either way
	TraceTo   io.Writer                                                           // optional: receives the trace's event lines as they happen (sim.Options.TraceLines), without keeping the trace
	Judge     func(c *cluster.Cluster) (verdict string, anomalies map[string]int) // optional: replaces the checker, called after the finish; judges `expect verdict` and `expect anomaly`
	NoCheck   bool                                                                // skip the checker: no verdict, verdict and anomaly expectations not judged
	Memory    Memory                                                              // Run's budget for the Go heap in bytes: 0 = the file's config memory.limit, else DefaultMemory; <0 = none
	Progress  io.Writer                                                           // a terminal for Run to draw its progress on; nil = none
	Stop      func() bool                                                         // optional: asked every heapEvery events (script and finish); once it holds, Run stops there, failed, Result.Stopped (shrink's wall deadline)
}

// Expectation is one `expect` or `await` of a run, in file order.
type Expectation struct {
	Line   int
	Text   string // the statement as written
	OK     bool
	Judged bool   // false: not reached (the run failed before it; OK false) or no checker to judge it (OK true)
	Got    string // what was seen
}

// Result is what a run found.
type Result struct {
	Scenario     string // file name
	Seed         uint64
	OK           bool            // every expectation and await held
	Failure      string          // first failure: "FILE:LINE: await … — wanted …, saw …"
	Verdict      string          // the checker's: valid, invalid or unknown ("" without a checker)
	Anomalies    map[string]int  // anomaly and invariant names → count
	Report       *checker.Report // the checker's full report (nil without the checker)
	Expectations []Expectation
	TraceHash    uint64
	SimSeconds   float64
	WallSeconds  float64
	Events       int
	Ops          int
	Cluster      *cluster.Cluster // the finished cluster (history, trace) for --history/--trace
	Faults       []Fault          // the faults a nemesis applied (nemesis.go)
	Nemesis      bool             // run with a default nemesis added (--nemesis)
	MetadataMode MetadataMode     // run on the control plane a flag named (--metadata-mode)
	ScriptEnd    time.Duration    // the virtual time the script ended, before the finish
	Stopped      bool             // Options.Stop held: the run was cut short, neither judged nor checked
}

// ReplayCommand is the one command that replays the run.
func ReplayCommand(r *Result) string {
	file := r.Scenario
	if strings.ContainsAny(file, " \t'\"$`\\") {
		file = "'" + strings.ReplaceAll(file, "'", `'\''`) + "'"
	}
	cmd := fmt.Sprintf("kafkasim run %s --seed %d", file, r.Seed)
	if r.Nemesis {
		cmd += " --nemesis"
	}
	if r.MetadataMode != ModeAsWritten {
		cmd += " --metadata-mode " + string(r.MetadataMode)
	}
	return cmd
}

// Run plays a scenario on a new cluster: the Player driven to the end of the script (pauses
// do not stop it; the first failure ends the script), then the finish and the checker's
// verdict. It returns an error only when the cluster cannot be built (bad input Parse could
// not see); a failed expectation is Result.OK == false.
//
// Between steps of budgetStep of virtual time, and every heapEvery events, Run looks at the Go
// heap: a run that passed its memory budget (Options.Memory) stops there, failed, naming what
// it holds; the finish and the checker do not run.
func Run(s *Scenario, o Options) (*Result, error) {
	wall := time.Now()
	limit := int64(cmp.Or(o.Memory, s.memory, Memory(DefaultMemory)))
	var bar *progressLine
	if o.Progress != nil {
		bar = &progressLine{w: o.Progress}
		if o.Narrate != nil {
			o.Narrate = clearing{o.Narrate, bar}
		}
	}
	if o.Stop != nil {
		o.Stop = everyN(o.Stop, heapEvery)
	}
	p := newPlayer(s, o)
	defer p.leave()
	p.toEnd = true
	// A say or pause among the set-up statements runs before the cluster boots, at time 0.
	for p.next < len(s.stmts) && s.stmts[p.next].line <= s.setupEnd {
		p.instant(s.stmts[p.next], false)
		p.next++
	}
	if err := p.boot(); err != nil {
		return nil, err
	}
	events := 0
	over := func() bool { // the heap passed the budget: checked every few thousand events
		events++
		return limit > 0 && events%heapEvery == 0 && liveHeap() > limit || p.halt()
	}
	for !p.Done() && !p.stopped() {
		p.Advance(budgetStep, over)
		if p.halt() {
			bar.clear()
			res := p.stop(haltedWhy)
			res.Stopped = true
			res.WallSeconds = time.Since(wall).Seconds()
			return res, nil
		}
		if why := p.overBudget(limit); why != "" {
			bar.clear()
			res := p.stop(why)
			res.WallSeconds = time.Since(wall).Seconds()
			return res, nil
		}
		bar.draw(p, limit)
	}
	bar.clear()
	p.res.ScriptEnd = p.c.Now()
	res := p.Finish()
	if !res.OK && o.Narrate != nil {
		fmt.Fprintf(o.Narrate, "replay: %s\n", ReplayCommand(res))
	}
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}

func (p *Player) narrate(format string, args ...any) {
	if p.o.Narrate == nil {
		return
	}
	var now time.Duration
	if p.c != nil {
		now = p.c.Now()
	}
	fmt.Fprintf(p.o.Narrate, "%9.3fs  %s\n", now.Seconds(), fmt.Sprintf(format, args...))
}

// boot builds the cluster, creates the topics, waits for them, and starts the clients.
func (p *Player) boot() error {
	s := p.s
	spec := cluster.DefaultSpec()
	spec.Brokers, spec.Controllers = s.brokers, s.controllers
	spec.ZooKeeper, spec.ZooKeeperSessionTimeout = s.zk.servers, s.zk.sessionTimeout
	spec.Broker = s.broker
	spec.Sim.Seed = p.res.Seed
	if s.latSet {
		spec.Sim.LatencyMin, spec.Sim.LatencyMax = s.latMin, s.latMax
	}
	if s.osFlushSet {
		spec.Sim.OSFlushInterval = s.osFlush
	}
	spec.Sim.DiscardTrace = !p.o.KeepTrace
	spec.Sim.TraceLines = p.o.TraceTo
	c, err := cluster.New(spec)
	if err != nil {
		return fmt.Errorf("%s: %v", s.File, err)
	}
	p.c = c
	if s.zk.servers > 0 {
		p.narrate("cluster up: brokers 1..%d, ZooKeeper z1..z%d, controller broker %s", s.brokers, s.zk.servers, nodeName(int64(c.ActiveController())))
	} else {
		p.narrate("cluster up: brokers 1..%d, controllers c1..c%d", s.brokers, s.controllers)
	}
	if !p.o.NoCheck && p.o.Judge == nil {
		p.online = checker.Attach(c)
	}
	c.World.OnObserve(p.observeGroups)
	c.World.OnObserve(p.observeStrays)
	if p.o.Observe != nil {
		p.o.Observe(c)
	}
	for _, td := range s.topics {
		err := c.CreateTopic(cluster.TopicSpec{Name: td.name, Partitions: td.partitions, Replication: td.repl, Assignment: td.assignment, Configs: td.configs})
		if err != nil {
			return fmt.Errorf("%s:%d: topic %s: %v", s.File, td.line, td.name, err)
		}
	}
	if len(s.topics) > 0 {
		if err := c.WaitReady(topicLimit); err != nil {
			return fmt.Errorf("%s: topics not ready: %v", s.File, err)
		}
	}
	for _, pd := range s.producers {
		if pd.late {
			continue // started by its statement (lateclients.go)
		}
		if err := p.startProducer(pd); err != nil {
			return err
		}
	}
	for _, cd := range s.consumers {
		if cd.late {
			continue
		}
		if err := p.startConsumer(cd); err != nil {
			return err
		}
	}
	p.at = c.Now()
	return nil
}

// topicLimit bounds the wait for the set-up's topics in virtual time.
const topicLimit = 30 * time.Second

// notReached records an expectation the run did not reach: it failed before.
func (p *Player) notReached(st *stmt) {
	switch {
	case st.final():
		p.res.Expectations = append(p.res.Expectations, Expectation{Line: st.line, Text: st.text, OK: true, Got: "not judged yet (no checker)"})
	case st.expectation():
		p.res.Expectations = append(p.res.Expectations, Expectation{Line: st.line, Text: st.text, Got: fmt.Sprintf("not reached: the run failed at line %d", p.failAt)})
	}
}

// resolve turns a node reference into a node id at this instant.
func (p *Player) resolve(n nodeRef) (int32, error) {
	c := p.c
	switch n.kind {
	case nodeLeader:
		tp := protocol.TopicPartition{Topic: n.topic, Partition: n.part}
		l := c.Leader(tp)
		if l < 0 {
			return 0, fmt.Errorf("%s/%d has no leader now", n.topic, n.part)
		}
		return l, nil
	case nodeCoordinator:
		b := c.GroupCoordinator(n.topic)
		if b < 0 {
			return 0, fmt.Errorf("group %s has no coordinator now", n.topic)
		}
		return b, nil
	case nodeController:
		a := c.ActiveController()
		if a < 0 {
			return 0, errors.New("there is no active controller now")
		}
		return a, nil
	}
	if n.id != 0 {
		return n.id, nil
	}
	id, ok := c.Client(n.name)
	if !ok {
		return 0, fmt.Errorf("client %s does not exist", n.name)
	}
	return id, nil
}

// Finish ends the play as Run does: the statements not reached are noted as such, then the
// finish (heal, restart, settle, every consumer reads to the end) runs and the checker's
// verdict judges the final expectations (`expect verdict`, `expect anomaly`). It returns the
// run's Result with the trace hash, the counts and the cluster filled in (not WallSeconds).
// The cluster's producers are closed: time must not advance after it. The terminal UI calls
// it when a scenario's script has run to its end.
func (p *Player) Finish() *Result {
	for _, st := range p.s.stmts[p.next:] {
		p.notReached(st)
	}
	p.finish()
	c, res := p.c, p.res
	if p.halt() { // Options.Stop held during the finish: not judged
		res.OK, res.Stopped = false, true
		res.Failure = fmt.Sprintf("%s:%d: %s", p.s.File, max(p.Line(), 1), haltedWhy)
	} else {
		p.judge()
	}
	res.TraceHash = c.World.Trace().Hash()
	res.Events = c.World.Trace().Len()
	res.Ops = c.Ops()
	res.SimSeconds = c.Now().Seconds()
	res.Cluster = c
	return res
}

// haltedWhy is the failure of a run Options.Stop cut short.
const haltedWhy = "stopped: the caller's stop held (a shrink's wall budget spent)"

// halt reports whether Options.Stop has held (Run makes it ask the caller every heapEvery
// calls, and hold from then on); never when Options.Stop is nil, so a run without it is
// unchanged.
func (p *Player) halt() bool { return p.o.Stop != nil && p.o.Stop() }

// everyN is stop asked every n calls, and holding from the first time it held.
func everyN(stop func() bool, n int) func() bool {
	calls, held := 0, false
	return func() bool {
		if !held {
			calls++
			held = calls%n == 0 && stop()
		}
		return held
	}
}

// stop ends the run where it is, failed with why: the statements not reached are noted as
// such; neither the finish nor the checker runs.
func (p *Player) stop(why string) *Result {
	p.failAt = max(p.Line(), 1)
	for _, a := range p.active {
		if !a.typed {
			p.notReached(a.st)
		}
	}
	for _, st := range p.s.stmts[p.next:] {
		p.notReached(st)
	}
	c, res := p.c, p.res
	res.OK = false
	res.Failure = fmt.Sprintf("%s:%d: %s", p.s.File, p.failAt, why)
	p.narrate("FAIL %s", res.Failure)
	c.Close()
	res.TraceHash = c.World.Trace().Hash()
	res.Events = c.World.Trace().Len()
	res.Ops = c.Ops()
	res.SimSeconds = c.Now().Seconds()
	res.Cluster = c
	return res
}

// finish heals, restarts, stops the producers' rates, lets the cluster settle and has every
// consumer read to the end, bounded by the finish timeout; then closes the history.
func (p *Player) finish() {
	c, s := p.c, p.s
	if s.recover {
		c.Recover()
		for _, pd := range s.producers {
			_ = c.SetRate(pd.name, 0)
		}
		start, timeout := c.Now(), s.finishWindow()
		f := newFinishWatch(p) // allOnline and caughtUp, asked cheaply (caughtup.go)
		if !c.RunUntil(func() bool { return f.allOnline() || p.halt() }, timeout) {
			p.narrate("finish: the cluster did not settle within %v: %s", timeout, p.offline())
		} else if ok, held := p.readToEnd(start, timeout, func() bool { return f.caughtUp() || p.halt() }); !ok && held != "" {
			p.narrate("finish: the consumers did not read to the end within %v (%s)", c.Now()-start, held)
		} else if !ok {
			p.narrate("finish: the consumers did not read to the end within %v", c.Now()-start)
		}
	}
	c.Close()
}

func (p *Player) allOnline() bool {
	for _, td := range p.s.topics {
		for i := 0; i < td.partitions; i++ {
			if !p.c.Online(cluster.TP(td.name, i)) {
				return false
			}
		}
	}
	return true
}

func (p *Player) offline() string {
	var out []string
	for _, td := range p.s.topics {
		for i := 0; i < td.partitions; i++ {
			if !p.c.Online(cluster.TP(td.name, i)) {
				out = append(out, fmt.Sprintf("%s/%d", td.name, i))
			}
		}
	}
	return strings.Join(out, ", ") + " offline"
}

// caughtUp: no producer has records in flight, every partition's leader has committed all it
// holds (HW = LEO: with acks=1 a record is acknowledged before it is committed), and every
// consumer's position has reached that HW. The finish asks it through finishWatch, which
// answers the same after every event without walking every client (caughtup.go); the tests
// hold the two together.
func (p *Player) caughtUp() bool {
	for _, pd := range p.s.producers {
		if p := p.c.Producer(pd.name); p != nil && p.Stats().InFlight > 0 {
			return false
		}
	}
	if !p.groupsCaughtUp() || !p.processorsSettled() {
		return false
	}
	for _, cd := range p.s.consumers {
		if cd.cfg.Group == "" && !p.consumerCaughtUp(cd) {
			return false // a group's consumers are judged by groupsCaughtUp
		}
	}
	return true
}

// consumerCaughtUp: consumer cd (of no group) runs, and its position in every partition of its
// topics has reached the leader's HW, which has reached the leader's LEO.
func (p *Player) consumerCaughtUp(cd *consumerDef) bool {
	cs := p.c.Consumer(cd.name)
	if cs == nil || !cs.CaughtUp() {
		return false
	}
	pos := cs.Positions()
	for _, t := range cd.topicList() {
		for i := 0; i < p.c.PartitionCount(t); i++ {
			tp := cluster.TP(t, i)
			leader := p.c.Replica(p.c.Leader(tp), tp)
			if leader == nil || leader.HW() < leader.LEO() || pos[tp] < leader.HW() {
				return false
			}
		}
	}
	return true
}

// CheckConfig is what the scenario's producers permit, for the checker to name the setting
// behind an anomaly: acks below all, idempotence off.
func (s *Scenario) CheckConfig() checker.Config {
	cfg := checker.Config{Idempotent: true}
	for _, cd := range s.consumers {
		if cd.cfg.Group != "" && cd.cfg.CommitMode == "before-processing" {
			cfg.CommitBeforeProcessing = true
		}
	}
	for _, pd := range s.producers {
		if pd.cfg.Acks != -1 {
			cfg.AcksBelowAll = true
		}
		if !pd.cfg.EnableIdempotence {
			cfg.Idempotent = false
		}
	}
	return cfg
}

// check judges the finished run with the checker: Jepsen's Kafka anomalies over the history,
// linearizability per partition, and the online invariants seen during the run.
func (p *Player) check(c *cluster.Cluster) (string, map[string]int) {
	cfg := p.s.CheckConfig()
	cfg.Online, cfg.UncleanElections = p.online, p.online.UncleanElections()
	rep := checker.CheckOps(c.Log(), cfg)
	p.res.Report = rep
	return rep.Verdict, rep.Findings()
}

// judge hands the finished run to the checker, if there is one, and judges the verdict and
// anomaly expectations; without one it notes them as not judged yet.
func (p *Player) judge() {
	var verdict string
	var anomalies map[string]int
	judge := p.o.Judge
	if judge == nil && p.online != nil {
		judge = p.check
	}
	if judge != nil {
		verdict, anomalies = judge(p.c)
		p.res.Verdict, p.res.Anomalies = verdict, anomalies
	}
	for _, st := range p.s.stmts {
		if !st.final() {
			continue
		}
		var e *Expectation
		for i := range p.res.Expectations {
			if p.res.Expectations[i].Line == st.line {
				e = &p.res.Expectations[i]
			}
		}
		if e == nil {
			continue
		}
		if judge == nil {
			p.narrate("note %s:%d: %s — not judged (the checker is off)", p.s.File, st.line, st.text)
			continue
		}
		e.Judged = true
		if st.verdict != "" {
			e.OK, e.Got = verdict == st.verdict, "verdict "+verdict
		} else {
			n := anomalies[st.name]
			e.OK, e.Got = (n > 0) != st.no, fmt.Sprintf("%d %s", n, st.name)
		}
		if !e.OK {
			p.res.OK = false
			msg := fmt.Sprintf("%s:%d: %s — wanted %s, saw %s", p.s.File, st.line, st.text, strings.TrimPrefix(st.text, "expect "), e.Got)
			if p.res.Failure == "" {
				p.res.Failure = msg
			}
			p.narrate("FAIL %s", msg)
		}
	}
}
