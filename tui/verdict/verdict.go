package verdict

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"kafkasim/broker/history"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Word is the verdict with its glyph: "✓ valid", "✗ INVALID", "? unknown", "… not judged yet".
func Word(v *session.Verdict) string {
	switch v.Verdict {
	case "valid":
		return "✓ valid"
	case "invalid":
		return "✗ INVALID"
	case "unknown":
		return "? unknown"
	}
	return "… not judged yet"
}

// Summary is the verdict in one line: the word, what was found, and what was judged.
func Summary(v *session.Verdict) string {
	s := Word(v)
	if n := v.Total(); n > 0 {
		s += fmt.Sprintf(" · %d found", n)
	}
	if v.Provisional > 0 {
		s += fmt.Sprintf(" · %d unseen so far", v.Provisional)
	}
	if j := v.Judged; j != nil {
		s += fmt.Sprintf(" · judged %.3fs, %d ops", j.At.Seconds(), j.Ops)
	}
	if v.Pending {
		s += " · judging…"
	}
	return s
}

// Render draws the pane in width × height. sel is the selected finding's index in
// v.Findings (clamped); note, if not empty, is a dim line under the title (the screen is
// rewound, say).
func Render(v *session.Verdict, st *theme.Styles, width, height, sel int, note string) string {
	if height < 1 {
		return ""
	}
	var top []string
	word := Word(v)
	wsty := st.Good
	switch v.Verdict {
	case "invalid":
		wsty = st.Bad
	case "unknown", "":
		wsty = st.Warn
	}
	top = append(top, st.Title.Render("Checker")+"  "+wsty.Render(word)+st.Dim.Render(theme.Fit(strings.TrimPrefix(Summary(v), word), max(0, width-10-len([]rune(word))))))
	if note != "" {
		top = append(top, st.Dim.Render(theme.Fit("  "+note, width)))
	}
	top = append(top, theme.Fit("  "+counts(v), width))
	if lin := linearizability(v); lin != "" {
		top = append(top, theme.Fit("  "+lin, width))
	}
	if len(v.Findings) == 0 {
		msg := "  nothing found so far: the online invariants hold after every event"
		if v.Judged != nil {
			msg += ", and the history judged has no anomaly"
		} else {
			msg += "; the history is judged every 5s of virtual time (x: now)"
		}
		for _, l := range theme.Wrap(msg, width-2) {
			top = append(top, "  "+l)
		}
		return theme.Block(strings.Join(top, "\n"), width, height)
	}
	sel = max(0, min(sel, len(v.Findings)-1))
	detail := strings.Split(Detail(v.Findings[sel], st, width), "\n")
	// The list takes what the detail leaves, at least three rows (the detail is cut first).
	listH := max(min(3, len(v.Findings)), min(len(v.Findings), height-len(top)-2-len(detail)))
	listed := fmt.Sprintf("%d listed", len(v.Findings))
	if n := v.Total() + v.Provisional; n > len(v.Findings) {
		listed = fmt.Sprintf("%d listed of %d (the first of each kind)", len(v.Findings), n)
	}
	top = append(top, st.Dim.Render(theme.Fit("  "+listed+" · ↑↓ select · enter: show when it began", width)))
	first := 0
	if sel >= listH {
		first = sel - listH + 1
	}
	for i := first; i < len(v.Findings) && i < first+listH; i++ {
		top = append(top, row(v.Findings[i], st, width, i == sel))
	}
	top = append(top, "")
	return theme.Block(strings.Join(append(top, detail...), "\n"), width, height)
}

// counts is the findings by name: "inconsistent-offsets 3805 · strong-isr 1".
func counts(v *session.Verdict) string {
	names := slices.Sorted(maps.Keys(v.Counts))
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, v.Counts[n]))
	}
	if v.Provisional > 0 {
		parts = append(parts, fmt.Sprintf("unseen %d (recent: a consumer may still read them)", v.Provisional))
	}
	s := fmt.Sprintf("invariants: %d violated", v.Violations)
	if len(parts) > 0 {
		s += " · " + strings.Join(parts, " · ")
	}
	return s
}

// linearizability lists the partitions that are not linearizable (or not proven so).
func linearizability(v *session.Verdict) string {
	if v.Linearizable == nil {
		return ""
	}
	tps := slices.Sorted(maps.Keys(v.Linearizable))
	var bad []string
	for _, tp := range tps {
		if r := v.Linearizable[tp]; r != "ok" {
			bad = append(bad, tp+" "+r)
		}
	}
	if len(bad) == 0 {
		return fmt.Sprintf("linearizability: ok on every partition (%d)", len(tps))
	}
	return "linearizability: " + strings.Join(bad, ", ")
}

