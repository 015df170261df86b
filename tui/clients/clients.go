package clients

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Window is the span rates are measured over.
const Window = time.Second

// Rate is records per second of virtual time for client i (acked for a producer, consumed for
// a consumer) over at least the last Window of the history.
func Rate(hist []*session.Snapshot, i int) float64 {
	if len(hist) < 2 {
		return 0
	}
	last := hist[len(hist)-1]
	// The latest snapshot at least Window before the last (snapshots can be far apart when
	// the simulation jumped ahead to the next change).
	first := hist[0]
	for j := len(hist) - 2; j >= 0; j-- {
		if last.At-hist[j].At >= Window {
			first = hist[j]
			break
		}
	}
	dt := (last.At - first.At).Seconds()
	if dt <= 0 || i >= len(first.Clients) || i >= len(last.Clients) {
		return 0
	}
	a, b := first.Clients[i], last.Clients[i]
	if b.Producer {
		return float64(b.Acked-a.Acked) / dt
	}
	return float64(b.Consumed-a.Consumed) / dt
}

// Render draws the clients in width columns from the history up to the snapshot shown; sel is
// the selected client's index in the snapshot's Clients (-1 none: the pane has no focus).
func Render(hist []*session.Snapshot, st *theme.Styles, width int, sel int) string {
	snap := hist[len(hist)-1]
	var b strings.Builder
	title := st.PaneTitle("Clients", "CLIENT")
	if sel >= 0 {
		title += st.Dim.Render("  ◂ j/k select · K kills it")
	}
	b.WriteString(title + "\n")
	for i, c := range snap.Clients {
		var line string
		switch {
		case c.Producer && width >= 100:
			line = fmt.Sprintf("  %-4s producer  acked %8d  failed %5d  unknown %5d  in-flight %5d  %7.0f/s", c.Name, c.Acked, c.Failed, c.Unknown, c.InFlight, Rate(hist, i))
		case c.Producer:
			line = fmt.Sprintf("  %-3s ack %d fail %d unk %d infl %d %.0f/s", c.Name, c.Acked, c.Failed, c.Unknown, c.InFlight, Rate(hist, i))
		default:
			line = fmt.Sprintf("  %-4s consumer  read %8d  %7.0f/s", c.Name, c.Consumed, Rate(hist, i))
		}
		if c.Producer && c.Codec != "" && c.Codec != "none" && c.Ratio > 0 {
			line += fmt.Sprintf("  %s %.1f:1", c.Codec, c.Ratio) // compression.type and its ratio
		}
		if c.Txn != nil {
			line += txnText(c.Txn, width >= 160)
		}
		switch {
		case c.Paused:
			line += "  ‖ paused"
		case !c.Up:
			line += "  ✖ down"
		}
		sty := st.Good
		switch {
		case !c.Up:
			sty = st.Bad
		case c.Txn != nil && c.Txn.State == "FATAL_ERROR":
			sty = st.Bad
		case c.Failed+c.Unknown > 0 || c.Paused:
			sty = st.Warn
		}
		if i == sel {
			line = st.Cursor + line[1:]
			b.WriteString(sty.Render(st.Selected.Render(theme.Fit(line, width))) + "\n")
			continue
		}
		b.WriteString(sty.Render(theme.Fit(line, width)) + "\n")
	}
	for _, c := range snap.Real {
		b.WriteString(realLine(c, st, width) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// txnText is a transactional producer's transaction manager: its state
// (TransactionManager.State), its coordinator and its transactions so far.
func txnText(t *session.Txn, wide bool) string {
	coord := "?"
	if t.Coordinator >= 0 {
		coord = strconv.Itoa(int(t.Coordinator))
	}
	if wide {
		return fmt.Sprintf("  txn %s → coordinator %s · epoch %d · %d committed, %d aborted", t.State, coord, t.Epoch, t.Committed, t.Aborted)
	}
	return fmt.Sprintf(" %s coord %s %d✓ %d✗", t.State, coord, t.Committed, t.Aborted)
}

// realLine is a real client's line (kafkasim --listen): who it is, what it does and how its
// connections stand, so a user finds their own client beside the simulated ones and sees it
// cut off when its broker dies.
func realLine(c session.RealClient, st *theme.Styles, width int) string {
	wide := width >= 100
	line := "  ⇄ " + c.ID
	if wide {
		line = fmt.Sprintf("  ⇄ %-10s %-21s", c.ID, c.Addr)
	}
	var does []string
	if len(c.Produces) > 0 || c.Sent > 0 {
		if wide {
			does = append(does, fmt.Sprintf("produces %s  sent %d  acked %d  errors %d", tps(c.Produces), c.Sent, c.Acked, c.Errors))
		} else {
			does = append(does, fmt.Sprintf("→%s ack %d err %d", tps(c.Produces), c.Acked, c.Errors))
		}
	}
	if len(c.Consumes) > 0 || len(c.Groups) > 0 {
		in := ""
		if len(c.Groups) > 0 {
			in = " in " + strings.Join(c.Groups, ",")
		}
		if wide {
			does = append(does, fmt.Sprintf("consumes %s%s  polled %d", tps(c.Consumes), in, c.Polled))
		} else {
			does = append(does, fmt.Sprintf("←%s%s read %d", tps(c.Consumes), in, c.Polled))
		}
	}
	if len(does) == 0 {
		does = append(does, "connected, idle")
	}
	line += "  " + strings.Join(does, " · ")
	sty := st.Good
	switch {
	case c.Cut:
		line += "  ✖ cut off: its broker went down"
		sty = st.Bad
	case c.Open == 0:
		line += "  closed"
		sty = st.Dim
	case c.Stalled >= 0:
		line += fmt.Sprintf("  ⌛ waits on broker %d", c.Stalled)
		sty = st.Warn
	default:
		line += "  → brokers " + session.Set(c.Brokers)
		if len(c.CutFrom) > 0 {
			line += "  ✖ cut from " + session.Set(c.CutFrom)
		}
		if c.Errors > 0 || len(c.CutFrom) > 0 {
			sty = st.Warn
		}
	}
	return sty.Render(theme.Fit(line, width))
}

// tps names partitions compactly: "demo/0,1,2 other/0".
func tps(ps []protocol.TopicPartition) string {
	var out []string
	for i := 0; i < len(ps); {
		j := i
		var idx []string
		for ; j < len(ps) && ps[j].Topic == ps[i].Topic; j++ {
			idx = append(idx, strconv.Itoa(int(ps[j].Partition)))
		}
		out = append(out, ps[i].Topic+"/"+strings.Join(idx, ","))
		i = j
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, " ")
}

// Height is the lines Render draws.
func Height(snap *session.Snapshot) int { return 1 + len(snap.Clients) + len(snap.Real) }
