package cluster

import (
	"fmt"
	"testing"
	"time"

	"kafkasim/broker/config"
)

// The seed's scale claims (1.1: 高吞吐 "每秒可以处理几十万条消息", 高并发 "支持数千个客户端同时读写"),
// measured as BenchmarkClassroom measures: simulated seconds per CPU second of the process.
// At least 1 sim-s/cpu-s is real time on one core. The figures go in the README's bench section.

// scaleClients builds six brokers, a topic of partitions partitions (RF 3,
// min.insync.replicas=2), producers producers at rate records/s each (acks=all, keys spread
// over the partitions) and one group of consumers consumers, and runs until every consumer owns
// a partition (or the limit passes).
func scaleClients(tb testing.TB, seed uint64, partitions, producers, consumers int, rate float64) *Cluster {
	tb.Helper()
	spec := DefaultSpec()
	spec.Brokers = 6
	spec.Sim.Seed = seed
	c, err := New(spec)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.CreateTopic(TopicSpec{Name: "events", Partitions: partitions, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}}); err != nil {
		tb.Fatal(err)
	}
	if err := c.WaitReady(5 * time.Minute); err != nil {
		tb.Fatal(err)
	}
	for i := range producers {
		if _, err := c.AddProducer(ProducerSpec{Name: fmt.Sprintf("p%d", i+1), Topic: "events", Config: config.DefaultProducer(), Rate: rate, Keys: 100}); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range consumers {
		cc := config.DefaultConsumer()
		cc.AutoOffsetReset = "earliest"
		if err := cc.Set("group", "readers"); err != nil {
			tb.Fatal(err)
		}
		if _, err := c.AddConsumer(ConsumerSpec{Name: fmt.Sprintf("c%d", i+1), Topic: "events", Config: cc}); err != nil {
			tb.Fatal(err)
		}
	}
	names := make([]string, consumers)
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i+1)
	}
	owners := func() int {
		n := 0
		for _, name := range names {
			if cs := c.Consumer(name); cs != nil && len(cs.Assigned()) > 0 {
				n++
			}
		}
		return n
	}
	for start := c.Now(); owners() < min(consumers, partitions); c.RunFor(time.Second) {
		if c.Now()-start > 2*time.Minute {
			tb.Fatalf("after 2m, %d of %d consumers own a partition", owners(), consumers)
		}
	}
	return c
}

// benchSimSeconds runs c one simulated second per iteration and reports the speed.
func benchSimSeconds(b *testing.B, c *Cluster) {
	events := c.World.Trace().Len()
	acked0 := ackedAll(c)
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c.RunFor(time.Second)
	}
	wall := time.Since(start).Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(b.N)/wall, "sim-s/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu, "sim-s/cpu-s")
	}
	b.ReportMetric(float64(c.World.Trace().Len()-events)/wall, "events/s")
	b.ReportMetric(float64(ackedAll(c)-acked0)/float64(b.N), "acked/sim-s")
}

func ackedAll(c *Cluster) int64 {
	var n int64
	for _, name := range c.ClientNames() {
		if p := c.Producer(name); p != nil {
			n += p.Stats().Acked
		}
	}
	return n
}

// BenchmarkScaleClients: six brokers, 1,000 producers (10 records/s each) and a group of 1,000
// consumers, each owning one of the topic's 1,000 partitions.
func BenchmarkScaleClients(b *testing.B) {
	c := scaleClients(b, 1, 1000, 1000, 1000, 10)
	c.RunFor(2 * time.Second)
	benchSimSeconds(b, c)
}

// BenchmarkScaleThroughput: six brokers, a topic of 12 partitions taking 200,000 records/s
// from 20 producers (10,000/s each, acks=all) read by a group of 12 consumers.
func BenchmarkScaleThroughput(b *testing.B) {
	c := scaleClients(b, 1, 12, 20, 12, 10_000)
	c.RunFor(2 * time.Second)
	benchSimSeconds(b, c)
}
