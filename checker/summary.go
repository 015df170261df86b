package checker

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/sim"
)

// The report's first sentence: what happened, in words, derived from the run's faults, its
// elections and the findings. The historic bugs read like
//
//	Broker 1 was killed at 50.00 s; broker 2, which had not fetched 3,837 acknowledged
//	records, was elected leader of orders/0 uncleanly at 59.12 s; those records were lost.
//
// and any other run falls back to a plain account of its faults and findings.

// disruptive reports whether a fault verb can set a loss or an anomaly in motion: every one
// but those that undo a fault (sim's table).
func disruptive(verb string) bool {
	k := sim.FaultKindNamed(verb)
	return k != nil && !k.Undoes
}

// summarize is the page's one-sentence account of the run or history.
func summarize(p Page, causes []*lossCause) string {
	r := p.Report
	if c := mainCause(causes); c != nil && c.election != nil {
		return upper(electionSentence(p, c, causes))
	}
	lost := 0
	for _, c := range causes {
		lost += len(c.records)
	}
	var s string
	switch {
	case lost > 0:
		if len(causes) == 1 {
			c := causes[0]
			s = fmt.Sprintf("%s %s lost on %s (they appear as %s)", records(lost, "acknowledged record"), pluralVerb(lost, "was", "were"), c.tp, nameCounts(c.names()))
		} else {
			var parts []string
			for _, c := range causes {
				parts = append(parts, fmt.Sprintf("%s on %s (as %s)", thousands(len(c.records)), c.tp, nameCounts(c.names())))
			}
			s = fmt.Sprintf("%s %s lost: %s", records(lost, "acknowledged record"), pluralVerb(lost, "was", "were"), strings.Join(parts, "; "))
		}
		if f := faultAround(p.Faults, firstAcked(causes)); f != nil {
			s = faultPhrase(*f) + "; " + s
		}
		if !p.Run {
			s += "; which fault and which election lost them needs a run (kafkasim run FILE --report DIR)"
		}
	case len(r.Counts) > 0:
		s = "the checker found these anomalies: " + nameCounts(r.Counts)
		if f := faultAround(p.Faults, firstNamed(p)); f != nil {
			s = faultPhrase(*f) + "; " + s
		}
	case len(r.Invariants) > 0:
		v := r.Invariants[0]
		s = fmt.Sprintf("the online invariant %s broke (%s)", v.Invariant, v.Detail)
		if n := len(r.Invariants); n > 1 {
			s += fmt.Sprintf(", and %d more", n-1)
		}
		if f := lastFault(p.Faults, time.Duration(1<<62)); f != nil {
			s = faultPhrase(*f) + "; " + s
		}
	case r.Verdict == Unknown:
		var tps []string
		for _, tp := range slices.Sorted(maps.Keys(r.Linearizable)) {
			if r.Linearizable[tp] == LinUnknown {
				tps = append(tps, tp)
			}
		}
		s = fmt.Sprintf("no anomaly in %s, but porcupine could not decide whether %s %s linearizable within its time budget",
			records(len(p.History), "operation"), strings.Join(tps, ", "), pluralVerb(len(tps), "is", "are"))
	default:
		s = "no anomaly in " + records(len(p.History), "operation")
		switch {
		case !p.Run:
		case len(p.Faults) == 0:
			s += ", and the run applied no fault"
		default:
			var fs []string
			for _, f := range p.Faults {
				if disruptive(f.Verb) {
					fs = append(fs, fmt.Sprintf("%s at %s", f, secs(f.At)))
				}
			}
			if len(fs) > 3 {
				fs = append(fs[:3], fmt.Sprintf("%d more", len(fs)-3))
			}
			if len(fs) > 0 {
				s += ": the run came through " + strings.Join(fs, ", ")
			}
			if n := leaderChanges(p.Elections); n > 0 {
				s += fmt.Sprintf(" and %s without losing a record", records(n, "leader change"))
			}
		}
	}
	return upper(s) + "."
}

// mainCause is the cause that lost the most records (then the earliest).
func mainCause(causes []*lossCause) *lossCause {
	var best *lossCause
	for _, c := range causes {
		if best == nil || max(len(c.records), c.missing) > max(len(best.records), best.missing) {
			best = c
		}
	}
	return best
}

