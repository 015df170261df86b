package session

import (
	"strings"
	"testing"
)

// The transactions pieces of the snapshot: each replica's LSO, the leader's open transactions
// named after their producer, the producers' transaction manager states, and the coordinator's
// markers in the event log.
func TestSnapshotShowsTransactions(t *testing.T) {
	s, err := TxnFixture()
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	p := snap.Partitions[0]
	l := p.LeaderReplica()
	if l == nil || l.LSO >= l.HW {
		t.Fatalf("%s leader %+v; want its LSO below its HW (hand's transaction is open)", p.Name(), l)
	}
	if len(p.OpenTxns) != 1 || p.OpenTxns[0].Producer != "hand" || p.OpenTxns[0].FirstOffset != l.LSO {
		t.Errorf("%s open transactions %+v; want hand's, from the LSO %d", p.Name(), p.OpenTxns, l.LSO)
	}
	states := map[string]string{}
	for _, c := range snap.Clients {
		if c.Txn != nil {
			states[c.Name] = c.Txn.State
		}
	}
	if states["hand"] != "IN_TRANSACTION" || states["tx"] == "" || states["rc"] != "" {
		t.Errorf("transaction states %v; want hand IN_TRANSACTION, tx's, none for the consumer", states)
	}
	var commits, aborts int
	for _, e := range s.Events() {
		if e.Kind == Marker {
			commits += strings.Count(e.Text, "writes COMMIT markers")
			aborts += strings.Count(e.Text, "writes ABORT markers")
		}
	}
	if commits == 0 || aborts == 0 {
		t.Errorf("event log: %d COMMIT and %d ABORT marker events; want some of each (tx commits and aborts)", commits, aborts)
	}
}
