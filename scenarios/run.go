package scenarios

import (
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
	Judge     func(c *cluster.Cluster) (verdict string, anomalies map[string]int) // optional: replaces the checker, called after the finish; judges `expect verdict` and `expect anomaly`
	NoCheck   bool                                                                // skip the checker: no verdict, verdict and anomaly expectations not judged
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
}

// ReplayCommand is the one command that replays the run.
func ReplayCommand(r *Result) string {
	file := r.Scenario
	if strings.ContainsAny(file, " \t'\"$`\\") {
		file = "'" + strings.ReplaceAll(file, "'", `'\''`) + "'"
	}
	return fmt.Sprintf("kafkasim run %s --seed %d", file, r.Seed)
}

type runner struct {
	s      *Scenario
	o      Options
	c      *cluster.Cluster
	res    *Result
	failed bool
	failAt int
	online *checker.Online // the checker's online invariants, attached at boot
}

// newRunner prepares a run: the seed is o.Seed, else the file's, else 1.
func newRunner(s *Scenario, o Options) *runner {
	seed := o.Seed
	if seed == 0 {
		seed = s.Seed
	}
	if seed == 0 {
		seed = 1
	}
	return &runner{s: s, o: o, res: &Result{Scenario: s.File, Seed: seed, OK: true}}
}

// Run plays a scenario on a new cluster. It returns an error only when the cluster cannot be
// built (bad input Parse could not see); a failed expectation is Result.OK == false.
func Run(s *Scenario, o Options) (*Result, error) {
	wall := time.Now()
	r := newRunner(s, o)
	for _, st := range s.stmts {
		if r.failed {
			r.notReached(st)
			continue
		}
		// The cluster boots at the first statement after the set-up (a say or pause among the
		// set-up statements runs before it, at time 0).
		if r.c == nil && (st.line > s.setupEnd || (st.kind != kSay && st.kind != kPause)) {
			if err := r.boot(); err != nil {
				return nil, err
			}
		}
		r.exec(st)
	}
	if r.c == nil {
		if err := r.boot(); err != nil {
			return nil, err
		}
	}
	r.finish()
	r.judge()
	c := r.c
	res := r.res
	res.TraceHash = c.World.Trace().Hash()
	res.Events = c.World.Trace().Len()
	res.Ops = c.Ops()
	res.SimSeconds = c.Now().Seconds()
	res.Cluster = c
	if !res.OK && o.Narrate != nil {
		fmt.Fprintf(o.Narrate, "replay: %s\n", ReplayCommand(res))
	}
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}

func (r *runner) narrate(format string, args ...any) {
	if r.o.Narrate == nil {
		return
	}
	var now time.Duration
	if r.c != nil {
		now = r.c.Now()
	}
	fmt.Fprintf(r.o.Narrate, "%9.3fs  %s\n", now.Seconds(), fmt.Sprintf(format, args...))
}

// boot builds the cluster, creates the topics, waits for them, and starts the clients.
func (r *runner) boot() error {
	s := r.s
	spec := cluster.DefaultSpec()
	spec.Brokers, spec.Controllers = s.brokers, s.controllers
	spec.Broker = s.broker
	spec.Sim.Seed = r.res.Seed
	if s.latSet {
		spec.Sim.LatencyMin, spec.Sim.LatencyMax = s.latMin, s.latMax
	}
	if s.osFlushSet {
		spec.Sim.OSFlushInterval = s.osFlush
	}
	spec.Sim.DiscardTrace = !r.o.KeepTrace
	c, err := cluster.New(spec)
	if err != nil {
		return fmt.Errorf("%s: %v", s.File, err)
	}
	r.c = c
	r.narrate("cluster up: brokers 1..%d, controllers c1..c%d", s.brokers, s.controllers)
	if !r.o.NoCheck && r.o.Judge == nil {
		r.online = checker.Attach(c)
	}
	if r.o.Observe != nil {
		r.o.Observe(c)
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
		if _, err := c.AddProducer(cluster.ProducerSpec{Name: pd.name, Topic: pd.topic, Config: pd.cfg, Rate: pd.rate, Keys: pd.keys}); err != nil {
			return fmt.Errorf("%s:%d: producer %s: %v", s.File, pd.line, pd.name, err)
		}
	}
	for _, cd := range s.consumers {
		if _, err := c.AddConsumer(cluster.ConsumerSpec{Name: cd.name, Topic: cd.topic, Config: cd.cfg}); err != nil {
			return fmt.Errorf("%s:%d: consumer %s: %v", s.File, cd.line, cd.name, err)
		}
	}
	return nil
}

