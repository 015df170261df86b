package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"kafkasim/broker/history"
	"kafkasim/checker"
)

// Conventions of the command line a new user expects: the nearest library names for a name
// that is neither a file nor a library scenario, check --json, an empty history refused, a
// scenario file given to check recognised.

// notFound is the error for a path that is neither a file nor a library scenario: the os
// error, with the library's nearest names when some are near, else a pointer to the list.
func notFound(path string, err error) error {
	near := NearestNames(path, 3)
	if len(near) == 0 {
		return fmt.Errorf("%w (no library scenario has a near name either; kafkasim list shows them all)", err)
	}
	return fmt.Errorf("%w (library scenarios with a near name: %s; kafkasim list shows them all)", err, strings.Join(near, ", "))
}

// NearestNames are up to n library scenario names nearest to name by edit distance (editDistance, statements.go), nearest
// first, if they are near at all (at most a third of the name's length apart, or containing
// it).
func NearestNames(name string, n int) []string {
	base := strings.TrimSuffix(filepath.Base(name), ".scenario")
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	for _, s := range Library() {
		lib := strings.TrimSuffix(strings.TrimPrefix(s.File, libraryDir), ".scenario")
		d := editDistance(base, lib)
		if d <= max(2, len(base)/3) || len(base) >= 3 && strings.Contains(lib, base) {
			cs = append(cs, cand{lib, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.name)
	}
	return out
}

// CheckHistoryAs is CheckHistory, refusing what is not a history to judge first: a scenario
// file (run it instead) and an empty history (nothing to judge is not valid); with asJSON it
// prints one JSON object instead of the text.
func CheckHistoryAs(w io.Writer, path, reportDir string, asJSON bool) (bool, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	if isScenario(path, text) {
		return false, fmt.Errorf("%s is a scenario file, not a history: kafkasim run %s runs it (run --history FILE writes a history for check)", path, path)
	}
	h, removals, err := history.ReadWithRemovals(bytes.NewReader(text))
	if err != nil {
		return false, fmt.Errorf("%s: %v", path, err)
	}
	if len(h) == 0 {
		return false, fmt.Errorf("%s: the history is empty (no operations): there is nothing to judge", path)
	}
	if !asJSON {
		return CheckHistory(w, path, reportDir)
	}
	r := checker.Check(h, checker.Config{Idempotent: true, Removals: removals})
	if reportDir != "" {
		if err := checker.WriteReport(reportDir, checker.Page{Title: path, History: h, Report: r}); err != nil {
			return false, &OutputError{"report", err}
		}
	}
	out := struct {
		History   string         `json:"history"`
		Ops       int            `json:"ops"`
		Verdict   string         `json:"verdict"`
		Anomalies map[string]int `json:"anomalies"`
	}{path, len(h), string(r.Verdict), map[string]int{}}
	maps.Copy(out.Anomalies, r.Counts)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return false, &OutputError{Err: err}
	}
	return r.Verdict == checker.Valid, nil
}

// isScenario reports whether a file is a scenario: named *.scenario, or parsing as one.
func isScenario(path string, text []byte) bool {
	if strings.HasSuffix(path, ".scenario") {
		return true
	}
	first := strings.TrimSpace(string(text))
	if first == "" || strings.HasPrefix(first, "{") {
		return false
	}
	_, err := Parse(path, text)
	return err == nil || strings.HasPrefix(first, "#")
}

// errNotExist reports whether err is a file that does not exist.
func errNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
