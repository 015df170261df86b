// Command mutants is mutation testing as a habit: it plants, one at a time, small realistic bugs
// (mutants) in replication, the controller, the KRaft quorum, the clients, the consumer groups
// and transactions, and reports how many the tests kill and how many a short sweep of the
// library kills.
//
//	go run ./scenarios/mutants                  every mutant: tests, then the sweep
//	go run ./scenarios/mutants -list            the mutants, one a line
//	go run ./scenarios/mutants -dry             check that each applies and builds, nothing more
//	go run ./scenarios/mutants -run 'quorum|log' only the mutants whose name matches
//	go run ./scenarios/mutants -seeds 1-3 -tests ./broker/...,./scenarios/...
//	go run ./scenarios/mutants -no-tests        only the sweep (a few minutes)
//	go run ./scenarios/mutants -run quorum -bin /tmp/m  a kafkasim of each mutant, to try runs on
//
// It never edits the tree it is run from: it adds a git worktree of HEAD in a temporary
// directory (uncommitted changes are not in it), applies each mutant there, and puts the file
// back after the mutant whatever happened; at the end the worktree is removed. A mutant is an
// exact piece of source text and its replacement; the text must occur exactly once in its file,
// so a mutant that no longer applies says so instead of mutating something else.
//
// A mutant is killed by the tests when `go test -short` fails on one of the packages (run in
// order, stopping at the first failure), and by the sweep when `kafkasim sweep` of every
// library scenario over the seeds fails. It is not part of CI: a full run takes tens of
// minutes. Targets: at least 90% killed by the tests, 80% by the sweep.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// A mutant is one planted bug: in File, Old (occurring exactly once) becomes New.
type mutant struct {
	Name, File, Old, New string
	Why                  string // the bug it re-creates, in Kafka's words
}