// Kind is a finding's kind in a word, with its glyph.
func Kind(f session.Finding) string {
	switch {
	case f.Invariant:
		return "⚠ invariant"
	case f.Provisional:
		return "… so far"
	}
	return "✗ anomaly"
}

func row(f session.Finding, st *theme.Styles, width int, selected bool) string {
	cur := "  "
	if selected {
		cur = st.Cursor + " "
	}
	l := theme.Fit(fmt.Sprintf("%s%9.3fs %-11s %-22s %s", cur, f.At.Seconds(), Kind(f), f.Name, f.Text), width)
	switch {
	case selected:
		return st.Selected.Render(l)
	case f.Provisional:
		return st.Dim.Render(l)
	case f.Invariant:
		return st.Warn.Render(l)
	}
	return st.Bad.Render(l)
}

// Detail draws one finding: its explanation and the operations it names.
func Detail(f session.Finding, st *theme.Styles, width int) string {
	var b strings.Builder
	head := fmt.Sprintf("%s at %.3fs", f.Name, f.At.Seconds())
	if f.Invariant {
		head = fmt.Sprintf("invariant %s failed at %.3fs (after event %d)", f.Name, f.At.Seconds(), f.Event)
	}
	b.WriteString(st.Title.Render(theme.Fit(head, width)) + "\n")
	for _, l := range theme.Wrap(f.Text, width-2) {
		b.WriteString("  " + l + "\n")
	}
	if f.Provisional {
		b.WriteString(st.Dim.Render(theme.Fit("  acknowledged recently: judged for good only when the run ends", width)) + "\n")
	}
	if len(f.Ops) > 0 {
		// Values and offsets share what the fixed columns leave.
		wide := width >= 100
		fixed := 47
		if wide {
			fixed = 59
		}
		rest := max(14, width-fixed)
		valW := rest/2 - 1
		offW := rest - valW - 1
		if wide {
			b.WriteString(st.Dim.Render(theme.Fit(fmt.Sprintf("  %-7s %-4s %-4s %-10s %9s %9s %-7s %-*s %s", "OP", "CLNT", "TYPE", "PARTITION", "INVOKE", "COMPLETE", "OUTCOME", valW, "VALUES", "OFFSETS"), width)) + "\n")
		} else {
			b.WriteString(st.Dim.Render(theme.Fit(fmt.Sprintf("  %-7s %-4s %-4s %-9s %8s %-7s %-*s %s", "OP", "CLNT", "TYPE", "PARTITION", "INVOKE", "OUTCOME", valW, "VALUES", "OFFSETS"), width)) + "\n")
		}
		for _, op := range f.Ops {
			tp := fmt.Sprintf("%s/%d", op.Topic, op.Partition)
			var l string
			if wide {
				l = fmt.Sprintf("  #%-6d %-4s %-4s %-10s %8.3fs %8.3fs %-7s %-*s %s", op.Index, op.Client, op.Type, tp, op.Invoke.Seconds(), op.Complete.Seconds(), outcome(op), valW, list(op.Values, valW), list(op.Offsets, offW))
			} else {
				l = fmt.Sprintf("  #%-6d %-4s %-4s %-9s %7.3fs %-7s %-*s %s", op.Index, op.Client, op.Type, tp, op.Invoke.Seconds(), outcome(op), valW, list(op.Values, valW), list(op.Offsets, offW))
			}
			b.WriteString(theme.Fit(l, width) + "\n")
		}
		b.WriteString(st.Dim.Render(theme.Fit(fmt.Sprintf("  enter: show %.3fs, when the first of these operations began", f.At.Seconds()), width)))
	} else {
		b.WriteString(st.Dim.Render(theme.Fit(fmt.Sprintf("  enter: show %.3fs, right after the event", f.At.Seconds()), width)))
	}
	return strings.TrimRight(b.String(), "\n")
}

func outcome(op history.Op) string {
	if op.Error != "" && op.Outcome != history.OK {
		return string(op.Outcome) + ":" + op.Error
	}
	return string(op.Outcome)
}

// list writes numbers separated by spaces in at most width cells ("4711 4712 …+30").
func list(xs []int64, width int) string {
	if len(xs) == 0 {
		return "-"
	}
	s := ""
	for i, x := range xs {
		next := fmt.Sprint(x)
		if s != "" {
			next = " " + next
		}
		more := ""
		if i < len(xs)-1 {
			more = fmt.Sprintf(" …+%d", len(xs)-1-i)
		}
		if len(s)+len(next)+len(more) > width && s != "" {
			return s + fmt.Sprintf(" …+%d", len(xs)-i)
		}
		s += next
	}
	return s
}
