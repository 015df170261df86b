package checker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kafkasim/broker/history"
)

// The checker's findings are pinned on a corpus of histories too large to keep in the
// repository: every history the checker's own tests judge (their Check calls, dumped with
// their Config as FILE.hist: the Config as JSON on the first line, then the history) and the
// library scenarios' histories (`kafkasim run FILE --seed N --history FILE.jsonl`, judged with
// Config{Idempotent: true}). With KAFKASIM_GOLDEN=DIR, each history's full findings (verdict,
// counts, every listed anomaly with its operations and explanation, linearizability per
// partition, and the report's lost records) are written next to it as .golden the first time
// and compared with that file after: record them with one version of the checker, compare
// another.
//
//	KAFKASIM_GOLDEN=/tmp/hists go test ./checker -run GoldenFindings -v
func TestGoldenFindings(t *testing.T) {
	dir := os.Getenv("KAFKASIM_GOLDEN")
	if dir == "" {
		t.Skip("KAFKASIM_GOLDEN=DIR compares the findings on DIR's histories with DIR's .golden files")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.hist"))
	lib, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	files = append(files, lib...)
	slices.Sort(files)
	if len(files) == 0 {
		t.Fatalf("no .hist or .jsonl files in %s", dir)
	}
	recorded, compared := 0, 0
	for _, f := range files {
		h, cfg, err := readGoldenHistory(f)
		if err != nil {
			t.Logf("%s: skipped: %v", f, err) // a hand-made history the reader refuses
			continue
		}
		got := findingsDump(h, cfg)
		golden := strings.TrimSuffix(strings.TrimSuffix(f, ".hist"), ".jsonl") + ".golden"
		want, err := os.ReadFile(golden)
		if os.IsNotExist(err) {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			recorded++
			continue
		}
		compared++
		if string(want) != got {
			t.Errorf("%s: findings differ from %s:\n%s", f, golden, firstDifference(string(want), got))
		}
	}
	t.Logf("%d histories: %d compared, %d recorded", len(files), compared, recorded)
}

func readGoldenHistory(path string) (history.History, Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Config{}, err
	}
	cfg := Config{Idempotent: true}
	if strings.HasSuffix(path, ".hist") {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		if err := json.Unmarshal(line, &cfg); err != nil {
			return nil, cfg, err
		}
		b = rest
	}
	h, err := history.ReadJSONLines(bufio.NewReader(bytes.NewReader(b)))
	return h, cfg, err
}

// findingsDump renders everything the checker concludes from a history, one fact a line.
func findingsDump(h history.History, cfg Config) string {
	r := Check(h, cfg)
	var b strings.Builder
	fmt.Fprintf(&b, "verdict %s\n", r.Verdict)
	for _, n := range slices.Sorted(maps.Keys(r.Counts)) {
		fmt.Fprintf(&b, "count %s %d\n", n, r.Counts[n])
	}
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, "anomaly %s ops %v permitted %q: %s\n", a.Name, a.Ops, a.Permitted, a.Explanation)
	}
	for _, tp := range slices.Sorted(maps.Keys(r.Linearizable)) {
		fmt.Fprintf(&b, "linearizable %s %s\n", tp, r.Linearizable[tp])
	}
	for _, l := range lostRecords(h, nil) {
		fmt.Fprintf(&b, "lost %s value %d offset %d acked %d %v\n", l.tp, l.value, l.offset, l.acked, l.names)
	}
	return b.String()
}

func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant %s\n got %s", i+1, wl, gl)
		}
	}
	return "(same lines)"
}
