package checker

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/history"
)

// Anomaly names (Jepsen's keys, jepsen.tests.kafka).
const (
	LostWrite           = "lost-write"
	Duplicate           = "duplicate"
	InconsistentOffsets = "inconsistent-offsets"
	Unseen              = "unseen"
	PollSkip            = "poll-skip"
	NonmonotonicPoll    = "nonmonotonic-poll"
	NonmonotonicSend    = "nonmonotonic-send"
	IntPollSkip         = "int-poll-skip"
	IntNonmonotonicPoll = "int-nonmonotonic-poll"
	IntSendSkip         = "int-send-skip"
	IntNonmonotonicSend = "int-nonmonotonic-send"
	G1a                 = "G1a"
	PrecommittedRead    = "precommitted-read"
)

// AnomalyNames lists every anomaly the history analysis looks for, in name order.
var AnomalyNames = []string{
	G1a, Duplicate, GroupDuplicate, GroupSkip, InconsistentOffsets, IntNonmonotonicPoll, IntNonmonotonicSend, IntPollSkip,
	IntSendSkip, LostWrite, NonmonotonicPoll, NonmonotonicSend, PollSkip, PrecommittedRead, Unseen,
}

// Verdicts.
const (
	Valid   = "valid"
	Invalid = "invalid"
	Unknown = "unknown"
)

// Linearizability results per partition.
const (
	LinOK      = "ok"
	LinIllegal = "illegal"
	LinUnknown = "unknown"
)

// MaxExplained is how many anomalies of one name a report lists (Jepsen keeps 8 or 32 "most
// interesting" cases); Report.Counts has them all.
const MaxExplained = 32

// ExplainPerName is how many anomalies of one name the checker explains (words, operations);
// past it, it only counts them. A broken broker can make millions of one kind (a consumer
// that skips a record in every poll); explaining each would take minutes for a report that
// lists MaxExplained. The report says how many were counted only (Report.Unexplained).
const ExplainPerName = 100

// explain reports whether the anomaly of this name found next is to be built, and counts it
// either way: true for the first ExplainPerName of each name, in the order the families
// find them (partition by partition, then the cross-partition families).
func (a *analysis) explain(name string) bool {
	if a.explained == nil {
		a.explained, a.counted = map[string]int{}, map[string]int{}
	}
	if a.explained[name] < ExplainPerName {
		a.explained[name]++
		return true
	}
	a.counted[name]++
	if a.countedIn == nil {
		a.countedIn = map[tpKey]bool{}
	}
	a.countedIn[a.judging] = true
	return false
}

// Anomaly is one anomaly found in a history.
type Anomaly struct {
	Name        string
	Explanation string
	Ops         []int  // history indexes (Op.Index) of the operations involved
	Permitted   string // the setting that permits it, "" if none
}

// Config is what the run's configuration permits, and how hard to look.
type Config struct {
	UncleanElections bool // an unclean election happened (cluster metadata said so)
	// UncleanCoordinatorElections: an unclean election of __consumer_offsets or
	// __transaction_state happened (set from Online when given). Offsets a group committed, or a
	// transaction's outcome, may be lost with the records the new leader lacked: a processor
	// then consumes its input again from an older position, and its exactly-once output repeats.
	UncleanCoordinatorElections bool
	AcksBelowAll                bool // some producer used acks=0/1
	Idempotent                  bool // every producer idempotent
	// CommitBeforeProcessing: some consumer group commits before processing (at-most-once).
	CommitBeforeProcessing bool
	// LinearizabilityBudget is porcupine's time budget, shared evenly among the partitions the
	// direct check (lindirect.go) cannot decide — only hand-made histories have them (default
	// 10s). Such a partition that runs out is "unknown"; the simulator's histories never are.
	LinearizabilityBudget time.Duration
	// UnknownIsValid makes a linearizability check that ran out of budget count as passed
	// (porcupine's advice) instead of making the verdict unknown.
	UnknownIsValid bool
	// Online, when set, adds its invariant violations to the report (and to the verdict).
	Online *Online
	// Removals, for a history checked without its run: what the run saw retention and the log
	// cleaner remove (history.ReadWithRemovals; Report.Removals wrote them). Online wins.
	Removals []history.Removal
}

