package checker

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/history"
)

// Page is what the HTML report shows: a judged history and, for a run, its faults.
type Page struct {
	Title    string          // what was judged: "scenarios/acks1-loss.scenario, seed 3" or a history file
	Replay   string          // the command that replays the run, "" for a bare history
	History  history.History // the judged history
	Report   *Report         // the checker's judgement of History
	Run      bool            // the history comes from a run: Faults are known and the online invariants were checked
	Faults   []Fault         // the run's faults, in time order
	Scenario string          // the scenario's text, "" if none
}

// The report's size limits: the page stays well under 5 MB for any history because the
// visualization shows only the partitions involved in findings, and only a window of
// operations around them.
const (
	vizMaxPartitions = 6       // partitions drawn
	vizMaxOps        = 240     // operations per partition, at most (fewer if the page grows too big)
	vizBudget        = 3 << 20 // bytes the embedded visualization may take
	vizTimeout       = time.Second
	maxShownValues   = 12 // values and offsets listed per operation in the tables
)

// ReportFile is the file WriteReport writes in its directory.
const ReportFile = "index.html"

// WriteReport writes the report page to dir/index.html (creating dir) and porcupine's
// visualization on its own to dir/porcupine.html.
func WriteReport(dir string, p Page) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b bytes.Buffer
	viz, err := writeHTML(&b, p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ReportFile), b.Bytes(), 0o644); err != nil {
		return err
	}
	if viz != "" {
		return os.WriteFile(filepath.Join(dir, "porcupine.html"), []byte(viz), 0o644)
	}
	return nil
}

// WriteHTML writes the report as one self-contained page: inline CSS and JavaScript, nothing
// fetched from the network.
func WriteHTML(w io.Writer, p Page) error {
	_, err := writeHTML(w, p)
	return err
}

//go:embed report.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("report").Parse(pageSource))

// pageData is what the template renders.
type pageData struct {
	Page
	Verdict      string
	Anomalies    []countRow
	Invariants   []countRow
	Groups       []findingGroup
	Violations   []Violation
	NotLinear    []string // "t/0: illegal"
	LinearOK     int
	Ops          int
	Clients      int
	Partitions   int
	Span         string
	FaultRows    []faultRow
	Viz          template.HTMLAttr // srcdoc="…" of the visualization's iframe
	VizNote      string
	VizLegend    []string // "visualization partition 0 = t/0 (ops 120–340 of 912)"
	VizRows      []string // "row 3 = p1"
	VizDrawnOps  int
	VizFaultsTag bool
}

type countRow struct {
	Name      string
	Count     int
	Permitted string
}

// findingGroup is one anomaly name's findings: Count in all, Items the listed ones.
type findingGroup struct {
	Name      string
	Count     int
	Permitted string
	Items     []findingView
}

type findingView struct {
	Explanation string
	Ops         []opRow
}

type opRow struct {
	Index            int
	Client           string
	Type             string
	Partition        string
	Invoke, Complete string
	Outcome          string
	Values, Offsets  string
	Error            string
	Missing          bool // the anomaly names an operation the history does not hold
}

type faultRow struct {
	At        string
	Fault     string
	Statement string
}

