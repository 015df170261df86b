package scenarios

import (
	"strings"
	"testing"
)

// `txn P == STATE` names a transactional producer and one of TransactionState's states; bad
// input is an error at the line and column, and unknown transaction.version values name the key.
func TestTxnConditionParses(t *testing.T) {
	const set = `cluster brokers=3
topic orders partitions=1 replication=3
producer tx topic=orders acks=all transactional.id=payer
producer plain topic=orders acks=all
`
	if _, err := Parse("t.scenario", []byte(set+"expect txn tx == ongoing\nawait txn tx != prepare-commit within 5s\n")); err != nil {
		t.Fatalf("a good txn condition: %v", err)
	}
	for _, c := range []struct{ line, want string }{
		{"expect txn plain == ongoing", `t.scenario:5:12: txn: producer "plain" has no transactional.id`},
		{"expect txn nobody == ongoing", `t.scenario:5:12: txn: unknown producer or processor "nobody"`},
		{"expect txn tx == open", "t.scenario:5:18: txn: expected one of complete-abort, complete-commit, dead, empty, ongoing, prepare-abort, prepare-commit, prepare-epoch-fence, none"},
		{"expect txn tx >= ongoing", "t.scenario:5:15: txn: expected == or !="},
	} {
		_, err := Parse("t.scenario", []byte(set+c.line+"\n"))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: got %v; want %s", c.line, err, c.want)
		}
	}
	_, err := Parse("t.scenario", []byte(strings.Replace(set, "transactional.id=payer", "transactional.id=payer transaction.version=3", 1)))
	if err == nil || !strings.Contains(err.Error(), "transaction.version") {
		t.Errorf("transaction.version=3: got %v; want an error naming transaction.version", err)
	}
}
