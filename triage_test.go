package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kafkasim shrink writes a smaller scenario that fails the same way; kafkasim compare prints
// two settings side by side; bad input exits 2 naming the flag.
func TestShrinkAndCompareCommands(t *testing.T) {
	out := filepath.Join(t.TempDir(), "small.scenario")
	code, _, stderr := cli(t, "shrink", scenarioFile(t, "f.scenario", failing), "--seed", "1", "--out", out, "--budget", "20s")
	if code != 0 || !strings.Contains(stderr, "fails the same way") {
		t.Fatalf("shrink: status %d, stderr %q", code, stderr)
	}
	small, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, _ := cli(t, "run", out); code != 1 {
		t.Errorf("the shrunk file passes (status %d); want it to fail as the original:\n%s", code, small)
	}
	code, stdout, _ := cli(t, "compare", "acks1-loss.scenario", "--set", "acks=1", "--set", "acks=all")
	if code != 0 || !strings.Contains(stdout, "acks=1") || !strings.Contains(stdout, "acks=all") || !strings.Contains(stdout, "ack latency p50") {
		t.Errorf("compare: status %d\n%s", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"shrink", "acks1-loss.scenario"}, "--seed"},
		{[]string{"shrink", "acks1-loss.scenario", "--seed", "1", "--budget", "0s"}, "--budget"},
		{[]string{"shrink", "acks1-loss.scenario", "--seed", "1", "--budget", "soon"}, "--budget"},
		{[]string{"shrink", "leader-failover.scenario", "--seed", "1"}, "does not fail"},
		{[]string{"compare", "acks1-loss.scenario", "--set", "acks=1"}, "--set"},
		{[]string{"compare", "acks1-loss.scenario", "--set", "acks", "--set", "acks=all"}, "--set"},
		{[]string{"compare", "acks1-loss.scenario", "--set", "acks=some", "--set", "acks=all"}, "--set acks=some"},
		{[]string{"run", "acks1-loss.scenario", "--nemesis=maybe"}, "--nemesis"},
	} {
		code, _, stderr := cli(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: status %d, stderr %q; want 2 naming %s", tc.args, code, stderr, tc.want)
		}
	}
}

// run --nemesis and sweep --nemesis add a default nemesis: its faults are in the narration and
// the JSON, and a failing seed's replay line carries --nemesis.
func TestNemesisFlag(t *testing.T) {
	code, stdout, _ := cli(t, "run", "leader-failover.scenario", "--nemesis", "--seed", "3")
	if code > 1 || !strings.Contains(stdout, "nemesis: ") {
		t.Errorf("run --nemesis: status %d, no nemesis in the narration:\n%s", code, stdout)
	}
	code, stdout, _ = cli(t, "sweep", "leader-failover.scenario", "--seeds", "1-2", "--nemesis", "--json", "--parallel", "1")
	for _, j := range jsonLines(t, stdout) {
		if fs, _ := j["faults"].([]any); len(fs) == 0 {
			t.Errorf("sweep --nemesis --json: a run without faults: %v", j)
		}
		if r, _ := j["replay"].(string); r != "" && !strings.HasSuffix(r, "--nemesis") {
			t.Errorf("replay %q lacks --nemesis", r)
		}
	}
	if code > 1 {
		t.Errorf("sweep --nemesis: status %d", code)
	}
}
