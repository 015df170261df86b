package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"kafkasim/broker/history"
	"kafkasim/checker"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// Outputs are what headless runs write besides the narration and summary on the terminal.
type Outputs struct {
	JSON     bool         // one JSON object per run, one line each, instead of the narration and summary
	Trace    string       // write the trace here as a trace file (sim.WriteTraceFile)
	History  string       // write the client history here as JSON lines
	Report   string       // write the checker's HTML report into this directory
	Memory   Memory       // the Go heap's budget (Options.Memory); 0: each file's config memory.limit, else DefaultMemory
	Progress io.Writer    // a terminal to draw each run's progress on; nil: none
	Nemesis  bool         // run --nemesis: open the files with OpenAllWith(paths, true)
	Mode     MetadataMode // run --metadata-mode: open the files with WithMetadataMode
}

// OutputError is an output that could not be written: Output names it as Outputs does
// ("trace", "history", "report"), or is "" for what is printed to the terminal.
type OutputError struct {
	Output string
	Err    error
}

func (e *OutputError) Error() string {
	if e.Output == "" {
		return e.Err.Error()
	}
	return e.Output + ": " + e.Err.Error()
}

func (e *OutputError) Unwrap() error { return e.Err }

// RunFiles runs each file once with seed (0: the file's own), one after the other, and
// reports each to w: its narration and summary line (with the checker's findings unless the
// verdict is valid), or with out.JSON one JSON line. ok is false when some run did not hold
// its expectations. An error is an *OutputError, or the scenario's (a *Error, or a cluster
// that cannot be set up as the file says): the runs after it do not run.
func RunFiles(w io.Writer, files []*File, seed uint64, out Outputs) (ok bool, err error) {
	ok = true
	for _, f := range files {
		s, err := f.Scenario()
		if err != nil {
			return false, err
		}
		o := Options{Seed: seed, Memory: cmp.Or(out.Memory, s.memory, Memory(DefaultMemory)), Progress: out.Progress}
		var lines *os.File
		if out.Trace != "" {
			// The trace's lines go to a file beside the trace file as the run goes, rather
			// than the trace staying in memory to the end (32 bytes an event, a million events
			// in ten minutes of the classroom cluster); writeOutputs puts the header first.
			if lines, err = os.CreateTemp(filepath.Dir(out.Trace), filepath.Base(out.Trace)+".*.lines"); err != nil {
				return false, &OutputError{"trace", err}
			}
			defer os.Remove(lines.Name())
			defer lines.Close()
			o.TraceTo = lines
		}
		SetMemoryLimit(int64(o.Memory))
		if !out.JSON {
			o.Narrate = w
		}
		var runLog *checker.RunLog
		if out.Report != "" {
			o.Observe = func(c *cluster.Cluster) { runLog = checker.RecordRun(c) }
		}
		r, err := Run(s, o)
		if err != nil {
			return false, err
		}
		if err := writeOutputs(r, out, lines); err != nil {
			return false, err
		}
		if out.Report != "" {
			if err := writeRunReport(out.Report, s, r, runLog); err != nil {
				return false, &OutputError{"report", err}
			}
		}
		if out.JSON {
			if err := WriteJSON(w, r); err != nil {
				return false, &OutputError{"", err}
			}
		} else {
			writeSummary(w, r)
		}
		ok = ok && r.OK
	}
	return ok, nil
}

// writeOutputs writes the trace and history files a run asked for: the trace's header, then
// its event lines, which went to lines as the run went.
func writeOutputs(r *Result, out Outputs, lines *os.File) error {
	if out.Trace != "" {
		if err := writeFile(out.Trace, func(w io.Writer) error {
			t := r.Cluster.World.Trace()
			if err := t.FlushLines(); err != nil {
				return err
			}
			if _, err := lines.Seek(0, io.SeekStart); err != nil {
				return err
			}
			if err := sim.WriteTraceHeader(w, r.Scenario, r.Seed, t); err != nil {
				return err
			}
			_, err := io.Copy(w, lines)
			return err
		}); err != nil {
			return &OutputError{"trace", err}
		}
	}
	if out.History != "" {
		if err := writeFile(out.History, func(w io.Writer) error {
			if err := r.Cluster.History().WriteJSONLines(w); err != nil {
				return err
			}
			if r.Report == nil {
				return nil
			}
			// What retention and the cleaner removed, so that check judges as the run did.
			return history.WriteRemovals(w, r.Report.Removals())
		}); err != nil {
			return &OutputError{"history", err}
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

// writeRunReport writes a run's HTML report into dir.
func writeRunReport(dir string, s *Scenario, r *Result, runLog *checker.RunLog) error {
	if r.Report == nil {
		return errors.New("the checker did not judge this run")
	}
	p := checker.Page{
		Title:   fmt.Sprintf("%s, seed %d", r.Scenario, r.Seed),
		Replay:  ReplayCommand(r),
		History: r.Cluster.History(),
		Report:  r.Report,
		Run:     true,
	}
	src, err := Source(s)
	if err == nil {
		p.Scenario = string(src)
	}
	if runLog != nil {
		p.Faults, p.Elections, p.Replicas = runLog.Faults(), runLog.Elections(), runLog.Replicas()
		labelFaults(p.Faults, r.Scenario, src)
	}
	return checker.WriteReport(dir, p)
}

// labelFaults names the statement behind each fault: the scenario's fault statements, in
// file order, are matched to the faults, in time order, by verb. The faults left over that
// heal, resume or restart are the finish's.
func labelFaults(faults []checker.Fault, file string, src []byte) {
	type stmt struct{ verb, text string }
	var stmts []stmt
	for i, line := range strings.Split(string(src), "\n") {
		text := strings.TrimSpace(line)
		if verb, _, _ := strings.Cut(text, " "); sim.FaultKindNamed(verb) != nil {
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

// CheckHistory judges the history file at path (JSON lines, as Outputs.History writes it) as
// `kafkasim check` does: it prints the history's summary, the checker's verdict with its
// anomaly counts and (bounded) explanations, and with reportDir writes the HTML report there.
// valid is the verdict. A file that does not read is the os error, or PATH: line N: what is
// wrong; a report that cannot be written is an *OutputError.
func CheckHistory(w io.Writer, path, reportDir string) (valid bool, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return false, err
	}
	h, removals, err := history.ReadWithRemovals(fh)
	fh.Close()
	if err != nil {
		return false, fmt.Errorf("%s: %v", path, err)
	}
	fmt.Fprint(w, h.Summary(path))
	r := checker.Check(h, checker.Config{Idempotent: true, Removals: removals})
	fmt.Fprintf(w, "verdict: %s", r.Verdict)
	if len(r.Counts) > 0 {
		fmt.Fprintf(w, " (%s)", AnomalyList(r.Counts))
	}
	fmt.Fprintln(w)
	WriteFindings(w, r, "  ")
	fmt.Fprintln(w, "note: a history alone: the online invariants need a run and were not checked")
	if reportDir != "" {
		p := checker.Page{Title: path, History: h, Report: r}
		if err := checker.WriteReport(reportDir, p); err != nil {
			return false, &OutputError{"report", err}
		}
		fmt.Fprintf(w, "report: %s\n", filepath.Join(reportDir, checker.ReportFile))
	}
	return r.Verdict == checker.Valid, nil
}
