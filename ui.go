package main

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kafkasim/scenarios"
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

// traceHeader starts the first line of a trace file written by run --trace.
const traceHeader = "# kafkasim trace"

// openUITrace replays the run a trace file records in the terminal UI: its header names the
// scenario and the seed, and the same scenario and seed give the same run. Without a header,
// or when the scenario cannot be found, the UI browses the trace's events instead.
func openUITrace(path string, f uiFlags) error {
	if file, seed, ok := readTraceHeader(path); ok {
		if srcs, err := loadSources([]string{file}); err == nil {
			if s, err := srcs[0].load(); err == nil {
				return openUI(s, seed, f)
			}
		}
	}
	return tui.Run(tui.Options{TracePath: path, Present: f.present})
}

// readTraceHeader reads the scenario file and seed from a trace file's header line.
func readTraceHeader(path string) (file string, seed uint64, ok bool) {
	fh, err := os.Open(path)
	if err != nil {
		return "", 0, false
	}
	defer fh.Close()
	line, _ := bufio.NewReader(fh).ReadString('\n')
	rest, found := strings.CutPrefix(strings.TrimSpace(line), traceHeader+" ")
	if !found {
		return "", 0, false
	}
	for _, kv := range strings.Fields(rest) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "scenario":
			file = v
		case "seed":
			seed, err = strconv.ParseUint(v, 10, 64)
			if err != nil {
				return "", 0, false
			}
		}
	}
	return file, seed, file != "" && seed != 0
}