func writeHTML(w io.Writer, p Page) (viz string, err error) {
	if p.Report == nil {
		return "", errors.New("report: no checker report to render")
	}
	d := pageData{Page: p, Verdict: p.Report.Verdict, Ops: len(p.History)}
	byIndex := make(map[int]*history.Op, len(p.History))
	clients := map[string]bool{}
	parts := map[tpKey]bool{}
	var first, last time.Duration = -1, 0
	for i := range p.History {
		op := &p.History[i]
		byIndex[op.Index] = op
		clients[op.Client] = true
		parts[keyOf(op)] = true
		if first < 0 || op.Invoke < first {
			first = op.Invoke
		}
		last = max(last, op.Complete)
	}
	d.Clients, d.Partitions = len(clients), len(parts)
	if len(p.History) > 0 {
		d.Span = fmt.Sprintf("%s to %s", vtime(first), vtime(last))
	}

	// Counts: every anomaly name, every invariant, with what permitted them.
	permits := map[string][]string{}
	for _, a := range p.Report.Anomalies {
		if a.Permitted != "" && !slices.Contains(permits[a.Name], a.Permitted) {
			permits[a.Name] = append(permits[a.Name], a.Permitted)
		}
	}
	for _, n := range AnomalyNames {
		d.Anomalies = append(d.Anomalies, countRow{Name: n, Count: p.Report.Counts[n], Permitted: strings.Join(permits[n], "; ")})
	}
	inv := map[string]int{}
	for _, v := range p.Report.Invariants {
		inv[v.Invariant]++
	}
	for _, n := range InvariantNames {
		d.Invariants = append(d.Invariants, countRow{Name: n, Count: inv[n]})
	}
	d.Violations = p.Report.Invariants
	for _, tp := range slices.Sorted(maps.Keys(p.Report.Linearizable)) {
		if v := p.Report.Linearizable[tp]; v == LinOK {
			d.LinearOK++
		} else {
			d.NotLinear = append(d.NotLinear, tp+": "+v)
		}
	}

	// Each anomaly with the operations it names.
	for _, a := range p.Report.Anomalies {
		if len(d.Groups) == 0 || d.Groups[len(d.Groups)-1].Name != a.Name {
			d.Groups = append(d.Groups, findingGroup{Name: a.Name, Count: p.Report.Counts[a.Name], Permitted: strings.Join(permits[a.Name], "; ")})
		}
		g := &d.Groups[len(d.Groups)-1]
		f := findingView{Explanation: a.Explanation}
		for _, i := range a.Ops {
			op := byIndex[i]
			if op == nil {
				f.Ops = append(f.Ops, opRow{Index: i, Missing: true})
				continue
			}
			f.Ops = append(f.Ops, opRow{
				Index: op.Index, Client: op.Client, Type: string(op.Type), Partition: keyOf(op).String(),
				Invoke: vtime(op.Invoke), Complete: vtime(op.Complete), Outcome: string(op.Outcome),
				Values: list(op.Values), Offsets: list(op.Offsets), Error: op.Error,
			})
		}
		g.Items = append(g.Items, f)
	}

	for _, f := range p.Faults {
		d.FaultRows = append(d.FaultRows, faultRow{At: vtime(f.At), Fault: f.String(), Statement: f.Statement})
	}

	// porcupine's visualization of the partitions involved, shrinking its window until it fits.
	vz := newVisualization(p)
	if len(vz.parts) == 0 {
		d.VizNote = "Nothing to draw: no anomaly names an operation and every partition is linearizable."
	} else {
		for n := vizMaxOps; n >= 10; n /= 2 {
			vz.window(n)
			s, err := vz.render()
			if err != nil {
				return "", err
			}
			if len(s) <= vizBudget {
				viz = s
				break
			}
		}
		if viz == "" {
			d.VizNote = "The visualization was left out: even a small window of operations would make the page too big."
		} else {
			d.Viz = template.HTMLAttr(`srcdoc="` + html.EscapeString(viz) + `"`)
			d.VizLegend, d.VizRows, d.VizDrawnOps = vz.legend()
			d.VizFaultsTag = p.Run && len(p.Faults) > 0
			if vz.skipped > 0 {
				d.VizNote = fmt.Sprintf("%d more partitions are involved; only the first %d are drawn.", vz.skipped, vizMaxPartitions)
			}
		}
	}
	return viz, pageTemplate.Execute(w, d)
}

// vtime is a virtual time as people read it: "12.400s".
func vtime(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }

// list renders at most maxShownValues numbers.
func list(v []int64) string {
	if len(v) == 0 {
		return ""
	}
	var b strings.Builder
	for i, x := range v {
		if i == maxShownValues {
			fmt.Fprintf(&b, " … (%d in all)", len(v))
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, x)
	}
	return b.String()
}