// topicLimit bounds the wait for the set-up's topics in virtual time.
const topicLimit = 30 * time.Second

func (r *runner) fail(st *stmt, msg string) {
	if !r.failed {
		r.failed, r.failAt = true, st.line
		r.res.OK = false
		r.res.Failure = fmt.Sprintf("%s:%d: %s — %s", r.s.File, st.line, st.text, msg)
		r.narrate("FAIL %s", r.res.Failure)
	}
}

func (r *runner) expectation(st *stmt, ok bool, got string) {
	r.res.Expectations = append(r.res.Expectations, Expectation{Line: st.line, Text: st.text, OK: ok, Judged: true, Got: got})
	if !ok {
		r.fail(st, fmt.Sprintf("wanted %s, saw %s", st.cond.text, got))
	}
}

func (r *runner) notReached(st *stmt) {
	switch st.kind {
	case kAwait, kExpect:
		r.res.Expectations = append(r.res.Expectations, Expectation{Line: st.line, Text: st.text, Got: fmt.Sprintf("not reached: the run failed at line %d", r.failAt)})
	case kVerdict, kAnomaly:
		r.res.Expectations = append(r.res.Expectations, Expectation{Line: st.line, Text: st.text, OK: true, Got: "not judged yet (no checker)"})
	}
}

// resolve turns a node reference into a node id at this instant.
func (r *runner) resolve(n nodeRef) (int32, string) {
	c := r.c
	switch n.kind {
	case nodeLeader:
		tp := protocol.TopicPartition{Topic: n.topic, Partition: n.part}
		l := c.Leader(tp)
		if l < 0 {
			return 0, fmt.Sprintf("%s/%d has no leader now", n.topic, n.part)
		}
		return l, ""
	case nodeController:
		a := c.ActiveController()
		if a < 0 {
			return 0, "there is no active controller now"
		}
		return a, ""
	}
	if n.id != 0 {
		return n.id, ""
	}
	id, ok := c.Client(n.name)
	if !ok {
		return 0, fmt.Sprintf("client %s does not exist", n.name)
	}
	return id, ""
}

func (r *runner) exec(st *stmt) {
	c := r.c
	switch st.kind {
	case kSay:
		r.narrate("%s", st.say)
	case kPause:
	case kWait:
		c.RunFor(st.d)
	case kRunUntil:
		if st.d > c.Now() {
			c.RunFor(st.d - c.Now())
		}
	case kAwait:
		ok := c.RunUntil(func() bool { ok, _ := st.cond.eval(c); return ok }, st.d)
		_, got := st.cond.eval(c)
		if !ok {
			got += fmt.Sprintf(" after %v", st.d)
		}
		r.expectation(st, ok, got)
	case kExpect:
		ok, got := st.cond.eval(c)
		r.expectation(st, ok, got)
	case kVerdict, kAnomaly:
		r.res.Expectations = append(r.res.Expectations, Expectation{Line: st.line, Text: st.text, OK: true, Got: "not judged yet (no checker)"})
	case kFault:
		id, why := r.resolve(st.nodes[0])
		if why != "" {
			r.fail(st, why)
			return
		}
		var err error
		w := c.World
		switch st.verb {
		case "kill":
			err = w.Kill(id)
		case "crash":
			err = w.Crash(id)
		case "stop":
			err = w.Stop(id)
		case "restart":
			err = w.Restart(id)
		case "pause":
			err = w.Pause(id)
		case "resume":
			err = w.Resume(id)
		case "isolate":
			w.Isolate(id)
		}
		if err != nil {
			r.fail(st, err.Error())
		}
	case kPartition:
		var groups [][]int32
		for _, g := range st.groups {
			var ids []int32
			for _, n := range g {
				id, why := r.resolve(n)
				if why != "" {
					r.fail(st, why)
					return
				}
				ids = append(ids, id)
			}
			groups = append(groups, ids)
		}
		c.World.Partition(groups...)
	case kCut, kLoss:
		from, why := r.resolve(st.nodes[0])
		if why == "" {
			var to int32
			if to, why = r.resolve(st.nodes[1]); why == "" {
				if st.kind == kCut {
					c.World.Cut(from, to)
				} else {
					c.World.Loss(from, to, st.p)
				}
				return
			}
		}
		r.fail(st, why)
	case kSlow:
		id, why := r.resolve(st.nodes[0])
		if why != "" {
			r.fail(st, why)
			return
		}
		c.World.Slow(id, st.d)
	case kHeal:
		c.World.Heal()
	case kSend:
		if err := c.Send(st.name, st.n); err != nil {
			r.fail(st, err.Error())
		}
	case kRate:
		if err := c.SetRate(st.name, st.p); err != nil {
			r.fail(st, err.Error())
		}
	}
}

