package checker

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/history"
	"kafkasim/sim/cluster"
)

// lossyHistory is a history of `parts` partitions of `sends` acknowledged sends each, read
// back by a consumer ten records at a time, except that in the partitions of `lose` the
// consumer never sees offsets 500 to 504: five lost writes there.
func lossyHistory(parts, sends int, lose ...int) history.History {
	return lossy(parts, sends, func(p, off int) bool { return slices.Contains(lose, p) && off >= 500 && off < 505 })
}

// lossy is lossyHistory with the records the consumer never sees chosen by lost.
func lossy(parts, sends int, lost func(p, off int) bool) history.History {
	return Synthetic("t", parts, sends, lost)
}

func render(t *testing.T, p Page) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, p); err != nil {
		t.Fatalf("WriteHTML: %v", err)
	}
	return b.String()
}

// selfContained fails if the page loads anything: every style and script is inline.
func selfContained(t *testing.T, page string) {
	t.Helper()
	for _, re := range []string{`<script[^>]+src=`, `<link[^>]`, `@import`, `url\(`, `<img[^>]+src="?http`, `<iframe[^>]+src=`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("the page loads from outside: %q; want everything inline", m)
		}
	}
}

func TestReportOf10kOperationsStaysUnder5MB(t *testing.T) {
	h := lossyHistory(10, 910, 3, 7)
	if len(h) < 9_990 {
		t.Fatalf("%d operations; want about 10,000", len(h))
	}
	r := Check(h, Config{Idempotent: true})
	if r.Counts[LostWrite] != 10 {
		t.Fatalf("lost-write %d; want 10 (five in t/3, five in t/7)\n%s", r.Counts[LostWrite], r.Text())
	}
	page := render(t, Page{Title: "lossy", History: h, Report: r})
	if len(page) >= 5<<20 {
		t.Errorf("page of %d bytes; want under 5 MB", len(page))
	}
	t.Logf("page of %d bytes for %d operations", len(page), len(h))
	selfContained(t, page)
	for _, want := range []string{
		"verdict invalid",
		"drawing partition 0 = t/3",
		"drawing partition 1 = t/7",
		"render(data)", // porcupine's visualization, inlined
		"⚠ lost-write",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "= t/0:") {
		t.Errorf("the page draws t/0; want only the partitions with findings")
	}
	for _, a := range r.Anomalies {
		if !strings.Contains(page, escaped(a.Explanation)) {
			t.Errorf("the page lacks the %s explanation %q", a.Name, a.Explanation)
		}
	}
}

// escaped is s as html/template escapes text.
func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// The worst case: findings all over every partition. The drawing keeps to its partition and
// window limits.
func TestReportOfFindingsEverywhereStaysUnder5MB(t *testing.T) {
	h := lossy(10, 910, func(_, off int) bool { return off%37 == 0 })
	r := Check(h, Config{Idempotent: true})
	if r.Verdict != Invalid || r.Counts[LostWrite] < 200 {
		t.Fatalf("verdict %s, %d lost writes; want invalid, at least 200", r.Verdict, r.Counts[LostWrite])
	}
	page := render(t, Page{Title: "lossy", History: h, Report: r, Run: true})
	t.Logf("page of %d bytes for %d operations", len(page), len(h))
	if len(page) >= 5<<20 {
		t.Errorf("page of %d bytes; want under 5 MB", len(page))
	}
	if n := strings.Count(page, "<li>drawing partition "); n != vizMaxPartitions {
		t.Errorf("%d partitions drawn; want %d", n, vizMaxPartitions)
	}
	if !strings.Contains(page, "4 more partitions are involved") {
		t.Errorf("the page does not say that 4 partitions are not drawn")
	}
}

func TestReportOfABareHistorySaysThereAreNoFaults(t *testing.T) {
	h := lossyHistory(1, 600, 0)
	page := render(t, Page{Title: "h.jsonl", History: h, Report: Check(h, Config{Idempotent: true})})
	for _, want := range []string{"No faults: a history file records client operations only", "online invariants", "were not checked"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "row <b>faults</b>") {
		t.Errorf("the page speaks of a faults row; want none without faults")
	}
}

