package scenarios

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/sim"
)

// Shrinking: delta debugging (Zeller's ddmin, in the greedy form QuickCheck's shrinkers use) of
// a failing run to a smaller scenario that fails the same way. The scenario is handled as text:
// its set-up lines, its script and its final expectations. A nemesis is first written out as
// the explicit faults it applied, each at its instant (`run until T`), so that every later
// step removes or changes plain statements; an isr-change strike, timed by an ISR change and
// not by the clock, is written after an await on that change (`await proposed isr T/I@B ==
// {..}` before its cut, `await isr T/I@B == {..}` before its node fault), so that it stays
// tied to it when earlier faults are dropped or moved. Then, while the budget lasts and something gets
// smaller: drop faults (a fault and what undoes it go together), drop other statements, halve
// waits and the time the script runs on after its last fault, halve producers' rates and
// topics' partitions, remove a broker, remove a client. A candidate is kept when it still
// parses and fails the same way (the same first failed expectation, or the same anomaly names)
// with no more events than the best so far.

// ShrinkOptions tune a shrink.
type ShrinkOptions struct {
	Seed     uint64
	Budget   time.Duration    // wall time; 0 = DefaultShrinkBudget
	Progress io.Writer        // one line per kept step; nil = silent
	clock    func() time.Time // the wall clock; nil = time.Now (tests give one that moves per call)
}

// DefaultShrinkBudget bounds a shrink in wall time.
const DefaultShrinkBudget = 60 * time.Second

// Shrunk is what a shrink found.
type Shrunk struct {
	Text           string  // the smallest scenario that fails the same way
	Original, Best *Result // the runs of the original and of Text
	Way            string  // how they fail
	Runs           int     // runs tried
	Statements     [2]int  // statements after the set-up: original, best
	BudgetSpent    bool    // the search ended because the budget was spent, not because nothing got smaller
	Stopped        int     // candidate runs cut short when the budget was spent (Options.Stop)
}

// Summary is the shrink's closing line: runs, events and statements before and after, how the
// scenario fails, and how the search ended: nothing more got smaller, or the budget was spent
// (with the candidate runs it stopped).
func (r *Shrunk) Summary() string {
	pct := 0.0
	if r.Original != nil && r.Best != nil && r.Original.Events > 0 {
		pct = 100 * float64(r.Best.Events) / float64(r.Original.Events)
	}
	var orig, best int
	if r.Original != nil {
		orig = r.Original.Events
	}
	if r.Best != nil {
		best = r.Best.Events
	}
	end := "ended: nothing more got smaller"
	if r.BudgetSpent {
		end = fmt.Sprintf("ended: the budget was spent, %d candidate run(s) stopped; the smallest found so far", r.Stopped)
	}
	return fmt.Sprintf("shrink: %d runs; events %d → %d (%.1f%%), statements %d → %d; fails the same way (%s); %s",
		r.Runs, orig, best, pct, r.Statements[0], r.Statements[1], r.Way, end)
}

// shrinkDoc is a scenario as the shrinker edits it.
type shrinkDoc struct {
	title  string
	setup  []string
	body   [][]string // units: a fault with what undoes it, or one statement
	finals []string
	mode   MetadataMode // the run's --metadata-mode, written as config metadata.mode=
}