// DefaultLinearizabilityBudget is the porcupine budget when Config leaves it zero.
const DefaultLinearizabilityBudget = 10 * time.Second

// Report is the checker's judgement of a run.
type Report struct {
	Verdict   string         // "valid", "invalid", "unknown"
	Anomalies []Anomaly      // sorted by name then first op; at most MaxExplained per name
	Counts    map[string]int // name → count (every anomaly, also those not listed)
	// Unexplained is name → the anomalies counted (in Counts) past the first ExplainPerName,
	// for which no explanation was built; absent when all were explained.
	Unexplained  map[string]int
	Linearizable map[string]string // "topic/partition" → "ok"|"illegal"|"unknown"
	Invariants   []Violation       // from the online checker, if attached

	removed map[tpKey]*removedLog // what retention and the cleaner removed by design (retention.go)
}

// Check analyses a history.
func Check(h history.History, cfg Config) *Report {
	return CheckOps(h, cfg)
}

// CheckOps analyses a history read in place: a run's history.Log, which it does not copy.
func CheckOps(h history.Reader, cfg Config) *Report {
	if cfg.LinearizabilityBudget <= 0 {
		cfg.LinearizabilityBudget = DefaultLinearizabilityBudget
	}
	// One partition at a time: its log is built, judged by the anomaly families that read
	// one partition and by linearizability, and dropped, keeping only what the families that
	// read across partitions need (failed sends; the offsets of partitions a group committed
	// in). A run's history holds millions of values; its partitions' logs, all at once, would
	// hold as much again.
	a := scan(h)
	if cfg.Online != nil {
		a.removed = cfg.Online.removals()
		cfg.UncleanCoordinatorElections = cfg.UncleanCoordinatorElections || cfg.Online.UncleanCoordinatorElections()
	} else if cfg.Removals != nil {
		a.removed = removalsFrom(cfg.Removals)
	}
	lin := a.linCheck()
	var all []Anomaly
	for _, k := range a.keys {
		p := a.parts[k]
		a.build(p)
		a.judging = k
		all = append(all, a.partitionAnomalies(p)...)
		p.release()
		lin.partition(k)
		p.releaseLog()
	}
	a.judging = tpKey{} // the families below read across partitions
	all = append(all, a.abortedReads()...)
	all = append(all, a.precommittedReads()...)
	all = append(all, a.groupSkips()...)
	all = append(all, a.groupDuplicates()...)
	all = append(all, a.eosAnomalies()...) // eos.go
	for i := range all {
		all[i].Permitted = permitted(all[i].Name, cfg)
		if all[i].Permitted != "" {
			all[i].Explanation += " (permitted by " + all[i].Permitted + ")"
		}
	}
	// The anomalies name operations by position so far: mark their partitions, then name
	// them by history index.
	anomalous := map[tpKey]bool{}
	for k := range a.countedIn { // anomalies counted only, in a per-partition family
		if k != (tpKey{}) {
			anomalous[k] = true
		}
	}
	var buf history.Op
	for i := range all {
		for j, p := range all[i].Ops {
			op := a.at(p, &buf)
			anomalous[keyOf(op)] = true
			all[i].Ops[j] = op.Index
		}
	}
	slices.SortStableFunc(all, func(x, y Anomaly) int {
		return cmp.Or(cmp.Compare(x.Name, y.Name), cmp.Compare(firstOp(x), firstOp(y)))
	})
	r := &Report{Counts: map[string]int{}, Linearizable: lin.finish(cfg.LinearizabilityBudget, anomalous), removed: a.removed}
	for _, an := range all {
		r.Counts[an.Name]++
		if r.Counts[an.Name] <= MaxExplained {
			r.Anomalies = append(r.Anomalies, an)
		}
	}
	for n, c := range a.counted {
		if c > 0 {
			r.Counts[n] += c
			if r.Unexplained == nil {
				r.Unexplained = map[string]int{}
			}
			r.Unexplained[n] = c
		}
	}
	if cfg.Online != nil {
		r.Invariants = cfg.Online.Violations()
	}
	r.Verdict = r.verdict(cfg.UnknownIsValid)
	return r
}

