package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/checker"
	"kafkasim/sim"
)

// word is one statement of the language: its name, whether it belongs to the set-up, how it
// parses and how it runs. A new statement is one entry of words.
type word struct {
	name  string
	setup bool // a set-up statement (cluster, topic, …): it shapes the Scenario and never runs
	free  bool // it may stand among the set-up statements without ending the set-up
	bare  bool // the word alone, with nothing after it (`pause`); with more, the next entry of that name
	parse func(p *parser, st *stmt, toks []token) error
	// An instant statement runs with run, which returns the note to make when it succeeds (0:
	// none) or why it failed.
	run func(p *Player, st *stmt) (NoteKind, error)
	// A statement that moves time has instead a deadline; idle means it has nothing to run
	// (run until a time already passed). A condition (st.cond) ends it early when it holds.
	until   func(now time.Duration, st *stmt) (deadline time.Duration, idle bool)
	touches bool // running it may queue events at the current instant
}

// stmt is one statement after the set-up.
type stmt struct {
	line     int
	text     string // the statement as written, comment stripped
	word     *word
	fault    *sim.FaultKind // a fault statement's verb
	d        time.Duration  // wait, run until, await's within, slow's latency
	say      string
	cond     *cond
	nodes    []nodeRef // one node, or a link's two ends
	groups   [][]nodeRef
	p        float64 // loss's p, rate's records per second
	name     string  // producer (send, rate), anomaly or invariant name
	verdict  string  // expect verdict V
	n        int
	no       bool                    // expect no anomaly
	offsets  []tpOffset              // commit C T/I=O ..., seek C T/I=O
	tp       protocol.TopicPartition // reassign, elect
	replicas []int32                 // reassign's target
	nemesis  *nemesisDef             // nemesis.go
	txn      txnOp                   // begin, commit or abort of a producer's transaction (txnwords.go)
	reconf   []string                // restart C KEY=V ...: the consumer's new settings (restartwith.go)
	clients  []string                // the clients a late client statement starts (lateclients.go)
}

// final reports whether the statement is judged after the finish (expect verdict, expect anomaly).
func (st *stmt) final() bool { return st.word.name == "expect" && st.cond == nil }

// expectation reports whether the statement is an await or an expect.
func (st *stmt) expectation() bool { return st.word.name == "await" || st.word.name == "expect" }

// words is the language's statements. It is filled in init: parsing looks words up.
var words []*word

func init() {
	setup := func(f func(*parser, []token) error) func(*parser, *stmt, []token) error {
		return func(p *parser, _ *stmt, toks []token) error { return f(p, toks) }
	}
	words = []*word{
		{name: "cluster", setup: true, parse: setup((*parser).cluster)},
		{name: "config", setup: true, parse: setup((*parser).config)},
		{name: "protocol", setup: true, parse: setup((*parser).protocol)},
		{name: "topic", setup: true, parse: setup((*parser).topic)},
		{name: "producer", setup: true, parse: setup((*parser).producer)},
		{name: "consumer", setup: true, parse: setup((*parser).consumer)},
		{name: "processor", setup: true, parse: setup((*parser).processor)}, // processor.go
		{name: "finish", free: true, parse: setup((*parser).finish)},
		{name: "say", free: true, parse: (*parser).say, run: runSay},
		{name: "pause", free: true, bare: true, parse: func(*parser, *stmt, []token) error { return nil }, run: runPause},
		{name: "wait", parse: (*parser).wait, until: func(now time.Duration, st *stmt) (time.Duration, bool) { return now + st.d, false }},
		{name: "await", parse: (*parser).await, until: func(now time.Duration, st *stmt) (time.Duration, bool) { return now + st.d, false }},
		{name: "run", parse: (*parser).runUntil, until: func(now time.Duration, st *stmt) (time.Duration, bool) { return st.d, st.d <= now }},
		{name: "expect", parse: (*parser).expect, run: runExpect},
		{name: "send", parse: (*parser).send, run: runSend, touches: true},
		{name: "rate", parse: (*parser).rate, run: runRate, touches: true},
		{name: "commit", parse: (*parser).commitWord, run: runCommitWord, touches: true}, // txnwords.go, groups.go
		{name: "begin", parse: (*parser).begin, run: runBegin, touches: true},            // txnwords.go
		{name: "abort", parse: (*parser).commitOrAbort, run: runEnd, touches: true},
		{name: "seek", parse: (*parser).seek, run: runSeek, touches: true},
		{name: "leave", parse: (*parser).leave, run: runLeave, touches: true},
		{name: "add", parse: (*parser).addBroker, run: runAddBroker, touches: true}, // elastic.go
		{name: "remove", parse: (*parser).removeBroker, run: runRemoveBroker, touches: true},
		{name: "reassign", parse: (*parser).reassign, run: runReassign, touches: true},
		{name: "partitions", parse: (*parser).partitions, run: runPartitions, touches: true},
		{name: "elect", parse: (*parser).elect, run: runElect, touches: true},
		{name: "nemesis", parse: (*parser).nemesis, run: runNemesis, touches: true}, // nemesis.go
	}
	for _, k := range sim.FaultKinds() {
		words = append(words, &word{name: k.Name, parse: faultParser(k), run: runFault, touches: true})
	}
	extendRestart() // restart C KEY=V (restartwith.go)
}

