package client_test

import (
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/history"
	"kafkasim/sim/cluster"
)

// An at-least-once processor (Kafka Streams' processing.guarantee=at_least_once) commits its
// group's offsets every commit.interval.ms (30 s) after the inputs whose outputs its producer
// has acknowledged. The idempotent producer reports each batch's outcomes as one record
// (history.Sends), not an op per output: the processor must read those to know its outputs
// are acknowledged, or it never commits and every restart or rebalance reads the input again
// from the start. Over 70 s the processor sends OffsetCommits, each past the one before.
func TestAtLeastOnceProcessorCommitsOffsetsOfBatchAcknowledgedOutputs(t *testing.T) {
	c := processorCluster(t, 1)
	addProcessor(t, c, "copy")
	c.RunFor(70 * time.Second)

	var sends, commits int
	last := int64(0)
	for _, op := range c.History() {
		switch {
		case op.Client == "copy" && op.Type == history.Send && op.Outcome == history.OK:
			sends++
		case op.Client == "copy" && op.Type == history.Commit && op.Outcome == history.OK:
			commits++
			if op.Offsets[0] <= last {
				t.Errorf("commit of offset %d at %v: not past the one before (%d)", op.Offsets[0], op.Complete, last)
			}
			last = op.Offsets[0]
		}
	}
	if sends == 0 {
		t.Fatalf("the processor acknowledged %d outputs; want its producer to write some", sends)
	}
	if commits < 2 {
		t.Fatalf("%d OffsetCommits acknowledged in 70 s (commit.interval.ms 30 s), %d outputs acknowledged; want at least 2", commits, sends)
	}
	if st := c.Processor("copy").Stats(); st.Committed < 2 {
		t.Errorf("Stats().Committed = %d; want at least 2", st.Committed)
	}
	if last < int64(sends)/2 {
		t.Errorf("last committed offset %d after %d acknowledged outputs; want the commits to follow them", last, sends)
	}
}

// processorCluster: three brokers, orders and receipts of the given partitions, an acks=all
// producer writing 50 orders a second.
func processorCluster(t *testing.T, partitions int) *cluster.Cluster {
	t.Helper()
	spec := cluster.DefaultSpec()
	spec.Brokers = 3
	spec.Sim.Seed = 1
	c, err := cluster.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"orders", "receipts"} {
		if err := c.CreateTopic(cluster.TopicSpec{Name: name, Partitions: partitions, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	pc := config.DefaultProducer()
	if err := pc.Set("acks", "all"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddProducer(cluster.ProducerSpec{Name: "shop", Topic: "orders", Config: pc, Rate: 50}); err != nil {
		t.Fatal(err)
	}
	return c
}

// addProcessor starts an at-least-once processor copying orders to receipts in group g1.
func addProcessor(t *testing.T, c *cluster.Cluster, name string) {
	t.Helper()
	cc := config.DefaultConsumer()
	for _, kv := range [][2]string{{"group", "g1"}, {"processing", "50ms"}, {"session.timeout.ms", "10s"}} {
		if err := cc.Set(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.AddProcessor(cluster.ProcessorSpec{Name: name, From: "orders", To: "receipts", Consumer: cc, Producer: config.DefaultProducer()}); err != nil {
		t.Fatal(err)
	}
}

// Kafka Streams commits the tasks it gives up in a rebalance before it rejoins
// (StreamsRebalanceListener.onPartitionsRevoked, TaskManager.handleRevocation). An
// at-least-once processor that has handled 15 s of input when a second one joins its group
// commits the offsets of its acknowledged outputs at once, before its 30 s commit interval is
// up, so the rebalance alone makes no one read those inputs again.
func TestAtLeastOnceProcessorCommitsBeforeRejoining(t *testing.T) {
	c := processorCluster(t, 2)
	addProcessor(t, c, "copy1")
	start := c.Now()
	c.RunFor(15 * time.Second)
	addProcessor(t, c, "copy2")
	c.RunFor(10 * time.Second) // the rebalance; copy1's first commit interval ends at start+30s
	var early []history.Op
	for _, op := range c.History() {
		if op.Client == "copy1" && op.Type == history.Commit && op.Outcome == history.OK && op.Complete < start+atLeastOnceInterval {
			early = append(early, op)
		}
	}
	if len(early) == 0 {
		t.Fatalf("copy1 committed nothing in the rebalance 15 s after it started; want its acknowledged outputs' offsets committed before it rejoined")
	}
	for _, op := range early {
		if op.Offsets[0] <= 0 {
			t.Errorf("copy1 committed %s/%d offset %d; want past the inputs it handled", op.Topic, op.Partition, op.Offsets[0])
		}
	}
	redelivered := 0
	seen := map[[2]int64]bool{}
	for _, op := range c.History() {
		if op.Type != history.Poll || op.Client != "copy1" && op.Client != "copy2" {
			continue
		}
		for _, v := range op.Values {
			k := [2]int64{int64(op.Partition), v}
			if seen[k] {
				redelivered++
			}
			seen[k] = true
		}
	}
	if redelivered > 100 {
		t.Errorf("%d inputs read twice across the rebalance; want only those whose outputs were not yet acknowledged", redelivered)
	}
}

// atLeastOnceInterval is Kafka Streams' commit.interval.ms for at_least_once.
const atLeastOnceInterval = 30 * time.Second
