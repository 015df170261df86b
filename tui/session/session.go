package session

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/log"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
	"kafkasim/broker/txn"
	"kafkasim/checker"
	"kafkasim/scenarios"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// Options configure a session.
type Options struct {
	Scenario *scenarios.Scenario // nil: the classroom set-up, running live without a script
	Seed     uint64              // 0: the scenario's, else 1
}

// SnapEvery is the longest stretch of virtual time between two snapshots: the granularity of
// rewinding while the simulation runs freely.
const SnapEvery = 100 * time.Millisecond

// Session owns the simulation: one timeline per fork, each with its world, its snapshots and
// its event log. The UI reads snapshots and sends commands; it never touches a broker.
type Session struct {
	opts      Options
	scenario  *scenarios.Scenario
	Live      bool // no script: the classroom set-up, broken by hand
	timelines []*Timeline
	cur       int
	cursor    int // index of the snapshot shown in the current timeline

	verdicts [2]cachedVerdict // the newest two Verdicts worked out (the shown and the head)
}

// Timeline is one course of the simulation from the seed: the world, what was done to it
// (actions, replayable), what it showed (snapshots) and what happened (events).
type Timeline struct {
	ID      int // 1-based
	Parent  int // the timeline it forked from (0: none)
	ForkAt  time.Duration
	player  *scenarios.Player
	actions []action
	snaps   []*Snapshot
	events  []Event

	scenario    *scenarios.Scenario
	c           *cluster.Cluster // the world's cluster (set at boot, before the player exists)
	result      *scenarios.Result
	caption     string
	network     []string
	faults      sim.FaultLog // the trace's faults, a partition's events as one fault
	faultAt     int          // index in events of the last fault
	partStmt    int          // index in network of the partition being built, -1 none
	lastSeen    map[replicaKey]Replica
	truncated   map[replicaKey]time.Duration
	housekept   map[replicaKey]log.Housekeeping                 // each replica's retention and cleaner counts, last seen
	timerType   uint16                                          // the trace's type code of the broker's timer (0: not seen yet)
	parts       map[protocol.TopicPartition]*metadata.Partition // the committed state last logged
	brokers     map[int32]metadata.Broker                       // the committed registrations last logged
	image       *metadata.Image                                 // the committed image last looked at
	imageAt     int64                                           // and its offset
	producers   map[string]bool
	lastTPs     []protocol.TopicPartition
	assigned    map[protocol.TopicPartition][]int32
	groupIDs    []string                     // consumer groups seen, in the order first seen
	lastGroup   map[string]cluster.GroupView // each group as its coordinator last had it
	rebalanceAt time.Duration                // the last rebalance line's instant and group (groups.go)
	rebalanceOf string
	mark        bool // an election, ISR change or fault happened since it was cleared
	drained     int  // the log's length when the player's notes were last taken
	replaying   bool
	real        func() []RealClient // the gateway's clients (real.go), nil without one
	onInput     func(exec string, cont bool)

	// The checker (check.go).
	online     *checker.Online
	evBase     int             // trace index of evTimes[0]
	evTimes    []time.Duration // virtual times of the events since the last collectViolations
	violations []Finding       // online invariant violations, in the order found
	judged     []judged        // history judgements, oldest first
	judging    bool            // a judgement handed out by JudgeWork has not come back
	cfg        *checker.Config // what the scenario permits (read once)
}

// action is one thing done to a timeline's world; replaying them in order from the seed
// reproduces it exactly.
type action struct {
	kind actionKind
	d    time.Duration
	text string
}

type actionKind uint8

const (
	actAdvance  actionKind = iota // advance d
	actOneEvent                   // advance until the event log grows, at most d
	actToMark                     // advance until an election, ISR change, truncation or fault, at most d
	actExec                       // run a typed statement
	actContinue                   // leave a pause
	actSync                       // let the events due now run (export)
	actFinish                     // the scenario's finish and verdict (its script has ended)
)

// New boots the cluster and takes the first snapshot.
func New(o Options) (*Session, error) {
	s := &Session{opts: o, scenario: o.Scenario}
	if s.scenario == nil {
		s.scenario = scenarios.Classroom().SetupOnly()
		s.Live = true
	}
	tl, err := s.newTimeline()
	if err != nil {
		return nil, err
	}
	tl.snap()
	s.timelines = []*Timeline{tl}
	return s, nil
}