func (d *shrinkDoc) text(seed uint64, says bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", d.title)
	for _, l := range d.setup {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "config seed=%d\n", seed)
	if d.mode != ModeAsWritten {
		fmt.Fprintf(&b, "config %s=%s\n", metadataModeKey, d.mode)
	}
	b.WriteString("\n")
	for _, u := range d.body {
		for _, l := range u {
			if says {
				if s := sayFor(l); s != "" {
					b.WriteString(s + "\n")
				}
			}
			b.WriteString(l + "\n")
		}
	}
	b.WriteString("\n")
	for _, l := range d.finals {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func (d *shrinkDoc) statements() int {
	n := len(d.finals)
	for _, u := range d.body {
		n += len(u)
	}
	return n
}

func (d *shrinkDoc) clone() *shrinkDoc {
	cp := *d
	cp.setup = slices.Clone(d.setup)
	cp.body = slices.Clone(d.body)
	cp.finals = slices.Clone(d.finals)
	return &cp
}

// sayFor is a say line for a fault statement, in the words of sim's fault table, or for the
// await an isr-change strike is written after.
func sayFor(stmt string) string {
	if m := reStrikeAwait.FindStringSubmatch(stmt); m != nil {
		if m[1] != "" {
			return fmt.Sprintf("say %q", fmt.Sprintf("When broker %s, leading %s, proposes the ISR %s (AlterPartition):", m[3], m[2], m[4]))
		}
		return fmt.Sprintf("say %q", fmt.Sprintf("When broker %s learns the ISR %s of %s is committed:", m[3], m[4], m[2]))
	}
	verb, rest, _ := strings.Cut(stmt, " ")
	k := sim.FaultKindNamed(verb)
	if k == nil {
		return ""
	}
	who, detail := rest, ""
	if k.Param != sim.ParamNone {
		if i := strings.LastIndex(rest, " "); i >= 0 {
			who, detail = rest[:i], rest[i+1:]
		}
	}
	who = nodeWords(who)
	r := strings.NewReplacer("{who}", who, "{nodes}", rest, "{detail}", detail)
	said := r.Replace(k.Past)
	return fmt.Sprintf("say %q", strings.ToUpper(said[:1])+said[1:]+".")
}

func nodeWords(n string) string {
	if _, err := strconv.Atoi(n); err == nil {
		return "Broker " + n
	}
	if len(n) > 1 && n[0] == 'c' {
		if _, err := strconv.Atoi(n[1:]); err == nil {
			return "Controller " + n
		}
	}
	return n
}

// failureWay is how a run failed: its first failed expectation (for a verdict or anomaly
// expectation, with the anomaly names), else its failure, else its anomaly names.
func failureWay(r *Result) (way string, anomalies []string) {
	anomalies = slices.Sorted(maps.Keys(r.Anomalies))
	for _, e := range r.Expectations {
		if !e.OK && e.Judged {
			return "expectation: " + e.Text, anomalies
		}
	}
	if _, after, ok := strings.Cut(r.Failure, ": "); ok {
		return "failure: " + after, anomalies
	}
	return "anomalies: " + strings.Join(anomalies, ","), anomalies
}

// sameWay reports whether a run failed as the original did: the same first failed expectation
// and, when the original found anomalies, at least one of the same names.
func sameWay(orig, r *Result) bool {
	if r.OK {
		return false
	}
	w0, a0 := failureWay(orig)
	w, a := failureWay(r)
	return w == w0 && (len(a0) == 0 || slices.ContainsFunc(a, func(n string) bool { return slices.Contains(a0, n) }))
}

// Shrink searches for a smaller scenario than f that fails the same way under the seed.
func Shrink(f *File, o ShrinkOptions) (*Shrunk, error) {
	now := o.clock
	if now == nil {
		now = time.Now
	}
	start := now()
	budget := o.Budget
	if budget <= 0 {
		budget = DefaultShrinkBudget
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "shrink %5.1fs  %s\n", now().Sub(start).Seconds(), fmt.Sprintf(format, args...))
		}
	}
	s, err := f.Scenario()
	if err != nil {
		return nil, err
	}
	orig, err := Run(s, Options{Seed: o.Seed})
	if err != nil {
		return nil, err
	}
	if orig.OK {
		if orig.Verdict == "invalid" {
			// A historic bug's file expects what the checker finds: its run passes.
			return nil, fmt.Errorf("%s seed %d does not fail: nothing to shrink; its expectations hold, the checker's findings (%s) among them: to shrink the run to what it found, remove the file's expect lines and write `expect verdict valid`",
				f.Name, orig.Seed, AnomalyList(orig.Anomalies))
		}
		return nil, fmt.Errorf("%s seed %d does not fail: nothing to shrink", f.Name, orig.Seed)
	}
	seed := orig.Seed
	slowCap := max(4*now().Sub(start), 2*time.Second)
	way, names := failureWay(orig)
	if len(names) > 0 {
		way += " (anomalies: " + strings.Join(names, ", ") + ")"
	}
	progress("the original fails (%s): %d events, %d statements", way, orig.Events, s.Statements())
	out := &Shrunk{Original: orig, Way: way, Runs: 1}

	// A candidate run in progress when the budget is spent is stopped (Options.Stop, asked
	// every few thousand events) and counts as not failing the same way: the search ends with
	// the smallest found so far. The original run, and the nemesis written out, are not
	// stopped: every shrink needs them whole.
	deadline := start.Add(budget)
	spent := func() bool {
		if !now().Before(deadline) {
			out.BudgetSpent = true
		}
		return out.BudgetSpent
	}
	stop := func() bool {
		if spent() {
			out.Stopped++
			return true
		}
		return false
	}
	try := func(d *shrinkDoc, stoppable bool) *Result {
		if stoppable && spent() {
			return nil
		}
		sc, err := Parse(f.Name, []byte(d.text(seed, false)))
		if err != nil {
			return nil
		}
		out.Runs++
		o := Options{Seed: seed}
		if stoppable {
			// A candidate may also land in a state the simulator runs slowly (a leader cut off
			// from the active controller for minutes: a few thousand events a wall second, a
			// hundred times fewer than the original's); it is stopped once it has run longer
			// than a few of the original's runs and counts as not failing the same way, so
			// that one such candidate does not spend the budget.
			began := now()
			o.Stop = func() bool { return stop() || now().Sub(began) > slowCap }
		}
		r, err := Run(sc, o)
		if err != nil || r.Stopped || !sameWay(orig, r) {
			return nil
		}
		return r
	}

	doc, err := shrinkDocOf(f, s, orig)
	if err != nil {
		return nil, err
	}
	best := orig
	if s.hasNemesis() {
		r := try(doc, false)
		if r == nil {
			return nil, errors.New("the nemesis's faults, written out as statements, do not fail the same way (a statement between the nemesis's faults mattered); shrink the file by hand first")
		}
		best = r
		progress("the nemesis written out as %d faults: %d events", len(orig.Faults), best.Events)
	}
	keep := func(d *shrinkDoc, what string) bool {
		r := try(d, true)
		if r == nil || r.Events > best.Events {
			return false
		}
		best, doc = r, d
		progress("%s: %d events, %d statements", what, r.Events, d.statements())
		return true
	}
	for changed := true; changed && !spent(); {
		changed = false
		// Drop units, in halves first, then one at a time (ddmin).
		for n := max(1, len(doc.body)/2); n >= 1; n /= 2 {
			for i := 0; i+n <= len(doc.body); {
				d := doc.clone()
				d.body = slices.Delete(d.body, i, i+n)
				if keep(d, fmt.Sprintf("dropped %d statement group(s) from %d", n, i+1)) {
					changed = true
					continue
				}
				i++
			}
		}
		// Drop a fault with what undoes it, later in the script.
		for i := 0; i < len(doc.body); i++ {
			if j := undoOf(doc.body, i); j > i {
				d := doc.clone()
				d.body = slices.Delete(d.body, j, j+1)
				d.body = slices.Delete(d.body, i, i+1)
				if keep(d, "dropped "+doc.body[i][0]+" and "+doc.body[j][0]) {
					changed = true
					i--
				}
			}
		}
		// Halve waits.
		for i, u := range doc.body {
			for j, l := range u {
				if nl := halveTime(l); nl != "" {
					d := doc.clone()
					d.body[i] = slices.Clone(u)
					d.body[i][j] = nl
					if keep(d, "shortened "+nl) {
						changed = true
					}
				}
			}
		}
		// Faults sooner: the times from a unit on move earlier by half the gap before it.
		for i := range doc.body {
			if d := sooner(doc, i); d != nil && keep(d, fmt.Sprintf("moved statement group %d and later ones sooner", i+1)) {
				changed = true
			}
		}
		// The last fault need not be undone: the finish heals and restarts everything.
		if n := len(doc.body); n > 0 && len(doc.body[n-1]) == 4 {
			d := doc.clone()
			d.body[n-1] = d.body[n-1][:2]
			if keep(d, "left the last fault to the finish") {
				changed = true
			}
		}
		// The time the script runs on after its last fault.
		if d := shorterEnd(doc); d != nil && keep(d, "ran on for less: "+d.body[len(d.body)-1][0]) {
			changed = true
		}
		// Lower rates, fewer partitions and brokers, fewer clients.
		for i := 0; i < len(doc.setup) && !spent(); i++ {
			for _, nl := range smallerSetup(doc.setup[i]) {
				d := doc.clone()
				what := "set-up: " + nl
				if nl == "" {
					what = "set-up: dropped " + d.setup[i]
					d.setup = slices.Delete(d.setup, i, i+1)
				} else {
					d.setup[i] = nl
				}
				if keep(d, what) {
					changed = true
					i--
					break
				}
			}
		}
	}
	out.Best = best
	out.Text = doc.text(seed, true)
	out.Statements = [2]int{s.Statements(), doc.statements()}
	if out.BudgetSpent {
		progress("the budget (%v) is spent: %d candidate run(s) stopped; the smallest found so far", budget, out.Stopped)
	}
	progress("done after %d runs: %d → %d events, %d → %d statements", out.Runs, orig.Events, best.Events, out.Statements[0], out.Statements[1])
	return out, nil
}

