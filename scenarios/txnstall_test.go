package scenarios

import (
	"strings"
	"testing"
	"time"

	"kafkasim/broker/txn"
	"kafkasim/sim"
)

// The tour's stall (testdata/txn-loss-then-heal.scenario, seed 1): 5 s of loss between brokers 1
// and 2 stops a TV2 transactional producer for about 30 s, Kafka's timeouts for a request that
// never gets an answer (replica.socket.timeout.ms for the follower's fetch, request.timeout.ms
// for the leader's AddPartitionsToTxn, replica.lag.time.max.ms before the ISR shrinks); the
// finish then lets the producer work through its queue and the consumers read to the end.
func TestTxnLossThenHealStallsThenReadsToTheEnd(t *testing.T) {
	s, err := ParseFile("testdata/txn-loss-then-heal.scenario")
	if err != nil {
		t.Fatal(err)
	}
	var narration strings.Builder
	r, err := Run(s, Options{Seed: 1, KeepTrace: true, Narrate: &narration})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || r.Verdict != "valid" {
		t.Fatalf("got ok=%v verdict %s (%s); want ok, valid", r.OK, r.Verdict, r.Failure)
	}
	if strings.Contains(narration.String(), "did not read to the end") {
		t.Errorf("the finish did not read to the end:\n%s", narration.String())
	}
	tr := r.Cluster.World.Trace()
	var lastCommit, stall time.Duration
	var dropped []string
	for i := 0; i < tr.Len(); i++ {
		e := tr.At(i)
		switch {
		case e.Kind == sim.Drop:
			dropped = append(dropped, tr.TypeName(e.Type))
		case e.Kind == sim.Observe && tr.TypeName(e.Type) == "*txn.TransactionStateChanged" && e.Arg == int64(txn.CompleteCommit):
			if lastCommit > 0 && e.Time-lastCommit > stall {
				stall = e.Time - lastCommit
			}
			lastCommit = e.Time
		}
	}
	if stall < 25*time.Second || stall > 40*time.Second {
		t.Errorf("got a longest gap between commits of %v; want about 30 s (the timeouts of a lost request)", stall)
	}
	for _, want := range []string{"*protocol.FetchRequest", "*protocol.AddPartitionsToTxnRequest"} {
		if !strings.Contains(strings.Join(dropped, " "), want) {
			t.Errorf("got drops %v; want a %s among them", dropped, want)
		}
	}
}
