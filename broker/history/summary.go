package history

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Summary describes h, called name, in a few lines for people: how many operations, clients
// and partitions, the span of virtual time, the operations of each type by outcome with the
// records they carried, and the partitions by name. `kafkasim check` prints it above the
// checker's verdict.
func (h History) Summary(name string) string {
	type key struct {
		typ     Type
		outcome Outcome
	}
	ops := map[key]int{}
	records := map[key]int{}
	clients := map[string]bool{}
	type partition struct {
		topic string
		index int32
	}
	partitions := map[partition]bool{}
	var first, last int64 = -1, 0
	for _, op := range h {
		k := key{op.Type, op.Outcome}
		ops[k]++
		records[k] += len(op.Values)
		clients[op.Client] = true
		partitions[partition{op.Topic, op.Partition}] = true
		if first < 0 || int64(op.Invoke) < first {
			first = int64(op.Invoke)
		}
		if int64(op.Complete) > last {
			last = int64(op.Complete)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d operations, %d clients, %d partitions", name, len(h), len(clients), len(partitions))
	if len(h) > 0 {
		fmt.Fprintf(&b, ", virtual time %.3fs to %.3fs", float64(first)/1e9, float64(last)/1e9)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  %-5s %8s %8s %8s %10s\n", "type", "ok", "fail", "unknown", "records")
	for _, t := range []Type{Send, Poll} {
		var n int
		for _, o := range []Outcome{OK, Fail, Unknown} {
			n += records[key{t, o}]
		}
		fmt.Fprintf(&b, "  %-5s %8d %8d %8d %10d\n", t, ops[key{t, OK}], ops[key{t, Fail}], ops[key{t, Unknown}], n)
	}
	tps := slices.SortedFunc(maps.Keys(partitions), func(a, b partition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.index, b.index))
	})
	names := make([]string, len(tps))
	for i, p := range tps {
		names[i] = fmt.Sprintf("%s/%d", p.topic, p.index)
	}
	if len(names) > 0 {
		fmt.Fprintf(&b, "  partitions: %s\n", strings.Join(names, " "))
	}
	return b.String()
}