// lookup finds the word a statement starts with, nil if there is none.
func lookup(toks []token) *word {
	for _, w := range words {
		if w.name == toks[0].text && (!w.bare || len(toks) == 1) {
			return w
		}
	}
	return nil
}

// wordNames lists the statements' names, sorted.
func wordNames() []string {
	var names []string
	for _, w := range words {
		if !slices.Contains(names, w.name) {
			names = append(names, w.name)
		}
	}
	slices.Sort(names)
	return names
}

func setupNames() string {
	var names []string
	for _, w := range words {
		if w.setup {
			names = append(names, w.name)
		}
	}
	return strings.Join(names, ", ")
}

// Parsing.

func (p *parser) say(st *stmt, toks []token) error {
	if len(toks) != 2 || !toks[1].quoted {
		return p.errTok(toks[0], `say: expected one quoted text, e.g. say "Broker 1 leads orders/0."`)
	}
	st.say = toks[1].text
	return nil
}

func (p *parser) wait(st *stmt, toks []token) error {
	if len(toks) != 2 {
		return p.errTok(toks[0], "wait: expected wait D, e.g. wait 5s")
	}
	var err error
	if st.d, err = p.duration(toks[1], "wait"); err != nil {
		return err
	}
	p.reached += st.d
	return p.moveTime(toks[1], "wait", p.latest+st.d)
}

// MaxVirtualTime bounds how far a scenario's statements may move virtual time: a run must
// end in reasonable time, and one that simulates days of traffic cannot. The rule is checked
// when the file is parsed, on the latest time the script can reach: its waits and await
// limits added up, a run until raising it to its D.
const MaxVirtualTime = 24 * time.Hour

// moveTime records that the script may now run until latest, or is an error at tok when
// that passes MaxVirtualTime.
func (p *parser) moveTime(tok token, what string, latest time.Duration) error {
	if latest > MaxVirtualTime || latest < p.latest {
		return p.errTok(tok, "%s: the script would run past %v of virtual time (the limit: a run must end in reasonable time)", what, MaxVirtualTime)
	}
	p.latest = latest
	return nil
}

