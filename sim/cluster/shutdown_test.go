package cluster

import (
	"testing"
	"time"

	"kafkasim/broker"
	"kafkasim/sim"
)

// Reference: KIP-841 and KAFKA-15586. `stop` is a controlled shutdown: the broker asks the
// controller (through its heartbeat) to move its leaderships away, and halts only then, so the
// partition moves long before broker.session.timeout.ms and nothing acknowledged is lost; it
// comes back with a clean restart (its previous broker epoch), while a killed broker's restart
// is unclean.
func TestControlledShutdown(t *testing.T) {
	c := newCluster(t, 3, 53, nil)
	mustTopic(t, c, orders(map[string]string{"min.insync.replicas": "2"}, 1, 2, 3))
	mustProducer(t, c, "p1", "orders", 200, "acks", "all")
	c.RunFor(3 * time.Second)
	var regs []*broker.Registered
	c.World.OnObserve(func(_ time.Duration, _ int32, ev any) {
		if r, ok := ev.(*broker.Registered); ok {
			regs = append(regs, r)
		}
	})
	stopped := c.Now()
	if err := c.World.Stop(1); err != nil {
		t.Fatal(err)
	}
	await(t, c, "leadership moved", 5*time.Second, func() bool { l := c.Leader(p0); return l == 2 || l == 3 })
	if took := c.Now() - stopped; took > c.Spec.Broker.BrokerHeartbeatInterval+time.Second {
		t.Errorf("leadership moved after %v; want well before broker.session.timeout.ms (%v)", took, c.Spec.Broker.BrokerSessionTimeout)
	}
	await(t, c, "broker 1 stopped", 30*time.Second, func() bool { return c.World.State(1) == sim.Stopped })
	c.RunFor(3 * time.Second)
	if missing := missingAcked(c, c.Leader(p0), p0); len(missing) > 0 {
		t.Errorf("%d acknowledged records missing after a controlled shutdown", len(missing))
	}
	_ = c.World.Restart(1)
	await(t, c, "broker 1 registered", 10*time.Second, func() bool { return len(regs) == 1 })
	if !regs[0].Clean {
		t.Errorf("restart after stop registered as unclean; want clean (KAFKA-15586)")
	}
	await(t, c, "broker 1 back in the ISR", 30*time.Second, func() bool { return len(c.ISR(p0)) == 3 })
	_ = c.World.Kill(1)
	c.RunFor(time.Second)
	_ = c.World.Restart(1)
	await(t, c, "broker 1 registered again", 20*time.Second, func() bool { return len(regs) == 2 })
	if regs[1].Clean {
		t.Errorf("restart after kill registered as clean; want unclean")
	}
}
