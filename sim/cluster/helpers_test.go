package cluster

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
)

// newCluster builds a cluster and runs it until every broker is registered and unfenced.
func newCluster(t *testing.T, brokers int, seed uint64, tune func(*Spec)) *Cluster {
	t.Helper()
	spec := DefaultSpec()
	spec.Brokers = brokers
	spec.Sim.Seed = seed
	if tune != nil {
		tune(&spec)
	}
	c, err := New(spec)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatalf("cluster start: %v", err)
	}
	return c
}

func mustTopic(t *testing.T, c *Cluster, ts TopicSpec) {
	t.Helper()
	if err := c.CreateTopic(ts); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatalf("topic %s: %v", ts.Name, err)
	}
}

func producerConfig(t *testing.T, kv ...string) config.Producer {
	t.Helper()
	p := config.DefaultProducer()
	for i := 0; i+1 < len(kv); i += 2 {
		if err := p.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func mustProducer(t *testing.T, c *Cluster, name, topic string, rate float64, kv ...string) {
	t.Helper()
	if _, err := c.AddProducer(ProducerSpec{Name: name, Topic: topic, Config: producerConfig(t, kv...), Rate: rate}); err != nil {
		t.Fatalf("AddProducer: %v", err)
	}
}

func await(t *testing.T, c *Cluster, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	if !c.RunUntil(cond, limit) {
		t.Fatalf("%s: not within %v (now %v)", what, limit, c.Now())
	}
}

// logValues maps offset → value over a replica's log.
func logValues(c *Cluster, broker int32, tp protocol.TopicPartition) map[int64]int64 {
	p := c.Replica(broker, tp)
	if p == nil {
		return nil
	}
	out := map[int64]int64{}
	for _, b := range p.Log().Batches() {
		for i := range b.Len() {
			out[b.BaseOffset+int64(i)] = b.Value(i)
		}
	}
	return out
}

// acked lists the acknowledged sends on tp (outcome ok with an offset).
func acked(c *Cluster, tp protocol.TopicPartition) []history.Op {
	var out []history.Op
	for _, op := range c.History() {
		if op.Type == history.Send && op.Outcome == history.OK && op.Topic == tp.Topic && op.Partition == tp.Partition && len(op.Offsets) == 1 {
			out = append(out, op)
		}
	}
	return out
}

// missingAcked lists acknowledged sends absent from the replica's log at their offset.
func missingAcked(c *Cluster, broker int32, tp protocol.TopicPartition) []history.Op {
	vals := logValues(c, broker, tp)
	var out []history.Op
	for _, op := range acked(c, tp) {
		if v, ok := vals[op.Offsets[0]]; !ok || v != op.Values[0] {
			out = append(out, op)
		}
	}
	return out
}

// valueCounts counts how often each value appears in a replica's log.
func valueCounts(c *Cluster, broker int32, tp protocol.TopicPartition) map[int64]int {
	counts := map[int64]int{}
	for _, v := range logValues(c, broker, tp) {
		counts[v]++
	}
	return counts
}

func isr(c *Cluster, tp protocol.TopicPartition) []int32 {
	s := slices.Clone(c.ISR(tp))
	slices.Sort(s)
	return s
}

func running(c *Cluster, id int32) bool { return c.World.State(id) == sim.Running }
