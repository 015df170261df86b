package compare

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"kafkasim/scenarios"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Options say what the comparison plays.
type Options struct {
	File     *scenarios.File
	Settings []scenarios.Setting // two: the left (or upper) world's, then the right's
	Flag     string              // the flag that gave them, named in errors ("--compare")
	Seed     uint64              // 0: the scenario's, else 1
	Present  bool                // classroom mode: larger glyphs, prominent captions
}

// Quantum is the longest step of virtual time one world takes while the other waits: the two
// worlds never stand further apart, and a script's pause stops the screen at most this long
// after its instant in the other world.
const Quantum = 20 * time.Millisecond

// Side is one world of the comparison: a setting and the session that plays the file under it.
type Side struct {
	Setting scenarios.Setting
	S       *session.Session

	lostAt   int // trace length at which Lost was counted
	lost     int64
	lostKnow bool
}

// Model is the comparison's bubbletea model.
type Model struct {
	sides   []*Side
	name    string
	st      *theme.Styles
	w, h    int
	playing bool
	speed   int
	selPart int
	cmdline bool
	input   string
	confirm string // a statement waiting for y
	msg     string

	syncJudge bool // judge in Update rather than in a tea.Cmd (tests: deterministic)
}

// New boots one session per setting, on the same seed.
func New(o Options) (*Model, error) {
	if len(o.Settings) != 2 {
		return nil, fmt.Errorf("%s: want two settings, got %d", o.Flag, len(o.Settings))
	}
	m := &Model{st: theme.New(o.Present), w: 80, h: 24, speed: defaultSpeed, playing: true,
		name: strings.TrimSuffix(filepath.Base(o.File.Name), ".scenario")}
	for _, st := range o.Settings {
		sc, err := o.File.AppliedFor(o.Flag, st)
		if err != nil {
			return nil, err
		}
		s, err := session.New(session.Options{Scenario: sc, Seed: o.Seed})
		if err != nil {
			return nil, err
		}
		m.sides = append(m.sides, &Side{Setting: st, S: s})
	}
	m.count()
	return m, nil
}

// Sides are the two worlds (tests read them).
func (m *Model) Sides() []*Side { return m.sides }

// Now is the screen's clock: the latest instant a world has reached.
func (m *Model) Now() time.Duration {
	var t time.Duration
	for _, sd := range m.sides {
		t = max(t, sd.now())
	}
	return t
}

func (sd *Side) now() time.Duration { return sd.S.Head().At }

// running reports whether time may move on in the world by itself: its script is not paused
// and it has not ended.
func (sd *Side) running() bool {
	h := sd.S.Head()
	return !h.Paused && !h.Ended && !h.Done
}

// Lost is the producers' acknowledged records that their leaders' logs no longer hold, as of
// the head; known is false while a partition they wrote to has no running leader.
func (sd *Side) Lost() (n int64, known bool) { return sd.lost, sd.lostKnow }

// count brings each world's Lost up to its head (it reads the head's log: only when the trace
// grew).
func (m *Model) count() {
	for _, sd := range m.sides {
		h := sd.S.Head()
		if h.Events == sd.lostAt && sd.lostAt > 0 {
			continue
		}
		sd.lostAt, sd.lost, sd.lostKnow = h.Events, 0, true
		for _, cl := range h.Clients {
			if !cl.Producer {
				continue
			}
			n, ok := scenarios.Lost(sd.S.Cluster(), cl.Name)
			sd.lost += n
			sd.lostKnow = sd.lostKnow && ok
		}
	}
}

// Advance moves both worlds forward by d of virtual time from the clock, together: the world
// behind takes the next step (at most Quantum), so that they stay within a step of each other.
// It stops early when a script pauses (stop true: the other world is brought up to its
// instant) or when until (if not nil) holds.
func (m *Model) Advance(d time.Duration, until func() bool) (stop bool) {
	target := m.Now() + d
	defer m.count()
	for {
		m.finish()
		if m.paused() {
			m.align()
			return true
		}
		var low *Side
		for _, sd := range m.sides {
			if sd.running() && sd.now() < target && (low == nil || sd.now() < low.now()) {
				low = sd
			}
		}
		if low == nil {
			return false
		}
		low.S.Advance(min(target, low.now()+Quantum) - low.now())
		if until != nil && until() {
			m.align()
			return false
		}
	}
}

// align brings every running world up to the clock (a world's pause may stop it short).
func (m *Model) align() {
	t := m.Now()
	for _, sd := range m.sides {
		for i := 0; i < 1000 && sd.running() && sd.now() < t; i++ {
			sd.S.Advance(min(Quantum, t-sd.now()))
		}
	}
}

// paused reports whether a world's script waits at a pause.
func (m *Model) paused() bool {
	for _, sd := range m.sides {
		if h := sd.S.Head(); h.Paused && !h.Ended {
			return true
		}
	}
	return false
}

// finish runs the finish of each world whose script has run to its end.
func (m *Model) finish() {
	for _, sd := range m.sides {
		if sd.S.CanEnd() {
			if err := sd.S.End(); err != nil {
				m.msg = fmt.Sprintf("✗ %s: the finish: %v", sd.Setting, err)
			}
		}
	}
}

// Ended reports whether both worlds have ended.
func (m *Model) Ended() bool {
	for _, sd := range m.sides {
		if !sd.S.Ended() {
			return false
		}
	}
	return true
}

// Step moves both worlds to the next line of either's event log (at most session.StepLimit);
// it reports whether a script paused on the way.
func (m *Model) Step() bool {
	logs := m.logs()
	return m.Advance(session.StepLimit, func() bool {
		for i, sd := range m.sides {
			if sd.S.Head().Log > logs[i] {
				return true
			}
		}
		return false
	})
}

func (m *Model) logs() []int {
	var out []int
	for _, sd := range m.sides {
		out = append(out, sd.S.Head().Log)
	}
	return out
}

// Continue leaves the pause of each world's script that waits at one.
func (m *Model) Continue() {
	for _, sd := range m.sides {
		if h := sd.S.Head(); h.Paused && !h.Ended {
			sd.S.Continue()
		}
	}
	m.count()
}

// Exec runs a typed statement in both worlds (those that have not ended); the error says which
// world refused it and why.
func (m *Model) Exec(stmt string) error {
	var errs []string
	ran := 0
	for _, sd := range m.sides {
		if sd.S.Ended() {
			continue
		}
		if err := sd.S.Exec(stmt); err != nil {
			var failed *session.FailedError
			why := err.Error()
			if errors.As(err, &failed) {
				why = failed.Why
			}
			errs = append(errs, sd.Setting.String()+": "+why)
			continue
		}
		ran++
	}
	m.count()
	switch {
	case len(errs) > 0:
		return errors.New(strings.Join(errs, " · "))
	case ran == 0:
		return errors.New("both worlds have ended")
	}
	return nil
}

// judgedMsg brings back a history judgement of world i run off the UI's thread.
type judgedMsg struct {
	i int
	j session.Judgement
}

// judge starts each world's history judgement that is due (session.JudgeWork).
func (m *Model) judge() tea.Cmd {
	var cmds []tea.Cmd
	for i, sd := range m.sides {
		work := sd.S.JudgeWork(false)
		if work == nil {
			continue
		}
		if m.syncJudge {
			sd.S.Judged(work())
			continue
		}
		cmds = append(cmds, func() tea.Msg { return judgedMsg{i, work()} })
	}
	return tea.Batch(cmds...)
}
