package session

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/history"
	"kafkasim/checker"
	"kafkasim/scenarios"
	"kafkasim/sim/cluster"
)

// The checker in a session. Every timeline attaches checker.Attach to its cluster at boot
// (re-simulated forks too), so the online invariants run on every event and each violation
// is shown at the virtual time of the event it first held false after. The history analysis
// (checker.Check) is too slow to run on every frame (about 0.5s per 100k operations, and a
// ten-minute classroom session records over 600k), so it runs off the UI's thread on a frozen
// view of the cluster's compact history (history.Log.View: no copy of the operations): JudgeWork hands out the work, at most one at a time per timeline, only
// when operations completed since the last judgement and at least JudgeEvery of virtual time
// passed (or on demand), and Judged stores the result.

// JudgeEvery is the least virtual time between two history judgements of a timeline (a
// judgement on demand ignores it).
const JudgeEvery = 5 * time.Second

// UnseenGrace is how recent an acknowledged send may be and still not count as unseen: a live
// history ends with sends a consumer has not read yet but will. Such unseen anomalies are
// provisional: listed, counted apart, and left out of the verdict.
const UnseenGrace = 15 * time.Second

// LinearizabilityBudget is porcupine's wall-clock budget for one live judgement (it runs off
// the UI's thread: a larger budget costs only latency). A partition that runs out of it is
// "unknown", and so is the verdict.
const LinearizabilityBudget = checker.DefaultLinearizabilityBudget

// Judgement is one run of the history analysis over a timeline's operations.
type Judgement struct {
	Timeline int           // the timeline judged (1-based)
	At       time.Duration // virtual time the history was taken at
	Ops      int           // operations judged
	Wall     time.Duration // how long checker.Check took (wall clock)
	Report   *checker.Report
	Final    bool // the run's end: after the finish, nothing is provisional

	ops history.Reader // the operations judged, frozen (Cluster.LogView)
}

// Finding is one thing the checker found: an online invariant violation or a history anomaly.
type Finding struct {
	At          time.Duration // when the invariant first failed; when the last of the anomaly's operations completed (it shows from then)
	Began       time.Duration // the invoke of the anomaly's first operation (an invariant's: At)
	Name        string        // the invariant's or the anomaly's name
	Invariant   bool          // an online invariant (else a history anomaly)
	Text        string        // the explanation, naming the operations
	Event       int           // trace index of the event after which the invariant failed
	Ops         []history.Op  // the operations the anomaly names, in history order
	Permitted   string        // the setting that permits the anomaly, "" if none
	Provisional bool          // an unseen send recent enough that a consumer may still read it
}

// Verdict is what the checker knows as of one instant.
type Verdict struct {
	Verdict      string         // valid, invalid, unknown; "" while nothing is judged or violated
	Judged       *Judgement     // the newest history judgement at or before the instant (nil: none)
	Counts       map[string]int // anomaly and invariant names → count (provisional unseen left out)
	Provisional  int            // unseen sends that may still be read (not in Counts)
	Violations   int            // online invariant violations
	Findings     []Finding      // violations and listed anomalies, by time
	Linearizable map[string]string
	Pending      bool // a judgement of the current timeline is running
}

// Total is the number of anomalies and violations counted.
func (v *Verdict) Total() int {
	n := 0
	for _, c := range v.Counts {
		n += c
	}
	return n
}

// judged is a judgement with what the view needs, worked out once.
type judged struct {
	Judgement
	findings    []Finding
	counts      map[string]int
	provisional int
}

// attachChecker starts the online invariants on the timeline's cluster.
func (tl *Timeline) attachChecker(c *cluster.Cluster) {
	tl.online = checker.Attach(c)
	tl.evBase = c.World.Trace().Len()
}

// collectViolations turns the online checker's new violations into findings at the virtual
// time of their event, and forgets the event times seen so far.
func (tl *Timeline) collectViolations() {
	if tl.online == nil {
		return
	}
	vs := tl.online.Violations()
	for _, v := range vs[len(tl.violations):] {
		f := Finding{Name: v.Invariant, Invariant: true, Text: v.Detail, Event: v.Event, At: tl.c.Now()}
		if i := v.Event - tl.evBase; i >= 0 && i < len(tl.evTimes) {
			f.At = tl.evTimes[i]
		}
		f.Began = f.At
		tl.violations = append(tl.violations, f)
	}
	tl.evBase += len(tl.evTimes)
	tl.evTimes = tl.evTimes[:0]
}

