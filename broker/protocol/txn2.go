package protocol

// Behavior: what transactions add beyond txn.go: the errors of late or fenced markers
// (TRANSACTION_COORDINATOR_FENCED, KIP-98), and the transaction version (KIP-890) the producer
// and coordinator agree on.

// Transaction errors added here (Errors.java).
const (
	TRANSACTION_COORDINATOR_FENCED ErrorCode = 52
)

func init() {
	errorNames[TRANSACTION_COORDINATOR_FENCED] = "TRANSACTION_COORDINATOR_FENCED"
}
