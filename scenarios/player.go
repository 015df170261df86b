package scenarios

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"kafkasim/checker"
	"kafkasim/sim/cluster"
)

// Player plays a scenario one statement at a time and lets its caller advance virtual time in
// slices (the terminal UI moves a frame's worth at a time). `say` becomes a Note, `pause` stops
// the player until Continue, `wait`, `await` and `run until` advance time across as many
// Advance calls as they need. Statements typed by a user (Exec) run at the current instant; one
// that moves time runs before the rest of the script resumes.
//
// Slicing does not change the course of the run: a Player driven to the end of its script goes
// through the same events as Run (before Run's finish). The Player also keeps a transcript of
// what ran, as statements, and Export turns it into a scenario file that Run reproduces to the
// same trace hash: typed faults land at their instant through `run until D`, a statement a
// typed one interrupted resumes with what was left of it, failed expectations become comments.
type Player struct {
	s        *Scenario
	o        Options
	c        *cluster.Cluster
	res      *Result
	online   *checker.Online // the checker's online invariants, attached at boot
	next     int             // index in s.stmts of the next statement to start
	active   []*active       // time-moving statements in progress, innermost last
	paused   bool
	notes    []Note
	lines    []string      // transcript after the set-up
	at       time.Duration // virtual time at the end of the transcript
	settled  bool          // every event due at Now() has run
	failures int
	typing   bool           // a typed statement is running (Exec)
	toEnd    bool           // Run drives the player: pauses do not stop it, the first failure ends the script
	failAt   int            // the line of the first failure, 0 if none
	brokers  elasticBrokers // brokers added and removed by statements run (elastic.go)
	nem      *nemesisRun    // the nemesis in progress (nemesis.go)
}

// active is a time-moving statement in progress.
type active struct {
	st       *stmt
	deadline time.Duration
	ran      bool // it has moved time (or, for run until D ≤ now, had nothing to do)
	split    bool // a typed statement interrupted it: the transcript holds its first part
	typed    bool
}

// NoteKind says what a Note reports.
type NoteKind uint8

// Note kinds.
const (
	NoteSay    NoteKind = iota + 1 // a say line: Text is the caption
	NotePause                      // the player stopped at a pause
	NoteRan                        // a statement ran (a fault, a heal, a send): Text is the statement
	NotePassed                     // an await or expect held: Text is the statement
	NoteFailed                     // an await, expect or fault failed: Text says why
)

// Note is something the player did that its caller may show.
type Note struct {
	At   time.Duration
	Kind NoteKind
	Line int // the statement's line in the file, 0 for a typed statement
	Text string
}

