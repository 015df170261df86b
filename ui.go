package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/tui"
	"kafkasim/tui/compare"
)

func newTUICmd() *cobra.Command {
	var seed uint64
	var ui uiFlags
	var trace, cmp string
	cmd := &cobra.Command{
		Use:   "tui [FILE]",
		Short: "Play a scenario in the terminal UI (captions, pauses, rewind)",
		Long: strings.TrimSpace(`
tui plays a scenario file in the terminal UI: its say lines are captions, pause waits for you,
and you may break the cluster further, step, rewind and export the session as a scenario
(press ? for every key). Without FILE it runs the built-in classroom cluster live. FILE may
also name a library scenario (tui unclean-election). --trace FILE replays the run that a
trace written by run --trace records (its header names the scenario and the seed). --compare
KEY=V1,V2 shows FILE under two settings side by side, stepping together on one clock. When
the output is not a terminal, or with --text, the scenario is played and its story printed,
as run does (with --compare, the two runs side by side, as kafkasim compare prints them).`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("compare") {
				if trace != "" {
					return usageErrorf("--compare: give a scenario FILE to compare, not --trace")
				}
				return exitFor(compare.Play(cmd.OutOrStdout(), args, cmp, seed, ui.present, ui.text || !tui.Interactive(cmd.OutOrStdout())))
			}
			return play(cmd.OutOrStdout(), args, seed, ui, trace)
		},
	}
	cmd.Flags().Uint64Var(&seed, "seed", 0, seedUsage)
	cmd.Flags().StringVar(&cmp, "compare", "", "two worlds in one screen, stepping together: FILE under `KEY=V1,V2` (acks=1,all)")
	cmd.Flags().StringVar(&trace, "trace", "", "replay the run a trace `FILE` written by run --trace records")
	ui.register(cmd)
	return cmd
}

// uiFlags are the terminal UI's flags, shared by the root command and tui.
type uiFlags struct {
	present, text, listenAny bool
	listen, record           string
}

func (f *uiFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.present, "present", false, "classroom mode: larger glyphs, prominent captions, destructive keys ask first")
	cmd.Flags().BoolVar(&f.text, "text", false, "print the story instead of opening the terminal UI")
	cmd.Flags().StringVar(&f.listen, "listen", "", "let real Kafka clients in, as serve does: the first broker's `ADDR` (without a terminal: serve)")
	cmd.Flags().BoolVar(&f.listenAny, "listen-any", false, "allow a --listen address beyond loopback")
	cmd.Flags().StringVar(&f.record, "record", "", "with --listen: write the session's inputs to `FILE` (kafkasim run --replay FILE replays it)")
}

// play is tui.Play with the UI's flags, its result as an exit status.
func play(out io.Writer, args []string, seed uint64, ui uiFlags, trace string) error {
	opts := tui.Options{Seed: seed, Present: ui.present, Listen: ui.listen, ListenAny: ui.listenAny, Record: ui.record}
	return exitFor(tui.Play(out, args, opts, trace, ui.text || !tui.Interactive(out)))
}