// sooner is the document with every `run until T` from unit i on moved earlier by half the gap
// between the first of them and the last time before it; nil if unit i names no time or the
// gap is under 200ms.
func sooner(doc *shrinkDoc, i int) *shrinkDoc {
	timeOf := func(l string) (time.Duration, bool) {
		if m := reRunUntil.FindStringSubmatch(l); m != nil {
			return parseDuration(m[1])
		}
		return 0, false
	}
	var prev time.Duration
	for _, u := range doc.body[:i] {
		for _, l := range u {
			if t, ok := timeOf(l); ok {
				prev = max(prev, t)
			}
		}
	}
	first, ok := timeOf(doc.body[i][0])
	if !ok || first-prev < 200*time.Millisecond {
		return nil
	}
	shift := ((first - prev) / 2).Round(time.Millisecond)
	d := doc.clone()
	for j := i; j < len(d.body); j++ {
		d.body[j] = slices.Clone(d.body[j])
		for k, l := range d.body[j] {
			if t, ok := timeOf(l); ok {
				d.body[j][k] = fmt.Sprintf("run until %v", t-shift)
			}
		}
	}
	return d
}

// shorterEnd is the document with its closing `run until T` halfway nearer the time before
// it, nil if there is none or the gap is under a second.
func shorterEnd(doc *shrinkDoc) *shrinkDoc {
	n := len(doc.body)
	if n == 0 || len(doc.body[n-1]) != 1 {
		return nil
	}
	m := reRunUntil.FindStringSubmatch(doc.body[n-1][0])
	if m == nil {
		return nil
	}
	end, ok := parseDuration(m[1])
	if !ok {
		return nil
	}
	var prev time.Duration
	for _, u := range doc.body[:n-1] {
		for _, l := range u {
			if pm := reRunUntil.FindStringSubmatch(l); pm != nil {
				if t, ok := parseDuration(pm[1]); ok {
					prev = max(prev, t)
				}
			}
		}
	}
	if end-prev < time.Second {
		return nil
	}
	d := doc.clone()
	d.body[n-1] = []string{fmt.Sprintf("run until %v", (prev + (end-prev)/2).Round(time.Millisecond))}
	return d
}