// NewPlayer boots the scenario's cluster (topics created and ready, clients started) and
// returns a player at its first statement. The seed is o.Seed, else the file's, else 1.
// o.Observe is called once the cluster exists.
func NewPlayer(s *Scenario, o Options) (*Player, error) {
	p := newPlayer(s, o)
	if err := p.boot(); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlayer prepares a player without a cluster yet: the seed is o.Seed, else the file's, else 1.
func newPlayer(s *Scenario, o Options) *Player {
	seed := o.Seed
	if seed == 0 {
		seed = s.Seed
	}
	if seed == 0 {
		seed = 1
	}
	return &Player{s: s, o: o, res: &Result{Scenario: s.File, Seed: seed, OK: true, Nemesis: s.nemesis, MetadataMode: s.mode}, settled: true}
}

// SetupOnly is the scenario's set-up (cluster, topics, clients) without its statements: the
// live classroom, which the user breaks by hand.
func (s *Scenario) SetupOnly() *Scenario {
	cp := *s
	cp.stmts = nil
	return &cp
}

// Cluster is the cluster the player drives.
func (p *Player) Cluster() *cluster.Cluster { return p.c }

// Seed is the seed the cluster runs on.
func (p *Player) Seed() uint64 { return p.res.Seed }

// Scenario is the scenario being played.
func (p *Player) Scenario() *Scenario { return p.s }

// Paused reports whether the player stopped at a pause (Continue moves on).
func (p *Player) Paused() bool { return p.paused }

// Continue leaves a pause.
func (p *Player) Continue() { p.paused = false }

// Done reports whether every statement has run; time still advances (the cluster runs on).
func (p *Player) Done() bool { return p.next >= len(p.s.stmts) && len(p.active) == 0 }

// stopped reports whether Run's player has ended its script at a failure.
func (p *Player) stopped() bool { return p.toEnd && p.failAt != 0 }

// Failures counts the expectations, awaits and faults that failed so far.
func (p *Player) Failures() int { return p.failures }

// Line is the file line of the statement in progress or next to run (0 when done or typed).
func (p *Player) Line() int {
	if n := len(p.active); n > 0 {
		if p.active[n-1].typed {
			return 0
		}
		return p.active[n-1].st.line
	}
	if p.next < len(p.s.stmts) {
		return p.s.stmts[p.next].line
	}
	return 0
}

// Current is the statement in progress or next to run, as written ("" when done).
func (p *Player) Current() string {
	if n := len(p.active); n > 0 {
		return p.active[n-1].st.text
	}
	if p.next < len(p.s.stmts) {
		return p.s.stmts[p.next].text
	}
	return ""
}

// Waiting is the time-moving statement in progress (await, wait, run until), as written, and
// the virtual time it gives up at (an await that has not held by then fails); ok is false when
// none is in progress. The terminal UI shows it with a countdown.
func (p *Player) Waiting() (text string, deadline time.Duration, ok bool) {
	if n := len(p.active); n > 0 {
		a := p.active[n-1]
		return a.st.text, a.deadline, true
	}
	return "", 0, false
}

// TakeNotes returns the notes since the last call.
func (p *Player) TakeNotes() []Note {
	n := p.notes
	p.notes = nil
	return n
}

func (p *Player) note(k NoteKind, line int, format string, args ...any) {
	p.notes = append(p.notes, Note{At: p.now(), Kind: k, Line: line, Text: fmt.Sprintf(format, args...)})
}

// now is the virtual time, 0 before the cluster is built.
func (p *Player) now() time.Duration {
	if p.c == nil {
		return 0
	}
	return p.c.Now()
}

// lineOf is a statement's line for notes: 0 for a typed one.
func (p *Player) lineOf(st *stmt) int {
	if p.typing {
		return 0
	}
	return st.line
}

func (p *Player) emit(line string) { p.lines = append(p.lines, line) }

func movesTime(st *stmt) bool { return st.word.until != nil }

// Advance runs the script and the cluster for at most d of virtual time. It returns early, and
// true, right after the first event at which stop (if not nil) holds; it returns early, and
// false, at a pause and at the end of the script. stop is checked after each event only, never before the first.
func (p *Player) Advance(d time.Duration, stop func() bool) bool {
	c := p.c
	end := c.Now() + min(d, math.MaxInt64-c.Now())
	wasDone := p.Done()
	for !p.paused && !p.stopped() {
		if len(p.active) == 0 {
			if p.next < len(p.s.stmts) {
				st := p.s.stmts[p.next]
				p.next++
				if movesTime(st) {
					p.push(st, false)
				} else {
					p.instant(st, false)
				}
				continue
			}
			// The script is done: the cluster runs on (from the next call, so that the
			// caller sees the instant the script ended). A nemesis ends with it.
			if p.nem != nil {
				p.endNemesis()
			}
			if !wasDone || c.Now() >= end {
				return false
			}
			p.settled = true
			if stop == nil {
				c.RunFor(end - c.Now())
				return false
			}
			hit := c.RunUntil(stop, end-c.Now())
			p.settled = !hit
			return hit
		}
		a := p.active[len(p.active)-1]
		now := c.Now()
		if a.ran && now >= a.deadline {
			if a.st.cond != nil {
				ok, got := a.st.cond.eval(c)
				p.complete(a, ok, got)
			} else {
				p.complete(a, true, "")
			}
			continue
		}
		if a.ran && now >= end {
			return false
		}
		a.ran = true
		lim := max(0, min(end, a.deadline)-now)
		if a.st.cond != nil {
			cond := func() bool { ok, _ := a.st.cond.eval(c); return ok }
			hit := p.runTime(func() bool { return cond() || (stop != nil && stop()) }, lim)
			p.settled = !hit
			if ok, got := a.st.cond.eval(c); ok {
				p.complete(a, true, got)
				continue
			}
			if hit {
				return true
			}
			continue
		}
		p.settled = true
		if stop == nil {
			p.runTime(nil, lim)
		} else if p.runTime(stop, lim) {
			p.settled = false
			return true
		}
	}
	return false
}

func (p *Player) push(st *stmt, typed bool) {
	a := &active{st: st, typed: typed}
	// An idle statement (run until a time passed) runs nothing, not even the events due now.
	a.deadline, a.ran = st.word.until(p.c.Now(), st)
	p.active = append(p.active, a)
}

// complete ends the innermost active statement and writes it to the transcript. A failed
// await is a failure of the run.
func (p *Player) complete(a *active, ok bool, got string) {
	p.active = p.active[:len(p.active)-1]
	now := p.c.Now()
	st := a.st
	if st.cond == nil { // wait, run until
		if a.split {
			if a.deadline > p.at {
				p.emit(fmt.Sprintf("run until %v", a.deadline))
			}
		} else {
			p.emit(st.text)
		}
		p.at = now
		return
	}
	if !ok {
		got += fmt.Sprintf(" after %v", st.d)
	}
	err := p.expectation(st, ok, got)
	left := a.deadline - p.at
	switch {
	case ok && !a.split:
		p.emit(st.text)
	case ok && left >= 0:
		p.emit(fmt.Sprintf("await %s within %v", st.cond.text, left))
	case ok:
		// A typed statement ran past the deadline; the await only looked once.
		p.emit("expect " + st.cond.text)
	default:
		p.failed(st, a.typed, err)
		if !a.split || left > 0 {
			p.emit(fmt.Sprintf("wait %v", max(0, left)))
		}
	}
	if ok {
		p.note(NotePassed, p.lineFor(st, a.typed), "%s", st.text)
	}
	p.at = now
}

func (p *Player) lineFor(st *stmt, typed bool) int {
	if typed {
		return 0
	}
	return st.line
}

// expectation records an await's or an expect's outcome; it returns why it failed.
func (p *Player) expectation(st *stmt, ok bool, got string) error {
	p.res.Expectations = append(p.res.Expectations, Expectation{Line: st.line, Text: st.text, OK: ok, Judged: true, Got: got})
	if ok {
		return nil
	}
	return fmt.Errorf("wanted %s, saw %s", st.cond.text, got)
}

// failed notes a statement that failed, and writes it to the transcript as a comment. The
// first failure of a scripted statement is the run's.
func (p *Player) failed(st *stmt, typed bool, err error) {
	p.failures++
	msg := fmt.Sprintf("%s — %v", st.text, err)
	p.note(NoteFailed, p.lineFor(st, typed), "%s", msg)
	p.emit("# failed here: " + msg)
	if typed || p.failAt != 0 {
		return
	}
	p.failAt = st.line
	p.res.OK = false
	p.res.Failure = fmt.Sprintf("%s:%d: %s", p.s.File, st.line, msg)
	p.narrate("FAIL %s", p.res.Failure)
}

// instant runs a statement that does not move time.
func (p *Player) instant(st *stmt, typed bool) {
	p.typing = typed
	defer func() { p.typing = false }()
	inSetup := !typed && st.line <= p.s.setupEnd // already in the exported set-up
	note, err := st.word.run(p, st)
	switch {
	case err != nil:
		p.failed(st, typed, err)
	case !inSetup:
		if note != 0 {
			p.note(note, p.lineFor(st, typed), "%s", st.text)
		}
		p.emit(st.text)
	}
	if st.word.touches {
		p.settled = false // an inject or a restart may have queued events for now
	}
}

// sync lets the events due now run and brings the transcript to now, so that what runs next
// runs at the same point of the course in the session and in its export.
func (p *Player) sync() {
	c := p.c
	now := c.Now()
	switch {
	case now > p.at:
		p.emit(fmt.Sprintf("run until %v", now))
		for _, a := range p.active {
			a.split = true
		}
	case !p.settled:
		p.emit("wait 0s")
	default:
		return
	}
	c.RunFor(0)
	p.at, p.settled = now, true
}

// Exec parses one statement against the scenario (its nodes, topics and clients) and runs it
// now: a fault, heal, send, rate, say or expect at once; wait, await or run until before the
// rest of the script. A statement that does not parse is an *Error for file "command".
func (p *Player) Exec(text string) error {
	st, err := p.s.parseOneWith(text, p.brokers)
	if err != nil {
		return err
	}
	p.sync()
	if movesTime(st) {
		p.push(st, true)
		p.note(NoteRan, 0, "%s", st.text)
		return nil
	}
	p.instant(st, true)
	return nil
}

// CheckStatement parses one statement against the scenario without running it.
func (s *Scenario) CheckStatement(text string) error {
	_, err := s.parseOne(text)
	return err
}

// commandFile names typed statements in errors.
const commandFile = "command"

func (s *Scenario) parseOne(text string) (*stmt, error) {
	return s.parseOneWith(text, elasticBrokers{})
}

// parseOneWith parses one typed statement knowing the brokers added and removed so far.
func (s *Scenario) parseOneWith(text string, b elasticBrokers) (*stmt, error) {
	if strings.ContainsAny(text, "\n\r") {
		return nil, &Error{File: commandFile, Line: 1, Col: 1, Msg: "one statement at a time"}
	}
	cp := *s
	cp.stmts = nil
	p := &parser{file: commandFile, s: &cp, cfgPos: map[string]errPos{}, setupClosed: true, line: 1, src: text,
		added: slices.Clone(b.added), removed: slices.Clone(b.removed)}
	toks, lerr := lex(text)
	if lerr != nil {
		return nil, p.errAt(lerr.col, "%s", lerr.msg)
	}
	if len(toks) == 0 {
		return nil, p.errAt(1, "expected a statement, e.g. kill leader orders/0")
	}
	if w := lookup(toks); !toks[0].quoted && w != nil && (w.setup || w.run == nil && w.until == nil) {
		return nil, p.errTok(toks[0], "%s: set-up statements cannot be typed once the cluster runs", w.name)
	}
	if err := p.statement(toks); err != nil {
		return nil, err
	}
	if len(cp.stmts) != 1 {
		return nil, p.errAt(1, "expected one statement")
	}
	return cp.stmts[0], nil
}

// Export writes what ran so far as a scenario file: the set-up as written, the seed, every
// statement as it ran (typed ones at their instant through `run until D`), the time reached,
// and `finish recover=false`, so that Run reproduces the session's trace hash (the hash after
// Run's close of the producers). It lets the events due now run first (as the next step would).
func (p *Player) Export() (string, error) {
	src, err := Source(p.s)
	if err != nil {
		return "", err
	}
	p.sync()
	var b strings.Builder
	title := p.s.Title
	if title == "" {
		title = p.s.File
	}
	fmt.Fprintf(&b, "# %s: a session exported from kafkasim tui at %v\n", title, p.c.Now())
	lines := strings.Split(string(src), "\n")
	for i := 0; i < p.s.setupEnd && i < len(lines); i++ {
		if l, keep := withoutSeed(lines[i]); keep {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "config seed=%d\n\n", p.Seed())
	for _, l := range p.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("finish recover=false\n")
	return b.String(), nil
}

// withoutSeed drops seed=N from a config line (the export sets the seed it ran on).
func withoutSeed(line string) (string, bool) {
	toks, err := lex(line)
	if err != nil || len(toks) == 0 || toks[0].text != "config" || toks[0].quoted {
		return line, true
	}
	var kept []string
	for _, t := range toks[1:] {
		if !strings.HasPrefix(t.text, "seed=") {
			kept = append(kept, line[t.off:t.end])
		}
	}
	if len(kept) == 0 {
		return "", false
	}
	return "config " + strings.Join(kept, " "), true
}

// Source returns a scenario's text: the library's from the binary, any other from its file.
func Source(s *Scenario) ([]byte, error) {
	if name, ok := strings.CutPrefix(s.File, libraryDir); ok && !strings.Contains(name, "/") {
		if src, err := files.ReadFile(name); err == nil {
			return src, nil
		}
	}
	src, err := os.ReadFile(s.File)
	if err != nil {
		return nil, fmt.Errorf("the scenario's text: %w", err)
	}
	// The file must still be the one that was played.
	again, err := Parse(s.File, src)
	if err != nil || again.setupEnd != s.setupEnd {
		return nil, errors.New(s.File + " changed since it was loaded")
	}
	return src, nil
}
