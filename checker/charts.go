package checker

import (
	"cmp"
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/history"
)

// The report's charts, inline SVG drawn here (no script, nothing fetched): each replica's HW
// and LEO over time, acknowledged records against lost ones, and the operations the findings
// name, each on a time axis with the run's faults and elections marked.

const (
	chartW       = 1000 // the SVG's width in user units (it scales to the page)
	chartLeft    = 64   // room for the y axis labels
	chartRight   = 16
	chartTop     = 62 // room for the title and the fault labels
	markRows     = 3
	chartBottom  = 28 // room for the time axis
	chartParts   = 4  // HW/LEO charts drawn, at most
	chartBuckets = 100
	timelineOps  = 300 // operations the timeline draws, at most
	timelineRows = 16
)

var brokerColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// timeAxis maps virtual time to x.
type timeAxis struct{ t0, t1 time.Duration }

func (a timeAxis) x(t time.Duration) float64 {
	span := max(a.t1-a.t0, time.Millisecond)
	return chartLeft + float64(t-a.t0)/float64(span)*(chartW-chartLeft-chartRight)
}

// svgChart accumulates one chart's SVG.
type svgChart struct {
	b      strings.Builder
	h      int // total height
	axis   timeAxis
	plotH  float64
	title  string
	legend []string // "<color>|<dash>|label"
}

func newChart(title string, axis timeAxis, plotH int) *svgChart {
	return &svgChart{title: title, axis: axis, plotH: float64(plotH), h: plotH + chartTop + chartBottom}
}

func (c *svgChart) y(frac float64) float64 { return chartTop + c.plotH*(1-frac) }

