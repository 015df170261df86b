package scenarios

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"kafkasim/broker/history"
	"kafkasim/sim/cluster"
)

// Comparing: one scenario and seed run under each of several settings (`kafkasim compare FILE
// --set acks=1 --set acks=all`), printed side by side. A setting KEY=V replaces the value of
// KEY wherever the set-up names it (on every producer, consumer, topic, config or protocol
// line); where no line names it, it goes on a config line of its own, as a cluster-wide
// default.

// Setting is one KEY=VALUE of a comparison.
type Setting struct{ Key, Value string }

// ParseSetting reads KEY=VALUE.
func ParseSetting(s string) (Setting, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" || strings.ContainsAny(s, " \t\n") {
		return Setting{}, fmt.Errorf("%q: want KEY=VALUE, e.g. acks=all", s)
	}
	return Setting{k, v}, nil
}

func (st Setting) String() string { return st.Key + "=" + st.Value }

// ParseComparison reads the terminal UI's KEY=V1,V2 (`kafkasim tui FILE --compare acks=1,all`):
// one key, two different values. Its errors name flag.
func ParseComparison(flag, s string) ([]Setting, error) {
	k, vs, ok := strings.Cut(s, "=")
	if !ok || k == "" || strings.ContainsAny(s, " \t\n") {
		return nil, fmt.Errorf("%s %q: want KEY=V1,V2, e.g. %s acks=1,all", flag, s, flag)
	}
	v := strings.Split(vs, ",")
	if len(v) != 2 || v[0] == "" || v[1] == "" {
		return nil, fmt.Errorf("%s %s: want two values separated by a comma, e.g. %s %s=1,all (got %d)", flag, s, flag, k, len(v))
	}
	if v[0] == v[1] {
		return nil, fmt.Errorf("%s %s: the two values are the same; give two different ones", flag, s)
	}
	return []Setting{{k, v[0]}, {k, v[1]}}, nil
}

// Applied is the file's text with the setting applied to its set-up, parsed; an error names
// the flag --set.
func (f *File) Applied(st Setting) (*Scenario, error) { return f.AppliedFor("--set", st) }

// AppliedFor is Applied, an error naming flag (--set, --compare): an unknown key or a value its
// key does not take is the parser's FILE:LINE:COL error, said of the setting.
func (f *File) AppliedFor(flag string, st Setting) (*Scenario, error) {
	s, err := f.Scenario()
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(f.text), "\n")
	re := regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(st.Key) + `=\S+`)
	found := false
	for i := 0; i < s.setupEnd && i < len(lines); i++ {
		code, comment, _ := strings.Cut(lines[i], "#")
		if re.MatchString(code) {
			found = true
			code = re.ReplaceAllString(code, "${1}"+st.String()+" ")
			lines[i] = strings.TrimRight(code, " ")
			if comment != "" {
				lines[i] += " #" + comment
			}
		}
	}
	if !found {
		lines = slices.Insert(lines, s.setupEnd, "config "+st.String())
	}
	out, err := Parse(f.Name, []byte(strings.Join(lines, "\n")))
	var se *Error
	if errors.As(err, &se) {
		cp := *se
		cp.Msg = fmt.Sprintf("%s %s: %s", flag, st, se.Msg)
		return nil, &cp
	}
	return out, err
}

// Side is one setting's run in a comparison.
type Side struct {
	Setting Setting
	Result  *Result
	Acked   int64 // records acknowledged
	Lost    int64 // acknowledged records missing from the log at the end
	Errors  int64 // records failed or timed out
	Latency [3]time.Duration
	// Throughput is the acknowledged records per second of virtual time, from the first
	// acknowledged record's send to the last one's acknowledgement.
	Throughput float64
}

// Compare runs f under each setting with the same seed.
func Compare(f *File, seed uint64, sets []Setting) ([]Side, error) {
	var out []Side
	for _, st := range sets {
		s, err := f.Applied(st)
		if err != nil {
			return nil, err
		}
		r, err := Run(s, Options{Seed: seed})
		if err != nil {
			return nil, err
		}
		side := Side{Setting: st, Result: r}
		var lat []time.Duration
		first, last := time.Duration(-1), time.Duration(0)
		for _, op := range r.Cluster.History() {
			if op.Type != history.Send {
				continue
			}
			switch op.Outcome {
			case history.OK:
				side.Acked += int64(len(op.Values))
				lat = append(lat, op.Complete-op.Invoke)
				if first < 0 || op.Invoke < first {
					first = op.Invoke
				}
				last = max(last, op.Complete)
			default:
				side.Errors += int64(len(op.Values))
			}
		}
		for _, pd := range s.producers {
			if n, ok, _ := lost(r.Cluster, pd.name); ok {
				side.Lost += n
			}
		}
		if last > first && first >= 0 {
			side.Throughput = float64(side.Acked) / (last - first).Seconds()
		}
		slices.Sort(lat)
		if len(lat) > 0 {
			side.Latency = [3]time.Duration{lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]}
		}
		out = append(out, side)
	}
	return out, nil
}

// Lost is how many records producer had acknowledged that the log of their partition's
// leader does not hold now (what `expect lost P` measures); ok is false while a partition it
// wrote to has no running leader.
func Lost(c *cluster.Cluster, producer string) (n int64, ok bool) {
	n, ok, _ = lost(c, producer)
	return n, ok
}

// PrintComparison prints the sides as a table, one column per setting.
func PrintComparison(w io.Writer, file string, seed uint64, sides []Side) error {
	fmt.Fprintf(w, "%s, seed %d\n\n", file, seed)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	row := func(name string, cell func(Side) string) {
		cells := []string{name}
		for _, s := range sides {
			cells = append(cells, cell(s))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	row("", func(s Side) string { return s.Setting.String() })
	row("acked", func(s Side) string { return fmt.Sprint(s.Acked) })
	row("lost", func(s Side) string { return fmt.Sprint(s.Lost) })
	row("errors", func(s Side) string { return fmt.Sprint(s.Errors) })
	row("throughput", func(s Side) string { return fmt.Sprintf("%.0f acked/s", s.Throughput) })
	row("ack latency p50", func(s Side) string { return s.Latency[0].Round(100 * time.Microsecond).String() })
	row("ack latency p99", func(s Side) string { return s.Latency[1].Round(100 * time.Microsecond).String() })
	row("ack latency max", func(s Side) string { return s.Latency[2].Round(100 * time.Microsecond).String() })
	row("verdict", func(s Side) string { return s.Result.Verdict })
	row("anomalies", func(s Side) string {
		var a []string
		for _, k := range slices.Sorted(maps.Keys(s.Result.Anomalies)) {
			a = append(a, fmt.Sprintf("%s %d", k, s.Result.Anomalies[k]))
		}
		if len(a) == 0 {
			return "none"
		}
		return strings.Join(a, ", ")
	})
	row("expectations", func(s Side) string {
		if s.Result.OK {
			return "held"
		}
		return "FAILED"
	})
	row("trace", func(s Side) string { return fmt.Sprintf("%016x", s.Result.TraceHash) })
	return tw.Flush()
}