// electionSentence tells a loss by election: the fault before it, the election, the loss.
func electionSentence(p Page, c *lossCause, causes []*lossCause) string {
	e := c.election
	var b strings.Builder
	// The fault that deposed the old leader, and a power loss the new one suffered.
	var clauses []string
	deposed := lastFaultOn(p.Faults, e.At, e.Prev)
	if deposed != nil {
		clauses = append(clauses, faultPhrase(*deposed))
	} else if f := lastFault(p.Faults, e.At); f != nil && f.Nodes != fmt.Sprint(e.Leader) {
		clauses = append(clauses, faultPhrase(*f))
	}
	crashed := false
	if f := lastFaultOn(p.Faults, e.At, e.Leader); f != nil && f.Verb == sim.FaultKindOf(sim.FaultCrash).Name {
		crashed = true
		if f != deposed {
			clauses = append(clauses, lower(faultPhrase(*f)))
		}
	}
	if len(clauses) > 0 {
		b.WriteString(upper(strings.Join(clauses, " and ")) + "; ")
	}
	missing := records(c.missing, "acknowledged record")
	how := ""
	if e.Unclean {
		how = " uncleanly"
	}
	switch {
	case crashed:
		fmt.Fprintf(&b, "broker %d, which lost %s with its page cache", e.Leader, missing)
	case e.Unclean:
		fmt.Fprintf(&b, "broker %d, which had not fetched %s", e.Leader, missing)
	default:
		fmt.Fprintf(&b, "broker %d, which lacked %s", e.Leader, missing)
	}
	again := ""
	if e.Leader == e.Prev {
		again = " again"
	}
	fmt.Fprintf(&b, ", was elected leader of %s%s%s at %s; ", e.TP, again, how, secs(e.At))
	lost := len(c.records)
	switch {
	case c.missing == 1:
		b.WriteString("that record was lost")
	default:
		b.WriteString("those records were lost")
	}
	switch {
	case lost > c.missing:
		fmt.Fprintf(&b, ", and %s in all, counting those the deposed leader acknowledged after the election", records(lost, "record"))
	case lost > 0 && lost < c.missing:
		fmt.Fprintf(&b, " (the history shows %s of them: %s)", thousands(lost), nameCounts(c.names()))
	case lost == 0 && hasInvariant(p.Report, CommittedKept):
		fmt.Fprintf(&b, " (no consumer read %s; the online invariant %s saw it)", e.TP, CommittedKept)
	case lost == 0:
		fmt.Fprintf(&b, " (no consumer read %s to show it)", e.TP)
	}
	others := 0
	for _, o := range causes {
		if o != c {
			others += len(o.records)
		}
	}
	if others > 0 {
		fmt.Fprintf(&b, " (and %s more elsewhere)", records(others, "record"))
	}
	b.WriteString(".")
	return b.String()
}

func hasInvariant(r *Report, name string) bool {
	return slices.ContainsFunc(r.Invariants, func(v Violation) bool { return v.Invariant == name })
}

// lastFaultOn is the last disruptive fault on node n at or before t, or nil.
func lastFaultOn(fs []Fault, t time.Duration, n int32) *Fault {
	var out *Fault
	for i := range fs {
		if fs[i].At <= t && disruptive(fs[i].Verb) && fs[i].Nodes == fmt.Sprint(n) {
			out = &fs[i]
		}
	}
	return out
}

// lastFault is the last disruptive fault at or before t, or nil.
func lastFault(fs []Fault, t time.Duration) *Fault {
	var out *Fault
	for i := range fs {
		if fs[i].At <= t && disruptive(fs[i].Verb) {
			out = &fs[i]
		}
	}
	return out
}

// faultAround is the first disruptive fault at or after t, else the last before it.
func faultAround(fs []Fault, t time.Duration) *Fault {
	for i := range fs {
		if fs[i].At >= t && disruptive(fs[i].Verb) {
			return &fs[i]
		}
	}
	return lastFault(fs, t)
}

// firstAcked is when the earliest lost record was acknowledged.
func firstAcked(causes []*lossCause) time.Duration {
	first := time.Duration(-1)
	for _, c := range causes {
		if f, _ := c.acked(); f >= 0 && (first < 0 || f < first) {
			first = f
		}
	}
	return max(first, 0)
}

// firstNamed is when the earliest operation a finding names began.
func firstNamed(p Page) time.Duration {
	named := map[int]bool{}
	for _, a := range p.Report.Anomalies {
		for _, i := range a.Ops {
			named[i] = true
		}
	}
	first := time.Duration(-1)
	for i := range p.History {
		if op := &p.History[i]; named[op.Index] && (first < 0 || op.Invoke < first) {
			first = op.Invoke
		}
	}
	if first < 0 {
		return time.Duration(1 << 62)
	}
	return first
}

// faultPhrase is a fault as a sentence's clause: "Broker 1 was killed at 50.00 s".
func faultPhrase(f Fault) string {
	who := nodeWord(f.Nodes)
	at := " at " + secs(f.At)
	if k := sim.FaultKindNamed(f.Verb); k != nil {
		return upper(strings.NewReplacer("{who}", who, "{nodes}", f.Nodes, "{detail}", f.Detail).Replace(k.Past)) + at
	}
	return upper(f.String()) + at
}

// nodeWord names a node as a sentence's subject: "Broker 1", "Controller c2".
func nodeWord(n string) string {
	if strings.HasPrefix(n, "c") {
		return "Controller " + n
	}
	return "Broker " + n
}

// nameCounts is "inconsistent-offsets 30, lost-write 30 and unseen 30".
func nameCounts(m map[string]int) string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if m[n] > 0 {
			parts = append(parts, n+" "+thousands(m[n]))
		}
	}
	if len(parts) > 1 {
		return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
	}
	return strings.Join(parts, "")
}

// records is "1 record", "3,837 records".
func records(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return thousands(n) + " " + what + "s"
}

func pluralVerb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands is n with thousands separators: 3,837.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// secs is a virtual time as the summary says it: "9.12 s".
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lower starts a clause that is not a sentence's first: "broker 2 lost power".
func lower(s string) string {
	if strings.HasPrefix(s, "Broker ") || strings.HasPrefix(s, "Controller ") || strings.HasPrefix(s, "The ") || strings.HasPrefix(s, "Messages ") {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}

// leaderChanges counts the elections after a partition's first.
func leaderChanges(els []Election) int {
	n := 0
	for _, e := range els {
		if e.Epoch > 0 {
			n++
		}
	}
	return n
}
