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
	return c.runFaults(every, d, faultPlan{
		crashes: 1,
		draws:   8,
		menu:    []faultKind{kill, crash, pause, isolate(false), partitionPair, slow(200)},
	})
}

// NemesisWithConsumers is Nemesis with the named consumers faulted too: one step in three
// picks a consumer instead of a broker and kills it (the group notices after
// session.timeout.ms), pauses it (its heartbeats stop; when it resumes it finds itself fenced
// or rebalanced), stops it (a clean close: LeaveGroup) or brings it back. Without consumers it
// draws exactly as Nemesis does.
func (c *Cluster) NemesisWithConsumers(every, d time.Duration, consumers ...string) []Fault {
	plan := faultPlan{
		crashes: 1,
		draws:   8,
		menu:    []faultKind{kill, crash, pause, isolate(false), partitionPair, slow(200)},
	}
	for _, name := range consumers {
		if id, ok := c.clients[name]; ok {
			plan.consumers = append(plan.consumers, id)
		}
	}
	return c.runFaults(every, d, plan)
}

// Chaos is Nemesis over the whole cluster: besides the brokers' faults it kills, crashes,
// pauses and isolates controllers (a minority at a time, so the quorum can still elect), makes
// links lossy — between brokers, and between clients and brokers — cuts links one way between
// servers, and stops brokers cleanly. Every `every` it applies one fault or undoes one; after
// `d` it heals and restarts everything. At most brokerCrashes brokers lose power in a run:
// with Kafka's default flush policy durability rests on replication, and KIP-966 promises no
// loss of committed data through min.insync.replicas − 1 unclean shutdowns, not more.
func (c *Cluster) Chaos(every, d time.Duration, brokerCrashes int) []Fault {
	return c.runFaults(every, d, faultPlan{
		controllers: true,
		crashes:     brokerCrashes,
		draws:       11,
		menu:        []faultKind{kill, crash, pause, isolate(true), lossBetweenBrokers, lossToClient, slow(300), cutOneWay, stop},
	})
}

// faultPlan is what a run of random faults may do.
type faultPlan struct {
	controllers bool        // faults on controllers too (one draw in three)
	crashes     int         // broker power losses allowed
	draws       int         // each step draws k in [0, draws): menu[k], or heal past the menu
	menu        []faultKind // faults on a running node
	consumers   []int32     // consumers to fault too (one step in three)
}

// faultKind applies one fault to node id; it reports false when the fault is not allowed now
// (the step then heals instead).
type faultKind func(f *faulter, id int32) bool

// faulter is the state of one run of random faults.
type faulter struct {
	c        *Cluster
	r        *sim.Rand
	log      []Fault
	crashes  int
	minority bool // one more node of the group may go down
	clients  []int32
}

func (f *faulter) note(format string, args ...any) {
	f.log = append(f.log, Fault{At: f.c.Now(), What: fmt.Sprintf(format, args...)})
}

func (f *faulter) name(id int32) string { return f.c.World.Name(id) }

func (c *Cluster) runFaults(every, d time.Duration, plan faultPlan) []Fault {
	f := &faulter{c: c, r: c.World.Rand("faults"), crashes: plan.crashes}
	for _, name := range c.clientNames {
		f.clients = append(f.clients, c.clients[name])
	}
	end := c.Now() + d
	for c.Now()+every <= end {
		c.RunFor(every)
		if len(plan.consumers) > 0 && f.r.Intn(3) == 0 {
			f.consumerFault(plan.consumers[f.r.Intn(len(plan.consumers))])
			continue
		}
		group := c.BrokerIDs
		if plan.controllers && f.r.Intn(3) == 0 {
			group = c.Controllers
		}
		id := group[f.r.Intn(len(group))]
		down := 0
		for _, g := range group {
			if c.World.State(g) != sim.Running {
				down++
			}
		}
		f.minority = down+1 <= (len(group)-1)/2
		switch st := c.World.State(id); st {
		case sim.Killed, sim.Crashed, sim.Stopped:
			if c.World.Restart(id) == nil {
				f.note("restart %s", f.name(id))
			}
		case sim.Paused:
			if c.World.Resume(id) == nil {
				f.note("resume %s", f.name(id))
			}
		default:
			k := f.r.Intn(plan.draws)
			if k >= len(plan.menu) || !plan.menu[k](f, id) {
				c.World.Heal()
				f.note("heal")
			}
		}
	}
	c.RunFor(end - c.Now())
	c.Recover()
	f.note("recover")
	return f.log
}

