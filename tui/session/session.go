package session

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/history"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
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

	caption   string
	network   []string
	faults    sim.FaultLog // the trace's faults, a partition's events as one fault
	faultAt   int          // index in events of the last fault
	partStmt  int          // index in network of the partition being built, -1 none
	lastSeen  map[replicaKey]Replica
	truncated map[replicaKey]time.Duration
	leaders   map[protocol.TopicPartition]partState
	producers map[string]bool
	lastTPs   []protocol.TopicPartition
	assigned  map[protocol.TopicPartition][]int32
	mark      bool // an election, ISR change or fault happened since it was cleared
	replaying bool

	// The checker (check.go).
	online     *checker.Online
	evBase     int             // trace index of evTimes[0]
	evTimes    []time.Duration // virtual times of the events since the last collectViolations
	violations []Finding       // online invariant violations, in the order found
	hist       history.History // a copy of the cluster's history, as far as judged
	judged     []judged        // history judgements, oldest first
	judging    bool            // a judgement handed out by JudgeWork has not come back
	cfg        *checker.Config // what the scenario permits (read once)
}

type partState struct {
	leader int32
	epoch  int32
	isr    []int32
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
	actOneEvent                   // advance until one more event, at most d
	actToMark                     // advance until an election, ISR change or fault, at most d
	actExec                       // run a typed statement
	actContinue                   // leave a pause
	actSync                       // let the events due now run (export)
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
		ID: len(s.timelines) + 1, lastSeen: map[replicaKey]Replica{}, truncated: map[replicaKey]time.Duration{},
		leaders: map[protocol.TopicPartition]partState{}, producers: map[string]bool{}, assigned: map[protocol.TopicPartition][]int32{}, partStmt: -1,
	}
	// The session attaches the checker itself (hook), to see its violations as they happen.
	p, err := scenarios.NewPlayer(s.scenario, scenarios.Options{Seed: s.opts.Seed, Observe: tl.hook, NoCheck: true})
	if err != nil {
		return nil, err
	}
	tl.player = p
	tl.collectViolations()
	if s.Live {
		tl.caption = "The classroom cluster runs live. Select a broker or a partition and break it: k kills, ? lists every key."
	}
	for _, n := range p.TakeNotes() {
		tl.noteEvent(n)
	}
	return tl, nil
}

