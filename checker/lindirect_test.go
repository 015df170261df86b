package checker

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/sim/cluster"
)

// searchBudget is porcupine's budget in the comparisons: the histories are small enough that
// it always decides well within it; a partition it leaves unknown fails the test.
const searchBudget = 10 * time.Second

// bothWays judges every partition of h with decide and with porcupine's search, and fails
// the test where they differ. It returns how many partitions each result was reached on.
func bothWays(t *testing.T, name string, h history.History) map[string]int {
	t.Helper()
	a := analyse(h)
	keys, parts := a.linParts()
	clients := a.clientIDs()
	seen := map[string]int{}
	for _, k := range keys {
		lp := parts[k]
		if lp.bad || !lp.fold() || len(lp.sends) == 0 {
			continue // judged before either runs
		}
		direct, decided := lp.decide()
		if !decided {
			continue
		}
		search := lp.search(a, clients, searchBudget)
		if search == LinUnknown {
			t.Fatalf("%s %s: porcupine ran out of its budget", name, k)
		}
		if direct != search {
			t.Errorf("%s %s: decide says %s, porcupine %s\n%s", name, k, direct, search, describeSends(lp))
		}
		seen[direct]++
	}
	return seen
}

func describeSends(lp *linPart) string {
	s := ""
	for i, in := range lp.sends {
		s += fmt.Sprintf("  send %v at %v, %d..%d\n", lp.sendVals(i), lp.sendOffs(i), in.call, in.ret)
	}
	return s
}

// randomHistory is a small history of one partition in which everything that can go wrong
// with offsets and times does: sends whose offsets collide, interleave or decrease, sends
// acknowledged without offsets or with an unknown outcome, polls that read known sends' values
// (sometimes at other offsets) and values nobody sent, all with overlapping times.
func randomHistory(r *rand.Rand) history.History {
	var h history.History
	at := func() (time.Duration, time.Duration) {
		inv := time.Duration(r.IntN(12)) * time.Millisecond
		return inv, inv + time.Duration(r.IntN(6))*time.Millisecond
	}
	type pair struct{ off, val int64 }
	var written []pair
	sends := 1 + r.IntN(7)
	next := int64(r.IntN(2)) // the log end: each send takes the offsets after it, with holes
	for i := range sends {
		inv, ret := at()
		op := history.Op{Client: fmt.Sprintf("p%d", r.IntN(3)), Type: history.Send, Topic: "t", Invoke: inv, Complete: ret, Outcome: history.OK}
		for j := range 1 + r.IntN(2) {
			off := next
			if r.IntN(12) == 0 {
				off = int64(r.IntN(int(next) + 2)) // backwards, colliding, or ahead
			}
			next = max(next, off+1+int64(r.IntN(2)))
			op.Values = append(op.Values, int64(100*i+j))
			op.Offsets = append(op.Offsets, off)
			written = append(written, pair{off, int64(100*i + j)})
		}
		switch r.IntN(10) {
		case 0:
			op.Outcome, op.Offsets = history.Unknown, nil
		case 1:
			op.Offsets = nil // acks=0: acknowledged without an offset
		case 2:
			op.Outcome = history.Fail
		}
		h.Add(op)
	}
	for range r.IntN(4) {
		inv, ret := at()
		op := history.Op{Client: fmt.Sprintf("c%d", r.IntN(2)), Type: history.Poll, Topic: "t", Invoke: inv, Complete: ret, Outcome: history.OK}
		for range 1 + r.IntN(3) {
			p := written[r.IntN(len(written))]
			switch r.IntN(12) {
			case 0:
				p.off = int64(r.IntN(int(next) + 1))
			case 1:
				p.val = int64(1000 + r.IntN(3))
			}
			op.Offsets, op.Values = append(op.Offsets, p.off), append(op.Values, p.val)
		}
		h.Add(op)
	}
	return h
}

