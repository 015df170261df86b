package checker

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
	"kafkasim/sim/cluster"
)

// run is a cluster with the online checker attached from the start of its workload.
type run struct {
	t      testing.TB
	c      *cluster.Cluster
	online *Online
}

func newRun(t testing.TB, brokers int, seed uint64, tune func(*cluster.Spec)) *run {
	t.Helper()
	spec := cluster.DefaultSpec()
	spec.Brokers = brokers
	spec.Sim.Seed = seed
	if tune != nil {
		tune(&spec)
	}
	c, err := cluster.New(spec)
	if err != nil {
		t.Fatalf("cluster.New: %v", err)
	}
	return &run{t: t, c: c, online: Attach(c)}
}

func (r *run) topic(ts cluster.TopicSpec) {
	r.t.Helper()
	if err := r.c.CreateTopic(ts); err != nil {
		r.t.Fatalf("CreateTopic: %v", err)
	}
	if err := r.c.WaitReady(30 * time.Second); err != nil {
		r.t.Fatalf("topic %s: %v", ts.Name, err)
	}
}

// orders is a one-partition topic with a fixed assignment.
func orders(configs map[string]string, replicas ...int32) cluster.TopicSpec {
	return cluster.TopicSpec{Name: "orders", Partitions: 1, Replication: len(replicas), Assignment: [][]int32{replicas}, Configs: configs}
}

var p0 = cluster.TP("orders", 0)

func (r *run) producer(name, topic string, rate float64, kv ...string) {
	r.t.Helper()
	p := config.DefaultProducer()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := p.Set(kv[i], kv[i+1]); err != nil {
			r.t.Fatal(err)
		}
	}
	if _, err := r.c.AddProducer(cluster.ProducerSpec{Name: name, Topic: topic, Config: p, Rate: rate}); err != nil {
		r.t.Fatalf("AddProducer: %v", err)
	}
}

func (r *run) consumer(name, topic string) {
	r.t.Helper()
	cc := config.DefaultConsumer()
	cc.AutoOffsetReset = "earliest"
	if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: name, Topic: topic, Config: cc}); err != nil {
		r.t.Fatalf("AddConsumer: %v", err)
	}
}

func (r *run) await(what string, limit time.Duration, cond func() bool) {
	r.t.Helper()
	if !r.c.RunUntil(cond, limit) {
		r.t.Fatalf("%s: not within %v (now %v)", what, limit, r.c.Now())
	}
}

// finish ends a run as a scenario does: heal and restart everything, stop the producers,
// wait until nothing is in flight, let the consumers read every partition to its leader's HW,
// close the clients, and check the history.
func (r *run) finish(cfg Config, producers []string, consumers ...string) *Report {
	r.t.Helper()
	r.c.Recover()
	for _, p := range producers {
		_ = r.c.SetRate(p, 0)
	}
	r.c.RunFor(5 * time.Second)
	r.c.RunUntil(func() bool {
		for _, p := range producers {
			if pr := r.c.Producer(p); pr == nil || pr.Stats().InFlight > 0 {
				return false
			}
		}
		return true
	}, 60*time.Second)
	r.c.RunUntil(func() bool {
		for _, name := range consumers {
			cs := r.c.Consumer(name)
			if cs == nil {
				return false
			}
			for tp, pos := range cs.Positions() {
				l := r.c.Replica(r.c.Leader(tp), tp)
				if l == nil || !l.IsLeader() || pos < l.HW() {
					return false
				}
			}
		}
		return true
	}, 60*time.Second)
	r.c.Close()
	cfg.Online = r.online
	cfg.UncleanElections = cfg.UncleanElections || r.online.UncleanElections()
	return Check(r.c.History(), cfg)
}

func (r *run) violations(inv string) []Violation {
	var out []Violation
	for _, v := range r.online.Violations() {
		if v.Invariant == inv {
			out = append(out, v)
		}
	}
	return out
}

func isr(r *run, tp protocol.TopicPartition) []int32 { return sortedIDs(r.c.ISR(tp)) }

func sortedIDs(s []int32) []int32 {
	out := append([]int32(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