// JudgeWork returns the history judgement due on the current timeline, to run off the UI's
// thread, or nil when none is due: one is running, no operation completed since the last, or
// (unless force) less than JudgeEvery of virtual time passed since it. Hand the result to
// Judged.
func (s *Session) JudgeWork(force bool) func() Judgement {
	tl := s.tl()
	c := tl.player.Cluster()
	n, now := c.Ops(), c.Now()
	if tl.judging || n == 0 {
		return nil
	}
	if k := len(tl.judged); k > 0 {
		last := tl.judged[k-1]
		if n <= last.Ops || !force && now-last.At < JudgeEvery {
			return nil
		}
	}
	h := c.LogView()
	n = h.Len()
	cfg := tl.checkConfig(s.scenario)
	cfg.UncleanElections = tl.online != nil && tl.online.UncleanElections()
	cfg.LinearizabilityBudget = LinearizabilityBudget
	tl.judging = true
	id := tl.ID
	return func() Judgement {
		start := time.Now()
		r := checker.CheckOps(h, cfg)
		return Judgement{Timeline: id, At: now, Ops: n, Wall: time.Since(start), Report: r, ops: h}
	}
}

// Judging reports whether a judgement of the current timeline is running.
func (s *Session) Judging() bool { return s.tl().judging }

// Judged stores a judgement JudgeWork handed out on the timeline it judged.
func (s *Session) Judged(j Judgement) {
	if j.Timeline < 1 || j.Timeline > len(s.timelines) || j.Report == nil {
		return
	}
	tl := s.timelines[j.Timeline-1]
	tl.judging = false
	if k := len(tl.judged); k > 0 && tl.judged[k-1].At > j.At {
		return
	}
	tl.judged = append(tl.judged, tl.explain(j))
}

// JudgeNow judges the current timeline's history now, on this thread (tests, and a session
// without a UI). It reports whether there was anything new to judge.
func (s *Session) JudgeNow() bool {
	work := s.JudgeWork(true)
	if work == nil {
		return false
	}
	s.Judged(work())
	return true
}

// explain works out a judgement's findings: each listed anomaly with its operations and the
// virtual time of the first, recent unseen sends marked provisional.
func (tl *Timeline) explain(j Judgement) judged {
	r := j.Report
	out := judged{Judgement: j, counts: map[string]int{}}
	for name, n := range r.Counts {
		out.counts[name] = n
	}
	listedUnseen, recentUnseen, lastRecent := 0, 0, false
	for _, a := range r.Anomalies {
		// An anomaly is dated when the last of its operations completed: only then does the
		// history show it (an offset read before an unclean election and written again after
		// it is an anomaly of the election's time, not of the read's).
		f := Finding{Name: a.Name, Text: a.Explanation, Permitted: a.Permitted, At: -1, Began: -1}
		for _, i := range a.Ops {
			if j.ops != nil && i >= 0 && i < j.ops.Len() && i < j.Ops {
				op := *j.ops.Load(i, &history.Op{})
				f.Ops = append(f.Ops, op)
				if f.Began < 0 || op.Invoke < f.Began {
					f.Began = op.Invoke
				}
				f.At = max(f.At, op.Invoke, op.Complete)
			}
		}
		slices.SortFunc(f.Ops, func(x, y history.Op) int { return cmp.Compare(x.Index, y.Index) })
		if f.At < 0 {
			f.At, f.Began = j.At, j.At
		}
		if a.Name == checker.Unseen && !j.Final {
			listedUnseen++
			lastRecent = false
			for _, op := range f.Ops {
				if op.Complete > j.At-UnseenGrace {
					f.Provisional, lastRecent = true, true
				}
			}
			if f.Provisional {
				recentUnseen++
			}
		}
		out.findings = append(out.findings, f)
	}
	if n := r.Counts[checker.Unseen]; n > 0 {
		// The anomalies listed are the first by operation; those left unlisted completed
		// later, so they are recent if the last listed one is.
		if n > listedUnseen && lastRecent {
			recentUnseen += n - listedUnseen
		}
		out.provisional = recentUnseen
		if out.counts[checker.Unseen] -= recentUnseen; out.counts[checker.Unseen] <= 0 {
			delete(out.counts, checker.Unseen)
		}
	}
	return out
}

