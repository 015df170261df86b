package tui

import (
	"context"
	"errors"
	"io"
	"os"

	"kafkasim/gateway"
	"kafkasim/scenarios"
	"kafkasim/sim"
)

// Play is what `kafkasim` and `kafkasim tui` do: it opens the terminal UI on the scenario args
// name (none: the classroom cluster, live), or on the run a trace file's header names (else it
// browses the trace's events), judged by the checker as it runs, with real clients' listeners
// attached for opts.Listen. With text (the output is not a terminal, or --text) it narrates
// the scenario as run does instead, or serves it headless as serve does for opts.Listen. ok
// says whether every expectation held; err is bad input.
func Play(out io.Writer, args []string, opts Options, trace string, text bool) (ok bool, err error) {
	switch {
	case opts.Record != "" && opts.Listen == "":
		return false, errors.New("--record: records what real clients send, so it needs --listen (a scenario alone replays from its seed)")
	case trace != "" && len(args) > 0:
		return false, errors.New("--trace: give either FILE or --trace, not both")
	case trace != "" && opts.Listen != "":
		return false, errors.New("--listen: real clients need a live world, not a trace (--trace)")
	case opts.Listen != "" && text:
		return gateway.Serve(context.Background(), out, args, opts.Seed, opts.Record, gateway.Options{Listen: opts.Listen, ListenAny: opts.ListenAny})
	case trace != "":
		opts.TracePath = trace
		if fh, err := os.Open(trace); err == nil {
			h, ok := sim.NewTraceFileReader(trace, fh).Header()
			fh.Close()
			if s, err := scenarios.Load(h.Scenario); ok && err == nil {
				opts = Options{Scenario: s, Seed: h.Seed, Present: opts.Present}
			}
		}
	case text:
		files := []*scenarios.File{scenarios.LibraryFile("classroom")}
		if len(args) > 0 {
			if files, err = scenarios.OpenAll(args); err != nil {
				return false, err
			}
		}
		return scenarios.RunFiles(out, files, opts.Seed, scenarios.Outputs{})
	case len(args) > 0:
		s, err := scenarios.Load(args[0])
		if err != nil {
			return false, err
		}
		opts.Scenario = s
	}
	return true, Run(opts)
}
