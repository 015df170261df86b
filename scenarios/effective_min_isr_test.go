package scenarios

import "testing"

// Reference: Partition.effectiveMinIsr and ReplicationControlManager.getTopicEffectiveMinIsr
// (KAFKA-15583, Kafka 3.7). Kafka accepts min.insync.replicas above a topic's replication factor
// and uses min(min.insync.replicas, replication factor): a cluster-wide min.insync.replicas=2
// coexists with a topic of replication 1, whose acks=all writes need only the leader, and with
// a topic of replication 2 whose own min.insync.replicas=3 asks for both replicas.
func TestEffectiveMinIsr(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3 controllers=1
config min.insync.replicas=2
topic single partitions=1 replication=1 replicas=1
topic pair partitions=1 replication=2 replicas=2,3 min.insync.replicas=3
producer p1 topic=single acks=all
producer p2 topic=pair acks=all
await isr pair/0 == {2,3} within 10s
send p1 5
send p2 5
await acked p1 >= 5 within 10s
await acked p2 >= 5 within 10s
`)
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("%s", r.Failure)
	}
}