// timeTicks draws the time axis.
func (c *svgChart) timeTicks() {
	step := niceStep((c.axis.t1 - c.axis.t0).Seconds() / 10)
	base := c.y(0)
	fmt.Fprintf(&c.b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999"/>`, chartLeft, base, chartW-chartRight, base)
	for s := math.Ceil(c.axis.t0.Seconds()/step) * step; s <= c.axis.t1.Seconds()+1e-9; s += step {
		x := c.axis.x(time.Duration(s * float64(time.Second)))
		fmt.Fprintf(&c.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/><text x="%.1f" y="%.1f" text-anchor="middle" class="tick">%gs</text>`,
			x, base, x, base+4, x, base+16, s)
	}
}

// valueTicks draws the y axis from 0 to top.
func (c *svgChart) valueTicks(top float64) {
	step := niceStep(top / 4)
	for v := 0.0; v <= top+1e-9; v += step {
		y := c.y(v / top)
		fmt.Fprintf(&c.b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end" class="tick">%s</text>`,
			chartLeft, y, chartW-chartRight, y, chartLeft-4, y+4, thousands(int(v)))
	}
}

// marks draws the faults and elections as vertical lines labelled at the top.
func (c *svgChart) marks(faults []Fault, els []Election, tp string) {
	var rowEnd [markRows]float64 // where each label row's last label ends
	label := func(t time.Duration, text, color, dash, tip string) {
		if t < c.axis.t0 || t > c.axis.t1 {
			return
		}
		x := c.axis.x(t)
		w := 6.2 * float64(len([]rune(text)))
		row := -1
		for r := range rowEnd {
			if rowEnd[r] == 0 || rowEnd[r] < x {
				row = r
				break
			}
		}
		fmt.Fprintf(&c.b, `<g><title>%s</title><line x1="%.1f" y1="%d" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="%s"/>`,
			html.EscapeString(tip), x, chartTop-4, x, c.y(0), color, dash)
		if row >= 0 {
			ly := 30 + float64(row)*11
			anchor, tx := "start", x+2
			if x+w > chartW-chartRight {
				anchor, tx = "end", x-2
			}
			fmt.Fprintf(&c.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%d" stroke="%s" stroke-opacity=".5"/><text x="%.1f" y="%.1f" class="mark" fill="%s" text-anchor="%s">%s</text>`,
				x, ly+1, x, chartTop-4, color, tx, ly, color, anchor, html.EscapeString(text))
			rowEnd[row] = x + w + 6
			if anchor == "end" {
				rowEnd[row] = chartW
			}
		}
		c.b.WriteString(`</g>`)
	}
	for _, f := range faults {
		tip := fmt.Sprintf("%s at %s", f, vtime(f.At))
		if f.Statement != "" {
			tip += "\n" + f.Statement
		}
		label(f.At, f.String(), "#b35900", "4 3", tip)
	}
	for _, e := range els {
		if tp != "" && e.TP != tp || e.Leader < 0 {
			continue
		}
		text := fmt.Sprintf("%d leads", e.Leader)
		color := "#6a3d9a"
		if e.Unclean {
			text, color = text+" (unclean)", "#c62828"
		}
		tip := fmt.Sprintf("broker %d elected leader of %s (epoch %d) at %s", e.Leader, e.TP, e.Epoch, vtime(e.At))
		if e.LEO >= 0 {
			tip += fmt.Sprintf(", its log ending at offset %d", e.LEO)
		}
		label(e.At, text, color, "1 2", tip)
	}
}

func (c *svgChart) svg() template.HTML {
	var b strings.Builder
	lh := 0
	if len(c.legend) > 0 {
		lh = 18
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, c.h+lh, html.EscapeString(c.title))
	b.WriteString(c.b.String())
	x := float64(chartLeft)
	for _, l := range c.legend {
		parts := strings.SplitN(l, "|", 3)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/><text x="%.0f" y="%d" class="tick">%s</text>`,
			x, c.h+8, x+22, c.h+8, parts[0], parts[1], x+26, c.h+12, html.EscapeString(parts[2]))
		x += 34 + 7*float64(len(parts[2]))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// replicaCharts draws HW and LEO per replica for the partitions that lost records first,
// then the others, at most chartParts.
func replicaCharts(p Page, causes []*lossCause, axis timeAxis) []template.HTML {
	var tps []string
	for _, c := range causes {
		if !slices.Contains(tps, c.tp.String()) {
			tps = append(tps, c.tp.String())
		}
	}
	for _, s := range p.Replicas {
		if !slices.Contains(tps, s.TP) {
			tps = append(tps, s.TP)
		}
	}
	var out []template.HTML
	for _, tp := range tps {
		if len(out) == chartParts {
			break
		}
		var series []ReplicaSeries
		top := int64(1)
		for _, s := range p.Replicas {
			if s.TP == tp {
				series = append(series, s)
				for _, pt := range s.Points {
					top = max(top, pt.LEO, pt.HW)
				}
			}
		}
		if len(series) == 0 {
			continue
		}
		c := newChart("HW and LEO of "+tp, axis, 200)
		fmt.Fprintf(&c.b, `<text x="%d" y="%d" class="ctitle">%s</text>`, chartLeft, 16, html.EscapeString(tp))
		c.valueTicks(float64(top))
		c.timeTicks()
		c.marks(p.Faults, p.Elections, tp)
		for i, s := range series {
			color := brokerColors[i%len(brokerColors)]
			c.b.WriteString(stepPath(c, s.Points, float64(top), func(pt ReplicaPoint) int64 { return pt.LEO }, color, ""))
			c.b.WriteString(stepPath(c, s.Points, float64(top), func(pt ReplicaPoint) int64 { return pt.HW }, color, "5 3"))
			c.legend = append(c.legend, fmt.Sprintf("%s||broker %d LEO", color, s.Broker), fmt.Sprintf("%s|5 3|HW", color))
		}
		out = append(out, c.svg())
	}
	return out
}

// stepPath draws one value of a replica as a step line, one point per x unit at most, broken
// where the broker was down (a faint line carries its last value across).
func stepPath(c *svgChart, pts []ReplicaPoint, top float64, val func(ReplicaPoint) int64, color, dash string) string {
	var up, down strings.Builder
	lastX, lastY := -1.0, 0.0
	drawing := false
	for _, pt := range pts {
		v := val(pt)
		if v < 0 {
			drawing = false
			continue
		}
		x, y := math.Round(c.axis.x(pt.At)), c.y(float64(v)/top)
		if !pt.Up {
			if lastX >= 0 && x > lastX {
				fmt.Fprintf(&down, "M%.0f %.1fH%.0f", lastX, lastY, x)
			}
			drawing = false
			lastX, lastY = x, y
			continue
		}
		switch {
		case !drawing:
			fmt.Fprintf(&up, "M%.0f %.1f", x, y)
			drawing = true
		case x == lastX && y == lastY:
		default:
			fmt.Fprintf(&up, "H%.0fV%.1f", x, y)
		}
		lastX, lastY = x, y
	}
	out := ""
	if down.Len() > 0 {
		out += fmt.Sprintf(`<path d="%s" fill="none" stroke="%s" stroke-opacity=".3" stroke-width="1" stroke-dasharray="1 3"/>`, down.String(), color)
	}
	if up.Len() > 0 {
		w := "2"
		if dash != "" {
			w = "1.5"
		}
		out += fmt.Sprintf(`<path d="%s" fill="none" stroke="%s" stroke-width="%s" stroke-dasharray="%s"/>`, up.String(), color, w, dash)
	}
	return out
}

// recordsChart draws acknowledged records over time, the lost ones in red, by when each was
// acknowledged.
func recordsChart(p Page, lost []lostRecord, axis timeAxis) template.HTML {
	kept := make([]int, chartBuckets)
	gone := make([]int, chartBuckets)
	bucket := func(t time.Duration) int {
		span := max(axis.t1-axis.t0, time.Millisecond)
		return min(max(int(float64(t-axis.t0)/float64(span)*chartBuckets), 0), chartBuckets-1)
	}
	total := 0
	for i := range p.History {
		if op := &p.History[i]; op.Type == history.Send && op.Outcome == history.OK {
			kept[bucket(op.Complete)] += len(op.Values)
			total += len(op.Values)
		}
	}
	nlost := 0
	for _, r := range lost {
		if r.acked >= 0 {
			b := bucket(r.acked)
			gone[b]++
			kept[b]--
			nlost++
		}
	}
	if total == 0 {
		return ""
	}
	top := 1
	for i := range kept {
		top = max(top, kept[i]+gone[i])
	}
	c := newChart("acknowledged and lost records", axis, 140)
	fmt.Fprintf(&c.b, `<text x="%d" y="%d" class="ctitle">records acknowledged per %s: %s in all, %s lost</text>`,
		chartLeft, 16, vtime((axis.t1-axis.t0)/chartBuckets), thousands(total), thousands(nlost))
	c.valueTicks(float64(top))
	c.timeTicks()
	c.marks(p.Faults, p.Elections, "")
	bw := float64(chartW-chartLeft-chartRight) / chartBuckets
	labelled := 0
	for i := range kept {
		x := chartLeft + float64(i)*bw
		k, g := max(kept[i], 0), gone[i]
		if k > 0 {
			fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#7fa7d1"><title>%s acknowledged and kept</title></rect>`,
				x, c.y(float64(k+g)/float64(top)), bw-0.5, c.plotH*float64(k)/float64(top), thousands(k))
		}
		if g > 0 {
			h := max(c.plotH*float64(g)/float64(top), 2)
			fmt.Fprintf(&c.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#c62828"><title>%s acknowledged, then lost</title></rect>`,
				x, c.y(float64(g)/float64(top))-h+c.plotH*float64(g)/float64(top), bw-0.5, h, thousands(g))
			if labelled < 6 {
				fmt.Fprintf(&c.b, `<text x="%.1f" y="%.1f" class="lost">%s lost</text>`, x, c.y(float64(k+g)/float64(top))-3, thousands(g))
				labelled++
			}
		}
	}
	c.legend = []string{"#7fa7d1||acknowledged, kept", "#c62828||acknowledged, then lost"}
	return c.svg()
}