func (s *Scenario) hasNemesis() bool {
	return slices.ContainsFunc(s.stmts, func(st *stmt) bool { return st.nemesis != nil })
}

// shrinkDocOf splits the scenario into set-up, script units and final expectations; a nemesis
// becomes its faults at their instants, the statements after it the time it ran.
func shrinkDocOf(f *File, s *Scenario, orig *Result) (*shrinkDoc, error) {
	src := strings.Split(string(f.text), "\n")
	d := &shrinkDoc{title: "shrunk from " + f.Name, mode: f.mode}
	if s.Title != "" {
		d.title = s.Title + " (shrunk from " + f.Name + ")"
	}
	for i := 0; i < s.setupEnd && i < len(src); i++ {
		l := strings.TrimSpace(src[i])
		if toks, err := lex(l); err != nil || len(toks) == 0 || toks[0].text == "say" || toks[0].text == "pause" {
			continue
		}
		if l, keep := withoutSeed(l); keep {
			d.setup = append(d.setup, l)
		}
	}
	nemesisAt := -1
	for i, st := range s.stmts {
		if st.nemesis != nil {
			nemesisAt = i
			break
		}
	}
	var script []*stmt
	for i, st := range s.stmts {
		switch {
		case st.line <= s.setupEnd && st.nemesis == nil:
		case st.final():
			d.finals = append(d.finals, st.text)
		case nemesisAt >= 0 && i >= nemesisAt:
			// replaced by the nemesis's faults below
		default:
			script = append(script, st)
		}
	}
	for _, st := range script {
		if st.word.name == "say" || st.word.name == "pause" {
			continue
		}
		d.body = append(d.body, []string{st.text})
	}
	if nemesisAt >= 0 {
		after := afterNemesis(s, nemesisAt, orig.ScriptEnd)
		fs := orig.Faults
		k := 0                 // the next statement of after
		var prev time.Duration // the time of the fault before
		for i := 0; i < len(fs); i++ {
			for ; k < len(after) && after[k].at < fs[i].At; k++ {
				d.body = append(d.body, []string{fmt.Sprintf("run until %v", after[k].at), after[k].text})
			}
			u := []string{fmt.Sprintf("run until %v", fs[i].At), fs[i].Statement}
			if fs[i].Await != "" {
				// An isr-change strike: after an await on the ISR change it reacted to, so
				// that it stays tied to that change when earlier faults are dropped or
				// moved; the faults it applied at that change go with it.
				within := (orig.ScriptEnd - prev).Truncate(time.Second) + time.Second
				u = []string{fmt.Sprintf("await %s within %v", fs[i].Await, within), fs[i].Statement}
				for i+1 < len(fs) && fs[i+1].Await == fs[i].Await && fs[i+1].At == fs[i].At {
					i++
					u = append(u, fs[i].Statement)
				}
			}
			prev = fs[i].At
			// A fault and what undoes it are one unit unless a statement of the script
			// ran between them.
			between := k < len(after) && after[k].at < fs[min(i+1, len(fs)-1)].At
			if i+1 < len(fs) && undoes(fs[i+1].Statement) && !undoes(fs[i].Statement) && !between {
				u = append(u, fmt.Sprintf("run until %v", fs[i+1].At), fs[i+1].Statement)
				i++
			}
			d.body = append(d.body, u)
		}
		for ; k < len(after); k++ {
			d.body = append(d.body, []string{fmt.Sprintf("run until %v", after[k].at), after[k].text})
		}
		d.body = append(d.body, []string{fmt.Sprintf("run until %v", orig.ScriptEnd)})
	}
	return d, nil
}

