package protocol

// Behavior: the transaction APIs of KIP-98 as the Java producer sends them with
// transaction.version 1: FindCoordinator with key type TRANSACTION, InitProducerId with a
// transactional id (InitProducerIdRequest, producerid.go), AddPartitionsToTxn (24), EndTxn
// (26), and the coordinator's WriteTxnMarkers (27) to the partition leaders. Markers are
// control batches (RecordBatch.Control) whose one record's key is COMMIT or ABORT. With
// transaction.version 2 (KIP-890) the leader adds a partition itself (FromBroker) and EndTxn
// bumps the epoch. AddOffsetsToTxn and TxnOffsetCommit are in txnoffsets.go. Not modelled:
// DescribeTransactions.

// Coordinator key types (FindCoordinatorRequest.KeyType).
const (
	CoordinatorGroup       int8 = 0
	CoordinatorTransaction int8 = 1
)

// Transaction errors (Errors.java).
const (
	INVALID_TXN_STATE           ErrorCode = 48
	INVALID_PRODUCER_ID_MAPPING ErrorCode = 49
	INVALID_TRANSACTION_TIMEOUT ErrorCode = 50
	TRANSACTIONAL_ID_NOT_FOUND  ErrorCode = 105
	TRANSACTION_ABORTABLE       ErrorCode = 120
)

func init() {
	for code, name := range map[ErrorCode]string{
		INVALID_TXN_STATE: "INVALID_TXN_STATE", INVALID_PRODUCER_ID_MAPPING: "INVALID_PRODUCER_ID_MAPPING",
		INVALID_TRANSACTION_TIMEOUT: "INVALID_TRANSACTION_TIMEOUT", TRANSACTIONAL_ID_NOT_FOUND: "TRANSACTIONAL_ID_NOT_FOUND",
		TRANSACTION_ABORTABLE: "TRANSACTION_ABORTABLE",
	} {
		errorNames[code] = name
	}
}

// TransactionStateTopic is the internal topic that holds the transaction coordinator's state.
const TransactionStateTopic = "__transaction_state"

// Control record keys (ControlRecordType).
const (
	MarkerCommit = "COMMIT"
	MarkerAbort  = "ABORT"
)

// AddPartitionsToTxnRequest adds partitions to the producer's ongoing transaction.
type AddPartitionsToTxnRequest struct {
	CorrelationID   int64
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Partitions      []TopicPartition
	// FromBroker: a partition leader adds the partition on the producer's behalf before it
	// appends a transaction's first batch there (transaction.version 2, KIP-890; AddPartitionsToTxn
	// v4+ sent by AddPartitionsToTxnManager).
	FromBroker bool
}

// AddPartitionsToTxnResponse answers AddPartitionsToTxnRequest (one error for all partitions).
type AddPartitionsToTxnResponse struct {
	CorrelationID int64
	Error         ErrorCode
}

// EndTxnRequest commits or aborts the producer's ongoing transaction.
type EndTxnRequest struct {
	CorrelationID   int64
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	Committed       bool
	// TransactionVersion 2 (EndTxn v5+, KIP-890): the coordinator bumps the producer epoch as
	// the transaction ends and answers with it.
	TransactionVersion int8
}

// EndTxnResponse answers EndTxnRequest once the PrepareCommit or PrepareAbort is written.
type EndTxnResponse struct {
	CorrelationID int64
	Error         ErrorCode
	// The producer id and epoch to use from now on (transaction.version 2: the bumped epoch).
	ProducerID    int64
	ProducerEpoch int16
}

// WriteTxnMarkersRequest asks a partition leader to append transaction markers.
type WriteTxnMarkersRequest struct {
	CorrelationID    int64
	ProducerID       int64
	ProducerEpoch    int16
	Committed        bool
	CoordinatorEpoch int32
	Partitions       []TopicPartition
	TransactionalID  string // not on the wire: lets the coordinator match the answer
	// TransactionVersion is the transaction's transaction.version (WriteTxnMarkers v2,
	// KIP-1228): with 2 the leader refuses a marker whose epoch is not above the producer's.
	TransactionVersion int8
}

// WriteTxnMarkersResponse answers WriteTxnMarkersRequest, one error per partition.
type WriteTxnMarkersResponse struct {
	CorrelationID int64
	ProducerID    int64
	Errors        []ErrorCode // by the request's Partitions
}
