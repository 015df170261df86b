package scenarios

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// runText plays a scenario given as text with a seed.
func runText(t *testing.T, name, src string, seed uint64) *Result {
	t.Helper()
	s, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A transactional producer killed mid-transaction: its coordinator aborts the open transaction
// at transaction.timeout.ms, the read_committed consumer jumps over its records (a
// read_uncommitted one read them) and reads the next producer's transaction. The checker must
// not call that a poll-skip though the killed producer's sends have no known outcome.
func TestReadCommittedSkipsAKilledProducersTransaction(t *testing.T) {
	const src = `cluster brokers=3
topic payments partitions=1 replication=3 min.insync.replicas=2
producer tx topic=payments acks=all transactional.id=payer transaction.timeout.ms=5s
producer tx2 topic=payments acks=all transactional.id=payer2
consumer rc topic=payments isolation.level=read_committed
consumer ru topic=payments isolation.level=read_uncommitted
begin tx
send tx 10
commit tx
await committed-txns tx >= 1 within 10s
begin tx
send tx 10
await txn tx == ongoing within 10s
wait 1s
kill tx
wait 15s
begin tx2
send tx2 10
commit tx2
await committed-txns tx2 >= 1 within 20s
wait 5s
expect consumed rc == 20
expect consumed ru == 30
expect verdict valid
`
	if r := runText(t, "killed-txn.scenario", src, 1); !r.OK {
		t.Fatalf("got ok=%v verdict %s %v (%s); want ok, valid", r.OK, r.Verdict, r.Anomalies, r.Failure)
	}
}

// transaction.version=2 fences a produce held up past its transaction's abort (KIP-890), also
// when two transactions in a row abort before any leader added a partition to them: the second
// abort, in CompleteAbort with the current epoch, is no retry and bumps the epoch. It was
// answered as a retry, and the held-up produce then opened a transaction that the producer's
// next one joined (G1a, inconsistent-offsets, lost-write). This is kip890-hanging-transaction
// with transaction.version=2, tx producing throughout, not killed.
func TestTV2LateProduceAfterTwoEmptyAbortsIsFenced(t *testing.T) {
	src, err := os.ReadFile("kip890-hanging-transaction.scenario")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "kill tx") || strings.HasPrefix(l, "expect ") {
			continue
		}
		l = strings.Replace(l, "transaction.version=1", "transaction.version=2", 1)
		if l == "rate tx 0/s" {
			l = "rate tx 50/s"
		}
		lines = append(lines, l)
	}
	lines = append(lines, "expect verdict valid")
	if r := runText(t, "kip890-tv2.scenario", strings.Join(lines, "\n"), 1); !r.OK {
		t.Fatalf("got ok=%v verdict %s %v (%s); want valid", r.OK, r.Verdict, r.Anomalies, r.Failure)
	}
}

// The kip890 nemesis file with transaction.version=2, seed 9: the leadership of tx's
// __transaction_state partition moves and the old coordinator, not told yet, got tx's next
// commit in CompleteCommit with the current epoch. Answered NONE as a retry, tx took its
// transaction for committed while the new coordinator aborted it at transaction.timeout.ms,
// and read_committed skipped it (poll-skip). A TV2 commit in CompleteCommit is now no retry.
func TestTV2StaleCoordinatorDoesNotAnswerACommitAsARetry(t *testing.T) {
	src, err := os.ReadFile("testdata/nemesis/kip890-hanging-transaction.scenario")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^expect .*$`).ReplaceAllString(string(src), "")
	text = strings.ReplaceAll(text, "transaction.version=1", "transaction.version=2") + "\nexpect verdict valid\n"
	if r := runText(t, "kip890-nemesis-tv2.scenario", text, 9); !r.OK {
		t.Fatalf("got ok=%v verdict %s %v (%s); want valid", r.OK, r.Verdict, r.Anomalies, r.Failure)
	}
}