// timedStmt is a statement of the script and the virtual time it ran at.
type timedStmt struct {
	at   time.Duration
	text string
}

// afterNemesis are the statements after a nemesis that do not move time (send, rate, ...),
// each at the time it ran, so that the nemesis's faults written out keep them in their place.
// Their times are known when every statement after the nemesis that moves time is a wait:
// counted back from the script's end. Else none (the faults alone, as the time the script ran).
func afterNemesis(s *Scenario, nemesisAt int, end time.Duration) []timedStmt {
	var post []*stmt
	for _, st := range s.stmts[nemesisAt+1:] {
		switch {
		case st.final() || st.word.name == "say" || st.word.name == "pause":
		case st.nemesis != nil || st.expectation() || st.word.until != nil && st.word.name != "wait":
			return nil
		default:
			post = append(post, st)
		}
	}
	out := make([]timedStmt, 0, len(post))
	t := end
	for j := len(post) - 1; j >= 0; j-- {
		if post[j].word.name == "wait" {
			t -= post[j].d
			continue
		}
		out = append(out, timedStmt{t, post[j].text})
	}
	if t < 0 {
		return nil
	}
	slices.Reverse(out)
	return out
}

// undoes reports whether a fault statement ends a fault (restart, resume, heal).
func undoes(stmt string) bool {
	verb, _, _ := strings.Cut(stmt, " ")
	k := sim.FaultKindNamed(verb)
	return k != nil && k.Undoes
}