func (s *Session) newTimeline() (*Timeline, error) {
	tl := &Timeline{
		ID: len(s.timelines) + 1, lastSeen: map[replicaKey]Replica{}, truncated: map[replicaKey]time.Duration{}, housekept: map[replicaKey]log.Housekeeping{},
		parts: map[protocol.TopicPartition]*metadata.Partition{}, brokers: map[int32]metadata.Broker{}, scenario: s.scenario, producers: map[string]bool{}, assigned: map[protocol.TopicPartition][]int32{}, partStmt: -1,
		lastGroup: map[string]cluster.GroupView{},
	}
	// The session attaches the checker itself (hook), to see its violations as they happen.
	p, err := scenarios.NewPlayer(s.scenario, scenarios.Options{Seed: s.opts.Seed, Observe: tl.hook, NoCheck: true, Judge: tl.judgeEnd})
	if err != nil {
		return nil, err
	}
	tl.player = p
	tl.collectViolations()
	if s.Live {
		tl.caption = "The classroom cluster runs live. Select a broker or a partition (j/k or ↑↓, tab) and break it: K kills, ? lists every key."
	}
	tl.drainNotes()
	return tl, nil
}

// hook attaches the online checker and subscribes the timeline to the world's observations
// and faults.
func (tl *Timeline) hook(c *cluster.Cluster) {
	tl.c = c
	tl.attachChecker(c)
	c.World.OnObserve(tl.observe)
	c.World.OnEvent(tl.traceEvent)
}

// Scenario is the scenario played (the classroom set-up when live).
func (s *Session) Scenario() *scenarios.Scenario { return s.scenario }

// Seed is the seed the session runs on.
func (s *Session) Seed() uint64 { return s.tl().player.Seed() }

func (s *Session) tl() *Timeline { return s.timelines[s.cur] }

// Timeline is the current timeline.
func (s *Session) Timeline() *Timeline { return s.tl() }

// Timelines is how many timelines the session holds.
func (s *Session) Timelines() int { return len(s.timelines) }

// Cluster is the current timeline's cluster, at its head (for tests and the checker).
func (s *Session) Cluster() *cluster.Cluster { return s.tl().player.Cluster() }

// Player is the current timeline's player.
func (s *Session) Player() *scenarios.Player { return s.tl().player }

// Snapshot is the snapshot shown.
func (s *Session) Snapshot() *Snapshot { return s.tl().snaps[s.cursor] }

// Head is the newest snapshot of the current timeline.
func (s *Session) Head() *Snapshot { t := s.tl(); return t.snaps[len(t.snaps)-1] }

// Rewound reports whether the snapshot shown is behind the head.
func (s *Session) Rewound() bool { return s.cursor < len(s.tl().snaps)-1 }

// Cursor is the index of the snapshot shown; Len the number of snapshots.
func (s *Session) Cursor() int { return s.cursor }

// Len is the number of snapshots in the current timeline.
func (s *Session) Len() int { return len(s.tl().snaps) }

// History is the snapshots of the current timeline up to the one shown (for charts).
func (s *Session) History() []*Snapshot { return s.tl().snaps[:s.cursor+1] }

// Events is the event log up to the snapshot shown: the snapshot shows the world as of its
// last line (the event index, Snapshot.Log).
func (s *Session) Events() []Event { return s.tl().events[:s.Snapshot().Log] }

// AllEvents is the whole event log of the current timeline, to its head (the story strip).
func (s *Session) AllEvents() []Event { t := s.tl(); return t.events[:t.snaps[len(t.snaps)-1].Log] }

// Result is the run's result once the scenario has ended (End), else nil.
func (s *Session) Result() *scenarios.Result { return s.tl().result }

// Ended reports whether the current timeline's scenario has ended: its finish ran and its
// verdict is in. Time does not move on after the end.
func (s *Session) Ended() bool { return s.tl().result != nil }

