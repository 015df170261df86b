package cluster

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Glyph marks a node's state without colour.
func Glyph(n session.Node) string {
	switch {
	case n.State == "running" && n.Fenced:
		return "⊘"
	case n.State == "running" && n.Active:
		return "★"
	case n.State == "running":
		return "●"
	case n.State == "paused":
		return "‖"
	case n.State == "stopping", n.State == "stopped":
		return "■"
	}
	return "✖"
}

// State is a node's state in words.
func State(n session.Node) string {
	s := n.State
	if n.Fenced {
		s += ", FENCED"
	}
	return s
}

func style(st *theme.Styles, n session.Node) func(...string) string {
	switch {
	case n.Down():
		return st.Bad.Render
	case n.Fenced:
		return st.Warn.Render
	case n.Active:
		return st.Leader.Render
	}
	return st.Good.Render
}

// Render draws the pane in width columns; sel is the selected node's index in snap.Nodes (-1
// none).
func Render(snap *session.Snapshot, st *theme.Styles, width int, sel int) string {
	var b strings.Builder
	active := "none"
	for _, n := range snap.Nodes {
		if n.Active {
			active = n.Name
		}
	}
	title := st.PaneTitle("Cluster", "BROKER", "CONTROLLER") + st.Dim.Render(fmt.Sprintf("  active controller: %s", active))
	if sel >= 0 {
		title += st.Dim.Render("  ◂ j/k select")
	}
	b.WriteString(title + "\n")
	wide := width >= 60
	stores, leads := placement(snap)
	for i, n := range snap.Nodes {
		if n.Controller {
			continue
		}
		cur := "  "
		if i == sel {
			cur = st.Cursor + " "
		}
		line := fmt.Sprintf("%sbroker %-2s %s %-18s epoch %d", cur, n.Name, Glyph(n), State(n), n.Epoch)
		if width >= 72 {
			line += fmt.Sprintf("  stores %d · leads %d", stores[n.ID], leads[n.ID])
		}
		if !wide {
			line = fmt.Sprintf("%sb%-2s %s %-16s e%d", cur, n.Name, Glyph(n), State(n), n.Epoch)
		}
		if i == sel {
			line = st.Selected.Render(line)
		}
		b.WriteString(style(st, n)(line) + "\n")
	}
	var ctl []string
	for i, n := range snap.Nodes {
		if !n.Controller {
			continue
		}
		txt := fmt.Sprintf("%s %s %s", n.Name, Glyph(n), n.State)
		if n.State == "running" {
			txt = fmt.Sprintf("%s %s %s", n.Name, Glyph(n), n.Role)
			if n.Active {
				txt += " (active)"
			}
		}
		if i == sel {
			txt = st.Selected.Render(st.Cursor + txt)
		}
		ctl = append(ctl, style(st, n)(txt))
	}
	// The controllers (ZooKeeper mode: the ensemble) wrap under their label rather than being cut.
	label := "  controllers: "
	if snap.ZooKeeper != nil {
		label = "  zookeeper:   "
	}
	line := label
	for i, c := range ctl {
		if i > 0 && ansi.StringWidth(line)+2+ansi.StringWidth(c) > width {
			b.WriteString(line + "\n")
			line = strings.Repeat(" ", len(label)) + c
			continue
		}
		if i > 0 {
			line += "  "
		}
		line += c
	}
	b.WriteString(line + "\n")
	if len(snap.Network) == 0 {
		b.WriteString(st.Dim.Render("  network: healthy"))
	} else {
		b.WriteString(st.Warn.Render("  network: ⚡ " + strings.Join(snap.Network, "; ")))
	}
	return theme.Block(b.String(), width, strings.Count(b.String(), "\n")+1)
}

// Compact draws the pane in four lines for short screens: the brokers side by side, then the
// controllers and the network; sel as for Render.
func Compact(snap *session.Snapshot, st *theme.Styles, width int, sel int) string {
	full := strings.Split(Render(snap, st, width, sel), "\n")
	var brokers []string
	for i, n := range snap.Nodes {
		if n.Controller {
			continue
		}
		cur := " "
		if i == sel {
			cur = st.Cursor
		}
		txt := fmt.Sprintf("%s%s %s %s e%d", cur, n.Name, Glyph(n), State(n), n.Epoch)
		if i == sel {
			txt = st.Selected.Render(txt)
		}
		brokers = append(brokers, style(st, n)(txt))
	}
	nb := len(brokers)
	out := []string{full[0], theme.Fit(" brokers "+strings.Join(brokers, "  "), width)}
	return strings.Join(append(out, full[1+nb:]...), "\n")
}

// placement counts, per broker, the partitions of the users' topics (internal ones such as
// __consumer_offsets left out) whose assignment names it and those it leads (seed 1.2: which
// partitions each broker stores and leads).
func placement(snap *session.Snapshot) (stores, leads map[int32]int) {
	stores, leads = map[int32]int{}, map[int32]int{}
	for _, p := range snap.Partitions {
		if strings.HasPrefix(p.Topic, "__") {
			continue
		}
		for _, r := range p.Replicas {
			stores[r.Broker]++
		}
		if p.Leader >= 0 {
			leads[p.Leader]++
		}
	}
	return stores, leads
}
