package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"

	"kafkasim/checker"
)

// The words `kafkasim` prints about runs, in one place: a run's summary line and the checker's
// findings under it, a run as one JSON object (--json), a sweep's totals and the library's
// list. (The checker's findings are worded here rather than in checker because the bounds on
// them, explainPerName and explainLines, are the command's choice of what fits a terminal.)

// SummaryLine is one run in one line: ok or FAILED, scenario, seed, trace hash, simulated
// seconds, events, operations, the faults a nemesis applied (when it applied some), wall time,
// the checker's verdict and its findings by name.
func SummaryLine(r *Result) string {
	status := "ok    "
	if !r.OK {
		status = "FAILED"
	}
	s := fmt.Sprintf("%s %s seed %d  trace %016x  sim %.1fs  events %d  ops %d",
		status, r.Scenario, r.Seed, r.TraceHash, r.SimSeconds, r.Events, r.Ops)
	if len(r.Faults) > 0 {
		s += fmt.Sprintf("  faults %d", len(r.Faults)) // a nemesis's, listed in --json
	}
	s += fmt.Sprintf("  wall %.2fs", r.WallSeconds)
	if r.Verdict != "" {
		s += "  verdict " + r.Verdict
		if len(r.Anomalies) > 0 {
			s += " (" + AnomalyList(r.Anomalies) + ")"
		}
	}
	return s
}

// writeSummary prints a run's summary line and, unless the verdict is valid, the checker's
// explanations (bounded: see WriteFindings). What failed and the command that replays it are
// in the narration just above (Options.Narrate prints both).
func writeSummary(w io.Writer, r *Result) {
	fmt.Fprintln(w, SummaryLine(r))
	if r.Report != nil && r.Verdict != checker.Valid {
		WriteFindings(w, r.Report, "  ")
	}
}

// How many of the checker's explanations run and check print: at most explainPerName per
// anomaly name, explainLines in all; --report DIR has every one.
const (
	explainPerName = 3
	explainLines   = 20
)

// WriteFindings prints the checker's explanations as Report.Text words them, bounded: the
// listed anomalies, the invariant violations and the partitions that are not linearizable.
func WriteFindings(w io.Writer, r *checker.Report, indent string) {
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
	for _, tp := range slices.Sorted(maps.Keys(r.Linearizable)) {
		if v := r.Linearizable[tp]; v != checker.LinOK {
			lines = append(lines, fmt.Sprintf("linearizability %s: %s", tp, v))
		}
	}
	for i, l := range lines {
		if i == explainLines {
			fmt.Fprintf(w, "%s… %d more lines (--report DIR shows every finding)\n", indent, len(lines)-i)
			break
		}
		fmt.Fprintf(w, "%s%s\n", indent, l)
	}
}

// AnomalyList is "name count, ..." in name order.
func AnomalyList(m map[string]int) string {
	names := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return strings.Join(parts, ", ")
}

// runJSON is one run as `--json` prints it, one object per line.
type runJSON struct {
	Scenario     string            `json:"scenario"`
	Seed         uint64            `json:"seed"`
	OK           bool              `json:"ok"`
	Verdict      string            `json:"verdict"`
	Anomalies    map[string]int    `json:"anomalies"`
	Expectations []expectationJSON `json:"expectations"`
	Failure      string            `json:"failure,omitempty"`
	Replay       string            `json:"replay,omitempty"`
	TraceHash    string            `json:"trace_hash"`
	SimSeconds   float64           `json:"sim_seconds"`
	WallSeconds  float64           `json:"wall_seconds"`
	Events       int               `json:"events"`
	Ops          int               `json:"ops"`
	Faults       []faultJSON       `json:"faults,omitempty"` // a nemesis's, as statements (nemesis.go)
}

type expectationJSON struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	OK     bool   `json:"ok"`
	Judged bool   `json:"judged"`
	Got    string `json:"got,omitempty"`
}

// toJSON converts a result; anomalies and expectations are {} and [] when there are none.
func toJSON(r *Result) runJSON {
	j := runJSON{
		Scenario:     r.Scenario,
		Seed:         r.Seed,
		OK:           r.OK,
		Verdict:      r.Verdict,
		Anomalies:    map[string]int{},
		Expectations: []expectationJSON{},
		Failure:      r.Failure,
		TraceHash:    fmt.Sprintf("%016x", r.TraceHash),
		SimSeconds:   r.SimSeconds,
		WallSeconds:  r.WallSeconds,
		Events:       r.Events,
		Ops:          r.Ops,
	}
	maps.Copy(j.Anomalies, r.Anomalies) // encoding/json sorts map keys
	for _, e := range r.Expectations {
		j.Expectations = append(j.Expectations, expectationJSON(e))
	}
	if !r.OK {
		j.Replay = ReplayCommand(r)
	}
	for _, f := range r.Faults {
		j.Faults = append(j.Faults, faultJSON{At: f.At.Seconds(), Statement: f.Statement})
	}
	return j
}

// WriteJSON prints one run as one line of JSON.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w) // one line, newline-terminated
	enc.SetEscapeHTML(false)  // keep "acked p1 >= 10" readable
	return enc.Encode(toJSON(r))
}

// writeSweepTotals prints how many runs of a sweep passed and failed, and for each failure its
// first line and the command that replays it.
func writeSweepTotals(w io.Writer, t SweepTotals, parallel int) {
	fmt.Fprintf(w, "sweep: %d runs, %d passed, %d failed (%.1fs wall, %d in parallel)\n",
		t.Runs, t.Passed, len(t.Failures), t.WallSeconds, parallel)
	for _, r := range t.Failures {
		failure, _, _ := strings.Cut(r.Failure, "\n")
		fmt.Fprintf(w, "FAILED %s seed %d: %s\n  replay: %s\n", r.Scenario, r.Seed, failure, ReplayCommand(r))
	}
}

// WriteLibrary lists the library's scenarios, one a line: the name that runs it
// (`kafkasim run NAME`) and its title.
func WriteLibrary(w io.Writer) error {
	lib := Library()
	names := make([]string, len(lib))
	width := 0
	for i, s := range lib {
		names[i] = strings.TrimSuffix(path.Base(s.File), ".scenario")
		width = max(width, len(names[i]))
	}
	for i, s := range lib {
		if _, err := fmt.Fprintf(w, "%-*s  %s\n", width, names[i], s.Title); err != nil {
			return err
		}
	}
	return nil
}
