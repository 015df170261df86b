package client

import (
	"testing"

	"kafkasim/broker/protocol"
)

// CompletedFetch.nextFetchedRecord consumes the aborted transactions up to each batch's last
// offset before it looks at the batch, markers included. An answer that starts at an aborted
// transaction's ABORT marker (the consumer stopped at the LSO just before it) lists that
// transaction; the marker closes it, and the next transaction of the same producer, committed,
// is read. Taking the marker first dropped that committed transaction (nemesis seed 9, TV2).
func TestReadCommittedAnswerStartingAtAbortMarker(t *testing.T) {
	txnBatch := func(base int64, n int) *protocol.RecordBatch {
		b := &protocol.RecordBatch{BaseOffset: base, ProducerID: 0, ProducerEpoch: 61, BaseSequence: 0, Transactional: true}
		for range n {
			b.Records = append(b.Records, protocol.Record{Value: base})
		}
		return b
	}
	marker := func(base int64, key string) *protocol.RecordBatch {
		return &protocol.RecordBatch{BaseOffset: base, ProducerID: 0, ProducerEpoch: 61, BaseSequence: protocol.NoSequence, Control: true, Transactional: true,
			Records: []protocol.Record{{Key: key}}}
	}
	pr := &protocol.FetchPartitionResponse{
		Batches:             []*protocol.RecordBatch{marker(263, protocol.MarkerAbort), txnBatch(264, 4), marker(268, protocol.MarkerCommit)},
		AbortedTransactions: []protocol.AbortedTransaction{{ProducerID: 0, FirstOffset: 260}},
	}
	if skip := abortedBatches(pr); skip[1] {
		t.Errorf("the committed transaction at 264 after the ABORT marker at 263 was dropped")
	}
	pr.Batches = []*protocol.RecordBatch{txnBatch(260, 3), marker(263, protocol.MarkerAbort), txnBatch(264, 4)}
	if skip := abortedBatches(pr); !skip[0] || skip[2] {
		t.Errorf("skip %v; want the aborted transaction at 260 dropped and 264 kept", skip)
	}
}