// consumerFault brings a consumer that is down back, or kills, pauses or stops a running one.
func (f *faulter) consumerFault(id int32) {
	w := f.c.World
	switch w.State(id) {
	case sim.Killed, sim.Crashed, sim.Stopped:
		if w.Restart(id) == nil {
			f.note("restart %s", f.name(id))
		}
	case sim.Paused:
		if w.Resume(id) == nil {
			f.note("resume %s", f.name(id))
		}
	case sim.Running:
		switch f.r.Intn(3) {
		case 0:
			if w.Kill(id) == nil {
				f.note("kill %s", f.name(id))
			}
		case 1:
			if w.Pause(id) == nil {
				f.note("pause %s", f.name(id))
			}
		default:
			if w.Stop(id) == nil {
				f.note("stop %s", f.name(id))
			}
		}
	}
}

func kill(f *faulter, id int32) bool {
	if !f.minority {
		return false
	}
	if f.c.World.Kill(id) == nil {
		f.note("kill %s", f.name(id))
	}
	return true
}

// crash is a power loss; brokers' are counted against the plan's allowance.
func crash(f *faulter, id int32) bool {
	broker := !node.IsController(id)
	if !f.minority || broker && f.crashes <= 0 {
		return false
	}
	if f.c.World.Crash(id) == nil {
		f.note("crash %s", f.name(id))
		if broker {
			f.crashes--
		}
	}
	return true
}

func pause(f *faulter, id int32) bool {
	if !f.minority {
		return false
	}
	if f.c.World.Pause(id) == nil {
		f.note("pause %s", f.name(id))
	}
	return true
}

func isolate(onlyMinority bool) faultKind {
	return func(f *faulter, id int32) bool {
		if onlyMinority && !f.minority {
			return false
		}
		f.c.World.Isolate(id)
		f.note("isolate %s", f.name(id))
		return true
	}
}

func partitionPair(f *faulter, id int32) bool {
	other := f.c.BrokerIDs[f.r.Intn(len(f.c.BrokerIDs))]
	if other != id {
		f.c.World.Partition([]int32{id}, []int32{other})
		f.note("partition %s | %s", f.name(id), f.name(other))
	}
	return true
}

func lossBetweenBrokers(f *faulter, id int32) bool {
	other := f.c.BrokerIDs[f.r.Intn(len(f.c.BrokerIDs))]
	if other != id {
		p := 0.05 + 0.25*f.r.Float64()
		f.c.World.Loss(id, other, p)
		f.note("loss %s -> %s p=%.2f", f.name(id), f.name(other), p)
	}
	return true
}

func lossToClient(f *faulter, _ int32) bool {
	if len(f.clients) == 0 {
		return false
	}
	cl := f.clients[f.r.Intn(len(f.clients))]
	b := f.c.BrokerIDs[f.r.Intn(len(f.c.BrokerIDs))]
	p := 0.05 + 0.25*f.r.Float64()
	f.c.World.Loss(b, cl, p)
	f.note("loss %s -> %s p=%.2f", f.name(b), f.name(cl), p)
	return true
}

func slow(maxMs int) faultKind {
	return func(f *faulter, id int32) bool {
		extra := time.Duration(f.r.Intn(maxMs)) * time.Millisecond
		f.c.World.Slow(id, extra)
		f.note("slow %s latency=%v", f.name(id), extra)
		return true
	}
}

// cutOneWay cuts a link one way between any two servers (asymmetric partitions).
func cutOneWay(f *faulter, id int32) bool {
	all := append(append([]int32(nil), f.c.BrokerIDs...), f.c.Controllers...)
	to := all[f.r.Intn(len(all))]
	if to != id {
		f.c.World.Cut(id, to)
		f.note("cut %s -> %s", f.name(id), f.name(to))
	}
	return true
}

// stop is a controlled shutdown of a broker.
func stop(f *faulter, id int32) bool {
	if !f.minority || node.IsController(id) {
		return false
	}
	if f.c.World.Stop(id) == nil {
		f.note("stop %s", f.name(id))
	}
	return true
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
