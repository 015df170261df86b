package gateway

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Exit maps what a command's call returned to the command's error (the root package's
// exitFor: 0 ok, 1 not ok, 2 bad input).
type Exit func(ok bool, err error) error

// Command is kafkasim serve: its flags and its one call into Serve. It lives here rather than
// in the root package, which keeps to its line budget; exit maps outcomes to exit statuses.
func Command(seedUsage string, exit Exit) *cobra.Command {
	var seed uint64
	var record string
	o := Options{Listen: "127.0.0.1:9092", Speed: 1}
	cmd := &cobra.Command{
		Use:     "serve [FILE]",
		Short:   "Let real Kafka clients into a simulated cluster that fails on cue",
		Long:    ServeHelp,
		Example: "  kafkasim serve scenarios/leader-failover.scenario --record session.jsonl\n  kcat -b 127.0.0.1:9092 -L",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Speed <= 0 || o.Speed > 1e6 {
				return exit(false, &FlagError{"speed", fmt.Errorf("%v: want a positive number up to 1e6", o.Speed)})
			}
			return exit(Serve(cmd.Context(), cmd.OutOrStdout(), args, seed, record, o))
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&seed, "seed", 0, seedUsage)
	fl.StringVar(&o.Listen, "listen", o.Listen, "the first broker's `ADDR` (host:port); the other brokers take the next ports")
	fl.BoolVar(&o.ListenAny, "listen-any", false, "allow a --listen address beyond loopback")
	fl.Float64Var(&o.Speed, "speed", o.Speed, "simulated seconds per wall second")
	fl.StringVar(&record, "record", "", "write the session's inputs to `FILE` (kafkasim run --replay FILE replays it)")
	return cmd
}

// ReplayFlag gives kafkasim run its --replay FILE: re-run a session serve --record wrote,
// headless, instead of scenario files.
func ReplayFlag(run *cobra.Command, exit Exit) {
	var replay string
	run.Flags().StringVar(&replay, "replay", "", "re-run a session recorded by serve --record `FILE`, headless, to the same trace hash")
	args, runE := run.Args, run.RunE
	run.Args = func(cmd *cobra.Command, a []string) error {
		if replay != "" {
			if len(a) > 0 {
				return exit(false, errors.New("give scenario FILEs or --replay FILE, not both"))
			}
			return nil
		}
		return args(cmd, a)
	}
	run.RunE = func(cmd *cobra.Command, a []string) error {
		if replay == "" {
			return runE(cmd, a)
		}
		return exit(PrintReplay(cmd.OutOrStdout(), replay))
	}
}
