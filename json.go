package main

import (
	"encoding/json"
	"fmt"
	"io"

	"kafkasim/scenarios"
)

// runJSON is one run as `--json` prints it, one object per line.
type runJSON struct {
	Scenario     string            `json:"scenario"`
	Seed         uint64            `json:"seed"`
	OK           bool              `json:"ok"`
	Verdict      string            `json:"verdict"`
	Anomalies    map[string]int    `json:"anomalies"`
	Expectations []expectationJSON `json:"expectations"`
	Failure      string            `json:"failure,omitempty"`
	Replay       string            `json:"replay,omitempty"`
	TraceHash    string            `json:"trace_hash"`
	SimSeconds   float64           `json:"sim_seconds"`
	WallSeconds  float64           `json:"wall_seconds"`
	Events       int               `json:"events"`
	Ops          int               `json:"ops"`
}

type expectationJSON struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	OK     bool   `json:"ok"`
	Judged bool   `json:"judged"`
	Got    string `json:"got,omitempty"`
}

// toJSON converts a result; anomalies and expectations are {} and [] when there are none.
func toJSON(r *scenarios.Result) runJSON {
	j := runJSON{
		Scenario:     r.Scenario,
		Seed:         r.Seed,
		OK:           r.OK,
		Verdict:      r.Verdict,
		Anomalies:    map[string]int{},
		Expectations: []expectationJSON{},
		Failure:      r.Failure,
		TraceHash:    fmt.Sprintf("%016x", r.TraceHash),
		SimSeconds:   r.SimSeconds,
		WallSeconds:  r.WallSeconds,
		Events:       r.Events,
		Ops:          r.Ops,
	}
	for k, v := range r.Anomalies {
		j.Anomalies[k] = v // encoding/json sorts map keys
	}
	for _, e := range r.Expectations {
		j.Expectations = append(j.Expectations, expectationJSON{Line: e.Line, Text: e.Text, OK: e.OK, Judged: e.Judged, Got: e.Got})
	}
	if !r.OK {
		j.Replay = scenarios.ReplayCommand(r)
	}
	return j
}

// writeJSON prints one run as one line of JSON.
func writeJSON(w io.Writer, r *scenarios.Result) error {
	enc := json.NewEncoder(w) // one line, newline-terminated
	enc.SetEscapeHTML(false)  // keep "acked p1 >= 10" readable
	return enc.Encode(toJSON(r))
}
