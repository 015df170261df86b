package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kafkasim/scenarios"
	"kafkasim/sim"
	"kafkasim/tui"
)

// uiFlags are the terminal UI's flags, shared by the root command and tui.
type uiFlags struct {
	present bool
	text    bool
}

func (f *uiFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.present, "present", false, "classroom mode: larger glyphs, prominent captions, destructive keys ask first")
	cmd.Flags().BoolVar(&f.text, "text", false, "print the story instead of opening the terminal UI")
}

// interactive reports whether the UI can own the terminal: both stdin and the output are one.
func interactive(out io.Writer) bool {
	f, ok := out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && term.IsTerminal(int(os.Stdin.Fd()))
}

// openUI plays s (nil: the classroom cluster, live) in the terminal UI, judged by the checker
// as it runs (the session attaches it to every timeline).
func openUI(s *scenarios.Scenario, seed uint64, f uiFlags) error {
	return tui.Run(tui.Options{Scenario: s, Seed: seed, Present: f.present})
}

// openUITrace replays the run a trace file records in the terminal UI: its header names the
// scenario and the seed, and the same scenario and seed give the same run. Without a header,
// or when the scenario cannot be found, the UI browses the trace's events instead.
func openUITrace(path string, f uiFlags) error {
	if h, ok := readTraceHeader(path); ok {
		if srcs, err := loadSources([]string{h.Scenario}); err == nil {
			if s, err := srcs[0].load(); err == nil {
				return openUI(s, h.Seed, f)
			}
		}
	}
	return tui.Run(tui.Options{TracePath: path, Present: f.present})
}

// readTraceHeader reads the run a trace file's header names.
func readTraceHeader(path string) (sim.TraceFileHeader, bool) {
	fh, err := os.Open(path)
	if err != nil {
		return sim.TraceFileHeader{}, false
	}
	defer fh.Close()
	return sim.NewTraceFileReader(path, fh).Header()
}