// undoOf is the index of the later single-statement unit that undoes the fault of unit i (a
// restart or resume of the same node, or a heal after a network fault); -1 if none.
func undoOf(body [][]string, i int) int {
	if len(body[i]) != 1 {
		return -1
	}
	verb, node, _ := strings.Cut(body[i][0], " ")
	k := sim.FaultKindNamed(verb)
	if k == nil || k.Undoes {
		return -1
	}
	for j := i + 1; j < len(body); j++ {
		if len(body[j]) != 1 {
			continue
		}
		v2, n2, _ := strings.Cut(body[j][0], " ")
		switch {
		case k.Network && v2 == "heal":
			return j
		case (verb == "pause" && v2 == "resume" || verb != "pause" && v2 == "restart") && n2 == node:
			return j
		}
	}
	return -1
}

var (
	reWait     = regexp.MustCompile(`^wait (\S+)$`)
	reRunUntil = regexp.MustCompile(`^run until (\S+)$`)
	// the await an isr-change strike is written after (Fault.Await)
	reStrikeAwait = regexp.MustCompile(`^await (proposed )?isr (\S+)@(\d+) == (\{[\d,]*\}) within \S+$`)
	reRate        = regexp.MustCompile(`\brate=(\d+)/s\b`)
	rePart        = regexp.MustCompile(`\bpartitions=(\d+)\b`)
	reReplicas    = regexp.MustCompile(`\breplicas=(\S+)`)
	reBrokers     = regexp.MustCompile(`\bbrokers=(\d+)\b`)
)

// halveTime halves a wait ("" if it cannot be shorter).
func halveTime(l string) string {
	if m := reWait.FindStringSubmatch(l); m != nil {
		if d, ok := parseDuration(m[1]); ok && d >= 200*time.Millisecond {
			return fmt.Sprintf("wait %v", (d / 2).Round(100*time.Millisecond))
		}
	}
	return ""
}

// smallerSetup are smaller versions of a set-up line; "" means drop it (a client).
func smallerSetup(l string) []string {
	var out []string
	word, _, _ := strings.Cut(l, " ")
	switch word {
	case "producer", "consumer":
		if m := reRate.FindStringSubmatch(l); m != nil {
			if r, _ := strconv.Atoi(m[1]); r > 1 {
				out = append(out, reRate.ReplaceAllString(l, fmt.Sprintf("rate=%d/s", r/2)))
			}
		}
		out = append(out, "")
	case "topic":
		if m := rePart.FindStringSubmatch(l); m != nil {
			if p, _ := strconv.Atoi(m[1]); p > 1 {
				nl := rePart.ReplaceAllString(l, fmt.Sprintf("partitions=%d", p/2))
				if rm := reReplicas.FindStringSubmatch(nl); rm != nil && strings.Contains(rm[1], ";") {
					parts := strings.Split(rm[1], ";")
					nl = reReplicas.ReplaceAllString(nl, "replicas="+strings.Join(parts[:min(len(parts), p/2)], ";"))
				}
				out = append(out, nl)
			}
		}
	case "cluster":
		if m := reBrokers.FindStringSubmatch(l); m != nil {
			if n, _ := strconv.Atoi(m[1]); n > 1 {
				out = append(out, reBrokers.ReplaceAllString(l, fmt.Sprintf("brokers=%d", n-1)))
			}
		}
	}
	return out
}