// CanEnd reports whether the scenario's script has run to its end and the finish is due (the
// head is shown).
func (s *Session) CanEnd() bool {
	tl := s.tl()
	return !s.Live && tl.result == nil && tl.player.Done() && !s.Rewound()
}

// End runs the scenario's finish and the checker's verdict once its script has run to its end,
// as kafkasim run does (scenarios.Player.Finish): the final expectations are judged. The
// timeline then stays at its end.
func (s *Session) End() error {
	if !s.CanEnd() {
		return errors.New("the script has not run to its end")
	}
	tl := s.tl()
	if err := tl.do(action{kind: actFinish}); err != nil {
		return err
	}
	tl.snap()
	s.cursor = len(tl.snaps) - 1
	return nil
}

// Seek shows snapshot i (clamped).
func (s *Session) Seek(i int) {
	s.cursor = max(0, min(i, len(s.tl().snaps)-1))
}

// SeekTime shows the last snapshot at or before virtual time t.
func (s *Session) SeekTime(t time.Duration) {
	snaps := s.tl().snaps
	lo, hi := 0, len(snaps)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if snaps[mid].At <= t {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	s.cursor = lo
}

// SeekEvent shows the first snapshot taken after trace event i (the head if none is).
func (s *Session) SeekEvent(i int) {
	snaps := s.tl().snaps
	s.cursor = len(snaps) - 1
	if k, _ := slices.BinarySearchFunc(snaps, i, func(sn *Snapshot, i int) int { return cmp.Compare(sn.Events-1, i) }); k < len(snaps) {
		s.cursor = k
	}
}

// Advance moves the display forward by d of virtual time: through the snapshots while
// rewound, else by running the simulation, with a snapshot right after every event that adds
// to the event log and at least every SnapEvery. It stops at a pause of the script and at its
// end (End is then due), and never moves past the end.
func (s *Session) Advance(d time.Duration) {
	if s.Rewound() {
		s.SeekTime(s.Snapshot().At + d)
		return
	}
	tl := s.tl()
	end := tl.c.Now() + d
	for !tl.stopped(s.Live) {
		now := tl.c.Now()
		if now >= end {
			break
		}
		tl.do(action{kind: actOneEvent, d: min(SnapEvery, end-now)})
		tl.snap()
	}
	s.cursor = len(tl.snaps) - 1
}

// stopped reports whether time must not move on by itself: a pause of the script, the end of
// a scenario's script, or the end of the run.
func (tl *Timeline) stopped(live bool) bool {
	return tl.result != nil || tl.player.Paused() || !live && tl.player.Done()
}

// StepEvent moves one event forward: while rewound, to the snapshot taken right after the next
// event of the log; else it runs the simulation until the log grows (at most StepLimit of
// virtual time). Lines logged by one event (a metadata entry that moves two partitions, say)
// come together.
func (s *Session) StepEvent() {
	if s.Rewound() {
		tl := s.tl()
		log := s.Snapshot().Log
		i, _ := slices.BinarySearchFunc(tl.snaps, log+1, func(sn *Snapshot, l int) int { return cmp.Compare(sn.Log, l) })
		s.Seek(i)
		return
	}
	tl := s.tl()
	if tl.result != nil {
		return
	}
	tl.do(action{kind: actOneEvent, d: StepLimit})
	tl.snap()
	s.cursor = len(tl.snaps) - 1
}

// StepLimit bounds the virtual time StepEvent runs when nothing is logged (a quiet cluster).
const StepLimit = 10 * time.Second

// StepBack moves one event back: to the snapshot taken right after the event shown last (from
// a snapshot taken later), else right after the one before it (the start if none).
func (s *Session) StepBack() {
	cur := s.Snapshot()
	first := s.firstWithLog(cur.Log)
	if first < s.cursor {
		s.Seek(first)
		return
	}
	if s.cursor == 0 {
		return
	}
	s.Seek(s.firstWithLog(s.tl().snaps[s.cursor-1].Log))
}

// firstWithLog is the index of the first snapshot that shows log lines up to log: the one
// taken right after that event.
func (s *Session) firstWithLog(log int) int {
	i, _ := slices.BinarySearchFunc(s.tl().snaps, log, func(sn *Snapshot, l int) int { return cmp.Compare(sn.Log, l) })
	return i
}

// ShowEvent shows the world as of event i of the log (0-based): the snapshot taken right after
// it.
func (s *Session) ShowEvent(i int) { s.Seek(s.firstWithLog(i + 1)) }

// ToMark moves forward to the next election, ISR change, truncation or fault: the instant of
// the next one logged while rewound, else by running until one happens (at most a minute of
// virtual time).
func (s *Session) ToMark() {
	tl := s.tl()
	for i := s.Snapshot().Log; i < s.Head().Log; i++ {
		if tl.events[i].Kind.Marks() {
			s.ShowEvent(i)
			return
		}
	}
	s.cursor = len(tl.snaps) - 1
	if tl.stopped(s.Live) {
		return
	}
	tl.do(action{kind: actToMark, d: time.Minute})
	tl.snap()
	s.cursor = len(tl.snaps) - 1
}

// NextMark is ToMark: the next election, ISR change, truncation or fault, logged or to come.
func (s *Session) NextMark() { s.ToMark() }

// PrevMark shows the instant of the previous election, ISR change, truncation or fault (the
// start if there is none).
func (s *Session) PrevMark() {
	tl := s.tl()
	cur := s.Snapshot().Log
	for i := cur - 1; i >= 0; i-- {
		if !tl.events[i].Kind.Marks() {
			continue
		}
		if j := s.firstWithLog(i + 1); j < s.cursor {
			s.cursor = j
			return
		}
	}
	s.cursor = 0
}

// Continue leaves a pause of the script.
func (s *Session) Continue() {
	if s.Rewound() {
		return
	}
	tl := s.tl()
	if tl.player.Paused() {
		tl.do(action{kind: actContinue})
		tl.snap()
		s.cursor = len(tl.snaps) - 1
	}
}

// Exec runs a statement typed by the user (or sent by a key) now. Shown rewound, it first
// forks: a new timeline re-simulated from the seed to the instant shown; the old one stays
// reachable (SwitchTimeline).
func (s *Session) Exec(text string) error {
	if err := s.tl().player.CheckStatement(text); err != nil { // knows the brokers added so far
		return err
	}
	if !s.Rewound() && s.Ended() {
		return errors.New("the scenario has ended: rewind (← or [) to try something else from an earlier instant")
	}
	if s.Rewound() {
		if err := s.fork(); err != nil {
			return err
		}
	}
	tl := s.tl()
	failures := tl.player.Failures()
	if err := tl.do(action{kind: actExec, text: text}); err != nil {
		return err
	}
	tl.snap()
	s.cursor = len(tl.snaps) - 1
	if tl.player.Failures() > failures {
		why := "it failed"
		for i := len(tl.events) - 1; i >= 0; i-- {
			if tl.events[i].Kind == Failure {
				why = strings.TrimPrefix(tl.events[i].Text, "✗ ")
				break
			}
		}
		return &FailedError{Why: why}
	}
	return nil
}

// FailedError is a statement that ran but failed (a fault on a node that is down, an expect
// that does not hold): the attempt is in the transcript, as a comment.
type FailedError struct{ Why string }

func (e *FailedError) Error() string { return e.Why }

// Export writes the current timeline, to its head, as a scenario file.
func (s *Session) Export() (string, error) {
	tl := s.tl()
	if tl.result != nil {
		return "", errors.New("the scenario has ended (its finish ran): kafkasim run " + s.scenario.File + " replays it")
	}
	tl.actions = append(tl.actions, action{kind: actSync})
	text, err := tl.player.Export()
	if err != nil {
		return "", err
	}
	tl.snap()
	if !s.Rewound() {
		s.cursor = len(tl.snaps) - 1
	}
	return text, nil
}

// SwitchTimeline makes timeline id (1-based) current, showing its head.
func (s *Session) SwitchTimeline(id int) error {
	if id < 1 || id > len(s.timelines) {
		return fmt.Errorf("timeline %d does not exist (1..%d)", id, len(s.timelines))
	}
	s.cur = id - 1
	s.cursor = len(s.tl().snaps) - 1
	return nil
}

// fork re-simulates the current timeline from the seed up to the snapshot shown, as a new
// timeline that becomes current. The two share their snapshots, judgements and history of
// client operations up to the fork.
func (s *Session) fork() error {
	old := s.tl()
	at := old.snaps[s.cursor]
	tl, err := s.newTimeline()
	if err != nil {
		return err
	}
	tl.Parent, tl.ForkAt = old.ID, at.At
	// The re-simulated history repeats the parent's up to the fork: keep one copy of it,
	// sharing each chunk as the replay completes it (the fork never holds two). The session's
	// trace keeps no event bodies, only its hash and count: nothing there to share. The worlds'
	// state, logs and clients, is each timeline's own.
	if err := tl.replay(old.actions[:at.Actions], func() { tl.c.ShareHistory(old.c) }); err != nil {
		return err
	}
	if h := tl.player.Cluster().World.Trace().Hash(); h != at.Hash {
		return fmt.Errorf("fork: re-simulating to %v gave trace %016x; want %016x", at.At, h, at.Hash)
	}
	tl.snaps = append([]*Snapshot(nil), old.snaps[:s.cursor+1]...)
	tl.caption = at.Caption
	for _, j := range old.judged {
		if j.At <= at.At {
			tl.judged = append(tl.judged, j)
		}
	}
	s.timelines = append(s.timelines, tl)
	s.cur = len(s.timelines) - 1
	s.cursor = len(tl.snaps) - 1
	return nil
}

// replay applies actions, recorded by another timeline, to the timeline's world without
// taking snapshots; after each, it calls then (if not nil).
func (tl *Timeline) replay(actions []action, then func()) error {
	tl.replaying = true
	defer func() { tl.replaying = false }()
	for _, a := range actions {
		if a.kind == actSync {
			tl.actions = append(tl.actions, a)
			if _, err := tl.player.Export(); err != nil {
				return err
			}
			continue
		}
		if err := tl.do(a); err != nil {
			return err
		}
		if then != nil {
			then()
		}
	}
	return nil
}

// do applies one action to the timeline's world and records it.
func (tl *Timeline) do(a action) error {
	p := tl.player
	tl.noteInput(a)
	switch a.kind {
	case actAdvance:
		p.Advance(a.d, nil)
	case actOneEvent:
		n := len(tl.events)
		p.Advance(a.d, func() bool { return len(tl.events) > n })
	case actToMark:
		tl.mark = false
		p.Advance(a.d, func() bool { return tl.mark })
	case actExec:
		if err := p.Exec(a.text); err != nil {
			return err
		}
	case actContinue:
		p.Continue()
	case actFinish:
		tl.result = p.Finish()
	default:
		return errors.New("unknown action")
	}
	tl.actions = append(tl.actions, a)
	tl.drainNotes()
	tl.collectViolations()
	return nil
}

// snap appends a snapshot of the head.
func (tl *Timeline) snap() {
	if tl.replaying {
		return
	}
	tl.snaps = append(tl.snaps, tl.take())
}

func (tl *Timeline) add(e Event) { tl.events = append(tl.events, e) }

// drainNotes logs what the player noted (say lines, statements run, expectations): before any
// event of the world that follows them, so that the log stays in the order things happened.
func (tl *Timeline) drainNotes() {
	if tl.player == nil {
		return
	}
	for _, n := range tl.player.TakeNotes() {
		tl.noteEvent(n)
	}
	tl.drained = len(tl.events)
}

func (tl *Timeline) noteEvent(n scenarios.Note) {
	e := Event{At: n.At, Line: n.Line}
	switch n.Kind {
	case scenarios.NoteSay:
		tl.caption = n.Text
		e.Kind, e.Text = Caption, n.Text
	case scenarios.NotePause:
		e.Kind, e.Text = Script, "paused: press space to continue"
	case scenarios.NoteRan:
		// The player notes a statement once it has run: the faults it injected are logged
		// already. The statement goes before them.
		e.Kind, e.Text = Script, n.Text
		i := len(tl.events)
		for i > tl.drained && tl.events[i-1].Kind == Fault && tl.events[i-1].At == n.At {
			i--
		}
		if i < len(tl.events) {
			tl.events = slices.Insert(tl.events, i, e)
			if tl.faultAt >= i {
				tl.faultAt++
			}
			return
		}
	case scenarios.NotePassed:
		e.Kind, e.Text = Script, "✓ "+n.Text
	case scenarios.NoteFailed:
		e.Kind, e.Text = Failure, n.Text // the glyph is ✗
	}
	tl.add(e)
}

// observe turns what brokers report into events in plain words. The controller's records
// are logged when they commit (watchCommitted), not when they are appended: the partition
// table shows the committed metadata, and the log must not run ahead of it.
func (tl *Timeline) observe(now time.Duration, id int32, ev any) {
	tl.drainNotes()
	if tl.observeGroup(now, ev) {
		return
	}
	switch e := ev.(type) {
	case *broker.Truncated:
		tl.truncated[replicaKey{e.TP, e.Broker}] = now
		tl.add(Event{At: now, Kind: Truncation, TP: e.TP.String(), Text: fmt.Sprintf("%s: broker %d TRUNCATES its log from %d to %d (%s)", e.TP, e.Broker, e.From, e.To, e.Reason)})
		tl.mark = true
	case *broker.Registered:
		tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("broker %d registers, broker epoch %d", e.Broker, e.Epoch)})
	case *txn.TransactionStateChanged:
		tl.transactionChanged(now, e)
	case *broker.IsrProposed:
		verb := "shrink"
		if e.Expand {
			verb = "expand"
		}
		tl.add(Event{At: now, Kind: Proposal, TP: e.TP.String(), Text: fmt.Sprintf("%s: leader %d asks to %s the ISR to %s", e.TP, e.Broker, verb, Set(e.ISR))})
	}
	_ = id
}