var mutants = []mutant{
	// Replication (broker/partition.go, broker/fetch.go, broker/fetcher.go).
	{"replication/isr-expansion-at-hw", "broker/partition.go",
		"r.leo < p.hw || (r.leo < p.leaderEpochStartOffset && p.b.cfg.IsrExpansion != config.ExpandAtHighWatermark)",
		"r.leo < p.hw",
		"KAFKA-7128: a follower joins the ISR at a lagging HW, without the leader-epoch-start condition"},
	{"replication/isr-never-shrinks", "broker/partition.go",
		"return r.leo == leaderLEO || now-r.lastCaughtUp <= p.b.cfg.ReplicaLagTimeMax",
		"return true",
		"replica.lag.time.max.ms ignored: a dead follower stays in the ISR forever"},
	{"replication/hw-skips-lagging-isr", "broker/partition.go",
		"if r.leo < newHW && (p.inMaximalISR(r.id) || (p.isCaughtUp(r, leo, now) && p.b.eligible(r.id, r.brokerEpoch))) {",
		"if r.leo < newHW && p.isCaughtUp(r, leo, now) && p.b.eligible(r.id, r.brokerEpoch) {",
		"the HW advances past an ISR member that has not fetched the records"},
	{"replication/strict-min-isr-dropped", "broker/partition.go",
		"if p.b.cfg.StrictMinISR && len(p.isr) < p.effectiveMinIsr() {",
		"if false {",
		"KAFKA-15583 undone: the HW advances with an ISR below min.insync.replicas"},
	{"replication/consumer-reads-past-hw", "broker/fetch.go",
		"\t\treturn p.log.LastStableOffset(p.hw)\n\t}\n\treturn p.hw\n}",
		"\t\treturn p.log.LastStableOffset(p.hw)\n\t}\n\treturn p.log.LogEndOffset()\n}",
		"consumers read uncommitted records up to the LEO"},
	{"replication/no-truncation-on-divergence", "broker/fetcher.go",
		"\tp.truncateTo(to, \"diverging-epoch\")\n}",
		"\t_ = to\n}",
		"KIP-320 undone: a follower keeps records that diverge from the leader's log"},

	// The log's producer state (broker/log/producer.go).
	{"log/dedup-window-1", "broker/log/producer.go",
		"const numBatchesToRetain = 5",
		"const numBatchesToRetain = 1",
		"ProducerStateEntry.NUM_BATCHES_TO_RETAIN cut from 5 to 1"},
	{"log/no-dedup", "broker/log/producer.go",
		"\tif b.ProducerEpoch != e.epoch {\n\t\treturn batchMeta{}, false\n\t}\n\tfirst, last",
		"\tif b.ProducerEpoch == e.epoch {\n\t\treturn batchMeta{}, false\n\t}\n\tfirst, last",
		"findDuplicateBatch never finds a retried batch of the current epoch"},
	{"log/sequence-gaps-accepted", "broker/log/producer.go",
		"return int64(nextSeq) == int64(lastSeq)+1 ||",
		"return int64(nextSeq) >= int64(lastSeq)+1 ||",
		"checkSequence accepts a gap (OUT_OF_ORDER_SEQUENCE_NUMBER never raised)"},

	// The controller (broker/controller).
	{"controller/elect-outside-isr", "broker/controller/builder.go",
		"if !metadata.Contains(isr, r) && !(len(isr) == 0 && metadata.Contains(elr, r)) {",
		"if false {",
		"an election takes any live replica, in the ISR or not (an unclean election by default)"},
	{"controller/leader-epoch-kept", "broker/controller/builder.go",
		"\t\trec.LeaderEpoch++\n",
		"\n",
		"a new leader keeps its predecessor's leader epoch"},
	{"controller/session-never-expires", "broker/controller/lifecycle.go",
		"if now-last <= c.cfg.BrokerSessionTimeout {",
		"if now-last <= c.cfg.BrokerSessionTimeout || true {",
		"broker.session.timeout.ms ignored: a dead broker is never fenced"},
	{"controller/alter-partition-stale-epoch", "broker/controller/alterpartition.go",
		"\tcase item.PartitionEpoch != p.PartitionEpoch:\n",
		"\tcase false:\n",
		"AlterPartition accepts a proposal made against an old partition epoch"},
	{"controller/alter-partition-admits-fenced", "broker/controller/alterpartition.go",
		"if b == nil || b.Fenced || b.InControlledShutdown || (s.BrokerEpoch != -1 && s.BrokerEpoch != b.Epoch) {",
		"if b == nil {",
		"KIP-841 undone: a fenced or shutting-down broker joins the ISR"},

	// The KRaft quorum (broker/quorum).
	{"quorum/vote-ignores-log", "broker/quorum/vote.go",
		"return req.LastOffsetEpoch > last || (req.LastOffsetEpoch == last && req.LastOffset >= r.log.end())",
		"return req.LastOffsetEpoch >= last",
		"Raft's election restriction halved: a voter elects a candidate of the same last epoch with a shorter log"},
	{"quorum/majority-off-by-one", "broker/quorum/raft.go",
		"len(cfg.Voters)/2 + 1,",
		"len(cfg.Voters) / 2,",
		"a minority is taken for a majority"},
	{"quorum/commit-old-epoch", "broker/quorum/fetch.go",
		"if m > r.epochStart && m > r.hw {",
		"if m > r.hw {",
		"the leader commits entries of earlier epochs by counting replicas (Raft's figure 8)"},
	{"quorum/two-votes-per-epoch", "broker/quorum/vote.go",
		"} else if mayVote && (r.votedFor == protocol.NoLeader || r.cfg.VoteTwice) && r.candidateUpToDate(req) {",
		"} else if mayVote && r.candidateUpToDate(req) {",
		"a voter votes for two candidates in one epoch"},

	// The clients (broker/client).
	{"client/nlof-means-not-appended", "broker/client/sender.go",
		"\t\treturn acks != protocol.AcksAll\n",
		"\t\treturn true\n",
		"KAFKA-13574: NOT_LEADER_OR_FOLLOWER after an append reported as a definite failure"},
	{"client/retry-new-sequence", "broker/client/idempotence.go",
		"if !t.enabled || b.seq >= 0 {",
		"if !t.enabled {",
		"a retried batch gets a new sequence number, so the leader cannot recognise it"},
	{"client/consumer-skips-one", "broker/client/consumer.go",
		"\t\tp.position = b.NextOffset()\n",
		"\t\tp.position = b.NextOffset() + 1\n",
		"the consumer's position runs one past each batch"},

	// Consumer groups (broker/client/assignor.go, broker/group).
	{"groups/range-assignor-overlap", "broker/client/assignor.go",
		"if int32(i) < extra {",
		"if int32(i) <= extra {",
		"RangeAssignor gives one member too many partitions: two members own one partition"},
	{"groups/commit-ignores-generation", "broker/group/offsets.go",
		"if r.GenerationID != g.Generation {",
		"if false {",
		"a zombie member of an old generation commits offsets (ILLEGAL_GENERATION never raised)"},
	{"groups/generation-kept", "broker/group/classic.go",
		"func (g *Group) initNextGeneration() {\n\tg.Generation++\n",
		"func (g *Group) initNextGeneration() {\n",
		"ClassicGroup.initNextGeneration keeps the generation: the old and the new assignment share one generation id"},
	{"groups/session-never-expires", "broker/group/classic.go",
		"if !m.isNew && (m.join != nil || m.sync != nil) {",
		"if !m.isNew || m.join != nil || m.sync != nil {",
		"session.timeout.ms ignored for a joined member: a dead consumer keeps its partitions forever"},

	// Transactions (broker/log, broker/txn, broker/client).
	{"txn/lso-ignores-open-transactions", "broker/log/log.go",
		"if f := l.producers.firstUnstableOffset(); f >= 0 && f < hw {",
		"if f := l.producers.firstUnstableOffset(); false {",
		"UnifiedLog.lastStableOffset is the HW: read_committed consumers read transactions still open"},
	{"txn/abort-writes-commit-markers", "broker/txn/requests.go",
		"Committed: m.State == PrepareCommit,",
		"Committed: true,",
		"the coordinator's WriteTxnMarkers say COMMIT for an aborted transaction"},
	{"txn/read-committed-keeps-aborted", "broker/client/consumer.go",
		"\t\tskip[i] = aborted[b.ProducerID]\n",
		"\t\tskip[i] = false\n",
		"the read_committed consumer returns the records of aborted transactions (FetchResponse.AbortedTransactions ignored)"},
}

