package protocol

import "time"

// Behavior: InitProducerId (API key 22) for idempotent producers without a transactional id:
// any broker answers with a fresh producer id from a block the controller allocated to it
// (AllocateProducerIds, API key 67, KIP-730) and epoch 0.

// InitProducerIdRequest asks for a producer id.
type InitProducerIdRequest struct {
	CorrelationID   int64
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	// TransactionTimeout is transaction.timeout.ms, with a transactional id (txn.go).
	TransactionTimeout time.Duration
}

// InitProducerIdResponse answers InitProducerIdRequest.
type InitProducerIdResponse struct {
	CorrelationID int64
	Error         ErrorCode
	ProducerID    int64
	ProducerEpoch int16
}

// AllocateProducerIdsRequest is sent by a broker to the active controller for a block of ids.
type AllocateProducerIdsRequest struct {
	CorrelationID int64
	BrokerID      int32
	BrokerEpoch   int64
}

// AllocateProducerIdsResponse carries the block, committed to the metadata log first.
type AllocateProducerIdsResponse struct {
	CorrelationID   int64
	Error           ErrorCode
	ProducerIDStart int64
	ProducerIDLen   int32
}
