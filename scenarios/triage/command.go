// Package triage holds the commands that help find and narrow down a run rather than run one:
// kafkasim list (the library's scenarios), kafkasim shrink (the smallest scenario that fails the
// same way) and kafkasim compare (one seed, two settings, side by side). They live here rather than in the root package, which keeps to its
// line budget, as gateway.Command does.
package triage

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/scenarios"
)

// Exit maps a command's outcome to its exit status (the root package's exitFor): an
// *scenarios.OutputError is 1 naming its flag, any other error bad input (2), else 1 unless ok.
type Exit func(ok bool, err error) error

// Commands are kafkasim list, kafkasim shrink and kafkasim compare.
func Commands(seedUsage string, exit Exit) []*cobra.Command {
	return []*cobra.Command{listCommand(exit), shrinkCommand(exit), compareCommand(seedUsage, exit)}
}

func listCommand(exit Exit) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the library's scenarios, one line each: the name that runs it and its title",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := scenarios.WriteLibrary(cmd.OutOrStdout()); err != nil {
				return exit(false, &scenarios.OutputError{Err: err}) // stdout could not be written: 1
			}
			return nil
		},
	}
}

func shrinkCommand(exit Exit) *cobra.Command {
	var seed uint64
	var out string
	var nemesis bool
	var mode scenarios.MetadataMode
	o := scenarios.ShrinkOptions{Budget: scenarios.DefaultShrinkBudget}
	cmd := &cobra.Command{
		Use:   "shrink FILE --seed N [--out FILE] [--budget 60s]",
		Short: "Find the smallest scenario that fails the same way as a failing run",
		Long: strings.TrimSpace(`
shrink replays FILE under --seed, which must fail, then searches for a smaller scenario that
fails the same way (the same first failed expectation, or the same anomaly names), in the
manner of delta debugging: a nemesis is written out as the explicit faults it applied at their
instants (an isr-change strike after an await on the ISR change it reacted to); then faults are dropped (each with what undoes it), other statements dropped, waits
shortened, producers' rates lowered, topics' partitions, brokers and clients removed, as long
as the run still fails the same way with no more events. It prints its progress on stderr and
the smallest scenario (with say lines saying what each fault did) on stdout, or in --out FILE.
--budget bounds the search in wall time.

Exit status: 0 a smaller scenario was written; 1 it could not be written; 2 bad input (the run
does not fail, a flag is wrong, the file does not parse).`),
		Example: "  kafkasim shrink my.scenario --seed 17 --out small.scenario\n  kafkasim sweep my.scenario --seeds 1-100 --nemesis   # then shrink a failing seed",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("seed") || seed == 0 {
				return exit(false, errors.New("--seed N is required: the seed of the failing run (from its replay line)"))
			}
			if o.Budget <= 0 {
				return exit(false, fmt.Errorf("--budget %v: want a positive duration", o.Budget))
			}
			files, err := scenarios.OpenAllWith(args, nemesis, mode)
			if err != nil {
				return exit(false, err)
			}
			f := files[0]
			o.Seed, o.Progress = seed, cmd.ErrOrStderr()
			res, err := scenarios.Shrink(f, o)
			if err != nil {
				return exit(false, err)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), res.Summary())
			if out == "" {
				_, err = fmt.Fprint(cmd.OutOrStdout(), res.Text)
				return exit(err == nil, err)
			}
			if err := os.WriteFile(out, []byte(res.Text), 0o644); err != nil {
				return exit(false, &scenarios.OutputError{Output: "out", Err: err})
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "shrink: wrote %s (kafkasim run %s replays it)\n", out, out)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&seed, "seed", 0, "the seed of the failing run (required)")
	fl.StringVar(&out, "out", "", "write the smallest scenario to `FILE` instead of stdout")
	fl.DurationVar(&o.Budget, "budget", o.Budget, "stop searching after this much wall time")
	fl.BoolVar(&nemesis, "nemesis", false, "the run had a default nemesis added (its replay line says --nemesis, as sweep --nemesis prints)")
	fl.Var(&mode, "metadata-mode", "the run's control plane, as its replay line says (the smallest scenario keeps it as config metadata.mode=)")
	return cmd
}

func compareCommand(seedUsage string, exit Exit) *cobra.Command {
	var seed uint64
	var sets []string
	cmd := &cobra.Command{
		Use:   "compare FILE --set KEY=V1 --set KEY=V2 [--seed N]",
		Short: "Run one scenario and seed under several settings, side by side",
		Long: strings.TrimSpace(`
compare runs FILE once per --set KEY=VALUE, all on the same seed, and prints the runs side by
side: records acknowledged, lost and failed, the latency of acknowledgements (p50, p99, max),
the checker's verdict and anomalies, whether the file's expectations held. A setting replaces
KEY's value wherever the set-up names it (every producer, consumer, topic, config or protocol
line); where none does, it becomes a cluster-wide config KEY=VALUE. kafkasim tui FILE --compare
KEY=V1,V2 shows the two worlds in one screen instead, stepping together on one clock.

Exit status: 0 the runs were compared (whatever they found); 2 bad input.`),
		Example: "  kafkasim compare acks1-loss.scenario --set acks=1 --set acks=all\n  kafkasim compare unclean-election.scenario --set unclean.leader.election.enable=true --set unclean.leader.election.enable=false",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(sets) < 2 {
				return exit(false, fmt.Errorf("--set: give at least two settings to compare, e.g. --set acks=1 --set acks=all (got %d)", len(sets)))
			}
			var settings []scenarios.Setting
			for _, s := range sets {
				st, err := scenarios.ParseSetting(s)
				if err != nil {
					return exit(false, fmt.Errorf("--set %w", err))
				}
				settings = append(settings, st)
			}
			f, err := scenarios.Open(args[0])
			if err != nil {
				return exit(false, err)
			}
			sides, err := scenarios.Compare(f, seed, settings)
			if err != nil {
				return exit(false, err)
			}
			s := uint64(0)
			if len(sides) > 0 {
				s = sides[0].Result.Seed
			}
			return exit(true, scenarios.PrintComparison(cmd.OutOrStdout(), f.Name, s, sides))
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&seed, "seed", 0, seedUsage)
	fl.StringArrayVar(&sets, "set", nil, "a setting `KEY=VALUE` to run under (give two or more)")
	return cmd
}
