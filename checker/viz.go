package checker

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"kafkasim/broker/history"
)

// The report's visualization model: a window of one partition's operations, sends and polls
// both, for porcupine to draw (the checker's own model folds polls into sends, which is fast
// but hides them). The state is the log end offset, -1 before the window's first send. A
// send that returned offsets o… is legal when the log ends at or below them and leaves it
// ending after the last; a poll is legal once every send of the window at an offset it read
// is linearized, and never if it read a value other than the one a window send put there.
// A window is cut out of a longer history, so sends outside it constrain nothing: the drawing
// illustrates; the verdict is the checker's.

type vizKind uint8

const (
	vizSend vizKind = iota
	vizPoll
)

type vizInput struct {
	part int // index into visualization.parts
	kind vizKind
	offs []int64
	vals []int64
	need int64 // poll: the log must end after this offset (-1: nothing)
	bad  bool  // poll: read a value no window send put at its offset
	mark string
}

var vizModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		var out [][]porcupine.Operation
		for _, op := range ops {
			p := op.Input.(*vizInput).part
			for len(out) <= p {
				out = append(out, nil)
			}
			out[p] = append(out[p], op)
		}
		return slices.DeleteFunc(out, func(ops []porcupine.Operation) bool { return len(ops) == 0 })
	},
	Init: func() any { return int64(-1) },
	Step: func(state, input, _ any) (bool, any) {
		n := state.(int64)
		in := input.(*vizInput)
		if in.kind == vizPoll {
			return !in.bad && n > in.need, n
		}
		return appendAt(n, in.offs)
	},
	Equal: func(a, b any) bool { return a.(int64) == b.(int64) },
	Hash:  func(s any) uint64 { return uint64(s.(int64)) },
	DescribeOperation: func(input, _ any) string {
		in := input.(*vizInput)
		var s string
		if in.kind == vizSend {
			s = fmt.Sprintf("send %s → %s", short(in.vals), short(in.offs))
		} else {
			s = fmt.Sprintf("poll %s", short(in.offs))
		}
		if in.mark != "" {
			s = "⚠ " + in.mark + ": " + s
		}
		return s
	},
	DescribeOperationMetadata: func(m any) string {
		s, _ := m.(string)
		return s
	},
	DescribeState: func(s any) string {
		if n := s.(int64); n >= 0 {
			return fmt.Sprintf("log end %d", n)
		}
		return "log end ?"
	},
}

// short is a list of offsets or values in a few characters: "912", "900..919 (20)".
func short(v []int64) string {
	switch len(v) {
	case 0:
		return "[]"
	case 1:
		return fmt.Sprint(v[0])
	case 2:
		return fmt.Sprintf("%d %d", v[0], v[1])
	}
	return fmt.Sprintf("%d..%d (%d)", v[0], v[len(v)-1], len(v))
}

// visualization is what the report draws: the partitions involved in findings.
type visualization struct {
	p       Page
	parts   []*vizPart
	skipped int // involved partitions not drawn
	drawn   []int
	rows    []string
}

type vizPart struct {
	key   tpKey
	all   []*history.Op // the partition's operations worth drawing, by invoke time
	focus []int         // positions in all of operations named by findings
	marks map[int]string
	shown []*history.Op
}

// newVisualization picks the partitions involved: those of operations named by anomalies,
// and those not linearizable.
func newVisualization(p Page) *visualization {
	v := &visualization{p: p}
	involved := map[string]bool{}
	named := map[int][]string{}
	for _, a := range p.Report.Anomalies {
		for _, i := range a.Ops {
			if !slices.Contains(named[i], a.Name) {
				named[i] = append(named[i], a.Name)
			}
		}
	}
	for i := range p.History {
		if named[p.History[i].Index] != nil {
			involved[keyOf(&p.History[i]).String()] = true
		}
	}
	for tp, r := range p.Report.Linearizable {
		if r != LinOK {
			involved[tp] = true
		}
	}
	byKey := map[string]*vizPart{}
	for i := range p.History {
		op := &p.History[i]
		k := keyOf(op)
		if !involved[k.String()] || op.Partition < 0 {
			continue
		}
		vp := byKey[k.String()]
		if vp == nil {
			vp = &vizPart{key: k, marks: map[int]string{}}
			byKey[k.String()] = vp
			v.parts = append(v.parts, vp)
		}
		// Empty polls say nothing a drawing could show.
		if op.Type == history.Poll && op.Outcome == history.OK && len(op.Offsets) == 0 && named[op.Index] == nil {
			continue
		}
		vp.all = append(vp.all, op)
	}
	slices.SortFunc(v.parts, func(a, b *vizPart) int { return compareTP(a.key, b.key) })
	if len(v.parts) > vizMaxPartitions {
		v.skipped = len(v.parts) - vizMaxPartitions
		v.parts = v.parts[:vizMaxPartitions]
	}
	for _, vp := range v.parts {
		slices.SortStableFunc(vp.all, func(a, b *history.Op) int {
			return cmp.Or(cmp.Compare(a.Invoke, b.Invoke), cmp.Compare(a.Index, b.Index))
		})
		for i, op := range vp.all {
			if n := named[op.Index]; n != nil {
				vp.focus = append(vp.focus, i)
				vp.marks[op.Index] = strings.Join(n, ", ")
			}
		}
	}
	return v
}