// runUntil reads run until D. The parser knows a time the script has certainly reached: the
// waits add up, a run until raises it to its D, an await adds nothing (it may hold at once) and
// the cluster's boot before the first statement takes some time the parser cannot know. So the
// real time is never below p.reached, and a D below it is certainly in the past: an error. A D
// at or above it may still have passed (after awaits), and then the statement does nothing.
func (p *parser) runUntil(st *stmt, toks []token) error {
	if len(toks) != 3 || toks[1].text != "until" || toks[1].quoted {
		return p.errTok(toks[0], "run: expected run until D, e.g. run until 2m")
	}
	var err error
	if st.d, err = p.duration(toks[2], "run until"); err != nil {
		return err
	}
	if st.d < p.reached {
		return p.errTok(toks[2], "run until %v: the script has already reached %v here (the waits and run untils before this line add up to it)", st.d, p.reached)
	}
	p.reached = st.d
	return p.moveTime(toks[2], "run until", max(p.latest, st.d))
}

func (p *parser) await(st *stmt, toks []token) error {
	w := -1
	for i := len(toks) - 1; i > 0; i-- {
		if toks[i].text == "within" && !toks[i].quoted {
			w = i
			break
		}
	}
	if w < 0 || w != len(toks)-2 {
		return p.errTok(toks[0], "await: expected await CONDITION within D, e.g. await leader orders/0 == 1 within 10s")
	}
	if w == 1 {
		return p.errTok(toks[1], "await: a condition is required before within")
	}
	var err error
	if st.d, err = p.duration(toks[w+1], "within"); err != nil {
		return err
	}
	if err := p.moveTime(toks[w+1], "await", p.latest+st.d); err != nil {
		return err
	}
	st.cond, err = p.condition(toks[1:w], false)
	return err
}

func (p *parser) expect(st *stmt, toks []token) error {
	if len(toks) < 2 {
		return p.errTok(toks[0], "expect: expected a condition, verdict valid|invalid, anomaly NAME or no anomaly NAME")
	}
	switch toks[1].text {
	case "verdict":
		if len(toks) != 3 || (toks[2].text != checker.Valid && toks[2].text != checker.Invalid && toks[2].text != checker.Unknown) {
			return p.errTok(toks[1], "expect verdict: expected valid, invalid or unknown")
		}
		st.verdict = toks[2].text
		return nil
	case "anomaly", "no":
		i := 2
		if toks[1].text == "no" {
			st.no = true
			if len(toks) < 3 || toks[2].text != "anomaly" {
				return p.errTok(toks[1], "expect no: expected expect no anomaly NAME")
			}
			i = 3
		}
		if len(toks) != i+1 || toks[i].quoted || !nameRE.MatchString(toks[i].text) {
			return p.errTok(toks[i-1], "expect anomaly: expected one anomaly name, e.g. lost-write")
		}
		st.name = toks[i].text
		return p.checkerName(toks[i])
	}
	var err error
	st.cond, err = p.condition(toks[1:], true)
	return err
}

// checkerName checks an anomaly or invariant name against the checker's, suggesting the
// nearest known one.
func (p *parser) checkerName(t token) error {
	known := slices.Concat(checker.AnomalyNames, checker.InvariantNames)
	if slices.Contains(known, t.text) {
		return nil
	}
	if c, ok := unmodelled[unmodelledWord{inCheckerName, t.text}]; ok {
		return p.errTok(t, "%s: %s", t.text, c)
	}
	msg := fmt.Sprintf("unknown anomaly or invariant %q", t.text)
	if near := nearest(t.text, known); near != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", near)
	}
	return p.errTok(t, "%s; the checker knows %s", msg, strings.Join(known, ", "))
}

