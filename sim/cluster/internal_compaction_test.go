package cluster

import (
	"testing"
	"time"

	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
)

// Reference: GroupCoordinatorService.groupMetadataTopicConfigs: __consumer_offsets is created
// compacted with offsets.topic.segment.bytes, so a group committing again and again leaves one
// record per offset once its segments roll and the cleaner passes (here with segments of 2 KB,
// through internal.segment.bytes); every replica cleans its own copy.
func TestConsumerOffsetsIsCompacted(t *testing.T) {
	spec := DefaultSpec()
	spec.Sim.Seed = 5
	for k, v := range map[string]string{"offsets.topic.num.partitions": "1", "offsets.topic.segment.bytes": "2000", "log.retention.check.interval.ms": "1s"} {
		if err := spec.Broker.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(TopicSpec{Name: "orders", Partitions: 4, Replication: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	mustProducer(t, c, "p1", "orders", 200, "acks", "all")
	groupConsumer(t, c, "r1", "auto.commit.interval.ms", "200")
	c.RunFor(60 * time.Second)
	tp := protocol.TopicPartition{Topic: protocol.OffsetsTopic, Partition: group.PartitionFor("g1", 1)}
	for _, id := range c.BrokerIDs {
		r := c.Replica(id, tp)
		if r == nil {
			t.Fatalf("broker %d hosts no replica of %s", id, tp)
		}
		cfg := r.Log().Config()
		if !cfg.Compact || cfg.Delete || cfg.SegmentBytes != 2000 {
			t.Errorf("broker %d: %s compact %v delete %v segment.bytes %d; want compact only, 2000", id, tp, cfg.Compact, cfg.Delete, cfg.SegmentBytes)
		}
		records := 0
		for _, b := range r.Log().Batches() {
			records += b.Len()
		}
		if r.LEO() < 300 || records > int(r.LEO())/4 {
			t.Errorf("broker %d: %d records held of %d offsets written; want the superseded commits cleaned", id, records, r.LEO())
		}
	}
}

// Reference: TransactionLog's topic configs (TransactionStateManager.transactionTopicConfigs):
// __transaction_state's min.insync.replicas is transaction.state.log.min.isr (2), whatever the
// brokers' min.insync.replicas (1 here), so that a transaction's state survives the crash of
// the last in-sync replica; capped at the topic's replication, as that is capped at the
// brokers there are.
func TestTransactionStateTakesTransactionStateLogMinISR(t *testing.T) {
	for _, tc := range []struct {
		replication string
		want        int
	}{{"3", 2}, {"1", 1}} {
		spec := DefaultSpec()
		spec.Sim.Seed = 3
		for k, v := range map[string]string{"transaction.state.log.num.partitions": "2", "transaction.state.log.replication.factor": tc.replication} {
			if err := spec.Broker.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		c, err := New(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.CreateTopic(TopicSpec{Name: "orders", Partitions: 2, Replication: 3}); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitReady(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		mustProducer(t, c, "p1", "orders", 100, "acks", "all", "transactional.id", "tx")
		c.RunFor(10 * time.Second)
		found := 0
		for p := range int32(2) {
			tp := protocol.TopicPartition{Topic: protocol.TransactionStateTopic, Partition: p}
			for _, id := range c.BrokerIDs {
				if r := c.Replica(id, tp); r != nil {
					found++
					if got := r.Log().Config().MinInsyncReplicas; got != tc.want {
						t.Errorf("replication %s: broker %d: %s min.insync.replicas %d; want %d", tc.replication, id, tp, got, tc.want)
					}
				}
			}
		}
		if found == 0 {
			t.Errorf("replication %s: no replica of __transaction_state", tc.replication)
		}
	}
}
