package chart

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/NimbleMarkets/ntcharts/v2/canvas"
	"github.com/NimbleMarkets/ntcharts/v2/linechart"
	tslc "github.com/NimbleMarkets/ntcharts/v2/linechart/timeserieslinechart"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Span is the stretch of virtual time the chart shows, ending at the snapshot shown.
const Span = 30 * time.Second

// stamp maps virtual time onto the chart's time axis, which counts whole seconds: one
// "second" of the axis is one millisecond of virtual time.
func stamp(d time.Duration) time.Time { return time.Unix(d.Milliseconds(), 0) }

// Faulty reports whether a fault is in force in a snapshot: a node down or a network fault.
func Faulty(s *session.Snapshot) bool {
	if len(s.Network) > 0 {
		return true
	}
	for _, n := range s.Nodes {
		if n.Down() {
			return true
		}
	}
	return false
}

// Render draws the chart of partition sel in width × height from the history.
func Render(hist []*session.Snapshot, st *theme.Styles, width, height, sel int) string {
	if len(hist) == 0 || sel < 0 || sel >= len(hist[len(hist)-1].Partitions) || width < 20 || height < 5 {
		return ""
	}
	last := hist[len(hist)-1]
	p := last.Partitions[sel]
	from := last.At - Span
	first := 0
	for first < len(hist)-1 && hist[first].At < from {
		first++
	}
	win := hist[first:]
	lo, hi := int64(-1), int64(0)
	for _, s := range win {
		if sel >= len(s.Partitions) {
			continue
		}
		for _, r := range s.Partitions[sel].Replicas {
			if lo < 0 || r.HW < lo {
				lo = r.HW
			}
			hi = max(hi, r.LEO)
		}
	}
	if lo < 0 {
		lo = 0
	}
	if hi <= lo {
		hi = lo + 1
	}
	chartH := height - 2 // title and fault band
	ch := tslc.New(width, chartH,
		tslc.WithTimeRange(stamp(win[0].At), stamp(max(last.At, win[0].At+time.Millisecond))),
		tslc.WithYRange(float64(lo), float64(hi)),
		tslc.WithXLabelFormatter(seconds),
		tslc.WithYLabelFormatter(padded),
		tslc.WithXYSteps(1, 2),
	)
	names := []string{}
	for _, r := range p.Replicas {
		n := fmt.Sprintf("LEO %d", r.Broker)
		names = append(names, n)
		ch.SetDataSetStyle(n, st.Good)
	}
	ch.SetDataSetStyle("HW", st.Leader)
	names = append(names, "HW")
	for _, s := range win {
		if sel >= len(s.Partitions) {
			continue
		}
		sp := s.Partitions[sel]
		for _, r := range sp.Replicas {
			if r.Up {
				ch.PushDataSet(fmt.Sprintf("LEO %d", r.Broker), tslc.TimePoint{Time: stamp(s.At), Value: float64(r.LEO)})
			}
		}
		if l := sp.LeaderReplica(); l != nil && l.Up {
			ch.PushDataSet("HW", tslc.TimePoint{Time: stamp(s.At), Value: float64(l.HW)})
		}
	}
	ch.DrawBrailleDataSets(names)
	cols := faultColumns(&ch, hist, first)
	shade(&ch, cols, st)
	// The band under the graph marks the same columns (visible without colour); its label
	// stands in the y axis' margin.
	band := []rune(strings.Repeat(" ", width))
	x0 := graphX(&ch)
	for c, on := range cols {
		if on && x0+c < width {
			band[x0+c] = '░'
		}
	}
	lbl := "faults"
	if !slices.Contains(cols, true) {
		lbl = "no faults"
	}
	bandLine := st.Dim.Render(theme.Fit(lbl, x0)) + st.Warn.Render(string(band[x0:]))
	if len([]rune(lbl)) > x0 {
		bandLine = st.Warn.Render(string(band))
	}
	title := st.Title.Render(p.Name()+" HW and LEO") + st.Dim.Render(fmt.Sprintf("  last %v · HW: the leader's · ░ fault", Span))
	return theme.Fit(title, width) + "\n" + theme.Block(ch.View(), width, chartH) + "\n" + theme.Fit(bandLine, width)
}

// seconds labels the time axis in whole seconds, rounded down: a label stands where its second
// begins (rounded, "9s" stood half a second early).
func seconds(_ int, v float64) string { return fmt.Sprintf("%ds", int64(v)/1000) }

// padded writes the y axis' labels at least 6 cells wide, so that the band's label ("faults")
// fits in the margin and the band lines up with the graph above it.
func padded(i int, v float64) string {
	return fmt.Sprintf("%6s", linechart.DefaultLabelFormatter()(i, v))
}

// graphX is the screen column of the chart's first graph column (right of the y axis).
func graphX(ch *tslc.Model) int {
	x := ch.Origin().X
	if ch.YStep() > 0 {
		x++
	}
	return x
}

// faultColumns says, for each column of the chart's graph, whether a fault was in force at any
// instant of the stretch of virtual time it covers. A snapshot's state holds until the next
// snapshot (one is taken right after every fault), so a fault shades from its own instant.
func faultColumns(ch *tslc.Model, hist []*session.Snapshot, first int) []bool {
	gw := max(1, ch.GraphWidth())
	cols := make([]bool, gw)
	lo, hi := ch.ViewMinX(), ch.ViewMaxX() // axis units: one per millisecond (stamp)
	if hi <= lo {
		return cols
	}
	col := func(ms float64) int { return max(0, min(gw-1, int((ms-lo)/(hi-lo)*float64(gw)))) }
	for k := max(0, first-1); k < len(hist); k++ {
		if !Faulty(hist[k]) {
			continue
		}
		from := float64(hist[k].At.Milliseconds())
		to := from
		if k+1 < len(hist) {
			to = float64(hist[k+1].At.Milliseconds())
		}
		if to < lo || from > hi {
			continue
		}
		for c := col(from); c <= col(max(from, to-0.5)); c++ { // [from, to): to is the next state's
			cols[c] = true
		}
	}
	return cols
}

// shade gives the fault columns the Shade background, over the graph's height.
func shade(ch *tslc.Model, cols []bool, st *theme.Styles) {
	x0 := graphX(ch)
	for c, on := range cols {
		if !on {
			continue
		}
		for y := range ch.Origin().Y {
			p := canvas.Point{X: x0 + c, Y: y}
			ch.Canvas.SetCellStyle(p, ch.Canvas.Cell(p).Style.Background(st.Shade.GetBackground()))
		}
	}
}
