package scenarios

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// checkJSON is `kafkasim check FILE --json`: the verdict and the anomaly counts.
func checkJSON(t *testing.T, path string) (string, map[string]int) {
	t.Helper()
	var out bytes.Buffer
	if _, err := CheckHistoryAs(&out, path, "", true); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Verdict   string         `json:"verdict"`
		Anomalies map[string]int `json:"anomalies"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("check --json printed %q: %v", out.String(), err)
	}
	return got.Verdict, got.Anomalies
}

// A saved history carries what the run saw retention and the log cleaner remove
// (UnifiedLog.deleteOldSegments moving the log start; LogCleaner removing superseded records,
// from inside batches too), so `kafkasim check HISTORY` gives the run's verdict. Without those
// lines the same history reads as thousands of lost writes: the records nobody read before
// they were deleted.
func TestCheckOfASavedHistoryKnowsRetentionAndCompaction(t *testing.T) {
	for _, path := range []string{"testdata/retention-late-reader.scenario", "compaction-cleans-inside-batches.scenario", "compaction-tombstones.scenario"} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f := LibraryFile(path)
			if strings.HasPrefix(path, "testdata/") {
				var err error
				if f, err = Open(path); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			hist := filepath.Join(dir, "h.jsonl")
			var out bytes.Buffer
			if _, err := RunFiles(&out, []*File{f}, 1, Outputs{JSON: true, History: hist}); err != nil {
				t.Fatal(err)
			}
			var run struct {
				Verdict   string         `json:"verdict"`
				Anomalies map[string]int `json:"anomalies"`
			}
			if err := json.Unmarshal(out.Bytes(), &run); err != nil {
				t.Fatal(err)
			}
			verdict, anomalies := checkJSON(t, hist)
			if verdict != run.Verdict || !reflect.DeepEqual(anomalies, run.Anomalies) {
				t.Fatalf("check of the saved history: %s %v; the run: %s %v", verdict, anomalies, run.Verdict, run.Anomalies)
			}
			if run.Verdict != "valid" {
				t.Fatalf("the run's verdict is %s; want valid", run.Verdict)
			}
			// The removal lines are what makes the difference.
			text, err := os.ReadFile(hist)
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			removals := 0
			for _, line := range strings.SplitAfter(string(text), "\n") {
				if strings.HasPrefix(line, `{"removal"`) {
					removals++
					continue
				}
				ops = append(ops, line)
			}
			bare := filepath.Join(dir, "bare.jsonl")
			if err := os.WriteFile(bare, []byte(strings.Join(ops, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			if v, a := checkJSON(t, bare); removals == 0 || v != "invalid" || a["lost-write"] == 0 {
				t.Fatalf("without its %d removal lines the history reads %s %v; want lost writes", removals, v, a)
			}
		})
	}
}

// A removal line that does not read is an error naming its line, as an operation's is.
func TestCheckRefusesABadRemovalLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	text := `{"index":0,"client":"p1","type":"send","topic":"t","partition":0,"values":[1],"offsets":[0],"invoke":1,"complete":2,"outcome":"ok"}
{"removal":"shredder","topic":"t","partition":0,"start":5}
`
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := CheckHistoryAs(io.Discard, path, "", true)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "shredder") {
		t.Fatalf("got %v; want an error naming line 2 and the unknown removal", err)
	}
}