// nearest is the known name closest to s by edit distance, "" if none is close.
func nearest(s string, known []string) string {
	best, bestD := "", len(s)/2+2
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is Levenshtein's distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// faultParser parses a fault statement by what its verb names (sim's table of fault kinds).
func faultParser(k *sim.FaultKind) func(p *parser, st *stmt, toks []token) error {
	return func(p *parser, st *stmt, toks []token) error {
		st.fault = k
		var err error
		i := 1
		switch k.Args {
		case sim.ArgsNone:
			if len(toks) > 1 {
				return p.errTok(toks[1], "%s: unexpected %q (%s takes nothing)", k.Name, toks[1].text, k.Name)
			}
			return nil
		case sim.ArgsGroups:
			return p.groups(st, toks)
		case sim.ArgsNode:
			var n nodeRef
			if n, i, err = p.node(toks, 1, toks[0]); err != nil {
				return err
			}
			st.nodes = []nodeRef{n}
			if k.Param == sim.ParamNone && i < len(toks) {
				return p.errTok(toks[i], "%s: unexpected %q (%s takes one node)", k.Name, toks[i].text, k.Name)
			}
		case sim.ArgsLink:
			if i, err = p.link(st, toks); err != nil {
				return err
			}
		}
		return p.faultParam(st, toks, i)
	}
}

// usage is how a fault statement is written, for errors.
func usage(k *sim.FaultKind) string {
	s := k.Name + " X"
	if k.Args == sim.ArgsLink {
		s += " -> Y"
	}
	switch k.Param {
	case sim.ParamLatency:
		s += " latency=D"
	case sim.ParamP:
		s += " p=P"
	}
	return fmt.Sprintf("%s: expected %s", k.Name, s)
}

// faultParam reads a fault's KEY=VALUE parameter at toks[i], the last token.
func (p *parser) faultParam(st *stmt, toks []token, i int) error {
	k := st.fault
	if k.Param == sim.ParamNone {
		if i != len(toks) {
			return p.errTok(toks[i], "%s: unexpected %q (%s)", k.Name, toks[i].text, usage(k))
		}
		return nil
	}
	if i != len(toks)-1 {
		return p.errAt(colAt(toks, i), "%s", usage(k))
	}
	key, v, err := p.keyValue(toks[i], k.Name)
	if err != nil {
		return err
	}
	if key != k.ParamKey() {
		return p.errTok(toks[i], "%s: unknown %s key (known: %s)", key, k.Name, k.ParamKey())
	}
	switch k.Param {
	case sim.ParamLatency:
		st.d, err = p.durationValue(toks[i], key, v)
	case sim.ParamP:
		st.p, err = strconv.ParseFloat(v, 64)
		if err != nil || !(st.p >= 0 && st.p <= 1) {
			return p.errAt(valueCol(toks[i], key), "p: %q is not a probability (between 0 and 1)", v)
		}
	}
	return err
}

// groups parses partition A B | C D: two or more groups, no node in two of them.
func (p *parser) groups(st *stmt, toks []token) error {
	var group []nodeRef
	var seen []nodeRef
	i := 1
	for i < len(toks) {
		if toks[i].text == "|" && !toks[i].quoted {
			if len(group) == 0 {
				return p.errTok(toks[i], "partition: a group is empty (expected partition A B | C D)")
			}
			st.groups = append(st.groups, group)
			group = nil
			i++
			continue
		}
		n, next, err := p.node(toks, i, toks[0])
		if err != nil {
			return err
		}
		if slices.Contains(seen, n) {
			return p.errTok(toks[i], "partition: %s is named twice (a node belongs to one group)", n.name)
		}
		seen = append(seen, n)
		group = append(group, n)
		i = next
	}
	if len(group) == 0 {
		return p.errTok(toks[len(toks)-1], "partition: a group is empty (expected partition A B | C D)")
	}
	st.groups = append(st.groups, group)
	if len(st.groups) < 2 {
		return p.errTok(toks[0], "partition: expected at least two groups separated by |, e.g. partition 1 | 2 3")
	}
	return nil
}

// link parses X -> Y (cut, loss) and returns the index after Y.
func (p *parser) link(st *stmt, toks []token) (int, error) {
	from, i, err := p.node(toks, 1, toks[0])
	if err != nil {
		return i, err
	}
	if i >= len(toks) || toks[i].text != "->" {
		return i, p.errAt(colAt(toks, i), "%s", usage(st.fault))
	}
	at := i + 1
	to, i, err := p.node(toks, at, toks[0])
	if err != nil {
		return i, err
	}
	if from == to {
		return i, p.errTok(toks[at], "%s: %s -> %s is a node to itself (a link joins two nodes)", st.fault.Name, from.name, to.name)
	}
	st.nodes = []nodeRef{from, to}
	return i, nil
}

