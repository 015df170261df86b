package broker

import (
	"testing"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// AddPartitionsToTxnManager.AddPartitionsToTxnHandler.onComplete: the connection to the
// coordinator breaks (its process died) with the leader's AddPartitionsToTxn in flight; the held
// produce is answered at once with NETWORK_EXCEPTION as ReplicaManager translates it
// (NOT_ENOUGH_REPLICAS, which the producer retries), not held until the produce request's
// timeout. A disconnect from another broker leaves it held.
func TestAddPartitionsToTxnFailsOnCoordinatorDisconnect(t *testing.T) {
	b, p, env := leaderAwaitingFollower(t)
	coordinatorOn(b, 2)
	b.Step(time.Millisecond, testClient, txnProduce(1, 0, 0))
	if adds := addRequests(env); len(adds) != 1 {
		t.Fatalf("AddPartitionsToTxn sent %+v; want one", adds)
	}
	b.Step(2*time.Millisecond, 1, &node.ConnectionReset{Peer: 1}) // not the coordinator
	if _, errs := env.answered(); len(errs) != 0 {
		t.Fatalf("produce answered %v after another broker's disconnect; want it held", errs)
	}
	b.Step(3*time.Millisecond, 2, &node.ConnectionReset{Peer: 2}) // the coordinator died
	_, errs := env.answered()
	if len(errs) != 1 || errs[0] != protocol.NOT_ENOUGH_REPLICAS {
		t.Fatalf("produce answers %v after the coordinator's disconnect; want [NOT_ENOUGH_REPLICAS]", errs)
	}
	if leo := p.LEO(); leo != 0 {
		t.Errorf("LEO %d; want 0 (nothing appended unverified)", leo)
	}
}
