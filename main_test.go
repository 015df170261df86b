package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"kafkasim/scenarios"
	"kafkasim/sim"
)

// passing is a small scenario whose expectations hold: a producer with acks=all on a healthy
// cluster gets acknowledgements.
const passing = `# A healthy cluster acknowledges writes
cluster brokers=3 controllers=1
topic orders partitions=1 replication=3
producer p1 topic=orders acks=all rate=100/s
say "write for two seconds"
wait 2s
expect acked p1 >= 1
finish recover=false
`

// failing expects more than two seconds at 100 records/s can give.
const failing = `# Expect too much
cluster brokers=3 controllers=1
topic orders partitions=1 replication=3
producer p1 topic=orders acks=all rate=100/s
wait 2s
expect acked p1 >= 1000000
finish recover=false
`

// cli runs the command with args and returns its exit status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// scenarioFile writes src to a file in a temporary directory and returns its path.
func scenarioFile(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestVersionPrintsTheVersion(t *testing.T) {
	code, out, _ := cli(t, "--version")
	if code != 0 || out != "kafkasim "+version+"\n" {
		t.Errorf("got %d %q; want 0 %q", code, out, "kafkasim "+version+"\n")
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"tui", "--help"}, {"sweep", "--help"}, {"check", "--help"}, {"bench", "--help"}, {"list", "--help"}} {
		code, out, _ := cli(t, args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: got exit %d, output %q; want 0 and a usage", args, code, out)
		}
	}
}

func TestHelpSaysWhatComesLater(t *testing.T) {
	for cmd, want := range map[string]string{"tui": "terminal UI", "check": "checker"} {
		_, out, _ := cli(t, cmd, "--help")
		if !strings.Contains(out, want) {
			t.Errorf("%s --help: got %q; want it to mention %q", cmd, out, want)
		}
	}
}

