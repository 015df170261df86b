package checker

import (
	"bytes"
	"cmp"
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
	// A run's elections and each replica's HW and LEO over time (RecordRun); nil for a bare
	// history, whose page says these need a run.
	Elections []Election
	Replicas  []ReplicaSeries
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
	Heading        string // "kafkasim run" for a run, "kafkasim check" for a history file
	Verdict        string
	Summary        string // what happened, in one sentence
	Anomalies      []countRow
	Invariants     []countRow
	Causes         []causeView    // findings grouped by what caused them, the losses first
	Groups         []findingGroup // the findings no cause claims, by anomaly name
	LostRecords    int
	OpsText        string // "14,483 operations"
	ClientsText    string
	PartitionsText string
	Violations     []Violation
	NotLinear      []string // "t/0: illegal"
	LinearOK       int
	Ops            int
	Clients        int
	Partitions     int
	Span           string
	FaultRows      []faultRow
	Timeline       []faultRow // the faults and the elections, in time order
	Charts         []template.HTML
	RecordsChart   template.HTML
	OpsChart       template.HTML
	OpsNote        string
	Viz            template.HTMLAttr // srcdoc="…" of the visualization's iframe
	VizNote        string
	VizLegend      []string // "visualization partition 0 = t/0 (ops 120–340 of 912)"
	VizRows        []string // "row 3 = p1"
	VizDrawnOps    int
	VizFaultsTag   bool
}

// causeView is one cause of findings: an election that lost records, or a partition's
// losses no election explains.
type causeView struct {
	ID      string
	Title   string
	Detail  string
	Records int
	Names   string         // "inconsistent-offsets 30, lost-write 30 and unseen 30"
	Groups  []findingGroup // the listed findings it caused, by anomaly name
}

type countRow struct {
	Name        string
	Count       int
	Unexplained int // counted past ExplainPerName, without an explanation
	Permitted   string
}

// findingGroup is one anomaly name's findings: Count in all, Items the listed ones.
type findingGroup struct {
	Name      string
	Count     int
	Unit      string // what Count counts: "records", "findings"
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
	Kind      string // "fault", "election", "unclean"
	at        time.Duration
}

