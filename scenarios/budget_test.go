package scenarios

import (
	"strings"
	"testing"
)

// A run that outgrows its memory budget stops, failed, naming what it holds, instead of
// exhausting the machine: here a million records a second against a budget of 64MiB.
func TestRunStopsAtItsMemoryBudget(t *testing.T) {
	s, err := Parse("big.scenario", []byte(`cluster brokers=3 controllers=1
topic orders partitions=3 replication=3 min.insync.replicas=2
producer p1 topic=orders acks=all rate=1000000/s
consumer c1 topic=orders
wait 30s
expect verdict valid
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{Memory: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || !strings.Contains(r.Failure, "big.scenario:5: memory budget 64MiB exceeded") {
		t.Fatalf("OK %v, failure %q; want the run stopped at line 5 by its 64MiB budget", r.OK, r.Failure)
	}
	for _, what := range []string{"history operations", "log records", "trace events"} {
		if !strings.Contains(r.Failure, what) {
			t.Errorf("failure %q does not count the %s", r.Failure, what)
		}
	}
	if r.Verdict != "" || r.SimSeconds >= 30 {
		t.Errorf("verdict %q after %.1fs; want no checker and a run stopped before its end", r.Verdict, r.SimSeconds)
	}
	if n := len(r.Expectations); n != 1 || r.Expectations[0].Judged {
		t.Errorf("expectations %+v; want the verdict noted as not reached", r.Expectations)
	}
}

// A sweep runs no more worlds at once than its CPUs and its memory budget allow.
func TestCapParallel(t *testing.T) {
	n, note := CapParallel(100000, 2<<30)
	if n > 32 || n < 1 || !strings.Contains(note, "--parallel 100000: running") {
		t.Errorf("CapParallel(100000, 2GiB) = %d, %q; want at most 32 worlds (64MiB each) and a note", n, note)
	}
	if n, note := CapParallel(1, 2<<30); n != 1 || note != "" {
		t.Errorf("CapParallel(1, 2GiB) = %d, %q; want 1 and no note", n, note)
	}
	if n, _ := CapParallel(4, 64<<20); n != 1 {
		t.Errorf("CapParallel(4, 64MiB) = %d; want 1", n)
	}
}

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2GiB": 2 << 30, "1.5GiB": 3 << 29, "500MB": 500e6, "1073741824": 1 << 30} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
		if got, _ := ParseMemory(FormatMemory(want)); in != "500MB" && in != "1073741824" && got != want {
			t.Errorf("ParseMemory(FormatMemory(%d)) = %d", want, got)
		}
	}
	for _, in := range []string{"", "lots", "2XB", "-1GiB", "1KiB", " 2GiB"} {
		if _, err := ParseMemory(in); err == nil {
			t.Errorf("ParseMemory(%q) accepted", in)
		}
	}
}