// cachedVerdict is a Verdict worked out for one instant and state of the checker.
type cachedVerdict struct {
	key verdictKey
	v   *Verdict
}

// verdictKey says which instant and state of the checker a cached Verdict is of.
type verdictKey struct {
	tl      *Timeline
	snap    *Snapshot
	judged  int
	found   int
	judging bool
}

// Verdict is what the checker knows as of the snapshot shown: the online violations up to
// it, and the newest history judgement taken at or before it.
func (s *Session) Verdict() *Verdict { return s.verdictOf(s.Snapshot()) }

// HeadVerdict is what the checker knows now, at the head of the current timeline: the
// anomalies found so far, also while the screen is rewound.
func (s *Session) HeadVerdict() *Verdict { return s.verdictOf(s.Head()) }

func (s *Session) verdictOf(snap *Snapshot) *Verdict {
	tl := s.tl()
	key := verdictKey{tl: tl, snap: snap, judged: len(tl.judged), found: len(tl.violations), judging: tl.judging}
	for i := range s.verdicts {
		if s.verdicts[i].key == key && s.verdicts[i].v != nil {
			return s.verdicts[i].v
		}
	}
	v := &Verdict{Counts: map[string]int{}, Pending: tl.judging}
	for _, f := range tl.violations {
		if f.Event < snap.Events {
			v.Findings = append(v.Findings, f)
			v.Counts[f.Name]++
			v.Violations++
		}
	}
	var j *judged
	for i := len(tl.judged) - 1; i >= 0; i-- {
		if tl.judged[i].At <= snap.At {
			j = &tl.judged[i]
			break
		}
	}
	if j != nil {
		v.Judged = &j.Judgement
		for name, n := range j.counts {
			v.Counts[name] += n
		}
		v.Provisional = j.provisional
		v.Linearizable = j.Report.Linearizable
		v.Findings = append(v.Findings, j.findings...)
	}
	slices.SortStableFunc(v.Findings, func(x, y Finding) int { return cmp.Compare(x.At, y.At) })
	switch {
	case len(v.Counts) > 0:
		v.Verdict = checker.Invalid
	case j == nil:
	default:
		v.Verdict = checker.Valid
		for _, tp := range slices.Sorted(maps.Keys(v.Linearizable)) {
			switch v.Linearizable[tp] {
			case checker.LinIllegal:
				v.Verdict = checker.Invalid
			case checker.LinUnknown:
				if v.Verdict == checker.Valid {
					v.Verdict = checker.Unknown
				}
			}
		}
	}
	s.verdicts[1], s.verdicts[0] = s.verdicts[0], cachedVerdict{key, v}
	return v
}

// judgeEnd is the checker at the scenario's end (scenarios.Player.Finish calls it after the
// finish): the history analysis as kafkasim run does it, with the online invariants, for the
// run's verdict and the final expectations; and, for the checker pane, the judgement of the
// whole history.
func (tl *Timeline) judgeEnd(c *cluster.Cluster) (string, map[string]int) {
	ops := c.LogView()
	n := ops.Len()
	cfg := tl.checkConfig(tl.scenario)
	cfg.UncleanElections = tl.online.UncleanElections()
	start := time.Now()
	view := checker.CheckOps(ops, cfg)
	tl.judging = false
	tl.judged = append(tl.judged, tl.explain(Judgement{Timeline: tl.ID, At: c.Now(), Ops: n, Wall: time.Since(start), Report: view, Final: true, ops: ops}))
	cfg.Online = tl.online
	rep := checker.Check(c.History(), cfg)
	return rep.Verdict, rep.Findings()
}

// checkConfig is what the scenario's producers permit (acks below all, idempotence off): the
// history analysis names the setting that permits an anomaly.
func (tl *Timeline) checkConfig(s *scenarios.Scenario) checker.Config {
	if tl.cfg == nil {
		cfg := s.CheckConfig()
		tl.cfg = &cfg
	}
	return *tl.cfg
}