func TestReportOfAValidHistoryDrawsNothing(t *testing.T) {
	h := lossyHistory(2, 100)
	r := Check(h, Config{Idempotent: true})
	page := render(t, Page{Title: "fine", History: h, Report: r, Run: true})
	for _, want := range []string{"verdict valid", "None found.", "Every invariant held", "The run applied no faults.", "Nothing to draw"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "render(data)") {
		t.Errorf("the page has a visualization; want none for a valid history")
	}
}

func TestReportMarksTheRunsFaultsOnTheTimeline(t *testing.T) {
	h := lossyHistory(1, 700, 0)
	faults := []Fault{
		{At: 100 * time.Millisecond, Verb: "slow", Nodes: "2", Detail: "latency=200ms"},
		{At: 499 * time.Millisecond, Verb: "partition", Nodes: "1 | 2 3", Statement: "x.scenario:9: partition 1 | 2 3"},
		{At: 501 * time.Millisecond, Verb: "kill", Nodes: "1", Statement: "x.scenario:10: kill 1"},
		{At: 800 * time.Millisecond, Verb: "heal"},
		{At: 900 * time.Millisecond, Verb: "restart", Nodes: "1"},
	}
	page := render(t, Page{Title: "run", History: h, Report: Check(h, Config{Idempotent: true}), Run: true, Faults: faults})
	for _, want := range []string{"partition 1 | 2 3", "x.scenario:10: kill 1", "row <b>faults</b>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// The window around the lost offsets 500–504 (and the last poll, which the explanations
	// name) holds the partition and the kill; the slow before it and the heal after it set
	// the scene; the restart is outside.
	viz := page[strings.Index(page, "srcdoc="):]
	for f, want := range map[string]bool{"slow 2 latency=200ms": true, "kill 1": true, "partition 1 | 2 3": true, "heal": true, "restart 1": false} {
		if got := strings.Contains(viz, "&#34;Description&#34;:&#34;"+f+"&#34;"); got != want {
			t.Errorf("fault %q on the timeline: got %v; want %v", f, got, want)
		}
	}
}

func TestWriteReportWritesIndexAndPorcupinePages(t *testing.T) {
	h := lossyHistory(1, 600, 0)
	dir := filepath.Join(t.TempDir(), "report")
	if err := WriteReport(dir, Page{Title: "h", History: h, Report: Check(h, Config{Idempotent: true})}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ReportFile, "porcupine.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("<html")) {
			t.Errorf("%s is not a page", f)
		}
	}
}

func TestWriteHTMLWithoutAReportIsAnError(t *testing.T) {
	if err := WriteHTML(&bytes.Buffer{}, Page{}); err == nil {
		t.Errorf("got no error for a page without a report; want one")
	}
}

func TestRecordFaultsNamesEachFaultAsAScenarioWould(t *testing.T) {
	spec := cluster.DefaultSpec()
	c, err := cluster.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	log := RecordFaults(c.World)
	start := c.Now()
	c.RunFor(time.Second)
	c.World.Partition([]int32{1}, []int32{2, 3})
	c.RunFor(time.Second)
	_ = c.World.Kill(1)
	c.World.Slow(2, 50*time.Millisecond)
	c.World.Loss(2, 3, 0.25)
	c.World.Heal()
	c.Close()
	var got []string
	for _, f := range log.Faults() {
		got = append(got, fmt.Sprintf("%s %s", vtime(f.At-start), f))
	}
	want := []string{"1.000s partition 1 | 2 3", "2.000s kill 1", "2.000s slow 2 latency=50ms", "2.000s loss 2 -> 3 p=0.25", "2.000s heal"}
	if !slices.Equal(got, want) {
		t.Errorf("got faults %q; want %q", got, want)
	}
	if fromTrace := FaultsFromTrace(c.World.Trace()); !slices.Equal(fromTrace, log.Faults()) {
		t.Errorf("got %v from the trace; want %v as recorded", fromTrace, log.Faults())
	}
}
