package checker

import (
	"strings"
	"testing"
	"time"
)

// The first sentence of a loss by election names the fault, the election and the loss, and
// the page groups the records under that election, counted once each.
func TestSummaryTellsTheFaultTheElectionAndTheLoss(t *testing.T) {
	h := lossyHistory(1, 700, 0) // offsets 500–504 of t/0 never read: five lost writes
	p := Page{Title: "run", History: h, Report: Check(h, Config{Idempotent: true}), Run: true,
		Faults:    []Fault{{At: 505 * time.Millisecond, Verb: "kill", Nodes: "1"}},
		Elections: []Election{{At: 510 * time.Millisecond, TP: "t/0", Leader: 2, Prev: 1, Epoch: 1, Unclean: true, LEO: 500}}}
	page := render(t, p)
	// Offsets 500–505 were acknowledged by 510ms; 500–504 the history shows lost.
	want := "Broker 1 was killed at 0.51 s; broker 2, which had not fetched 6 acknowledged records, was elected leader of t/0 uncleanly at 0.51 s; " +
		"those records were lost (the history shows 5 of them: lost-write 5 and unseen 5)."
	if !strings.Contains(page, want) {
		t.Errorf("the page lacks the sentence %q", want)
	}
	for _, w := range []string{"Broker 2 elected leader of t/0 uncleanly at 0.51 s: 6 acknowledged records lost", "lost-write: 5 records", "broker 2 leads t/0"} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func TestSummaryOfAValidRunNamesWhatItCameThrough(t *testing.T) {
	h := lossyHistory(1, 100)
	p := Page{Title: "run", History: h, Report: Check(h, Config{Idempotent: true}), Run: true,
		Faults:    []Fault{{At: 20 * time.Millisecond, Verb: "kill", Nodes: "1"}, {At: 60 * time.Millisecond, Verb: "restart", Nodes: "1"}},
		Elections: []Election{{At: 0, TP: "t/0", Leader: 1, Prev: -1, LEO: 0}, {At: 30 * time.Millisecond, TP: "t/0", Leader: 2, Prev: 1, Epoch: 1, LEO: 15}}}
	want := "No anomaly in 110 operations: the run came through kill 1 at 0.02 s and 1 leader change without losing a record."
	if got := summarize(p, nil); got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestSummaryOfABareHistorySaysWhatNeedsARun(t *testing.T) {
	h := lossyHistory(2, 600, 0, 1)
	page := render(t, Page{Title: "h.jsonl", History: h, Report: Check(h, Config{Idempotent: true})})
	want := "10 acknowledged records were lost: 5 on t/0 (as lost-write 5 and unseen 5); 5 on t/1 (as lost-write 5 and unseen 5); which fault and which election lost them needs a run"
	if !strings.Contains(page, want) {
		t.Errorf("the page lacks %q", want)
	}
	if !strings.Contains(page, "<h1>kafkasim check: h.jsonl</h1>") {
		t.Errorf("a history's page is not titled kafkasim check")
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 3837: "3,837", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q; want %q", n, got, want)
		}
	}
}
