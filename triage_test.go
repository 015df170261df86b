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
	if code != 0 || !strings.Contains(stderr, "fails the same way") || !strings.Contains(stderr, "; ended: ") {
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

// The conventions a new user tries: version as a command, the nearest library names for a
// name that is neither a file nor a library scenario, check --json, an empty history and a
// scenario file given to check refused with what to do instead.
func TestConventionsOfANewUser(t *testing.T) {
	if code, stdout, _ := cli(t, "version"); code != 0 || stdout != "kafkasim "+version+"\n" {
		t.Errorf("version: status %d, %q", code, stdout)
	}
	if code, _, stderr := cli(t, "run", "leader-failver"); code != 2 || !strings.Contains(stderr, "leader-failover") {
		t.Errorf("run leader-failver: status %d, %q; want 2 suggesting leader-failover", code, stderr)
	}
	if code, stdout, _ := cli(t, "list"); code != 0 || !strings.Contains(stdout, "acks1-loss") || !strings.Contains(stdout, "loses acknowledged writes") {
		t.Errorf("list: status %d; want names with descriptions:\n%s", code, stdout)
	}
	hist := filepath.Join(t.TempDir(), "h.jsonl")
	if code, _, _ := cli(t, "run", "acks1-loss.scenario", "--history", hist); code != 0 {
		t.Fatalf("run acks1-loss: status %d", code)
	}
	code, stdout, _ := cli(t, "check", hist, "--json")
	js := jsonLines(t, stdout)
	if code != 1 || len(js) != 1 || js[0]["verdict"] != "invalid" || js[0]["anomalies"].(map[string]any)["lost-write"] == nil {
		t.Errorf("check --json: status %d\n%s", code, stdout)
	}
	empty := scenarioFile(t, "empty.jsonl", "\n")
	if code, _, stderr := cli(t, "check", empty); code != 2 || !strings.Contains(stderr, "empty") {
		t.Errorf("check of an empty history: status %d, %q; want 2: empty", code, stderr)
	}
	sc := scenarioFile(t, "h.txt", passing)
	if code, _, stderr := cli(t, "check", sc); code != 2 || !strings.Contains(stderr, "is a scenario file") || !strings.Contains(stderr, "kafkasim run") {
		t.Errorf("check of a scenario: status %d, %q; want 2 saying to use run", code, stderr)
	}
}
