package checker

import (
	"fmt"
	"slices"
	"strings"

	"kafkasim/broker/history"
)

// Exactly-once processing (KIP-98, KIP-447): what the history says about each
// consume-transform-produce processor (client.Processor), whose output of an input record is
// the same value on the output topic. A processor is a client that polls in a group and sends;
// the group's inputs are the records of the topics its processors poll, its outputs what they
// send.
const (
	// EosDuplicate: an input's output is among the committed (acknowledged) outputs more than
	// once: the group's offsets and its outputs were not committed atomically.
	EosDuplicate = "eos-duplicate"
	// EosLoss: an input below the group's committed offset, at or above the first offset the
	// group read there, has no output that committed (nor one of unknown outcome, nor one a
	// reader of the output topic returned): the offsets moved past it while its output aborted
	// or was never sent. A processor killed as its transaction commits records no outcome for
	// its outputs: a run that kills processors needs a reader of the output topic.
	EosLoss = "eos-loss"
)

// eosGroup is a processor group: its clients, its input topics and its output sends.
type eosGroup struct {
	clients map[string]bool
	inputs  map[string]bool
	outputs map[string]bool
}

// eosGroups finds the processor groups: every group a client polls in while it also sends.
func (a *analysis) eosGroups() (map[string]*eosGroup, []string) {
	senders := map[string][]string{} // client → the topics it sends to
	var buf history.Op
	for i := range a.h.Len() {
		if op := a.at(i, &buf); op.Type == history.Send && !slices.Contains(senders[op.Client], op.Topic) {
			senders[op.Client] = append(senders[op.Client], op.Topic)
		}
	}
	groups := map[string]*eosGroup{}
	var order []string
	for i := range a.h.Len() {
		op := a.at(i, &buf)
		if op.Type != history.Poll || op.Group == "" || len(senders[op.Client]) == 0 {
			continue
		}
		g := groups[op.Group]
		if g == nil {
			g = &eosGroup{clients: map[string]bool{}, inputs: map[string]bool{}, outputs: map[string]bool{}}
			groups[op.Group] = g
			order = append(order, op.Group)
		}
		g.clients[op.Client] = true
		g.inputs[op.Topic] = true
		for _, t := range senders[op.Client] {
			g.outputs[t] = true
		}
	}
	return groups, order
}

// eosAnomalies: eos-duplicate and eos-loss for every processor group.
func (a *analysis) eosAnomalies() []Anomaly {
	groups, order := a.eosGroups()
	var out []Anomaly
	for _, name := range order {
		out = append(out, a.eosIn(name, groups[name])...)
	}
	return out
}

func (a *analysis) eosIn(name string, g *eosGroup) []Anomaly {
	var buf history.Op
	outputs := map[int64][]int{} // value → the group's acknowledged output sends
	maybe := map[int64]bool{}    // values with an output that committed or may have
	var outOrder []int64
	transactional := false
	committed := map[tpKey]int64{} // the group's highest acknowledged commit
	low := map[tpKey]int64{}       // the first offset the group read
	type input struct {
		k   tpKey
		off int64
		at  int // the op that wrote or read it
	}
	inputs := map[int64]input{}
	var inOrder []int64
	addInput := func(v int64, k tpKey, off int64, i int) {
		if _, ok := inputs[v]; !ok {
			inputs[v] = input{k, off, i}
			inOrder = append(inOrder, v)
		}
	}
	for i := range a.h.Len() {
		op := a.at(i, &buf)
		switch {
		case op.Type == history.Send && g.clients[op.Client] && !g.inputs[op.Topic]:
			if op.Outcome == history.Fail {
				continue
			}
			transactional = transactional || op.Txn != ""
			for _, v := range op.Values {
				maybe[v] = true
				if op.Outcome == history.OK {
					if len(outputs[v]) == 0 {
						outOrder = append(outOrder, v)
					}
					outputs[v] = append(outputs[v], i)
				}
			}
		case op.Type == history.Send && g.inputs[op.Topic] && op.Outcome == history.OK && op.Txn != history.TxnAborted:
			for j, v := range op.Values {
				if j < len(op.Offsets) {
					addInput(v, keyOf(op), op.Offsets[j], i)
				}
			}
		case op.Type == history.Poll && op.Outcome == history.OK && g.outputs[op.Topic] && !g.inputs[op.Topic]:
			// A reader of the output saw it: it committed, even if the processor died before
			// it learnt so (a killed process records no outcome).
			for _, v := range op.Values {
				maybe[v] = true
			}
		case op.Type == history.Poll && op.Outcome == history.OK && g.inputs[op.Topic]:
			k := keyOf(op)
			for j, v := range op.Values {
				addInput(v, k, op.Offsets[j], i)
				if op.Group == name {
					if l, ok := low[k]; !ok || op.Offsets[j] < l {
						low[k] = op.Offsets[j]
					}
				}
			}
		case op.Type == history.Commit && op.Group == name && op.Outcome == history.OK && len(op.Offsets) > 0:
			k := keyOf(op)
			committed[k] = max(committed[k], op.Offsets[0])
		}
	}
	var out []Anomaly
	for _, v := range outOrder {
		is := outputs[v]
		if len(is) < 2 {
			continue
		}
		var who []string
		for _, i := range is {
			who = append(who, a.describe(i))
		}
		why := ""
		if !transactional {
			why = " (its processors have no transactional.id: at-least-once)"
		}
		if a.explain(EosDuplicate) {
			out = append(out, Anomaly{Name: EosDuplicate, Ops: a.ops(is...),
				Explanation: fmt.Sprintf("group %s's output of input %d committed %d times: %s%s", name, v, len(is), strings.Join(who, "; "), why)})
		}
	}
	for _, v := range inOrder {
		in := inputs[v]
		l, read := low[in.k]
		if !read || in.off < l || in.off >= committed[in.k] || maybe[v] {
			continue
		}
		if a.explain(EosLoss) {
			out = append(out, Anomaly{Name: EosLoss, Ops: a.ops(in.at),
				Explanation: fmt.Sprintf("group %s committed offset %d of %s, past input %d at offset %d (%s), whose output never committed", name, committed[in.k], in.k, v, in.off, a.describe(in.at))})
		}
	}
	return out
}

func init() {
	AnomalyNames = append(AnomalyNames, EosDuplicate, EosLoss)
	slices.Sort(AnomalyNames)
}
