package cluster

import (
	"fmt"
	"io"
	"slices"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/history"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
)

// Demo runs the classroom cluster through a leader failover and narrates it to w: who leads,
// how the ISR shrinks when the leader dies, what the producer saw. It is what `kafkasim` shows
// until the scenario runner and the terminal UI take over.
func Demo(w io.Writer, seed uint64) error {
	c, err := Classroom(seed)
	if err != nil {
		return err
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(w, "%9.3fs  %s\n", c.Now().Seconds(), fmt.Sprintf(format, args...))
	}
	c.World.OnObserve(func(now time.Duration, id int32, ev any) {
		switch e := ev.(type) {
		case *broker.BecameLeader:
			say("broker %d leads %v in epoch %d from offset %d", e.Broker, e.TP, e.Epoch, e.StartOffset)
		case *broker.Truncated:
			say("broker %d truncates %v from %d to %d (%s)", e.Broker, e.TP, e.From, e.To, e.Reason)
		case *metadata.BrokerRegistrationChangeRecord:
			if e.Fenced {
				say("controller %s fences broker %d", node.Name(id), e.BrokerID)
			}
		case *metadata.PartitionChangeRecord:
			say("controller %s: %s/%d leader %d epoch %d ISR %v", node.Name(id), e.Topic, e.Partition, e.Leader, e.LeaderEpoch, e.ISR)
		}
	})
	tp := TP("orders", 0)
	say("cluster up: brokers %v, controllers c1..c%d, active controller %s", c.BrokerIDs, len(c.Controllers), node.Name(c.ActiveController()))
	say("topic orders: 6 partitions, replication 3, min.insync.replicas=2; producer p1 writes 1000 records/s with acks=all")
	c.RunFor(5 * time.Second)
	leader := c.Leader(tp)
	say("%v: leader %d, ISR %v, HW %d", tp, leader, c.ISR(tp), c.Replica(leader, tp).HW())
	say("kill broker %d (kill -9)", leader)
	if err := c.World.Kill(leader); err != nil {
		return err
	}
	c.RunUntil(func() bool { l := c.Leader(tp); return l >= 0 && l != leader }, 30*time.Second)
	c.RunFor(35 * time.Second)
	say("restart broker %d", leader)
	if err := c.World.Restart(leader); err != nil {
		return err
	}
	c.RunFor(20 * time.Second)
	c.Close()
	var ok, failed, unknown int
	for _, op := range c.History() {
		if op.Type != history.Send {
			continue
		}
		switch op.Outcome {
		case history.OK:
			ok++
		case history.Fail:
			failed++
		default:
			unknown++
		}
	}
	isr := slices.Clone(c.ISR(tp))
	slices.Sort(isr)
	say("%v: leader %d, ISR %v", tp, c.Leader(tp), isr)
	say("p1: %d records acknowledged, %d failed, %d unknown; trace %d events, hash %016x",
		ok, failed, unknown, c.World.Trace().Len(), c.World.Trace().Hash())
	return nil
}