// window keeps, per partition, the n operations nearest (in invoke order) to those named by
// findings; a partition with none (not linearizable, no anomaly) keeps its first n.
func (v *visualization) window(n int) {
	for _, vp := range v.parts {
		dist := make([]int, len(vp.all))
		for i := range dist {
			dist[i] = i // no focus: the first n
		}
		if len(vp.focus) > 0 {
			for i := range dist {
				dist[i] = len(dist)
			}
			for _, f := range vp.focus {
				dist[f] = 0
			}
			for i := 1; i < len(dist); i++ {
				dist[i] = min(dist[i], dist[i-1]+1)
			}
			for i := len(dist) - 2; i >= 0; i-- {
				dist[i] = min(dist[i], dist[i+1]+1)
			}
		}
		pos := make([]int, len(vp.all))
		for i := range pos {
			pos[i] = i
		}
		slices.SortStableFunc(pos, func(a, b int) int { return cmp.Compare(dist[a], dist[b]) })
		pos = pos[:min(n, len(pos))]
		slices.Sort(pos)
		vp.shown = vp.shown[:0]
		for _, i := range pos {
			vp.shown = append(vp.shown, vp.all[i])
		}
	}
}

// render checks the window with porcupine and returns its visualization page, with the
// run's faults and the findings as annotations.
func (v *visualization) render() (string, error) {
	v.rows = v.rows[:0]
	v.drawn = v.drawn[:0]
	var ops []porcupine.Operation
	var notes []porcupine.Annotation
	start, end := time.Duration(-1), time.Duration(0)
	for pi, vp := range v.parts {
		// One row per client and lane: a producer keeps several sends in flight.
		lanes := map[string][]time.Duration{} // client → each lane's last completion
		laneRow := map[string][]int{}
		clientsOf := []string{}
		for _, op := range vp.shown {
			if _, ok := lanes[op.Client]; !ok {
				lanes[op.Client] = nil
				clientsOf = append(clientsOf, op.Client)
			}
		}
		slices.Sort(clientsOf)
		rowOf := func(op *history.Op) int {
			ls := lanes[op.Client]
			for i, last := range ls {
				if last < op.Invoke {
					ls[i] = op.Complete
					return laneRow[op.Client][i]
				}
			}
			lanes[op.Client] = append(ls, op.Complete)
			laneRow[op.Client] = append(laneRow[op.Client], len(v.rows))
			v.rows = append(v.rows, fmt.Sprintf("%s %s", vp.key, op.Client))
			return len(v.rows) - 1
		}
		// Allocate rows client by client so that a client's lanes sit together.
		for _, c := range clientsOf {
			for _, op := range vp.shown {
				if op.Client == c {
					rowOf(op)
				}
			}
		}
		for _, c := range clientsOf {
			for i := range lanes[c] {
				lanes[c][i] = -1
			}
		}
		known := map[int64]int64{} // offset → value, from the window's acknowledged sends
		seen := map[int64]int64{}  // value → first offset a window poll returned it at
		var wend time.Duration
		for _, op := range vp.shown {
			wend = max(wend, op.Complete)
			if start < 0 || op.Invoke < start {
				start = op.Invoke
			}
			switch {
			case op.Type == history.Send && op.Outcome == history.OK && len(op.Offsets) == len(op.Values):
				for j, o := range op.Offsets {
					known[o] = op.Values[j]
				}
			case op.Type == history.Poll && op.Outcome == history.OK && len(op.Offsets) == len(op.Values):
				for j, o := range op.Offsets {
					if _, ok := seen[op.Values[j]]; !ok {
						seen[op.Values[j]] = o
					}
				}
			}
		}
		end = max(end, wend)
		drawn := 0
		for _, op := range vp.shown {
			row := rowOf(op)
			in := &vizInput{part: pi, mark: vp.marks[op.Index], need: -1}
			ret := op.Complete
			modelled := false
			switch {
			case op.Type == history.Send && op.Outcome == history.OK && len(op.Offsets) == len(op.Values) && len(op.Values) > 0:
				in.kind, in.offs, in.vals, modelled = vizSend, op.Offsets, op.Values, true
			case op.Type == history.Send && op.Outcome != history.Fail && len(op.Values) > 0:
				// Acknowledged without offsets, or unknown: where a window poll saw it, if any.
				in.kind, in.vals, modelled = vizSend, op.Values, true
				for _, val := range op.Values {
					o, ok := seen[val]
					if !ok {
						modelled = false
						break
					}
					in.offs = append(in.offs, o)
				}
				ret = wend
			case op.Type == history.Poll && op.Outcome == history.OK && len(op.Offsets) == len(op.Values) && len(op.Offsets) > 0:
				in.kind, in.offs, in.vals, modelled = vizPoll, op.Offsets, op.Values, true
				for j, o := range op.Offsets {
					if val, ok := known[o]; ok {
						in.need = max(in.need, o)
						if val != op.Values[j] {
							in.bad = true
						}
					}
				}
			}
			meta := html.EscapeString(describeOp(op))
			if !modelled {
				desc := fmt.Sprintf("%s %s %s", op.Type, short(op.Values), op.Outcome)
				if in.mark != "" {
					desc = "⚠ " + in.mark + ": " + desc
				}
				notes = append(notes, porcupine.Annotation{ClientId: row, Start: int64(op.Invoke), End: int64(op.Complete),
					Description: desc, Details: meta, BackgroundColor: "#eeeeee"})
				continue
			}
			drawn++
			ops = append(ops, porcupine.Operation{ClientId: row, Input: in, Call: int64(op.Invoke), Return: int64(max(ret, op.Invoke)), Metadata: meta})
			if in.mark != "" {
				notes = append(notes, porcupine.Annotation{Tag: "anomalies", Start: int64(op.Complete),
					Description: in.mark, Details: meta, BackgroundColor: "#ffd0d0"})
			}
		}
		if drawn > 0 {
			v.drawn = append(v.drawn, pi)
		}
	}
	notes = append(notes, v.faultNotes(start, end)...)
	_, info := porcupine.CheckOperationsVerbose(vizModel, ops, vizTimeout)
	info.AddAnnotations(notes)
	var b bytes.Buffer
	if err := porcupine.Visualize(vizModel, info, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// faultNotes marks the run's faults inside [start, end], and the last one before and the
// first one after, which set the scene.
func (v *visualization) faultNotes(start, end time.Duration) []porcupine.Annotation {
	var out []porcupine.Annotation
	fs := v.p.Faults
	for i, f := range fs {
		inside := f.At >= start && f.At <= end
		before := f.At < start && (i+1 == len(fs) || fs[i+1].At >= start)
		after := f.At > end && (i == 0 || fs[i-1].At <= end)
		if !inside && !before && !after {
			continue
		}
		details := html.EscapeString(fmt.Sprintf("%s at %s", f, vtime(f.At)))
		if f.Statement != "" {
			details += "<br>" + html.EscapeString(f.Statement)
		}
		out = append(out, porcupine.Annotation{Tag: "faults", Start: int64(f.At), Description: f.String(),
			Details: details, BackgroundColor: "#ffe08a"})
	}
	return out
}

// legend says which partition of the drawing is which, and what each row is.
func (v *visualization) legend() (parts, rows []string, ops int) {
	for i, pi := range v.drawn {
		vp := v.parts[pi]
		ops += len(vp.shown)
		s := fmt.Sprintf("drawing partition %d = %s: %d of its %d operations", i, vp.key, len(vp.shown), len(vp.all))
		if len(vp.shown) > 0 {
			s += fmt.Sprintf(", %s to %s", vtime(vp.shown[0].Invoke), vtime(vp.shown[len(vp.shown)-1].Complete))
		}
		parts = append(parts, s)
	}
	for i, r := range v.rows {
		rows = append(rows, fmt.Sprintf("%d = %s", i, r))
	}
	return parts, rows, ops
}

// describeOp is an operation in full, for tooltips.
func describeOp(op *history.Op) string {
	s := fmt.Sprintf("#%d %s %s %s/%d %s→%s %s", op.Index, op.Client, op.Type, op.Topic, op.Partition,
		vtime(op.Invoke), vtime(op.Complete), op.Outcome)
	if len(op.Values) > 0 {
		s += " values " + list(op.Values)
	}
	if len(op.Offsets) > 0 {
		s += " offsets " + list(op.Offsets)
	}
	if op.Error != "" {
		s += " (" + op.Error + ")"
	}
	return s
}
