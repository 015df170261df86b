package client

import "kafkasim/broker/protocol"

// TransactionState is a transactional producer's state as Java's TransactionManager names it
// (TransactionManager.State), for people to read.
type TransactionState string

// TransactionManager's states.
const (
	TxnUninitialized TransactionState = "UNINITIALIZED"
	TxnInitializing  TransactionState = "INITIALIZING"
	TxnReadyState    TransactionState = "READY"
	TxnInTransaction TransactionState = "IN_TRANSACTION"
	TxnCommitting    TransactionState = "COMMITTING_TRANSACTION"
	TxnAborting      TransactionState = "ABORTING_TRANSACTION"
	TxnAbortableErr  TransactionState = "ABORTABLE_ERROR"
	TxnFatalErr      TransactionState = "FATAL_ERROR"
)

// TransactionStatus is what the producer's transaction manager shows: its state, the
// transaction coordinator it talks to (-1 unknown), its producer id and epoch.
type TransactionStatus struct {
	State       TransactionState
	Coordinator int32
	ProducerID  int64
	Epoch       int16
}

// TransactionStatus reports the producer's transaction state; ok false without transactional.id.
// A batch past delivery.timeout.ms puts Java's producer in ABORTABLE_ERROR until the application
// aborts; this producer aborts at once, so ABORTABLE_ERROR lasts until that abort is answered.
// A producer that starts over after PRODUCER_FENCED (as an application builds a new one) shows
// INITIALIZING again; one refused for good (KIP-588) is FATAL_ERROR.
func (p *Producer) TransactionStatus() (TransactionStatus, bool) {
	t := p.tx
	if t == nil {
		return TransactionStatus{}, false
	}
	s := TransactionStatus{Coordinator: t.coord, ProducerID: t.pid, Epoch: t.epoch}
	switch {
	case t.dead != "" || t.phase == txnFenced:
		s.State = TxnFatalErr
	case t.phase == txnFindCoordinator && t.pid == protocol.NoProducerID:
		s.State = TxnUninitialized
	case t.phase == txnFindCoordinator || t.phase == txnInit:
		s.State = TxnInitializing
	case t.phase == txnReady:
		s.State = TxnReadyState
	case t.phase == txnEnding && t.expired:
		s.State = TxnAbortableErr
	case t.phase == txnEnding && t.commit:
		s.State = TxnCommitting
	case t.phase == txnEnding:
		s.State = TxnAborting
	default: // adding partitions, producing, sending offsets
		s.State = TxnInTransaction
	}
	return s, true
}
