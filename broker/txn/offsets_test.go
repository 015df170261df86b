package txn

import (
	"testing"
	"time"

	"kafkasim/broker/group"
	"kafkasim/broker/protocol"
)

// Reference: KafkaApis.handleAddOffsetsToTxnRequest (KIP-98): the group's partition of
// __consumer_offsets joins the transaction, so EndTxn sends its marker there too, where it
// completes the offsets TxnOffsetCommit wrote.
func TestAddOffsetsToTxnAddsTheGroupsOffsetsPartition(t *testing.T) {
	c, f := newCoordinator(t)
	c.cfg.OffsetsPartitions = 50
	p := begin(t, c, f, time.Second, 0)
	c.Handle(2*time.Second, 1, &protocol.AddOffsetsToTxnRequest{CorrelationID: 3, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, GroupID: "g1"})
	f.replicate(c, 2*time.Second)
	sent := f.take()
	if len(sent) != 1 {
		t.Fatalf("sent %+v; want one answer", sent)
	}
	if r, ok := sent[0].msg.(*protocol.AddOffsetsToTxnResponse); !ok || r.Error != protocol.NONE {
		t.Fatalf("AddOffsetsToTxn: %+v; want NONE", sent[0].msg)
	}
	offsets := protocol.TopicPartition{Topic: protocol.OffsetsTopic, Partition: group.PartitionFor("g1", 50)}
	m := c.Transaction(testID)
	if m == nil || m.State != Ongoing || len(m.Partitions) != 2 || m.Partitions[1] != offsets {
		t.Fatalf("transaction %+v; want Ongoing over payments/0 and %v", m, offsets)
	}
	c.Handle(3*time.Second, 1, &protocol.EndTxnRequest{CorrelationID: 4, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch, Committed: true})
	f.replicate(c, 3*time.Second)
	found := false
	for _, s := range f.take() {
		if r, ok := s.msg.(*protocol.WriteTxnMarkersRequest); ok && r.Committed {
			for _, tp := range r.Partitions {
				found = found || tp == offsets
			}
		}
	}
	if !found {
		t.Errorf("no COMMIT marker for %v after EndTxn", offsets)
	}
	// A fenced producer cannot add a group.
	c.Handle(4*time.Second, 1, &protocol.AddOffsetsToTxnRequest{CorrelationID: 5, TransactionalID: testID, ProducerID: p.ProducerID, ProducerEpoch: p.ProducerEpoch - 1, GroupID: "g1"})
	if s := f.take(); len(s) != 1 || s[0].msg.(*protocol.AddOffsetsToTxnResponse).Error != protocol.PRODUCER_FENCED {
		t.Errorf("AddOffsetsToTxn from an older epoch: %+v; want PRODUCER_FENCED", s)
	}
}
