package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"kafkasim/gateway"
	"kafkasim/scenarios"
	"kafkasim/scenarios/triage"
	"kafkasim/tui/tour"
)

// version is the kafkasim version.
const version = "0.2.0"

// Exit statuses.
const (
	exitOK     = 0 // every expectation held
	exitFailed = 1 // an expectation failed, or the checker found what was not expected
	exitUsage  = 2 // bad input: flags, arguments, scenario files, history files
)

// exitError carries an exit status out of a command. A nil err means the command has already
// said what went wrong (a failed run prints its own summary).
type exitError struct {
	code  int
	err   error
	plain bool // print err as it is, without the "kafkasim: " prefix (FILE:LINE:COL: msg)
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is bad input: exit status 2 with a message naming the problem.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// failed is exit status 1; the runs have already been reported.
var failed = &exitError{code: exitFailed}

// exitFor is the exit status of what a command's call into scenarios returned: an output that
// could not be written is 1, naming its flag; any other error is bad input, 2 (a scenario that
// does not parse prints as the parser wrote it, FILE:LINE:COL: msg); else 1 unless ok.
func exitFor(ok bool, err error) error {
	var oe *scenarios.OutputError
	var se *scenarios.Error
	switch {
	case errors.As(err, &oe) && oe.Output != "":
		return &exitError{code: exitFailed, err: fmt.Errorf("--%s: %w", oe.Output, oe.Err)}
	case oe != nil:
		return &exitError{code: exitFailed, err: oe.Err}
	case errors.As(err, &se):
		return &exitError{code: exitUsage, err: se, plain: true}
	case err != nil:
		return &exitError{code: exitUsage, err: err}
	case !ok:
		return failed
	}
	return nil
}

func main() {
	scenarios.TuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command: it parses args, runs what they ask for, writes to stdout and
// stderr and returns the exit status. Tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		switch {
		case ee.err == nil:
		case ee.plain:
			fmt.Fprintln(stderr, ee.err)
		default:
			fmt.Fprintf(stderr, "kafkasim: %v\n", ee.err)
		}
		return ee.code
	}
	// Anything cobra itself returns is bad input: an unknown command or flag, a flag value
	// that does not parse, the wrong number of arguments.
	fmt.Fprintf(stderr, "kafkasim: %v\n", err)
	if cmd == nil {
		cmd = root
	}
	fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	return exitUsage
}

// newRoot builds the command tree writing to stdout and stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var seed uint64
	var ui uiFlags
	root := &cobra.Command{
		Use:   "kafkasim",
		Short: "A Kafka cluster simulated on a deterministic network and disk",
		Long: strings.TrimSpace(`
kafkasim runs a Kafka cluster (KRaft controllers, brokers, producers, consumers) inside one
process, on a simulated network and disk: the same scenario and seed give the same run, byte
for byte. With no command it plays the built-in classroom cluster (3 brokers, 3 controllers,
a topic of 6 partitions with replication 3 and min.insync.replicas=2, a producer with
acks=all, a consumer) live in the terminal UI: replicas, ISR, HW and LEO as they change; kill,
crash, pause, cut the network; pause, step and rewind (press ? for every key). When the output
is not a terminal, or with --text, it plays the classroom scenario and prints its story instead.

Exit status: 0 every expectation held; 1 an expectation failed; 2 bad input (unknown flag,
bad value, a scenario that does not parse).`),
		Version:       version,
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return play(cmd.OutOrStdout(), nil, seed, ui, "")
		},
	}
	root.SetVersionTemplate("kafkasim {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Flags().Uint64Var(&seed, "seed", 0, seedUsage)
	ui.register(root)
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(append(triage.Commands(seedUsage, exitFor), newRunCmd(), newTUICmd(), newSweepCmd(), newCheckCmd(), newBenchCmd(), gateway.Command(seedUsage, exitFor), tour.Command(seedUsage, exitFor))...)
	root.AddCommand(&cobra.Command{Use: "version", Short: "Print the version", Args: cobra.NoArgs, Run: func(c *cobra.Command, _ []string) { fmt.Fprintf(c.OutOrStdout(), "kafkasim %s\n", version) }})
	return root
}
