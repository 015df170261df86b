package scenarios

import (
	"io"
	"testing"
)

// Reference: LogCleaner's CleanedTransactionMetadata (KIP-98): the cleaner removes an aborted
// transaction's records, and compaction-lost-key, which follows each key's latest committed
// record, must not count them (it did, twice on seed 1, before it read the last stable offset
// and the aborted-transaction index). The scenario's expectations say the keys only the aborted
// records wrote are gone from every replica.
func TestCompactionOfAnAbortedTransactionIsNoLostKey(t *testing.T) {
	f, err := Open("testdata/compaction-aborted-transaction.scenario")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		if ok, err := RunFiles(io.Discard, []*File{f}, seed, Outputs{}); err != nil || !ok {
			t.Errorf("seed %d: ok %v, err %v; want every expectation held", seed, ok, err)
		}
	}
}
