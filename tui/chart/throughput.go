package chart

import (
	"fmt"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/NimbleMarkets/ntcharts/v2/linechart"
	tslc "github.com/NimbleMarkets/ntcharts/v2/linechart/timeserieslinechart"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// rateWindow is the stretch of virtual time a throughput point averages over.
const rateWindow = time.Second

// Throughput draws the records acknowledged (producers) and read (consumers) per second over
// the last Span of virtual time, with the fault periods shaded, in width × height.
func Throughput(hist []*session.Snapshot, st *theme.Styles, width, height int) string {
	if len(hist) < 2 || width < 20 || height < 5 {
		return ""
	}
	last := hist[len(hist)-1]
	from := last.At - Span
	first := 0
	for first < len(hist)-1 && hist[first].At < from {
		first++
	}
	win := hist[first:]
	type series struct {
		name string
		get  func(c session.Client) int64
	}
	var all []series
	for _, c := range last.Clients {
		if c.Producer {
			all = append(all, series{c.Name + " acked/s", func(x session.Client) int64 { return x.Acked }})
		} else {
			all = append(all, series{c.Name + " read/s", func(x session.Client) int64 { return x.Consumed }})
		}
	}
	if len(all) == 0 {
		return ""
	}
	// rate of client i at snapshot k: records over the last rateWindow, per second.
	rate := func(i, k int) float64 {
		j := k
		for j > 0 && hist[k].At-hist[j].At < rateWindow {
			j--
		}
		dt := hist[k].At - hist[j].At
		if dt <= 0 || i >= len(hist[k].Clients) || i >= len(hist[j].Clients) {
			return 0
		}
		return float64(all[i].get(hist[k].Clients[i])-all[i].get(hist[j].Clients[i])) / dt.Seconds()
	}
	top := 1.0
	for k := first; k < len(hist); k++ {
		for i := range all {
			top = max(top, rate(i, k))
		}
	}
	chartH := height - 1
	ch := tslc.New(width, chartH,
		tslc.WithTimeRange(stamp(win[0].At), stamp(max(last.At, win[0].At+time.Millisecond))),
		tslc.WithYRange(0, top*1.1),
		tslc.WithXLabelFormatter(seconds),
		tslc.WithYLabelFormatter(linechart.DefaultLabelFormatter()),
		tslc.WithXYSteps(1, 2),
	)
	palette := []lipgloss.Style{st.Good, st.Leader, st.Warn}
	var names []string
	for i, s := range all {
		ch.SetDataSetStyle(s.name, palette[i%len(palette)])
		names = append(names, s.name)
		for k := first; k < len(hist); k++ {
			ch.PushDataSet(s.name, tslc.TimePoint{Time: stamp(hist[k].At), Value: rate(i, k)})
		}
	}
	ch.DrawBrailleDataSets(names)
	shade(&ch, faultColumns(&ch, hist, first), st)
	legend := ""
	for i, n := range names {
		if i > 0 {
			legend += ", "
		}
		legend += n
	}
	title := st.Title.Render("Throughput") + st.Dim.Render(fmt.Sprintf("  last %v · %s · faults shaded", Span, legend))
	return theme.Fit(title, width) + "\n" + theme.Block(ch.View(), width, chartH)
}
