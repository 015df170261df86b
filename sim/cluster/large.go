package cluster

import (
	"fmt"
	"time"

	"kafkasim/broker/config"
)

// Large builds a large cluster: brokers brokers, 3 controllers, a topic of partitions
// partitions with RF 3 (min.insync.replicas=2) spread by the controller, a producer at rate
// records/s with acks=all and a consumer reading from the start. It is the scale figure of
// `kafkasim bench` (large_cluster_speed).
func Large(seed uint64, brokers, partitions int, rate float64) (*Cluster, error) {
	spec := DefaultSpec()
	spec.Brokers = brokers
	spec.Sim.Seed = seed
	c, err := New(spec)
	if err != nil {
		return nil, err
	}
	if err := c.CreateTopic(TopicSpec{Name: "orders", Partitions: partitions, Replication: min(3, brokers), Configs: map[string]string{"min.insync.replicas": "2"}}); err != nil {
		return nil, err
	}
	if err := c.WaitReady(5 * time.Minute); err != nil {
		return nil, fmt.Errorf("%d brokers, %d partitions: %v", brokers, partitions, err)
	}
	if _, err := c.AddProducer(ProducerSpec{Name: "p1", Topic: "orders", Config: config.DefaultProducer(), Rate: rate}); err != nil {
		return nil, err
	}
	cc := config.DefaultConsumer()
	cc.AutoOffsetReset = "earliest"
	if _, err := c.AddConsumer(ConsumerSpec{Name: "c1", Topic: "orders", Config: cc}); err != nil {
		return nil, err
	}
	return c, nil
}