// traceEvent follows the faults in the trace, keeps the network faults in force, and logs the
// metadata the quorum committed in the event (after the step: the state it shows is the
// state after the event).
func (tl *Timeline) traceEvent(e *sim.Event) {
	tl.drainNotes()
	tl.evTimes = append(tl.evTimes, e.Time)
	tl.fault(e)
	tl.watchCommitted(e.Time)
	tl.housekeeping(e)
}

// housekeeping logs the retention and log cleaner runs that changed broker e.Node's logs, when
// its retention timer fired (broker.RetentionTimerArg): segments deleted and the new log start,
// records the cleaner removed.
func (tl *Timeline) housekeeping(e *sim.Event) {
	if e.Kind != sim.Timer || e.Arg != broker.RetentionTimerArg {
		return
	}
	if tl.timerType == 0 {
		if tl.c.World.Trace().TypeName(e.Type) != "broker.timer" {
			return
		}
		tl.timerType = e.Type
	}
	b := tl.c.Broker(e.Node)
	if e.Type != tl.timerType || b == nil {
		return
	}
	for _, tp := range tl.partitions() {
		p := b.Partition(tp)
		if p == nil {
			continue
		}
		k := replicaKey{tp, e.Node}
		h, old := p.Log().Housekeeping(), tl.housekept[k]
		tl.housekept[k] = h
		if h.RetentionRuns < old.RetentionRuns || h.CleanerRuns < old.CleanerRuns {
			old = log.Housekeeping{} // the log was opened again (a restart)
		}
		if n := h.SegmentsDeleted - old.SegmentsDeleted; n > 0 {
			tl.add(Event{At: e.Time, Kind: Housekeeping, TP: tp.String(), Text: fmt.Sprintf("%s: broker %d retention deletes %d %s (%s), log start now %d",
				tp, e.Node, n, plural(n, "segment"), Size(h.BytesDeleted-old.BytesDeleted), p.LogStart())})
		}
		if h.CleanerRuns > old.CleanerRuns {
			tl.add(Event{At: e.Time, Kind: Housekeeping, TP: tp.String(), Text: fmt.Sprintf("%s: broker %d log cleaner removes %d %s (%s)",
				tp, e.Node, h.RecordsCleaned-old.RecordsCleaned, plural(int(h.RecordsCleaned-old.RecordsCleaned), "record"), Size(h.BytesCleaned-old.BytesCleaned))})
		}
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Size renders bytes in the scenario language's units: 812 B, 12.3 KB, 4.0 MB, 1.2 GB.
func Size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// watchCommitted logs what changed in the active controller's committed metadata since it
// last looked: partitions created, elected, taken offline, their ISR shrunk or expanded;
// brokers fenced, unfenced, in controlled shutdown.
func (tl *Timeline) watchCommitted(now time.Duration) {
	im := tl.c.Committed()
	if im == nil || im == tl.image && im.Offset == tl.imageAt {
		return
	}
	tl.image, tl.imageAt = im, im.Offset
	for _, id := range slices.Sorted(maps.Keys(im.Brokers)) {
		b := im.Brokers[id]
		old, known := tl.brokers[id]
		if known && old == *b {
			continue
		}
		tl.brokers[id] = *b
		switch {
		case b.Fenced && known && !old.Fenced:
			tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("controller fences broker %d (epoch %d)", id, b.Epoch)})
		case b.InControlledShutdown && (!known || !old.InControlledShutdown):
			tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("broker %d in controlled shutdown", id)})
		case !b.Fenced && (!known || old.Fenced || old.Epoch != b.Epoch):
			tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("controller unfences broker %d (epoch %d)", id, b.Epoch)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(im.Topics)) {
		var sum internalChanges
		for _, p := range im.Topics[name].Partitions {
			tp := protocol.TopicPartition{Topic: p.Topic, Partition: p.Index}
			old := tl.parts[tp]
			if old == p {
				continue
			}
			tl.parts[tp] = p
			if old != nil && strings.HasPrefix(name, "__") {
				sum.add(tp, old, p)
				continue
			}
			tl.partitionChanged(now, tp, old, p)
		}
		sum.log(tl, now, name)
	}
}

