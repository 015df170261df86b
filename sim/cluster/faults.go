package cluster

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/node"
	"kafkasim/sim"
)

// Fault is one fault the nemesis applied, for logs and replay: What is the fault as a scenario
// statement ("kill 2", "partition 1 | 3", "heal"), Action the fault itself ("recover", the
// finish of Nemesis and Chaos, has none).
type Fault struct {
	At     time.Duration
	What   string
	Action sim.FaultAction
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

// apply applies a fault to the world and logs it; a lifecycle verb that does not apply (the
// node is in the wrong state) is not logged.
func (f *faulter) apply(a sim.FaultAction) error {
	a.At = f.c.Now()
	err := f.c.World.Apply(a)
	if err == nil {
		f.log = append(f.log, Fault{At: a.At, What: a.Words(f.name), Action: a})
	}
	return err
}

func (f *faulter) node(code int64, id int32) error {
	return f.apply(sim.FaultAction{Kind: sim.FaultKindOf(code), Node: id})
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
			group = c.controlPlane()
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
			_ = f.node(sim.FaultRestart, id)
		case sim.Paused:
			_ = f.node(sim.FaultResume, id)
		default:
			k := f.r.Intn(plan.draws)
			if k >= len(plan.menu) || !plan.menu[k](f, id) {
				_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultHeal)})
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
		_ = f.node(sim.FaultRestart, id)
	case sim.Paused:
		_ = f.node(sim.FaultResume, id)
	case sim.Running:
		switch f.r.Intn(3) {
		case 0:
			_ = f.node(sim.FaultKill, id)
		case 1:
			_ = f.node(sim.FaultPause, id)
		default:
			_ = f.node(sim.FaultStop, id)
		}
	}
}

func kill(f *faulter, id int32) bool {
	if !f.minority {
		return false
	}
	_ = f.node(sim.FaultKill, id)
	return true
}

// crash is a power loss; brokers' are counted against the plan's allowance.
func crash(f *faulter, id int32) bool {
	broker := node.IsBroker(id)
	if !f.minority || broker && f.crashes <= 0 {
		return false
	}
	if f.node(sim.FaultCrash, id) == nil {
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
	_ = f.node(sim.FaultPause, id)
	return true
}

func isolate(onlyMinority bool) faultKind {
	return func(f *faulter, id int32) bool {
		if onlyMinority && !f.minority {
			return false
		}
		_ = f.node(sim.FaultIsolate, id)
		return true
	}
}

func partitionPair(f *faulter, id int32) bool {
	other := f.c.BrokerIDs[f.r.Intn(len(f.c.BrokerIDs))]
	if other != id {
		_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultPartition), Groups: [][]int32{{id}, {other}}})
	}
	return true
}

// partitionFromEnsemble cuts a broker off from every ZooKeeper server while it still reaches
// the other brokers and the clients (partition B | z1 z2 z3): its session expires after
// zookeeper.session.timeout.ms, the controller moves its leaderships, and until it hears of that
// it still serves what its partitions allow (KAFKA-3083's window in ZooKeeper mode).
func partitionFromEnsemble(f *faulter, id int32) bool {
	if len(f.c.ZooKeeper) == 0 || !slices.Contains(f.c.BrokerIDs, id) {
		return false
	}
	_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultPartition), Groups: [][]int32{{id}, slices.Clone(f.c.ZooKeeper)}})
	return true
}

func lossBetweenBrokers(f *faulter, id int32) bool {
	other := f.c.BrokerIDs[f.r.Intn(len(f.c.BrokerIDs))]
	if other != id {
		p := 0.05 + 0.25*f.r.Float64()
		_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultLoss), Node: id, Peer: other, P: p})
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
	_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultLoss), Node: b, Peer: cl, P: p})
	return true
}

func slow(maxMs int) faultKind {
	return func(f *faulter, id int32) bool {
		extra := time.Duration(f.r.Intn(maxMs)) * time.Millisecond
		_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultSlow), Node: id, Latency: extra})
		return true
	}
}

// cutOneWay cuts a link one way between any two servers (asymmetric partitions).
func cutOneWay(f *faulter, id int32) bool {
	all := append(append([]int32(nil), f.c.BrokerIDs...), f.c.controlPlane()...)
	to := all[f.r.Intn(len(all))]
	if to != id {
		_ = f.apply(sim.FaultAction{Kind: sim.FaultKindOf(sim.FaultCut), Node: id, Peer: to})
	}
	return true
}

// stop is a controlled shutdown of a broker.
func stop(f *faulter, id int32) bool {
	if !f.minority || !node.IsBroker(id) {
		return false
	}
	_ = f.node(sim.FaultStop, id)
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