// finish heals, restarts, stops the producers' rates, lets the cluster settle and has every
// consumer read to the end, bounded by the finish timeout; then closes the history.
func (r *runner) finish() {
	c, s := r.c, r.s
	if s.recover {
		c.Recover()
		for _, pd := range s.producers {
			_ = c.SetRate(pd.name, 0)
		}
		start := c.Now()
		if !c.RunUntil(r.allOnline, s.finishTimeout) {
			r.narrate("finish: the cluster did not settle within %v: %s", s.finishTimeout, r.offline())
		} else if !c.RunUntil(r.caughtUp, s.finishTimeout-(c.Now()-start)) {
			r.narrate("finish: the consumers did not read to the end within %v", s.finishTimeout)
		}
	}
	c.Close()
}

func (r *runner) allOnline() bool {
	for _, td := range r.s.topics {
		for i := 0; i < td.partitions; i++ {
			if !r.c.Online(cluster.TP(td.name, i)) {
				return false
			}
		}
	}
	return true
}

func (r *runner) offline() string {
	var out []string
	for _, td := range r.s.topics {
		for i := 0; i < td.partitions; i++ {
			if !r.c.Online(cluster.TP(td.name, i)) {
				out = append(out, fmt.Sprintf("%s/%d", td.name, i))
			}
		}
	}
	return strings.Join(out, ", ") + " offline"
}

// caughtUp: no producer has records in flight, every partition's leader has committed all it
// holds (HW = LEO: with acks=1 a record is acknowledged before it is committed), and every
// consumer's position has reached that HW.
func (r *runner) caughtUp() bool {
	for _, pd := range r.s.producers {
		if p := r.c.Producer(pd.name); p != nil && p.Stats().InFlight > 0 {
			return false
		}
	}
	for _, cd := range r.s.consumers {
		cs := r.c.Consumer(cd.name)
		if cs == nil || !cs.CaughtUp() {
			return false
		}
		pos := cs.Positions()
		for i := 0; i < r.c.PartitionCount(cd.topic); i++ {
			tp := cluster.TP(cd.topic, i)
			leader := r.c.Replica(r.c.Leader(tp), tp)
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
func (r *runner) check(c *cluster.Cluster) (string, map[string]int) {
	cfg := r.s.CheckConfig()
	cfg.Online, cfg.UncleanElections = r.online, r.online.UncleanElections()
	rep := checker.Check(c.History(), cfg)
	r.res.Report = rep
	return rep.Verdict, rep.Findings()
}

// judge hands the finished run to the checker, if there is one, and judges the verdict and
// anomaly expectations; without one it notes them as not judged yet.
func (r *runner) judge() {
	var verdict string
	var anomalies map[string]int
	judge := r.o.Judge
	if judge == nil && r.online != nil {
		judge = r.check
	}
	if judge != nil {
		verdict, anomalies = judge(r.c)
		r.res.Verdict, r.res.Anomalies = verdict, anomalies
	}
	for _, st := range r.s.stmts {
		if st.kind != kVerdict && st.kind != kAnomaly {
			continue
		}
		var e *Expectation
		for i := range r.res.Expectations {
			if r.res.Expectations[i].Line == st.line {
				e = &r.res.Expectations[i]
			}
		}
		if e == nil {
			continue
		}
		if judge == nil {
			r.narrate("note %s:%d: %s — not judged (the checker is off)", r.s.File, st.line, st.text)
			continue
		}
		e.Judged = true
		if st.kind == kVerdict {
			e.OK, e.Got = verdict == st.name, "verdict "+verdict
		} else {
			n := anomalies[st.name]
			e.OK, e.Got = (n > 0) != st.no, fmt.Sprintf("%d %s", n, st.name)
		}
		if !e.OK {
			r.res.OK = false
			msg := fmt.Sprintf("%s:%d: %s — wanted %s, saw %s", r.s.File, st.line, st.text, strings.TrimPrefix(st.text, "expect "), e.Got)
			if r.res.Failure == "" {
				r.res.Failure = msg
			}
			r.narrate("FAIL %s", msg)
		}
	}
}