// hook attaches the online checker and subscribes the timeline to the world's observations
// and faults.
func (tl *Timeline) hook(c *cluster.Cluster) {
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

// Events is the event log up to the snapshot shown.
func (s *Session) Events() []Event { return s.tl().events[:s.Snapshot().Log] }

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
// rewound, else by running the simulation (a snapshot at least every SnapEvery). It stops at a
// pause of the script.
func (s *Session) Advance(d time.Duration) {
	if s.Rewound() {
		s.SeekTime(s.Snapshot().At + d)
		return
	}
	tl := s.tl()
	end := tl.player.Cluster().Now() + d
	for {
		now := tl.player.Cluster().Now()
		if now >= end || tl.player.Paused() {
			break
		}
		tl.do(action{kind: actAdvance, d: min(SnapEvery, end-now)})
		tl.snap()
		if tl.player.Paused() {
			break
		}
	}
	s.cursor = len(tl.snaps) - 1
}

// StepEvent moves one event forward: the next snapshot while rewound, else one event of the
// simulation.
func (s *Session) StepEvent() {
	if s.Rewound() {
		s.cursor++
		return
	}
	tl := s.tl()
	tl.do(action{kind: actOneEvent, d: time.Minute})
	tl.snap()
	s.cursor = len(tl.snaps) - 1
}

// StepBack shows the previous snapshot.
func (s *Session) StepBack() { s.Seek(s.cursor - 1) }

// ToMark moves forward to the next election, ISR change or fault: among the snapshots while
// rewound (or to the head if none is left), else by running until one happens (at most a
// minute of virtual time).
func (s *Session) ToMark() {
	if s.Rewound() {
		s.NextMark()
		return
	}
	tl := s.tl()
	tl.do(action{kind: actToMark, d: time.Minute})
	tl.snap()
	// The controller reports a change when it appends it; let the quorum commit it, so that
	// the partition state shown (the committed metadata) has it too.
	if !tl.player.Paused() {
		tl.do(action{kind: actAdvance, d: Settle})
		tl.snap()
	}
	s.cursor = len(tl.snaps) - 1
}

// Settle is how long ToMark runs on after the change it stopped at, for the quorum to commit
// it.
const Settle = 50 * time.Millisecond

// NextMark shows the first snapshot after the next election, ISR change or fault among the
// snapshots (the head if there is none).
func (s *Session) NextMark() {
	tl := s.tl()
	cur := s.Snapshot()
	for i := s.cursor + 1; i < len(tl.snaps); i++ {
		if tl.markedBetween(cur.Log, tl.snaps[i].Log) {
			s.cursor = i
			return
		}
	}
	s.cursor = len(tl.snaps) - 1
}

// PrevMark shows the snapshot right after the previous election, ISR change or fault (the
// start if there is none).
func (s *Session) PrevMark() {
	tl := s.tl()
	for i := s.cursor - 1; i > 0; i-- {
		if tl.markedBetween(tl.snaps[i-1].Log, tl.snaps[i].Log) && i < s.cursor {
			s.cursor = i
			return
		}
	}
	s.cursor = 0
}

func (tl *Timeline) markedBetween(from, to int) bool {
	for _, e := range tl.events[from:to] {
		if e.Kind.Marks() {
			return true
		}
	}
	return false
}

// Continue leaves a pause of the script.
func (s *Session) Continue() {
	if s.Rewound() {
		return
	}
	tl := s.tl()
	if tl.player.Paused() {
		tl.do(action{kind: actContinue})
	}
}

// Exec runs a statement typed by the user (or sent by a key) now. Shown rewound, it first
// forks: a new timeline re-simulated from the seed to the instant shown; the old one stays
// reachable (SwitchTimeline).
func (s *Session) Exec(text string) error {
	if err := s.scenario.CheckStatement(text); err != nil {
		return err
	}
	if s.Rewound() {
		if err := s.fork(); err != nil {
			return err
		}
	}
	tl := s.tl()
	if err := tl.do(action{kind: actExec, text: text}); err != nil {
		return err
	}
	tl.snap()
	s.cursor = len(tl.snaps) - 1
	return nil
}

// Export writes the current timeline, to its head, as a scenario file.
func (s *Session) Export() (string, error) {
	tl := s.tl()
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
// timeline that becomes current.
func (s *Session) fork() error {
	old := s.tl()
	at := old.snaps[s.cursor]
	tl, err := s.newTimeline()
	if err != nil {
		return err
	}
	tl.Parent, tl.ForkAt = old.ID, at.At
	tl.replaying = true
	for _, a := range old.actions[:at.Actions] {
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
	}
	tl.replaying = false
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

// do applies one action to the timeline's world and records it.
func (tl *Timeline) do(a action) error {
	p := tl.player
	c := p.Cluster()
	switch a.kind {
	case actAdvance:
		p.Advance(a.d, nil)
	case actOneEvent:
		n := c.World.Trace().Len()
		p.Advance(a.d, func() bool { return c.World.Trace().Len() > n })
	case actToMark:
		tl.mark = false
		p.Advance(a.d, func() bool { return tl.mark })
	case actExec:
		if err := p.Exec(a.text); err != nil {
			return err
		}
	case actContinue:
		p.Continue()
	default:
		return errors.New("unknown action")
	}
	tl.actions = append(tl.actions, a)
	for _, n := range p.TakeNotes() {
		tl.noteEvent(n)
	}
	tl.collectViolations()
	if !tl.replaying {
		tl.copyHistory()
	}
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

func (tl *Timeline) noteEvent(n scenarios.Note) {
	e := Event{At: n.At, Line: n.Line}
	switch n.Kind {
	case scenarios.NoteSay:
		tl.caption = n.Text
		e.Kind, e.Text = Caption, n.Text
	case scenarios.NotePause:
		e.Kind, e.Text = Script, "paused: press space to continue"
	case scenarios.NoteRan:
		e.Kind, e.Text = Script, n.Text
	case scenarios.NotePassed:
		e.Kind, e.Text = Script, "✓ "+n.Text
	case scenarios.NoteFailed:
		e.Kind, e.Text = Failure, "✗ "+n.Text
	}
	tl.add(e)
}

// observe turns what nodes report into events in plain words.
func (tl *Timeline) observe(now time.Duration, id int32, ev any) {
	switch e := ev.(type) {
	case *metadata.PartitionRecord:
		tp := protocol.TopicPartition{Topic: e.Topic, Partition: e.Partition}
		tl.leaders[tp] = partState{leader: e.Leader, epoch: e.LeaderEpoch, isr: append([]int32(nil), e.ISR...)}
		tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s created: replicas %s, broker %d leads (the first in the ISR), epoch %d, ISR %s", tp, Set(e.Replicas), e.Leader, e.LeaderEpoch, Set(e.ISR))})
	case *metadata.PartitionChangeRecord:
		tp := protocol.TopicPartition{Topic: e.Topic, Partition: e.Partition}
		old, known := tl.leaders[tp]
		if !known && e.LeaderEpoch == 0 && e.Leader >= 0 {
			// Created before this timeline started watching: epoch 0 is the first leader,
			// so this change is not an election.
			old, known = partState{leader: e.Leader, epoch: 0}, true
		}
		tl.leaders[tp] = partState{leader: e.Leader, epoch: e.LeaderEpoch, isr: append([]int32(nil), e.ISR...)}
		switch {
		case e.Leader < 0 && (!known || old.leader >= 0):
			tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s: OFFLINE, no leader (epoch %d), ISR %s%s", tp, e.LeaderEpoch, Set(e.ISR), elr(e.ELR))})
			tl.mark = true
		case e.Leader >= 0 && (!known || old.leader != e.Leader || old.epoch != e.LeaderEpoch):
			how := "elected leader"
			if e.Unclean {
				how = "elected leader UNCLEANLY (from outside the ISR)"
			}
			tl.add(Event{At: now, Kind: Election, TP: tp.String(), Text: fmt.Sprintf("%s: broker %d %s, epoch %d, ISR %s%s", tp, e.Leader, how, e.LeaderEpoch, Set(e.ISR), elr(e.ELR))})
			tl.mark = true
		case !sameSet(old.isr, e.ISR):
			verb := "shrinks"
			if len(e.ISR) > len(old.isr) {
				verb = "expands"
			}
			tl.add(Event{At: now, Kind: ISRChange, TP: tp.String(), Text: fmt.Sprintf("%s: ISR %s from %s to %s%s", tp, verb, Set(old.isr), Set(e.ISR), elr(e.ELR))})
			tl.mark = true
		}
	case *metadata.BrokerRegistrationChangeRecord:
		switch {
		case e.Fenced:
			tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("controller fences broker %d (epoch %d)", e.BrokerID, e.BrokerEpoch)})
			tl.mark = true
		case e.InControlledShutdown:
			tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("broker %d in controlled shutdown", e.BrokerID)})
		default:
			tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("controller unfences broker %d (epoch %d)", e.BrokerID, e.BrokerEpoch)})
		}
	case *broker.Truncated:
		tl.truncated[replicaKey{e.TP, e.Broker}] = now
		tl.add(Event{At: now, Kind: Truncation, TP: e.TP.String(), Text: fmt.Sprintf("%s: broker %d TRUNCATES its log from %d to %d (%s)", e.TP, e.Broker, e.From, e.To, e.Reason)})
		tl.mark = true
	case *broker.Registered:
		tl.add(Event{At: now, Kind: Fencing, Text: fmt.Sprintf("broker %d registers, broker epoch %d", e.Broker, e.Epoch)})
	case *broker.IsrProposed:
		verb := "shrink"
		if e.Expand {
			verb = "expand"
		}
		tl.add(Event{At: now, Kind: Proposal, TP: e.TP.String(), Text: fmt.Sprintf("%s: leader %d asks to %s the ISR to %s", e.TP, e.Broker, verb, Set(e.ISR))})
	}
	_ = id
}

// traceEvent follows the faults in the trace and keeps the network faults in force.
func (tl *Timeline) traceEvent(e *sim.Event) {
	tl.evTimes = append(tl.evTimes, e.Time)
	extended, ok := tl.faults.Add(*e)
	if !ok {
		return
	}
	f := tl.faults.Last()
	text := f.Words(tl.player.Cluster().World.Name)
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
