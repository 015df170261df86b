package cluster

import (
	"fmt"
	"time"

	"kafkasim/broker/node"
	"kafkasim/sim"
)

// Fault is one fault the nemesis applied, for logs and replay.
type Fault struct {
	At   time.Duration
	What string
}

// Nemesis applies random faults to brokers from the world's "faults" stream: every `every`
// it picks one of kill, crash, restart, pause, resume, partition, isolate, slow, heal, keeping
// at most a minority of brokers down at once; it runs until `d` has passed, then heals the
// network and resumes and restarts everything. At most one broker loses power in a run: two
// power losses can take committed records from every replica that holds them (durability rests
// on replication, not fsync; KIP-966 promises min.insync.replicas − 1 unclean shutdowns).
func (c *Cluster) Nemesis(every, d time.Duration) []Fault {
	r := c.World.Rand("faults")
	crashes := 1
	var log []Fault
	note := func(format string, args ...any) {
		log = append(log, Fault{At: c.Now(), What: fmt.Sprintf(format, args...)})
	}
	end := c.Now() + d
	for c.Now()+every <= end {
		c.RunFor(every)
		id := c.BrokerIDs[r.Intn(len(c.BrokerIDs))]
		down := 0
		for _, b := range c.BrokerIDs {
			if c.World.State(b) != sim.Running {
				down++
			}
		}
		minority := down+1 <= (len(c.BrokerIDs)-1)/2
		switch st := c.World.State(id); {
		case st == sim.Killed || st == sim.Crashed || st == sim.Stopped:
			if c.World.Restart(id) == nil {
				note("restart %d", id)
			}
		case st == sim.Paused:
			if c.World.Resume(id) == nil {
				note("resume %d", id)
			}
		default:
			switch k := r.Intn(8); {
			case k == 0 && minority:
				if c.World.Kill(id) == nil {
					note("kill %d", id)
				}
			case k == 1 && minority && crashes > 0:
				if c.World.Crash(id) == nil {
					note("crash %d", id)
					crashes--
				}
			case k == 2 && minority:
				if c.World.Pause(id) == nil {
					note("pause %d", id)
				}
			case k == 3:
				c.World.Isolate(id)
				note("isolate %d", id)
			case k == 4:
				other := c.BrokerIDs[r.Intn(len(c.BrokerIDs))]
				if other != id {
					c.World.Partition([]int32{id}, []int32{other})
					note("partition %d | %d", id, other)
				}
			case k == 5:
				extra := time.Duration(r.Intn(200)) * time.Millisecond
				c.World.Slow(id, extra)
				note("slow %d latency=%v", id, extra)
			default:
				c.World.Heal()
				note("heal")
			}
		}
	}
	c.RunFor(end - c.Now())
	c.Recover()
	note("recover")
	return log
}

// Recover heals the network, resumes paused nodes and restarts every node that is down: the
// finish of a scenario. A node still in a controlled shutdown is left to finish it first, then
// restarted (bounded by the world's stop timeout).
func (c *Cluster) Recover() {
	c.recoverNow()
	stopping := func() bool {
		for _, id := range c.World.IDs() {
			if c.World.State(id) == sim.Stopping {
				return true
			}
		}
		return false
	}
	if stopping() {
		c.RunUntil(func() bool { return !stopping() }, c.World.Options().StopTimeout+time.Second)
		c.recoverNow()
	}
}

func (c *Cluster) recoverNow() {
	c.World.Heal()
	for _, id := range c.World.IDs() {
		switch c.World.State(id) {
		case sim.Paused:
			_ = c.World.Resume(id)
		case sim.Killed, sim.Crashed, sim.Stopped:
			_ = c.World.Restart(id)
		}
	}
}

// Chaos is Nemesis over the whole cluster: besides the brokers' faults it kills, crashes,
// pauses and isolates controllers (a minority at a time, so the quorum can still elect), and
// makes links lossy — between brokers, and between clients and brokers. Every `every` it applies
// one fault or undoes one; after `d` it heals and restarts everything. At most brokerCrashes
// brokers lose power in a run: with Kafka's default flush policy durability rests on
// replication, and KIP-966 promises no loss of committed data through min.insync.replicas − 1
// unclean shutdowns, not more.
func (c *Cluster) Chaos(every, d time.Duration, brokerCrashes int) []Fault {
	r := c.World.Rand("faults")
	var log []Fault
	note := func(format string, args ...any) {
		log = append(log, Fault{At: c.Now(), What: fmt.Sprintf(format, args...)})
	}
	downIn := func(ids []int32) int {
		n := 0
		for _, id := range ids {
			if c.World.State(id) != sim.Running {
				n++
			}
		}
		return n
	}
	clients := make([]int32, 0, len(c.clientNames))
	for _, name := range c.clientNames {
		clients = append(clients, c.clients[name])
	}
	end := c.Now() + d
	for c.Now()+every <= end {
		c.RunFor(every)
		group := c.BrokerIDs
		if r.Intn(3) == 0 {
			group = c.Controllers
		}
		id := group[r.Intn(len(group))]
		minority := downIn(group)+1 <= (len(group)-1)/2
		switch st := c.World.State(id); {
		case st == sim.Killed || st == sim.Crashed || st == sim.Stopped:
			if c.World.Restart(id) == nil {
				note("restart %s", c.World.Name(id))
			}
		case st == sim.Paused:
			if c.World.Resume(id) == nil {
				note("resume %s", c.World.Name(id))
			}
		default:
			switch k := r.Intn(11); {
			case k == 0 && minority:
				if c.World.Kill(id) == nil {
					note("kill %s", c.World.Name(id))
				}
			case k == 1 && minority && (node.IsController(id) || brokerCrashes > 0):
				if c.World.Crash(id) == nil {
					note("crash %s", c.World.Name(id))
					if !node.IsController(id) {
						brokerCrashes--
					}
				}
			case k == 2 && minority:
				if c.World.Pause(id) == nil {
					note("pause %s", c.World.Name(id))
				}
			case k == 3 && minority:
				c.World.Isolate(id)
				note("isolate %s", c.World.Name(id))
			case k == 4:
				other := c.BrokerIDs[r.Intn(len(c.BrokerIDs))]
				if other != id {
					p := 0.05 + 0.25*r.Float64()
					c.World.Loss(id, other, p)
					note("loss %s -> %s p=%.2f", c.World.Name(id), c.World.Name(other), p)
				}
			case k == 5 && len(clients) > 0:
				cl := clients[r.Intn(len(clients))]
				b := c.BrokerIDs[r.Intn(len(c.BrokerIDs))]
				p := 0.05 + 0.25*r.Float64()
				c.World.Loss(b, cl, p)
				note("loss %s -> %s p=%.2f", c.World.Name(b), c.World.Name(cl), p)
			case k == 6:
				extra := time.Duration(r.Intn(300)) * time.Millisecond
				c.World.Slow(id, extra)
				note("slow %s latency=%v", c.World.Name(id), extra)
			case k == 7:
				// A one-way cut between any two servers (asymmetric partitions).
				all := append(append([]int32(nil), c.BrokerIDs...), c.Controllers...)
				to := all[r.Intn(len(all))]
				if to != id {
					c.World.Cut(id, to)
					note("cut %s -> %s", c.World.Name(id), c.World.Name(to))
				}
			case k == 8 && minority && !node.IsController(id):
				if c.World.Stop(id) == nil {
					note("stop %s", c.World.Name(id))
				}
			default:
				c.World.Heal()
				note("heal")
			}
		}
	}
	c.RunFor(end - c.Now())
	c.Recover()
	note("recover")
	return log
}