func (p *parser) send(st *stmt, toks []token) error {
	if len(toks) != 3 {
		return p.errTok(toks[0], "send: expected send PRODUCER N, e.g. send p1 10")
	}
	if p.s.producer(toks[1].text) == nil {
		return p.errTok(toks[1], "send: unknown producer %q", toks[1].text)
	}
	if err := p.checkHandSend(toks); err != nil {
		return err
	}
	n, err := strconv.Atoi(toks[2].text)
	if err != nil || n < 1 || n > 1_000_000 {
		return p.errTok(toks[2], "send: %q is not a record count (1 to 1000000)", toks[2].text)
	}
	st.name, st.n = toks[1].text, n
	return nil
}

func (p *parser) rate(st *stmt, toks []token) error {
	if ok, err := p.fleetRate(st, toks); ok { // producerwords.go
		return err
	}
	if len(toks) != 3 {
		return p.errTok(toks[0], "rate: expected rate PRODUCER R/s, e.g. rate p1 0/s")
	}
	if p.s.producer(toks[1].text) == nil {
		return p.errTok(toks[1], "rate: unknown producer %q", toks[1].text)
	}
	if err := p.checkHandRate(toks); err != nil {
		return err
	}
	num, ok := strings.CutSuffix(toks[2].text, "/s")
	r, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || !(r >= 0 && r <= 1e6) {
		return p.errTok(toks[2], "rate: %q is not a rate (use 200/s, at most 1000000/s)", toks[2].text)
	}
	st.name, st.p = toks[1].text, r
	return nil
}

// Running.

func runSay(p *Player, st *stmt) (NoteKind, error) {
	p.narrate("%s", st.say)
	p.note(NoteSay, p.lineOf(st), "%s", st.say)
	return 0, nil
}

func runPause(p *Player, st *stmt) (NoteKind, error) {
	if !p.typing && !p.toEnd {
		p.paused = true
		p.note(NotePause, st.line, "pause")
	}
	return 0, nil
}

func runExpect(p *Player, st *stmt) (NoteKind, error) {
	if st.final() { // judged after the finish, by the checker
		p.res.Expectations = append(p.res.Expectations, Expectation{Line: st.line, Text: st.text, OK: true, Got: "not judged yet (no checker)"})
		return 0, nil
	}
	ok, got := st.cond.eval(p.c)
	return NotePassed, p.expectation(st, ok, got)
}

func runSend(p *Player, st *stmt) (NoteKind, error) { return NoteRan, p.c.Send(st.name, st.n) }

func runRate(p *Player, st *stmt) (NoteKind, error) {
	if st.clients != nil {
		return runFleetRate(p, st) // producerwords.go
	}
	return NoteRan, p.c.SetRate(st.name, st.p)
}

// runFault resolves the nodes a fault statement names, now, and applies it.
func runFault(p *Player, st *stmt) (NoteKind, error) {
	f := sim.FaultAction{Kind: st.fault, Latency: st.d, P: st.p}
	var ids []int32
	for _, n := range st.nodes {
		id, err := p.resolve(n)
		if err != nil {
			return 0, err
		}
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		f.Node = ids[0]
	}
	if len(ids) > 1 {
		f.Peer = ids[1]
	}
	for _, g := range st.groups {
		var gids []int32
		for _, n := range g {
			id, err := p.resolve(n)
			if err != nil {
				return 0, err
			}
			gids = append(gids, id)
		}
		f.Groups = append(f.Groups, gids)
	}
	return NoteRan, p.c.World.Apply(f)
}