func firstOp(a Anomaly) int {
	if len(a.Ops) == 0 {
		return -1
	}
	return slices.Min(a.Ops)
}

func (r *Report) verdict(unknownOK bool) string {
	for n := range r.Counts {
		if !informational[n] {
			return Invalid
		}
	}
	if len(r.Invariants) > 0 {
		return Invalid
	}
	unknown := false
	for _, v := range r.Linearizable {
		switch v {
		case LinIllegal:
			return Invalid
		case LinUnknown:
			unknown = true
		}
	}
	if unknown && !unknownOK {
		return Unknown
	}
	return Valid
}

// uncleanElection names what permits loss after an unclean leader election.
const uncleanElection = "an unclean leader election (unclean.leader.election.enable=true, or KIP-966's last known leader)"

// uncleanCoordinatorElection names what permits repeats after a coordinator's partition was
// elected uncleanly.
const uncleanCoordinatorElection = "an unclean leader election of __consumer_offsets or __transaction_state (committed offsets or transaction outcomes lost)"

// permitted names the settings in effect that allow an anomaly, or "".
func permitted(name string, cfg Config) string {
	var s []string
	loss := name == LostWrite || name == Unseen || name == InconsistentOffsets ||
		name == PollSkip || name == NonmonotonicPoll
	if loss && cfg.UncleanElections {
		// The controller marks an election unclean when the leader comes from outside the ISR
		// and ELR: unclean.leader.election.enable=true, or KIP-966's last known leader.
		s = append(s, uncleanElection)
	}
	// Repeats that follow from a coordinator's state lost in an unclean election: the input
	// processed again is written again (duplicate, eos-duplicate), and the values repeated make
	// reads and sends of the first copy look out of order, within a poll too, or read ahead of
	// the second's transaction (nonmonotonic-send, int-nonmonotonic-poll, int-poll-skip, G1b).
	repeat := name == Duplicate || name == EosDuplicate || name == NonmonotonicSend || name == G1b ||
		name == IntNonmonotonicPoll || name == IntPollSkip
	if repeat && cfg.UncleanCoordinatorElections {
		s = append(s, uncleanCoordinatorElection)
	}
	if loss && cfg.AcksBelowAll {
		s = append(s, "acks=0/1")
	}
	if (name == GroupSkip || name == LostWrite || name == Unseen) && cfg.CommitBeforeProcessing {
		s = append(s, "commit=before-processing (at-most-once)")
	}
	if name == GroupDuplicate {
		s = append(s, "at-least-once delivery")
	}
	reorder := name == Duplicate || name == NonmonotonicSend || name == PollSkip || name == NonmonotonicPoll ||
		name == IntPollSkip || name == IntNonmonotonicPoll
	if reorder && !cfg.Idempotent {
		s = append(s, "enable.idempotence=false")
	}
	return strings.Join(s, ", ")
}

// Findings counts anomalies and invariant violations together, by name: what a scenario's
// `expect anomaly NAME` can be judged against.
func (r *Report) Findings() map[string]int {
	out := make(map[string]int, len(r.Counts)+len(r.Invariants))
	for n, c := range r.Counts {
		out[n] += c
	}
	for _, v := range r.Invariants {
		out[v.Invariant]++
	}
	return out
}

// Text renders the report for people: the verdict, counts, every listed anomaly and
// violation, and partitions that are not linearizable.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s\n", r.Verdict)
	for _, n := range slices.Sorted(maps.Keys(r.Counts)) {
		fmt.Fprintf(&b, "  %s: %d", n, r.Counts[n])
		if u := r.Unexplained[n]; u > 0 {
			fmt.Fprintf(&b, " (%d explained, %d more counted only)", r.Counts[n]-u, u)
		}
		b.WriteByte('\n')
	}
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "%s: %s\n", a.Name, a.Explanation)
	}
	for _, v := range r.Invariants {
		fmt.Fprintf(&b, "invariant %s at event %d: %s\n", v.Invariant, v.Event, v.Detail)
	}
	for _, tp := range slices.Sorted(maps.Keys(r.Linearizable)) {
		if v := r.Linearizable[tp]; v != LinOK {
			fmt.Fprintf(&b, "linearizability %s: %s\n", tp, v)
		}
	}
	return b.String()
}
