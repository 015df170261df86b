package gateway

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"kafkasim/scenarios"
)

// ServeHelp is kafkasim serve's long help.
var ServeHelp = strings.TrimSpace(`
serve runs a scenario (without FILE: the classroom cluster) paced to the wall clock and lets
real Kafka clients in: one listener per simulated broker, on consecutive ports from --listen
(127.0.0.1:9092, :9093, :9094 for three brokers), speaking Kafka's protocol (ApiVersions,
Metadata, Produce, Fetch, ListOffsets, InitProducerId, FindCoordinator, the classic group
APIs, OffsetCommit, OffsetFetch, CreateTopics, and transactions: AddPartitionsToTxn,
AddOffsetsToTxn, TxnOffsetCommit, EndTxn, read_committed fetches; transaction.version 2 is
finalized, so clients that speak KIP-890 skip AddPartitionsToTxn and get a new epoch at each end). Each request enters the world as a recorded
input at the virtual time it is read and travels to its broker over the simulated network, so
the scenario's faults apply to it: a killed broker closes its connections, a partition holds
requests until the client's own timeout. The clients' sends, polls and commits go into the history,
and when the session ends (Ctrl-C) the checker judges it and serve prints the summary.

--speed X runs X simulated seconds per wall second (clients keep wall-clock timeouts: a high
speed expires their sessions sooner). --record FILE writes the session's inputs; 'kafkasim
run --replay FILE' re-runs it without sockets to the same trace hash.

Only loopback addresses are served unless --listen-any is given.

Exit status: 0 the session ended and its expectations held; 1 they did not; 2 bad input (a
scenario that does not parse, a port in use, an address beyond loopback without --listen-any).`)

// Serve is kafkasim serve: it loads the scenario args name (none: the classroom cluster),
// serves it until ctx ends or the process is interrupted, and prints the summary to out.
// Listening errors are *FlagError.
func Serve(ctx context.Context, out io.Writer, args []string, seed uint64, record string, o Options) (bool, error) {
	var s *scenarios.Scenario
	var err error
	if len(args) == 0 {
		if s, err = scenarios.LibraryFile("classroom").Scenario(); err == nil {
			s, o.SetupOnly = s.SetupOnly(), true
		}
	} else {
		s, err = scenarios.Load(args[0])
	}
	if err != nil {
		return false, err
	}
	o.Scenario, o.Seed = s, seed
	if o.Log == nil {
		o.Log = out
	}
	var rec *os.File
	if record != "" {
		if rec, err = os.Create(record); err != nil {
			return false, &FlagError{"record", err}
		}
		defer rec.Close()
		o.Record = rec
	}
	srv, err := Start(o)
	if err != nil {
		return false, err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	res := srv.Run(ctx)
	fmt.Fprintf(out, "%s  %s\n", okWord(res.OK), Summary(res))
	if record != "" {
		fmt.Fprintf(out, "replay: kafkasim run --replay %s\n", record)
	}
	return res.OK, nil
}

func okWord(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}

// PrintReplay is kafkasim run --replay: it replays a recorded session and prints its summary,
// and whether the trace hash is the one the live session recorded.
func PrintReplay(out io.Writer, path string) (bool, error) {
	r, err := Replay(path)
	if err != nil {
		return false, err
	}
	ok := r.Result.OK && (r.Recorded == 0 || r.Recorded == r.Result.TraceHash)
	fmt.Fprintf(out, "%s  %s  %d requests\n", okWord(ok), Summary(r.Result), r.Frames)
	if r.Recorded != 0 && r.Recorded != r.Result.TraceHash {
		fmt.Fprintf(out, "the live session ended with trace %016x; this replay with %016x\n", r.Recorded, r.Result.TraceHash)
	}
	return ok, nil
}
