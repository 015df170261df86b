package protocol

// Behavior: the two APIs of KIP-98 and KIP-447 that put a consumer group's offsets in a
// transaction (the producer's sendOffsetsToTransaction): AddOffsetsToTxn (25) to the
// transaction coordinator, which adds the group's partition of __consumer_offsets to the
// transaction, then TxnOffsetCommit (28) to the group coordinator, which writes the offsets as
// the producer's transactional records: pending until the transaction's COMMIT marker reaches
// that partition, discarded by its ABORT marker. TxnOffsetCommit carries the consumer's group
// metadata (KIP-447: member id, generation or member epoch, group.instance.id), which the group
// coordinator checks as it checks an OffsetCommit. OffsetFetch with RequireStable (KIP-447)
// answers UNSTABLE_OFFSET_COMMIT while the group has such pending offsets.

// UNSTABLE_OFFSET_COMMIT: a transactional offset commit of the group is pending (Errors.java).
const UNSTABLE_OFFSET_COMMIT ErrorCode = 88

func init() { errorNames[UNSTABLE_OFFSET_COMMIT] = "UNSTABLE_OFFSET_COMMIT" }

// AddOffsetsToTxnRequest adds the group's __consumer_offsets partition to the producer's
// transaction.
type AddOffsetsToTxnRequest struct {
	CorrelationID   int64
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	GroupID         string
	// TransactionVersion is the producer's transaction.version (KIP-890), recorded on the
	// transaction when this request opens it.
	TransactionVersion int8
}

// AddOffsetsToTxnResponse answers AddOffsetsToTxnRequest.
type AddOffsetsToTxnResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// TxnOffsetCommitRequest commits offsets for a group inside the producer's transaction.
type TxnOffsetCommitRequest struct {
	CorrelationID   int64
	TransactionalID string
	GroupID         string
	ProducerID      int64
	ProducerEpoch   int16
	// The consumer's group metadata (KIP-447, TxnOffsetCommit v3+): -1 and empty for a producer
	// that does not pass it.
	GenerationID    int32
	MemberID        string
	GroupInstanceID string
	Partitions      []OffsetCommitPartition
}

// TxnOffsetCommitResponse answers TxnOffsetCommit per partition.
type TxnOffsetCommitResponse struct {
	CorrelationID int64
	Partitions    []OffsetCommitPartitionResponse
}
