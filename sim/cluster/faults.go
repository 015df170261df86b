package cluster

import (
	"fmt"
	"time"

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
// network and resumes and restarts everything.
func (c *Cluster) Nemesis(every, d time.Duration) []Fault {
	r := c.World.Rand("faults")
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
			case k == 1 && minority:
				if c.World.Crash(id) == nil {
					note("crash %d", id)
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
