package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/checker"
	"kafkasim/scenarios"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// source is a scenario to run: a file on disk, or one of the built-in library's. load returns
// a freshly parsed copy, so that worlds running in parallel never share one.
type source struct {
	name string
	load func() (*scenarios.Scenario, error)
}

// loadSource reads and parses path. A path that does not exist but names a scenario of the
// built-in library (by its file name) runs that one. The error is an *exitError with status 2:
// a parse error prints as FILE:LINE:COL: msg.
func loadSource(path string) (source, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if src, ok := librarySource(path); ok {
			return src, nil
		}
	}
	if err != nil {
		return source{}, &exitError{code: exitUsage, err: err}
	}
	if _, err := scenarios.Parse(path, src); err != nil {
		return source{}, scenarioError(err)
	}
	return source{name: path, load: func() (*scenarios.Scenario, error) { return scenarios.Parse(path, src) }}, nil
}

// scenarioError turns a parse error into exit status 2, printed as the parser wrote it.
func scenarioError(err error) error {
	var se *scenarios.Error
	if errors.As(err, &se) {
		return &exitError{code: exitUsage, err: se, plain: true}
	}
	return &exitError{code: exitUsage, err: err}
}

// librarySource is the built-in library's scenario called name, if there is one.
func librarySource(name string) (source, bool) {
	s := scenarios.Named(name)
	if s == nil {
		return source{}, false
	}
	return source{name: s.File, load: func() (*scenarios.Scenario, error) {
		if s := scenarios.Named(name); s != nil {
			return s, nil
		}
		return nil, fmt.Errorf("%s: not in the library", name)
	}}, true
}