// internalChanges sums up what changed at once in an internal topic's partitions (the 50 of
// __consumer_offsets move together when a broker dies): one line says it, not fifty.
type internalChanges struct {
	first                              string
	elected                            map[int32]int // new leader → partitions
	unclean, offline, shrunk, expanded int
}

func (c *internalChanges) add(tp protocol.TopicPartition, old, p *metadata.Partition) {
	switch {
	case p.Leader < 0 && old.Leader >= 0:
		c.offline++
	case p.Leader >= 0 && (old.Leader != p.Leader || old.LeaderEpoch != p.LeaderEpoch):
		if c.elected == nil {
			c.elected = map[int32]int{}
		}
		c.elected[p.Leader]++
		if p.Recovering() && !old.Recovering() {
			c.unclean++
		}
	case !sameSet(old.ISR, p.ISR):
		if len(p.ISR) > len(old.ISR) {
			c.expanded++
		} else {
			c.shrunk++
		}
	default:
		return
	}
	if c.first == "" {
		c.first = tp.String()
	}
}

func (c *internalChanges) log(tl *Timeline, now time.Duration, topic string) {
	if c.first == "" {
		return
	}
	var parts []string
	kind := ISRChange
	if n := c.offline; n > 0 {
		parts = append(parts, fmt.Sprintf("%d OFFLINE", n))
		kind = Election
	}
	if len(c.elected) > 0 {
		n := 0
		var by []string
		for _, b := range slices.Sorted(maps.Keys(c.elected)) {
			n += c.elected[b]
			by = append(by, fmt.Sprintf("broker %d: %d", b, c.elected[b]))
		}
		how := "elect a new leader"
		if c.unclean > 0 {
			how += fmt.Sprintf(" (%d UNCLEANLY)", c.unclean)
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", n, how, strings.Join(by, ", ")))
		kind = Election
	}
	if c.shrunk > 0 {
		parts = append(parts, fmt.Sprintf("%d shrink their ISR", c.shrunk))
	}
	if c.expanded > 0 {
		parts = append(parts, fmt.Sprintf("%d expand their ISR", c.expanded))
	}
	tl.add(Event{At: now, Kind: kind, TP: c.first, Text: fmt.Sprintf("%s: of its partitions, %s", topic, strings.Join(parts, "; "))})
	tl.mark = true
}

// partitionChanged logs a partition's committed change from old (nil: new) to p.
func (tl *Timeline) partitionChanged(now time.Duration, tp protocol.TopicPartition, old, p *metadata.Partition) {
	switch {
	case old == nil && strings.HasPrefix(tp.Topic, "__"):
		// An internal topic's partitions are created together: one line says so.
		if tp.Partition == 0 {
			n := 0
			if t := tl.image.Topics[tp.Topic]; t != nil {
				n = len(t.Partitions)
			}
			tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s created: %d partitions of %d replicas, each led by its first replica", tp.Topic, n, len(p.Replicas))})
		}
	case old == nil:
		tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s created: replicas %s, broker %d leads (the first in the ISR), epoch %d, ISR %s", tp, Set(p.Replicas), p.Leader, p.LeaderEpoch, Set(p.ISR))})
	case p.Leader < 0 && old.Leader >= 0:
		tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s: OFFLINE, no leader (epoch %d), ISR %s%s", tp, p.LeaderEpoch, Set(p.ISR), elr(p.ELR))})
		tl.mark = true
	case p.Leader >= 0 && (old.Leader != p.Leader || old.LeaderEpoch != p.LeaderEpoch):
		how := "elected leader"
		if p.Recovering() && !old.Recovering() {
			how = "elected leader UNCLEANLY (from outside the ISR)"
		}
		tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s: broker %d %s, epoch %d, ISR %s%s", tp, p.Leader, how, p.LeaderEpoch, Set(p.ISR), elr(p.ELR))})
		tl.mark = true
	case !sameSet(old.ISR, p.ISR):
		verb := "shrinks"
		if len(p.ISR) > len(old.ISR) {
			verb = "expands"
		}
		tl.add(Event{At: now, Kind: ISRChange, TP: tp.String(), Text: fmt.Sprintf("%s: ISR %s from %s to %s%s", tp, verb, Set(old.ISR), Set(p.ISR), elr(p.ELR))})
		tl.mark = true
	}
}

// fault logs a fault of the trace and keeps the network faults in force.
func (tl *Timeline) fault(e *sim.Event) {
	extended, ok := tl.faults.Add(*e)
	if !ok {
		return
	}
	f := tl.faults.Last()
	text := f.Words(tl.c.World.Name)
	if extended { // the next node of a partition: the same line grows
		tl.events[tl.faultAt].Text = text
		if tl.partStmt >= 0 {
			tl.network[tl.partStmt] = text
		}
		return
	}
	tl.partStmt = -1
	switch {
	case f.Kind.Code == sim.FaultHeal:
		text += ": every network fault undone"
		tl.network = nil
	case f.Kind.Network:
		tl.network = append(tl.network, text)
		if f.Kind.Args == sim.ArgsGroups {
			tl.partStmt = len(tl.network) - 1
		}
	}
	tl.faultAt = len(tl.events)
	tl.add(Event{At: e.Time, Kind: Fault, Text: text})
	tl.mark = true
}

func elr(s []int32) string {
	if len(s) == 0 {
		return ""
	}
	return ", ELR " + Set(s)
}

// Set writes broker ids as {1,2,3}.
func Set(ids []int32) string {
	b := []byte{'{'}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return string(append(b, '}'))
}

func sameSet(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

// transactionChanged logs the transaction coordinator's steps that markers follow: a
// transaction prepared to commit or abort (its COMMIT or ABORT markers go to every partition it
// wrote), completed (every marker written), or a producer fenced (its open transaction aborted
// under a bumped epoch).
func (tl *Timeline) transactionChanged(now time.Duration, e *txn.TransactionStateChanged) {
	var text string
	switch e.To {
	case txn.PrepareCommit:
		text = "writes COMMIT markers"
	case txn.PrepareAbort:
		text = "writes ABORT markers"
	case txn.PrepareEpochFence:
		text = "fences the producer, aborting its transaction"
	case txn.CompleteCommit:
		text = "completes the commit: every COMMIT marker is written"
	case txn.CompleteAbort:
		text = "completes the abort: every ABORT marker is written"
	default:
		return
	}
	tl.add(Event{At: now, Kind: Marker, Text: fmt.Sprintf("%s (producer %d, epoch %d): coordinator %d %s", e.TransactionalID, e.ProducerID, e.Epoch, e.Coordinator, text)})
}
