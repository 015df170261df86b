package cluster

import (
	"time"

	"kafkasim/broker/config"
)

// Classroom builds the classroom cluster: 3 brokers, 3 controllers, a topic of 6 partitions
// with RF 3 and min.insync.replicas=2, one producer at 1,000 records/s with acks=all, and a
// consumer group: app1 and app2 in group g1 (classic protocol, range assignor) share the
// topic's partitions, reading from the start and committing automatically.
func Classroom(seed uint64) (*Cluster, error) { return buildClassroom(seed, true) }

// ClassroomWithoutGroup is the classroom cluster read by one consumer outside any group (c1,
// every partition assigned): the group's cost is measured against it (BenchmarkClassroom,
// `kafkasim bench`).
func ClassroomWithoutGroup(seed uint64) (*Cluster, error) { return buildClassroom(seed, false) }

func buildClassroom(seed uint64, group bool) (*Cluster, error) {
	spec := DefaultSpec()
	spec.Sim.Seed = seed
	c, err := New(spec)
	if err != nil {
		return nil, err
	}
	if err := c.CreateTopic(TopicSpec{Name: "orders", Partitions: 6, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}}); err != nil {
		return nil, err
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		return nil, err
	}
	if _, err := c.AddProducer(ProducerSpec{Name: "p1", Topic: "orders", Config: config.DefaultProducer(), Rate: 1000}); err != nil {
		return nil, err
	}
	cc := config.DefaultConsumer()
	cc.AutoOffsetReset = "earliest"
	if !group {
		_, err := c.AddConsumer(ConsumerSpec{Name: "c1", Topic: "orders", Config: cc})
		return c, err
	}
	cc.Group = "g1"
	for _, name := range []string{"app1", "app2"} {
		if _, err := c.AddConsumer(ConsumerSpec{Name: name, Topic: "orders", Config: cc}); err != nil {
			return nil, err
		}
	}
	return c, nil
}
