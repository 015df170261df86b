package checker_test

import (
	"os"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/checker"
	"kafkasim/scenarios"
	"kafkasim/sim/cluster"
)

// libraryHistories runs every library scenario on seeds 1..seeds and returns each run's
// history, by "FILE seed N".
func libraryHistories(t *testing.T, seeds int) map[string]history.History {
	t.Helper()
	out := map[string]history.History{}
	for _, s := range scenarios.Library() {
		if scenarios.Large(strings.TrimSuffix(path.Base(s.File), ".scenario")) != "" {
			continue // scenarios/large.go
		}
		for seed := 1; seed <= seeds; seed++ {
			var h history.History
			_, err := scenarios.Run(s, scenarios.Options{Seed: uint64(seed), Memory: -1, Judge: func(c *cluster.Cluster) (string, map[string]int) {
				h = c.History()
				return "", nil
			}})
			if err != nil {
				t.Fatalf("%s seed %d: %v", s.File, seed, err)
			}
			out[s.File+" seed "+strconv.Itoa(seed)] = h
		}
	}
	return out
}

func librarySeeds() int {
	if n, err := strconv.Atoi(os.Getenv("CHECKER_LIBRARY_SEEDS")); err == nil && n > 0 {
		return n
	}
	return 1
}

// The direct linearizability check and porcupine agree on every partition of every library
// scenario's history (CHECKER_LIBRARY_SEEDS=N runs seeds 1..N, default 1), and on the same
// histories with a violation planted in each linearizable partition: the send at the lowest offset moved
// to begin after the send at the highest offset returned (its polls left out, so that the
// sends alone decide), which both must call illegal, and so must Check.
func TestDecideAgreesWithPorcupineOnLibrary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole scenario library")
	}
	seen, planted := agreeWithPlanted(t, libraryHistories(t, librarySeeds()))
	t.Logf("library: %d partitions linearizable, %d illegal, judged alike; %d planted violations found by both", seen[checker.LinOK], seen[checker.LinIllegal], planted)
}

// The same on generated histories (checker.Synthetic) of a few sizes.
func TestDecideAgreesWithPorcupineOnSynthetic(t *testing.T) {
	hs := map[string]history.History{}
	for _, n := range []int{10, 300, 3000} {
		hs["synthetic "+strconv.Itoa(n)] = checker.Synthetic("t", 3, n, nil)
	}
	seen, planted := agreeWithPlanted(t, hs)
	t.Logf("synthetic: %d partitions linearizable, %d illegal, judged alike; %d planted violations found by both", seen[checker.LinOK], seen[checker.LinIllegal], planted)
}

// agreeWithPlanted compares decide with porcupine on every partition of every history, and
// on each with a violation planted in each linearizable partition (plantedViolations).
func agreeWithPlanted(t *testing.T, hs map[string]history.History) (seen map[string]int, planted int) {
	t.Helper()
	seen = map[string]int{}
	for name, h := range hs {
		for res, n := range checker.DecideAndSearch(t, name, h) {
			seen[res] += n
		}
		lin := checker.Check(h, checker.Config{Idempotent: true}).Linearizable
		for tp, bad := range plantedViolations(h) {
			if lin[tp] != checker.LinOK {
				continue // already illegal: an unclean election's scenario
			}
			got := checker.DecideAndSearch(t, name+" planted in "+tp, bad)
			if got[checker.LinIllegal] != 1 || got[checker.LinOK] != 0 {
				t.Errorf("%s, violation planted in %s: partitions judged %v; want exactly one illegal, by both", name, tp, got)
			}
			r := checker.Check(bad, checker.Config{LinearizabilityBudget: time.Minute})
			if r.Linearizable[tp] != checker.LinIllegal || r.Verdict != checker.Invalid {
				t.Errorf("%s, violation planted in %s: Check says %s, verdict %s; want illegal, invalid", name, tp, r.Linearizable[tp], r.Verdict)
			}
			planted++
		}
	}
	if seen[checker.LinOK] == 0 || planted == 0 {
		t.Errorf("nothing judged: %v, %d planted", seen, planted)
	}
	return seen, planted
}

// plantedViolations returns, for each partition of h with two acknowledged sends at different
// offsets, a history of that partition's sends alone in which the send at the lowest offset
// begins 1ms after the send at the highest offset returned: an order of offsets that real
// time contradicts.
func plantedViolations(h history.History) map[string]history.History {
	type tp struct {
		topic string
		part  int32
	}
	sends := map[tp][]history.Op{}
	for _, op := range h {
		if op.Type == history.Send && op.Partition >= 0 {
			k := tp{op.Topic, op.Partition}
			sends[k] = append(sends[k], op)
		}
	}
	out := map[string]history.History{}
	for k, ops := range sends {
		lo, hi := -1, -1
		for i, op := range ops {
			if op.Outcome != history.OK || len(op.Offsets) == 0 {
				continue
			}
			if lo < 0 || op.Offsets[0] < ops[lo].Offsets[0] {
				lo = i
			}
			if hi < 0 || op.Offsets[0] > ops[hi].Offsets[0] {
				hi = i
			}
		}
		if lo < 0 || ops[lo].Offsets[0] == ops[hi].Offsets[0] {
			continue
		}
		var bad history.History
		for i, op := range ops {
			if i == lo {
				op.Invoke = ops[hi].Complete + time.Millisecond
				op.Complete = op.Invoke + time.Millisecond
			}
			bad.Add(op)
		}
		out[k.topic+"/"+strconv.Itoa(int(k.part))] = bad
	}
	return out
}