// timelineChart draws the operations the listed findings name: one row per client (more
// when its operations overlap), a bar from invocation to completion, time across.
func timelineChart(p Page, axis timeAxis) (template.HTML, int, int) {
	named := map[int][]string{}
	for _, a := range p.Report.Anomalies {
		for _, i := range a.Ops {
			if !slices.Contains(named[i], a.Name) {
				named[i] = append(named[i], a.Name)
			}
		}
	}
	var ops []*history.Op
	for i := range p.History {
		if op := &p.History[i]; named[op.Index] != nil {
			ops = append(ops, op)
		}
	}
	all := len(ops)
	if all == 0 {
		return "", 0, 0
	}
	slices.SortFunc(ops, func(a, b *history.Op) int {
		return cmp.Or(cmp.Compare(a.Invoke, b.Invoke), cmp.Compare(a.Index, b.Index))
	})
	ops = ops[:min(len(ops), timelineOps)]
	// Rows: a client's lanes, each holding operations that do not overlap on the drawing.
	type lane struct {
		client string
		end    float64
	}
	var lanes []lane
	rowOf := make([]int, len(ops))
	for i, op := range ops {
		x0 := axis.x(op.Invoke)
		rowOf[i] = -1
		for j := range lanes {
			if lanes[j].client == op.Client && lanes[j].end < x0 {
				rowOf[i] = j
				break
			}
		}
		if rowOf[i] < 0 {
			lanes = append(lanes, lane{client: op.Client})
			rowOf[i] = len(lanes) - 1
		}
		lanes[rowOf[i]].end = max(axis.x(op.Complete), x0+3) + 1
	}
	// Rows in client order, a client's lanes together; beyond timelineRows lanes share rows.
	order := make([]int, len(lanes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lanes[a].client, lanes[b].client) })
	rowAt := make([]int, len(lanes))
	for r, l := range order {
		rowAt[l] = min(r, timelineRows-1)
	}
	nrows := min(len(lanes), timelineRows)
	const rowH = 18
	c := newChart("operations named by findings", axis, nrows*rowH+4)
	fmt.Fprintf(&c.b, `<text x="%d" y="%d" class="ctitle">the %s the findings name (of %s)</text>`,
		chartLeft, 16, records(len(ops), "operation"), thousands(len(p.History)))
	c.timeTicks()
	c.marks(p.Faults, p.Elections, "")
	for r := 0; r < nrows; r++ {
		if r == 0 || lanes[order[r-1]].client != lanes[order[r]].client {
			fmt.Fprintf(&c.b, `<text x="%d" y="%d" text-anchor="end" class="tick">%s</text>`, chartLeft-4, chartTop+r*rowH+14, html.EscapeString(lanes[order[r]].client))
		}
	}
	for i, op := range ops {
		x0 := axis.x(op.Invoke)
		w := max(axis.x(op.Complete)-x0, 3)
		y := chartTop + rowAt[rowOf[i]]*rowH + 3
		fill := "#888"
		switch {
		case slices.ContainsFunc(named[op.Index], func(n string) bool { return slices.Contains(lossNames, n) }):
			fill = "#c62828"
		case op.Type == history.Poll:
			fill = "#2e7d32"
		case op.Type == history.Send:
			fill = "#1f77b4"
		}
		fmt.Fprintf(&c.b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" rx="2" fill="%s" fill-opacity=".75"><title>%s&#10;%s</title></rect>`,
			x0, y, w, rowH-6, fill, html.EscapeString(describeOp(op)), html.EscapeString(strings.Join(named[op.Index], ", ")))
	}
	c.legend = []string{"#c62828||a loss finding names it", "#1f77b4||send", "#2e7d32||poll"}
	return c.svg(), len(ops), all
}