func writeHTML(w io.Writer, p Page) (viz string, err error) {
	if p.Report == nil {
		return "", errors.New("report: no checker report to render")
	}
	d := pageData{Page: p, Verdict: p.Report.Verdict, Ops: len(p.History), Heading: "kafkasim check"}
	if p.Run {
		d.Heading = "kafkasim run"
	}
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
	d.OpsText, d.ClientsText, d.PartitionsText = records(d.Ops, "operation"), records(d.Clients, "client"), records(d.Partitions, "partition")
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
		d.Anomalies = append(d.Anomalies, countRow{Name: n, Count: p.Report.Counts[n], Unexplained: p.Report.Unexplained[n], Permitted: strings.Join(permits[n], "; ")})
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

	// The findings, grouped by cause: each lost record once, under the election that lost it.
	lost := lostRecords(p.History, p.Report.removed)
	causes := lossCauses(p.History, lost, p.Elections)
	d.LostRecords = len(lost)
	d.Summary = summarize(p, causes)
	views := make([]causeView, len(causes))
	claimed := causeOffsets(causes)
	for i, c := range causes {
		views[i] = causeOf(c, i)
	}
	byName := map[string]int{}
	for _, a := range p.Report.Anomalies {
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
		var g *findingGroup
		if ci := claimed.causeOf(a, byIndex); ci >= 0 {
			v := &views[ci]
			if len(v.Groups) == 0 || v.Groups[len(v.Groups)-1].Name != a.Name {
				n := causes[ci].names()[a.Name]
				unit := "records"
				if n == 0 {
					unit = "findings"
				}
				v.Groups = append(v.Groups, findingGroup{Name: a.Name, Count: n, Unit: unit, Permitted: strings.Join(permits[a.Name], "; ")})
			}
			g = &v.Groups[len(v.Groups)-1]
		} else {
			j, ok := byName[a.Name]
			if !ok {
				j = len(d.Groups)
				byName[a.Name] = j
				d.Groups = append(d.Groups, findingGroup{Name: a.Name, Count: p.Report.Counts[a.Name], Unit: "findings", Permitted: strings.Join(permits[a.Name], "; ")})
			}
			g = &d.Groups[j]
		}
		g.Items = append(g.Items, f)
	}
	for i := range views {
		for j := range views[i].Groups {
			if g := &views[i].Groups[j]; g.Unit == "findings" {
				g.Count = len(g.Items)
			}
		}
	}
	for i := range d.Groups {
		// What the causes took of a name's count, the rest stays here.
		claimedN := 0
		for _, v := range views {
			for _, g := range v.Groups {
				if g.Name == d.Groups[i].Name {
					claimedN += len(g.Items)
				}
			}
		}
		d.Groups[i].Count = max(d.Groups[i].Count-claimedN, len(d.Groups[i].Items))
	}
	d.Causes = views

	for _, f := range p.Faults {
		row := faultRow{At: vtime(f.At), Fault: f.String(), Statement: f.Statement, Kind: "fault", at: f.At}
		d.FaultRows = append(d.FaultRows, row)
		d.Timeline = append(d.Timeline, row)
	}
	for _, e := range p.Elections {
		if e.Epoch > 0 {
			d.Timeline = append(d.Timeline, electionRow(e))
		}
	}
	slices.SortStableFunc(d.Timeline, func(a, b faultRow) int { return cmp.Compare(a.at, b.at) })

	// The charts, on one time axis.
	axis := runAxis(p)
	d.Charts = replicaCharts(p, causes, axis)
	d.RecordsChart = recordsChart(p, lost, axis)
	var drawn, named int
	d.OpsChart, drawn, named = timelineChart(p, axis)
	if drawn < named {
		d.OpsNote = fmt.Sprintf("The first %d of the %d operations the listed findings name are drawn.", drawn, named)
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

// causeOf is a cause as the page tells it.
func causeOf(c *lossCause, i int) causeView {
	v := causeView{ID: fmt.Sprintf("cause-%d", i+1), Records: len(c.records), Names: nameCounts(c.names())}
	lo, hi := c.offsets()
	first, last := c.acked()
	span := ""
	switch {
	case lo >= 0 && lo == hi:
		span = fmt.Sprintf("at offset %d", lo)
	case lo >= 0:
		span = fmt.Sprintf("at offsets %d to %d", lo, hi)
	}
	ack := ""
	switch {
	case first >= 0 && first == last:
		ack = "acknowledged at " + secs(first)
	case first >= 0:
		ack = fmt.Sprintf("acknowledged from %s to %s", secs(first), secs(last))
	}
	if e := c.election; e != nil {
		how := ""
		if e.Unclean {
			how = " uncleanly"
		}
		v.Title = fmt.Sprintf("Broker %d elected leader of %s%s at %s: %s lost", e.Leader, e.TP, how, secs(e.At), records(max(len(c.records), c.missing), "acknowledged record"))
		v.Detail = fmt.Sprintf("Broker %d's log ended at offset %d; %s at or beyond that offset had been acknowledged before the election", e.Leader, e.LEO, records(c.missing, "record"))
		if e.Prev >= 0 {
			v.Detail += fmt.Sprintf(" (broker %d led before)", e.Prev)
		}
		v.Detail += "."
		if len(c.records) > 0 {
			v.Detail += fmt.Sprintf(" The history shows %s of them lost (%s, %s).", thousands(len(c.records)), span, ack)
		} else {
			v.Detail += fmt.Sprintf(" No consumer read %s, so the history cannot show them lost; the online invariants can.", e.TP)
		}
		return v
	}
	v.Title = fmt.Sprintf("%s lost on %s", records(len(c.records), "acknowledged record"), c.tp)
	v.Detail = strings.TrimSpace(fmt.Sprintf("The records %s, %s.", span, ack))
	return v
}

// electionRow is a leader change as the timeline lists it.
func electionRow(e Election) faultRow {
	r := faultRow{At: vtime(e.At), Kind: "election", at: e.At}
	if e.Leader < 0 {
		r.Fault = fmt.Sprintf("%s offline: no leader", e.TP)
		return r
	}
	r.Fault = fmt.Sprintf("broker %d leads %s", e.Leader, e.TP)
	var d []string
	if e.Unclean {
		r.Kind = "unclean"
		d = append(d, "unclean election: the new leader was not in the ISR")
	}
	d = append(d, fmt.Sprintf("leader epoch %d", e.Epoch))
	if e.Prev >= 0 {
		d = append(d, fmt.Sprintf("after broker %d", e.Prev))
	}
	if e.LEO >= 0 {
		d = append(d, fmt.Sprintf("its log ending at offset %d", e.LEO))
	}
	r.Statement = strings.Join(d, "; ")
	return r
}

// runAxis spans the history, the faults and the samples.
func runAxis(p Page) timeAxis {
	a := timeAxis{t0: -1}
	see := func(t time.Duration) {
		if a.t0 < 0 || t < a.t0 {
			a.t0 = t
		}
		a.t1 = max(a.t1, t)
	}
	for i := range p.History {
		see(p.History[i].Invoke)
		see(p.History[i].Complete)
	}
	for _, f := range p.Faults {
		see(f.At)
	}
	for _, s := range p.Replicas {
		if n := len(s.Points); n > 0 {
			see(s.Points[0].At)
			see(s.Points[n-1].At)
		}
	}
	a.t0 = max(a.t0, 0)
	if a.t1 <= a.t0 {
		a.t1 = a.t0 + time.Second
	}
	return a
}
