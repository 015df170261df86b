package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// txnHead is a cluster with a transactional producer driven by hand (no rate), a
// read_committed and a read_uncommitted consumer, and a consumer in a group.
const txnHead = `cluster brokers=3 controllers=3
topic orders partitions=2 replication=3 min.insync.replicas=2
producer tx topic=orders acks=all transactional.id=t1
producer auto topic=orders acks=all rate=10/s transactional.id=t2
producer plain topic=orders acks=all
consumer committed topic=orders isolation.level=read_committed
consumer dirty topic=orders
consumer app topic=orders group=g1
`

// Misuse of begin, commit and abort is a parse error at its place, before anything runs.
func TestHandTransactionMisuseNamesFileLineColumn(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"begin twice", txnHead + "begin tx\nsend tx 5\nbegin tx\n", "t.scenario:11:1: begin: tx's transaction begun at line 9 is still open (commit tx or abort tx first)"},
		{"commit without begin", txnHead + "commit tx\n", "t.scenario:9:1: commit: tx has no transaction open here (begin tx first)"},
		{"abort without begin", txnHead + "abort tx\n", "t.scenario:9:1: abort: tx has no transaction open here (begin tx first)"},
		{"commit twice", txnHead + "begin tx\ncommit tx\ncommit tx\n", "t.scenario:11:1: commit: tx has no transaction open here (begin tx first)"},
		{"begin on a non-transactional producer", txnHead + "begin plain\n", "t.scenario:9:7: begin: producer plain is not transactional (add transactional.id=ID)"},
		{"commit on a non-transactional producer", txnHead + "commit plain\n", "t.scenario:9:8: commit: producer plain is not transactional (add transactional.id=ID)"},
		{"begin on a producer with a rate", txnHead + "begin auto\n", "t.scenario:9:7: begin: producer auto has rate=10/s"},
		{"begin after a rate", txnHead + "rate tx 5/s\nbegin tx\n", "t.scenario:10:7: begin: producer tx was given a rate at line 9"},
		{"rate on a producer driven by hand", txnHead + "begin tx\ncommit tx\nrate tx 5/s\n", "t.scenario:11:1: rate: tx is driven by hand (begin at line 9): it has no rate"},
		{"send outside the transaction", txnHead + "begin tx\ncommit tx\nsend tx 5\n", "t.scenario:11:1: send: tx is driven by hand (begin at line 9): send its records between begin tx and commit tx or abort tx"},
		{"abort a consumer", txnHead + "abort app\n", "t.scenario:9:7: abort: app is a consumer; abort ends a transactional producer's transaction"},
		{"begin an unknown producer", txnHead + "begin nobody\n", "t.scenario:9:7: begin: unknown producer \"nobody\""},
		{"begin with two producers", txnHead + "begin tx auto\n", "t.scenario:9:1: begin: expected begin PRODUCER, e.g. begin p1"},
		{"commit on a consumer without a group", txnHead + "commit dirty\n", "t.scenario:9:8: commit: consumer dirty has no group (add group=G)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("t.scenario", []byte(tc.src))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want *Error %q", s, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %q; want %q", err.Error(), tc.want)
			}
		})
	}
	// The right order parses, and commit on a consumer still commits its group's offsets.
	ok := txnHead + "begin tx\nsend tx 5\nsend tx 3\ncommit tx\nbegin tx\nsend tx 2\nabort tx\nbegin tx\ncommit tx\ncommit app\nsend auto 4\n"
	if _, err := Parse("t.scenario", []byte(ok)); err != nil {
		t.Errorf("Parse: %v", err)
	}
}

// G1b (intermediate read) is a checker name: expect anomaly G1b and expect no anomaly G1b parse.
func TestG1bIsACheckerName(t *testing.T) {
	for _, src := range []string{txnHead + "expect no anomaly G1b\n", txnHead + "expect anomaly G1b\n"} {
		if _, err := Parse("t.scenario", []byte(src)); err != nil {
			t.Errorf("Parse: %v", err)
		}
	}
}

// txn P names a processor's transaction too; one without a transactional.id has none.
func TestTxnConditionOfAProcessor(t *testing.T) {
	src := txnHead + "topic out partitions=1 replication=3\nprocessor eos from=orders to=out group=g2 transactional.id=copier\nprocessor alo from=orders to=out group=g3\n"
	if _, err := Parse("t.scenario", []byte(src+"expect txn eos != prepare-abort\n")); err != nil {
		t.Errorf("Parse: %v", err)
	}
	_, err := Parse("t.scenario", []byte(src+"expect txn alo == ongoing\n"))
	if err == nil || !strings.Contains(err.Error(), `txn: processor "alo" has no transactional.id`) {
		t.Errorf("got %v; want processor alo has no transactional.id", err)
	}
}