func main() {
	list := flag.Bool("list", false, "list the mutants and exit")
	only := flag.String("run", "", "only the mutants whose name matches this regular expression")
	seeds := flag.String("seeds", "1-2", "the sweep's seeds")
	tests := flag.String("tests", "./broker/...,./sim/...,./scenarios/...,./checker/...", "packages to test, comma-separated, in order")
	noSweep := flag.Bool("no-sweep", false, "skip the sweep")
	noTests := flag.Bool("no-tests", false, "skip the tests (only the sweep)")
	dry := flag.Bool("dry", false, "only check that each mutant applies and builds")
	bins := flag.String("bin", "", "build a kafkasim binary of each mutant into this directory (kafkasim-NAME, / as -), nothing more")
	flag.Parse()
	re, err := regexp.Compile(*only)
	if err != nil {
		fatal(err)
	}
	var chosen []mutant
	for _, m := range mutants {
		if re.MatchString(m.Name) {
			chosen = append(chosen, m)
		}
	}
	if *list {
		for _, m := range chosen {
			fmt.Printf("%-42s %s: %s\n", m.Name, m.File, m.Why)
		}
		return
	}
	root, err := output("", "git", "rev-parse", "--show-toplevel")
	if err != nil {
		fatal(err)
	}
	dir, err := os.MkdirTemp("", "kafkasim-mutants-")
	if err != nil {
		fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	if _, err := output(root, "git", "worktree", "add", "--detach", tree, "HEAD"); err != nil {
		fatal(err)
	}
	defer func() {
		_, _ = output(root, "git", "worktree", "remove", "--force", tree)
		_ = os.RemoveAll(dir)
	}()
	pkgs := strings.Split(*tests, ",")
	if *noTests {
		pkgs = nil
	}
	bin := filepath.Join(dir, "kafkasim")

	if *bins != "" {
		if err := os.MkdirAll(*bins, 0o755); err != nil {
			fatal(err)
		}
		for _, m := range chosen {
			out, err := filepath.Abs(filepath.Join(*bins, "kafkasim-"+strings.ReplaceAll(m.Name, "/", "-")))
			if err == nil {
				err = plant(tree, m, func() error {
					_, err := output(tree, "go", "build", "-o", out, ".")
					return err
				})
			}
			if err != nil {
				fmt.Printf("%-42s NOT BUILT: %v\n", m.Name, err)
				continue
			}
			fmt.Printf("%-42s %s\n", m.Name, out)
		}
		return
	}
	if *dry {
		bad := 0
		for _, m := range chosen {
			if _, err := try(tree, bin, m, nil, "", true); err != nil {
				fmt.Printf("%-42s NOT APPLIED: %v\n", m.Name, err)
				bad++
			}
		}
		fmt.Printf("%d mutants, %d apply and build\n", len(chosen), len(chosen)-bad)
		return
	}
	fmt.Printf("baseline (HEAD, no mutant): ")
	if pkg, _ := runTests(tree, pkgs); pkg != "" {
		fmt.Printf("tests fail in %s without a mutant; fix that first\n", pkg)
		os.Exit(1)
	}
	if !*noSweep {
		if ok, out := sweep(tree, bin, *seeds); !ok {
			fmt.Printf("the sweep fails without a mutant; fix that first\n%s\n", out)
			os.Exit(1)
		}
	}
	switch {
	case *noTests && *noSweep:
		fmt.Println("nothing run")
	case *noTests:
		fmt.Println("the sweep passes")
	case *noSweep:
		fmt.Println("the tests pass")
	default:
		fmt.Println("tests and sweep pass")
	}

	var applied, byTests, bySweep int
	var survivors []string
	for _, m := range chosen {
		start := time.Now()
		verdict, err := try(tree, bin, m, pkgs, *seeds, *noSweep)
		if err != nil {
			fmt.Printf("%-42s NOT APPLIED: %v\n", m.Name, err)
			continue
		}
		applied++
		if verdict.tests != "" {
			byTests++
		}
		if verdict.sweep {
			bySweep++
		}
		if verdict.tests == "" && !verdict.sweep && !(*noTests && *noSweep) {
			survivors = append(survivors, m.Name)
		}
		fmt.Printf("%-42s tests: %-28s sweep: %-8s (%.0fs)\n", m.Name, testsWord(verdict.tests, *noTests), killedWord(verdict.sweep, *noSweep), time.Since(start).Seconds())
	}
	if applied == 0 {
		fmt.Println("no mutant applied")
		os.Exit(1)
	}
	fmt.Printf("\n%d mutants: killed by the tests %s, by the sweep %s\n", applied, rate(byTests, applied, *noTests), rate(bySweep, applied, *noSweep))
	if len(survivors) > 0 {
		fmt.Printf("survived all that ran: %s\n", strings.Join(survivors, ", "))
	}
}

type verdict struct {
	tests string // the first package whose tests failed ("" survived; "build" did not build)
	sweep bool   // the sweep failed
}

// try applies m in tree, judges it, and puts the file back whatever happens.
func try(tree, bin string, m mutant, pkgs []string, seeds string, noSweep bool) (v verdict, err error) {
	err = plant(tree, m, func() error {
		if _, err := output(tree, "go", "build", "./..."); err != nil {
			return fmt.Errorf("does not build: %v", err)
		}
		v.tests, _ = runTests(tree, pkgs)
		if !noSweep {
			v.sweep, _ = sweep(tree, bin, seeds)
			v.sweep = !v.sweep
		}
		return nil
	})
	return v, err
}

// plant applies m in tree, calls f, and puts the file back whatever happens.
func plant(tree string, m mutant, f func() error) (err error) {
	path := filepath.Join(tree, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if n := bytes.Count(orig, []byte(m.Old)); n != 1 {
		return fmt.Errorf("%s holds the text %d times; want once", m.File, n)
	}
	defer func() {
		if werr := os.WriteFile(path, orig, 0o644); werr != nil && err == nil {
			err = werr
		}
	}()
	if err := os.WriteFile(path, bytes.Replace(orig, []byte(m.Old), []byte(m.New), 1), 0o644); err != nil {
		return err
	}
	return f()
}

// runTests runs go test -short on each package pattern in order and returns the first that
// fails ("" when all pass).
func runTests(tree string, pkgs []string) (string, string) {
	for _, p := range pkgs {
		if out, err := output(tree, "go", "test", "-short", "-count=1", "-failfast", p); err != nil {
			return p, out
		}
	}
	return "", ""
}

// sweep builds the command and sweeps every library scenario over seeds; ok when all pass.
func sweep(tree, bin, seeds string) (bool, string) {
	if out, err := output(tree, "go", "build", "-o", bin, "."); err != nil {
		return false, out
	}
	files, _ := filepath.Glob(filepath.Join(tree, "scenarios", "*.scenario"))
	out, err := output(tree, bin, append(append([]string{"sweep"}, files...), "--seeds", seeds)...)
	return err == nil, out
}

func output(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

func testsWord(pkg string, skipped bool) string {
	switch {
	case skipped:
		return "skipped"
	case pkg == "":
		return "SURVIVED"
	}
	return "killed (" + pkg + ")"
}

func killedWord(k, skipped bool) string {
	switch {
	case skipped:
		return "skipped"
	case k:
		return "killed"
	}
	return "SURVIVED"
}

func rate(killed, of int, skipped bool) string {
	if skipped {
		return "(skipped)"
	}
	return fmt.Sprintf("%d (%.0f%%)", killed, 100*float64(killed)/float64(of))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutants:", err)
	os.Exit(2)
}