func TestBadInputExitsTwoNamingTheProblem(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--bogus", file}, "--bogus"},
		{[]string{"run", "--seed", "many", file}, "--seed"},
		{[]string{"run"}, "requires at least 1 arg"},
		{[]string{"launch"}, `unknown command "launch"`},
		{[]string{"run", filepath.Join(t.TempDir(), "missing.scenario")}, "missing.scenario"},
		{[]string{"run", file, file, "--trace", "t.txt"}, "--trace"},
		{[]string{"sweep", file}, "--seeds"},
		{[]string{"sweep", file, "--seeds", "9-3"}, "--seeds"},
		{[]string{"sweep", file, "--seeds", "x"}, "--seeds"},
		{[]string{"sweep", file, "--seeds", "0-3"}, "--seeds"},
		{[]string{"sweep", file, "--seeds", "1-3", "--shard", "3/3"}, "--shard"},
		{[]string{"sweep", file, "--seeds", "1-3", "--shard", "1"}, "--shard"},
		{[]string{"sweep", file, "--seeds", "1-3", "--parallel", "0"}, "--parallel"},
		{[]string{"run", file, "--memory", "lots"}, "--memory"},
		{[]string{"sweep", file, "--seeds", "1-3", "--memory", "1KiB"}, "--memory"},
		{[]string{"bench", "--runs", "0"}, "--runs"},
		{[]string{"bench", "--large", "100"}, "--large"},
		{[]string{"check"}, "accepts 1 arg"},
	} {
		code, _, errOut := cli(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: got exit %d, stderr %q; want 2 and a message naming %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestBadScenarioPrintsFileLineColumn(t *testing.T) {
	file := scenarioFile(t, "bad.scenario", "cluster brokers=3\nexplode now\n")
	for _, cmd := range []string{"run", "sweep", "tui"} {
		args := []string{cmd, file}
		if cmd == "sweep" {
			args = append(args, "--seeds", "1-2")
		}
		code, out, errOut := cli(t, args...)
		want := regexp.MustCompile("^" + regexp.QuoteMeta(file) + `:2:1: \S`)
		if code != 2 || !want.MatchString(errOut) || out != "" {
			t.Errorf("%s: got exit %d, stdout %q, stderr %q; want 2, nothing run, and %s:2:1: …", cmd, code, out, errOut, file)
		}
	}
}

func TestRunExitsZeroWhenExpectationsHold(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	code, out, errOut := cli(t, "run", file, "--seed", "3")
	if code != 0 {
		t.Fatalf("got exit %d (stdout %q, stderr %q); want 0", code, out, errOut)
	}
	for _, want := range []string{"write for two seconds", "ok     " + file + " seed 3  trace "} {
		if !strings.Contains(out, want) {
			t.Errorf("got %q; want it to contain %q", out, want)
		}
	}
}

func TestRunExitsOneAndPrintsTheReplayWhenAnExpectationFails(t *testing.T) {
	file := scenarioFile(t, "fail.scenario", failing)
	code, out, _ := cli(t, "run", file, "--seed", "5")
	if code != 1 {
		t.Fatalf("got exit %d; want 1", code)
	}
	for _, want := range []string{"FAILED " + file + " seed 5", "acked p1 >= 1000000", "replay: kafkasim run " + file + " --seed 5"} {
		if !strings.Contains(out, want) {
			t.Errorf("got %q; want it to contain %q", out, want)
		}
	}
}

func TestRunJSONPrintsOneObjectPerRun(t *testing.T) {
	ok := scenarioFile(t, "ok.scenario", passing)
	bad := scenarioFile(t, "fail.scenario", failing)
	code, out, _ := cli(t, "run", ok, bad, "--json", "--seed", "7")
	if code != 1 {
		t.Errorf("got exit %d; want 1 (one run failed)", code)
	}
	runs := jsonLines(t, out)
	if len(runs) != 2 {
		t.Fatalf("got %d lines; want 2", len(runs))
	}
	for _, key := range []string{"scenario", "seed", "ok", "verdict", "anomalies", "expectations", "trace_hash", "sim_seconds", "wall_seconds", "events", "ops"} {
		if _, found := runs[0][key]; !found {
			t.Errorf("got keys %v; want %q", runs[0], key)
		}
	}
	if runs[0]["scenario"] != ok || runs[0]["seed"] != 7.0 || runs[0]["ok"] != true || runs[1]["ok"] != false {
		t.Errorf("got scenario %v seed %v ok %v, ok %v; want %s 7 true, false", runs[0]["scenario"], runs[0]["seed"], runs[0]["ok"], runs[1]["ok"], ok)
	}
	if a, isMap := runs[0]["anomalies"].(map[string]any); !isMap || len(a) != 0 {
		t.Errorf("got anomalies %v; want {}", runs[0]["anomalies"])
	}
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(runs[0]["trace_hash"].(string)) {
		t.Errorf("got trace_hash %v; want 16 hex digits", runs[0]["trace_hash"])
	}
	exps := runs[1]["expectations"].([]any)
	if len(exps) != 1 {
		t.Fatalf("got expectations %v; want one", exps)
	}
	e := exps[0].(map[string]any)
	if e["line"] != 6.0 || e["text"] != "expect acked p1 >= 1000000" || e["ok"] != false {
		t.Errorf("got expectation %v; want line 6, text %q, ok false", e, "expect acked p1 >= 1000000")
	}
}

func TestRunIsDeterministic(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	hash := func() any {
		_, out, _ := cli(t, "run", file, "--json", "--seed", "11")
		return jsonLines(t, out)[0]["trace_hash"]
	}
	if a, b := hash(), hash(); a != b {
		t.Errorf("got trace hashes %v and %v; want equal", a, b)
	}
}

func TestRunWritesTraceAndHistoryThatCheckReads(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	dir := t.TempDir()
	trace, hist := filepath.Join(dir, "trace.txt"), filepath.Join(dir, "history.jsonl")
	code, out, _ := cli(t, "run", file, "--json", "--trace", trace, "--history", hist)
	if code != 0 {
		t.Fatalf("got exit %d; want 0", code)
	}
	events := jsonLines(t, out)[0]["events"].(float64)
	tb, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	header, body, _ := strings.Cut(string(tb), "\n")
	if h, ok := sim.NewTraceFileReader(trace, strings.NewReader(header)).Header(); !ok || h.Scenario != file || h.Seed != 1 {
		t.Errorf("trace header %q names scenario %q, seed %d; want %q, seed 1 (tui --trace replays it)", header, h.Scenario, h.Seed, file)
	}
	if lines := strings.Count(body, "\n"); float64(lines) != events {
		t.Errorf("got %d trace lines after the header; want one per event, %v", lines, events)
	}
	code, out, _ = cli(t, "check", hist, "--report", filepath.Join(dir, "report"))
	if code != 0 || !regexp.MustCompile(`send +[1-9]\d*`).MatchString(out) {
		t.Errorf("check: got exit %d, %q; want 0 and acknowledged sends", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "index.html")); err != nil {
		t.Errorf("check --report: %v", err)
	}
}

// libraryHistory runs a library scenario with --history and returns the history's path.
func libraryHistory(t *testing.T, name string) string {
	t.Helper()
	hist := filepath.Join(t.TempDir(), "history.jsonl")
	if code, _, errOut := cli(t, "run", name, "--json", "--history", hist); code != 0 {
		t.Fatalf("run %s: got exit %d (%s); want 0", name, code, errOut)
	}
	return hist
}

func TestCheckExitsZeroOnAValidHistory(t *testing.T) {
	code, out, _ := cli(t, "check", libraryHistory(t, "leader-failover.scenario"))
	for _, want := range []string{"verdict: valid\n", "online invariants need a run"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("got exit %d, %q; want 0 and %q", code, out, want)
		}
	}
}

func TestCheckExitsOneAndExplainsAnInvalidHistory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	code, out, _ := cli(t, "check", libraryHistory(t, "acks1-loss.scenario"), "--report", dir)
	if code != 1 {
		t.Errorf("got exit %d; want 1", code)
	}
	for _, re := range []string{
		`verdict: invalid \(.*lost-write [1-9]\d*`,
		`(?m)^  lost-write: p1 sent \d+ to orders/0 at offset \d+ \(acknowledged [\d.]+s, op #\d+\); no poll ever returned it`,
		`(?m)^  lost-write: … \d+ more$`,
		`report: .*index.html`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("got %q; want it to match %s", out, re)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"verdict invalid", `id="lost-write"`, "render(data)", "No faults: a history file records client operations only"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func TestRunReportShowsAnomaliesFaultsAndTheVisualization(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	code, out, _ := cli(t, "run", "acks1-loss.scenario", "--report", dir)
	if code != 0 {
		t.Fatalf("got exit %d; want 0 (the scenario expects its anomalies)", code)
	}
	if !regexp.MustCompile(`verdict invalid \(.*lost-write \d+.*\)\n(  .*\n)*  lost-write: p1 sent`).MatchString(out) {
		t.Errorf("got %q; want the verdict and counts on the summary line, then the explanations", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		"scenarios/acks1-loss.scenario, seed 1", "verdict invalid", `id="lost-write"`, "permitted",
		"scenarios/acks1-loss.scenario:19: kill 1", // the fault, named by its statement
		"the finish: heal",
		"render(data)",                           // porcupine's visualization
		"&#34;Description&#34;:&#34;kill 1&#34;", // the kill on its timeline
		"drawing partition 0 = orders/0",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "porcupine.html")); err != nil {
		t.Errorf("porcupine.html: %v", err)
	}
}

func TestRunReportTakesOneFile(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	code, _, errOut := cli(t, "run", file, file, "--report", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "--report") {
		t.Errorf("got exit %d, stderr %q; want 2 naming --report", code, errOut)
	}
}

func TestCheckNamesTheMalformedLine(t *testing.T) {
	good := `{"index":0,"client":"p1","type":"send","topic":"orders","partition":0,"values":[1],"invoke":0,"complete":5,"outcome":"ok"}`
	file := scenarioFile(t, "h.jsonl", good+"\n"+good+"\n{not json\n")
	code, _, errOut := cli(t, "check", file)
	if code != 2 || !strings.Contains(errOut, file+": line 3:") {
		t.Errorf("got exit %d, stderr %q; want 2 and %s: line 3:", code, errOut, file)
	}
}

func TestCheckCountsOperationsByTypeAndOutcome(t *testing.T) {
	op := func(typ, outcome string, part int) string {
		return `{"client":"c","type":"` + typ + `","topic":"t","partition":` + string(rune('0'+part)) + `,"values":[1,2],"invoke":1,"complete":2,"outcome":"` + outcome + `"}`
	}
	file := scenarioFile(t, "h.jsonl", strings.Join([]string{op("send", "ok", 0), op("send", "ok", 1), op("send", "unknown", 0), op("poll", "fail", 2)}, "\n"))
	_, out, _ := cli(t, "check", file)
	for _, want := range []string{"4 operations, 1 clients, 3 partitions", "send         2        0        1          6", "poll         0        1        0          2", "partitions: t/0 t/1 t/2", "verdict: "} {
		if !strings.Contains(out, want) {
			t.Errorf("got %q; want %q", out, want)
		}
	}
}

func TestSweepPrintsShardRunsInSeedOrder(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	code, out, errOut := cli(t, "sweep", file, "--seeds", "1-7", "--shard", "1/3", "--parallel", "3", "--json")
	if code != 0 {
		t.Fatalf("got exit %d (stderr %q); want 0", code, errOut)
	}
	var seeds []float64
	for _, r := range jsonLines(t, out) {
		seeds = append(seeds, r["seed"].(float64))
	}
	if !slices.Equal(seeds, []float64{2, 5}) {
		t.Errorf("got seeds %v; want [2 5]", seeds)
	}
	if !strings.Contains(errOut, "sweep: 2 runs, 2 passed, 0 failed") {
		t.Errorf("got stderr %q; want the summary there", errOut)
	}
}

func TestSweepExitsOneAndListsEachFailingSeed(t *testing.T) {
	file := scenarioFile(t, "fail.scenario", failing)
	code, out, _ := cli(t, "sweep", file, "--seeds", "4-5", "--parallel", "2")
	if code != 1 {
		t.Errorf("got exit %d; want 1", code)
	}
	for _, want := range []string{"sweep: 2 runs, 0 passed, 2 failed", "FAILED " + file + " seed 4", "replay: kafkasim run " + file + " --seed 5"} {
		if !strings.Contains(out, want) {
			t.Errorf("got %q; want it to contain %q", out, want)
		}
	}
}

func TestSweepMatchesRunSeedBySeed(t *testing.T) {
	file := scenarioFile(t, "ok.scenario", passing)
	_, out, _ := cli(t, "sweep", file, "--seeds", "1-3", "--parallel", "3", "--json")
	for _, r := range jsonLines(t, out) {
		_, one, _ := cli(t, "run", file, "--json", "--seed", jsonNumber(r["seed"]))
		if got, want := r["trace_hash"], jsonLines(t, one)[0]["trace_hash"]; got != want {
			t.Errorf("seed %v: sweep got trace %v; run got %v", r["seed"], got, want)
		}
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestNoArgumentsNarratesTheClassroom(t *testing.T) {
	code, out, errOut := cli(t)
	if code != 0 || !strings.Contains(out, "ok     scenarios/classroom.scenario seed ") || strings.Count(out, "\n") < 2 {
		t.Errorf("got exit %d, stdout %q, stderr %q; want 0, a story and the summary line", code, out, errOut)
	}
}

func TestRunFindsLibraryScenariosByName(t *testing.T) {
	code, out, _ := cli(t, "run", "leader-failover", "--json", "--seed", "2")
	if code != 0 {
		t.Fatalf("got exit %d; want 0", code)
	}
	if got := jsonLines(t, out)[0]["scenario"]; got != "scenarios/leader-failover.scenario" {
		t.Errorf("got scenario %v; want scenarios/leader-failover.scenario", got)
	}
}

func TestBenchPrintsTheFigures(t *testing.T) {
	code, out, errOut := cli(t, "bench", "--json", "--duration", "2s", "--runs", "1", "--rss-duration", "5s", "--large", "4x40", "--large-duration", "1s")
	if code != 0 {
		t.Fatalf("got exit %d (stderr %q); want 0", code, errOut)
	}
	r := jsonLines(t, out)[0]
	keys := []string{"sim_speed", "sim_speed_cpu", "allocs_per_sim_second", "events_per_second", "deliveries_per_second", "large_cluster_speed", "seeds_per_minute", "check_seconds_10k", "check_seconds_1m", "peak_memory_mib"}
	if runtime.GOOS == "linux" {
		keys = append(keys, "rss_10min_mib") // read from /proc
	}
	for _, key := range keys {
		if v, _ := r[key].(float64); v <= 0 {
			t.Errorf("got %s %v; want a positive number", key, r[key])
		}
	}
	if r["check_ops"] != 10010.0 || r["check_verdict"] != "valid" {
		t.Errorf("got check_ops %v, check_verdict %v; want 10010, valid", r["check_ops"], r["check_verdict"])
	}
	if r["large_cluster_brokers"] != 4.0 || r["large_cluster_partitions"] != 40.0 || r["rss_sim_seconds"] != 5.0 {
		t.Errorf("got large cluster %v x %v, RSS run %v s; want 4 x 40, 5 s", r["large_cluster_brokers"], r["large_cluster_partitions"], r["rss_sim_seconds"])
	}
	if r["sweep_failed"] != 0.0 || r["sweep_runs"] != 1.0 {
		t.Errorf("got sweep_runs %v, sweep_failed %v; want 1 run, none failed", r["sweep_runs"], r["sweep_failed"])
	}
}

func TestListPrintsEveryLibraryScenarioWithItsTitle(t *testing.T) {
	code, out, _ := cli(t, "list")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != len(scenarios.Library()) {
		t.Fatalf("got exit %d, %d lines; want 0 and one line per library scenario (%d)", code, len(lines), len(scenarios.Library()))
	}
	if !regexp.MustCompile(`(?m)^leader-failover +Leader failover`).MatchString(out) {
		t.Errorf("got %q; want a line naming leader-failover and its title", out)
	}
	if code, _, _ := cli(t, "list", "extra"); code != 2 {
		t.Errorf("list extra: got exit %d; want 2", code)
	}
}

// --listen on the root command and on tui: an address beyond loopback without --listen-any, a
// port in use and --listen with --trace are bad input naming the flag, exit 2.
func TestListenBadInputNamesTheFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, args := range [][]string{
		{"--listen", "10.1.2.3:9092"},
		{"tui", scenarioFile(t, "p.scenario", passing), "--listen", busy.Addr().String()},
		{"tui", "--trace", "t.trace", "--listen", "127.0.0.1:0"},
	} {
		code, _, stderr := cli(t, args...)
		if code != 2 || !strings.Contains(stderr, "--listen: ") {
			t.Errorf("kafkasim %v: exit %d, %q; want 2 and an error naming --listen", args, code, stderr)
		}
	}
}