// decide and porcupine agree on tens of thousands of small random histories, legal and not.
func TestDecideAgreesWithPorcupineOnRandomHistories(t *testing.T) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("CHECKER_HISTORIES")); err == nil && v > 0 {
		n = v
	}
	if testing.Short() {
		n = 2000
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]int{}
	for i := range n {
		for res, c := range bothWays(t, fmt.Sprintf("history %d", i), randomHistory(r)) {
			seen[res] += c
		}
	}
	t.Logf("%d random histories: %d partitions ok, %d illegal, judged alike", n, seen[LinOK], seen[LinIllegal])
	if seen[LinOK] < n/20 || seen[LinIllegal] < n/20 {
		t.Errorf("ok %d, illegal %d: the generator must produce plenty of both", seen[LinOK], seen[LinIllegal])
	}
}

// decide and porcupine agree on the hand-made histories of the other tests.
func TestDecideAgreesWithPorcupineOnHandMadeHistories(t *testing.T) {
	hs := map[string]history.History{
		"consistent": new(hist).sendAll(3).poll("c1", 0, 1, 1, 2, 2, 3).h,
		"retry hole": new(hist).send("p1", history.OK, v(1), 1).poll("c1", 0, 1, 1, 1).h,
		"below read": new(hist).send("p1", history.OK, v(1), 0).send("p1", history.OK, v(2), 1).poll("c1", 1, 2).send("p3", history.OK, v(3), 1).h,
		"read early": new(hist).poll("c1", 0, 1).send("p1", history.OK, v(1), 0).h,
		"reversed":   new(hist).send("p1", history.OK, v(2), 1).send("p1", history.OK, v(1), 0).h,
		"interleave": new(hist).send("p1", history.OK, v(1, 3), 0, 2).send("p2", history.OK, v(2), 1).h,
		"lossy":      lossyHistory(3, 300, 7, 150),
		"synthetic":  synthetic(6, 3000),
	}
	for name, h := range hs {
		bothWays(t, name, h)
	}
}

// decide and porcupine agree on the histories of real runs under random faults, and on the
// same histories with sends shifted in time so that real time contradicts the offsets.
func TestDecideAgreesWithPorcupineOnNemesisRuns(t *testing.T) {
	seeds := 8
	if testing.Short() {
		seeds = 2
	}
	if n, err := strconv.Atoi(os.Getenv("CHECKER_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	seen := map[string]int{}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r := newRun(t, 3, seed, nil)
		guardLivelock(r.c)
		r.topic(cluster.TopicSpec{Name: "t", Partitions: 3, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}})
		r.producer("p", "t", 100, "acks", "all")
		r.consumer("c", "t")
		r.c.Nemesis(3*time.Second, 15*time.Second)
		r.finish(Config{Idempotent: true}, []string{"p"}, "c")
		h := r.c.History()
		for res, c := range bothWays(t, fmt.Sprintf("seed %d", seed), h) {
			seen[res] += c
		}
		// The same history with one acknowledged send moved in time, earlier or later, so
		// that real time may contradict the order of the offsets.
		var acked []int
		for i := range h {
			if h[i].Type == history.Send && h[i].Outcome == history.OK {
				acked = append(acked, i)
			}
		}
		rnd := rand.New(rand.NewPCG(seed, 0))
		for range 6 {
			moved := append(history.History(nil), h...)
			i := acked[rnd.IntN(len(acked))]
			d := time.Duration(rnd.IntN(4001)-2000) * time.Millisecond
			moved[i].Invoke, moved[i].Complete = max(moved[i].Invoke+d, 0), max(moved[i].Complete+d, 0)
			for res, c := range bothWays(t, fmt.Sprintf("seed %d, op %d moved by %v", seed, i, d), moved) {
				seen[res] += c
			}
		}
	}
	t.Logf("%d nemesis runs and their shifted copies: %d partitions ok, %d illegal, judged alike", seeds, seen[LinOK], seen[LinIllegal])
}

// A history's verdict does not depend on the machine's speed: with a budget porcupine could
// not search a partition of 30,000 sends in, every partition is still decided, and the
// verdict is the one a generous budget gives.
func TestLinearizabilityIsDecidedNotTimed(t *testing.T) {
	h := synthetic(2, 30_000)
	for _, budget := range []time.Duration{time.Nanosecond, time.Minute} {
		r := Check(h, Config{Idempotent: true, LinearizabilityBudget: budget})
		if r.Verdict != Valid {
			t.Errorf("budget %v: verdict %s; want valid\n%s", budget, r.Verdict, r.Text())
		}
	}
}
