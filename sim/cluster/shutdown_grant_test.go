package cluster

import (
	"testing"
	"time"

	"kafkasim/sim"
)

// Reference: BrokerHeartbeatManager.calculateNextBrokerState and
// ReplicationControlManager.processBrokerHeartbeat (KIP-841). The controller grants
// SHUTDOWN_NOW only once the other brokers have replayed the leadership moves (its
// controlled-shutdown offset ≤ the lowest active offset), and the grant fences the broker:
// when a stopped broker halts, no running broker still sees it leading, and the controller
// shows it fenced.
func TestControlledShutdownGrantWaitsForReplayAndFences(t *testing.T) {
	c := newCluster(t, 3, 53, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 200, "acks", "all")
	c.RunFor(3 * time.Second)
	if l := c.Leader(p0); l != 1 {
		t.Fatalf("leader %d; want 1 before the stop", l)
	}
	if err := c.World.Stop(1); err != nil {
		t.Fatal(err)
	}
	await(t, c, "broker 1 stopped", 30*time.Second, func() bool { return c.World.State(1) == sim.Stopped })
	for _, id := range []int32{2, 3} {
		if p := c.Broker(id).Image().Partition(p0.Topic, p0.Partition); p == nil || p.Leader == 1 {
			t.Errorf("broker %d's metadata when broker 1 halted: got %+v; want another leader", id, p)
		}
	}
	if b := c.Controller(c.ActiveController()).Committed().Brokers[1]; b == nil || !b.Fenced {
		t.Errorf("broker 1 at the controller when it halted: got %+v; want fenced", b)
	}
}
