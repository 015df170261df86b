package chart

import (
	"fmt"
	"strings"
	"time"

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
		tslc.WithXLabelFormatter(func(_ int, v float64) string { return fmt.Sprintf("%.0fs", v/1000) }),
		tslc.WithYLabelFormatter(linechart.DefaultLabelFormatter()),
		tslc.WithXYSteps(2, 2),
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
	// Shade fault periods and build the band.
	band := make([]rune, width)
	for i := range band {
		band[i] = ' '
	}
	origin := ch.Origin().X + 1
	graphW := max(1, width-origin)
	for _, s := range win {
		if !Faulty(s) {
			continue
		}
		ch.SetColumnBackgroundStyle(stamp(s.At), st.Shade)
		frac := float64(s.At-win[0].At) / float64(max(time.Millisecond, last.At-win[0].At))
		x := origin + int(frac*float64(graphW-1))
		if x >= 0 && x < width {
			band[x] = '░'
		}
	}
	title := st.Title.Render(p.Name()+" HW and LEO") + st.Dim.Render(fmt.Sprintf("  last %v · HW = leader's high watermark", Span))
	bandLine := st.Warn.Render(theme.Fit(string(band), width))
	lbl := "faults ░"
	if ansiFree := strings.TrimSpace(string(band)); ansiFree == "" {
		lbl = "no faults"
	}
	bandLine = theme.Fit(st.Dim.Render(lbl)+" "+strings.TrimLeft(bandLine, " "), width)
	if origin > len(lbl)+1 {
		bandLine = st.Dim.Render(theme.Fit(lbl, origin)) + st.Warn.Render(string(band[origin:]))
	}
	return title + "\n" + theme.Block(ch.View(), width, chartH) + "\n" + bandLine
}