// loadSources loads every path before anything runs, so a bad file is rejected first.
func loadSources(paths []string) ([]source, error) {
	var out []source
	for _, p := range paths {
		s, err := loadSource(p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// seedUsage describes --seed: 0 lets scenarios.Run take the file's own seed.
const seedUsage = "the simulation's seed (0: the file's own config seed=N, else 1)"

type runFlags struct {
	seed    uint64
	json    bool
	trace   string
	history string
	report  string
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE...",
		Short: "Run scenario files headless and report whether their expectations held",
		Long: strings.TrimSpace(`
run plays each scenario file from start to finish (faults, waits, the finish that heals and
restarts everything), has the checker judge its history, and prints its narration and one
summary line: ok or FAILED, seed, trace hash, simulated seconds, events, client operations, wall
time, the checker's verdict and its anomaly counts. A failed run also prints what failed and
the command that replays it exactly; a verdict other than valid prints the checker's
explanations. --report DIR writes DIR/index.html: the verdict, each anomaly with the operations
it names, and porcupine's visualization of the partitions involved with the run's faults marked.

A FILE that does not exist but names a scenario of the built-in library
(e.g. leader-failover.scenario) runs that one.

Exit status: 0 every expectation held; 1 an expectation failed; 2 bad input (a scenario that
does not parse prints FILE:LINE:COL: what is wrong).`),
		Example: `  kafkasim run scenarios/leader-failover.scenario
  kafkasim run my.scenario --seed 42 --trace trace.txt --history history.jsonl
  kafkasim run unclean-election.scenario --report report/
  kafkasim run *.scenario --json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 && (f.trace != "" || f.history != "" || f.report != "") {
				return usageErrorf("--trace, --history and --report take one scenario FILE; got %d", len(args))
			}
			srcs, err := loadSources(args)
			if err != nil {
				return err
			}
			return runSources(cmd.OutOrStdout(), srcs, f.seed, f)
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&f.seed, "seed", 0, seedUsage)
	fl.BoolVar(&f.json, "json", false, "print one JSON object per run, one line each, instead of the narration")
	fl.StringVar(&f.trace, "trace", "", "write the trace to `FILE`, one line per event")
	fl.StringVar(&f.history, "history", "", "write the client history to `FILE` as JSON lines")
	fl.StringVar(&f.report, "report", "", "write the checker's HTML report to `DIR`/index.html (verdict, anomalies, porcupine's visualization with the faults)")
	return cmd
}

func newTUICmd() *cobra.Command {
	var seed uint64
	var ui uiFlags
	var trace string
	cmd := &cobra.Command{
		Use:   "tui [FILE]",
		Short: "Play a scenario in the terminal UI (captions, pauses, rewind)",
		Long: strings.TrimSpace(`
tui plays a scenario file in the terminal UI: its say lines are captions, pause waits for you,
and you may break the cluster further, step, rewind and export the session as a scenario
(press ? for every key). Without FILE it runs the built-in classroom cluster live. FILE may
also name a library scenario (tui unclean-election). --trace FILE replays the run that a
trace written by run --trace records (its header names the scenario and the seed). When the
output is not a terminal, or with --text, the scenario is played and its story printed, as
run does.`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if trace != "" {
				if len(args) > 0 {
					return usageErrorf("--trace: give either FILE or --trace, not both")
				}
				return openUITrace(trace, ui)
			}
			if len(args) == 0 {
				if ui.text || !interactive(cmd.OutOrStdout()) {
					return runClassroom(cmd, seed)
				}
				return openUI(nil, seed, ui)
			}
			srcs, err := loadSources(args)
			if err != nil {
				return err
			}
			if ui.text || !interactive(cmd.OutOrStdout()) {
				return runSources(cmd.OutOrStdout(), srcs, seed, runFlags{})
			}
			s, err := srcs[0].load()
			if err != nil {
				return scenarioError(err)
			}
			return openUI(s, seed, ui)
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, seedUsage)
	cmd.Flags().StringVar(&trace, "trace", "", "replay the run a trace `FILE` written by run --trace records")
	ui.register(cmd)
	return cmd
}

// runClassroom narrates the built-in classroom scenario.
func runClassroom(cmd *cobra.Command, seed uint64) error {
	c := scenarios.Classroom()
	src := source{name: c.File, load: func() (*scenarios.Scenario, error) { return scenarios.Classroom(), nil }}
	return runSources(cmd.OutOrStdout(), []source{src}, seed, runFlags{})
}

// runSources runs each source once, one after the other, and reports each.
func runSources(stdout io.Writer, srcs []source, seed uint64, f runFlags) error {
	anyFailed := false
	for _, src := range srcs {
		s, err := src.load()
		if err != nil {
			return scenarioError(err)
		}
		o := scenarios.Options{Seed: seed, KeepTrace: f.trace != ""}
		if !f.json {
			o.Narrate = stdout
		}
		var faults *checker.FaultLog
		if f.report != "" {
			o.Observe = func(c *cluster.Cluster) { faults = checker.RecordFaults(c.World) }
		}
		r, err := scenarios.Run(s, o)
		if err != nil {
			return scenarioError(err)
		}
		if err := writeOutputs(r, f); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		if f.report != "" {
			if err := writeRunReport(f.report, s, r, faults); err != nil {
				return &exitError{code: exitFailed, err: fmt.Errorf("--report: %w", err)}
			}
		}
		if f.json {
			if err := writeJSON(stdout, r); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
		} else {
			writeSummary(stdout, r)
		}
		if !r.OK {
			anyFailed = true
		}
	}
	if anyFailed {
		return failed
	}
	return nil
}

// writeOutputs writes the trace and history files a run asked for.
func writeOutputs(r *scenarios.Result, f runFlags) error {
	if f.trace != "" {
		if err := writeFile(f.trace, func(w io.Writer) error {
			return sim.WriteTraceFile(w, r.Scenario, r.Seed, r.Cluster.World.Trace())
		}); err != nil {
			return fmt.Errorf("--trace: %w", err)
		}
	}
	if f.history != "" {
		if err := writeFile(f.history, func(w io.Writer) error {
			return r.Cluster.History().WriteJSONLines(w)
		}); err != nil {
			return fmt.Errorf("--history: %w", err)
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// summaryLine is one run in one line: ok or FAILED, scenario, seed, trace hash, simulated
// seconds, events, operations, wall time, the checker's verdict and its findings by name.
func summaryLine(r *scenarios.Result) string {
	status := "ok    "
	if !r.OK {
		status = "FAILED"
	}
	s := fmt.Sprintf("%s %s seed %d  trace %016x  sim %.1fs  events %d  ops %d  wall %.2fs",
		status, r.Scenario, r.Seed, r.TraceHash, r.SimSeconds, r.Events, r.Ops, r.WallSeconds)
	if r.Verdict != "" {
		s += "  verdict " + r.Verdict
		if len(r.Anomalies) > 0 {
			s += " (" + anomalyList(r.Anomalies) + ")"
		}
	}
	return s
}

// writeSummary prints a run's summary line and, unless the verdict is valid, the checker's
// explanations (bounded: see writeFindings). What failed and the command that replays it are
// in the narration just above (scenarios.Options.Narrate prints both).
func writeSummary(w io.Writer, r *scenarios.Result) {
	fmt.Fprintln(w, summaryLine(r))
	if r.Report != nil && r.Verdict != checker.Valid {
		writeFindings(w, r.Report, "  ")
	}
}

// How many of the checker's explanations run and check print: at most explainPerName per
// anomaly name, explainLines in all; --report DIR has every one.
const (
	explainPerName = 3
	explainLines   = 20
)

// writeFindings prints the checker's explanations as Report.Text words them, bounded: the
// listed anomalies, the invariant violations and the partitions that are not linearizable.
func writeFindings(w io.Writer, r *checker.Report, indent string) {
	var lines []string
	shown := map[string]int{}
	for _, a := range r.Anomalies {
		if shown[a.Name]++; shown[a.Name] <= explainPerName {
			lines = append(lines, a.Name+": "+a.Explanation)
		} else if shown[a.Name] == explainPerName+1 {
			lines = append(lines, fmt.Sprintf("%s: … %d more", a.Name, r.Counts[a.Name]-explainPerName))
		}
	}
	for _, v := range r.Invariants {
		lines = append(lines, fmt.Sprintf("invariant %s at event %d: %s", v.Invariant, v.Event, v.Detail))
	}
	tps := make([]string, 0, len(r.Linearizable))
	for tp, v := range r.Linearizable {
		if v != checker.LinOK {
			tps = append(tps, tp)
		}
	}
	sort.Strings(tps)
	for _, tp := range tps {
		lines = append(lines, fmt.Sprintf("linearizability %s: %s", tp, r.Linearizable[tp]))
	}
	for i, l := range lines {
		if i == explainLines {
			fmt.Fprintf(w, "%s… %d more lines (--report DIR shows every finding)\n", indent, len(lines)-i)
			break
		}
		fmt.Fprintf(w, "%s%s\n", indent, l)
	}
}

// writeRunReport writes a run's HTML report into dir.
func writeRunReport(dir string, s *scenarios.Scenario, r *scenarios.Result, faults *checker.FaultLog) error {
	if r.Report == nil {
		return errors.New("the checker did not judge this run")
	}
	p := checker.Page{
		Title:   fmt.Sprintf("%s, seed %d", r.Scenario, r.Seed),
		Replay:  scenarios.ReplayCommand(r),
		History: r.Cluster.History(),
		Report:  r.Report,
		Run:     true,
	}
	src, err := scenarios.Source(s)
	if err == nil {
		p.Scenario = string(src)
	}
	if faults != nil {
		p.Faults = faults.Faults()
		labelFaults(p.Faults, r.Scenario, src)
	}
	return checker.WriteReport(dir, p)
}

// faultVerbs are the scenario statements that apply faults.
var faultVerbs = map[string]bool{"kill": true, "crash": true, "stop": true, "restart": true, "pause": true,
	"resume": true, "partition": true, "isolate": true, "cut": true, "slow": true, "loss": true, "heal": true}

// labelFaults names the statement behind each fault: the scenario's fault statements, in
// file order, are matched to the faults, in time order, by verb. The faults left over that
// heal, resume or restart are the finish's.
func labelFaults(faults []checker.Fault, file string, src []byte) {
	type stmt struct{ verb, text string }
	var stmts []stmt
	for i, line := range strings.Split(string(src), "\n") {
		text := strings.TrimSpace(line)
		if verb, _, _ := strings.Cut(text, " "); faultVerbs[verb] {
			stmts = append(stmts, stmt{verb, fmt.Sprintf("%s:%d: %s", file, i+1, text)})
		}
	}
	next := 0
	for i := range faults {
		f := &faults[i]
		for j := next; j < len(stmts); j++ {
			if stmts[j].verb == f.Verb {
				f.Statement, next = stmts[j].text, j+1
				break
			}
		}
		if f.Statement == "" && (f.Verb == "heal" || f.Verb == "resume" || f.Verb == "restart") {
			f.Statement = "the finish: heal, resume and restart everything"
		}
	}
}

// anomalyList is "name count, ..." in name order.
func anomalyList(m map[string]int) string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}
