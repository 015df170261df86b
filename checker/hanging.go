package checker

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/broker/txn"
)

// HangingTransaction (online) is KIP-664's hanging transaction: a partition leader holds a
// transaction open (its first unstable offset keeps the LSO, and with it every read_committed
// consumer, from moving) longer than the transaction's transaction.timeout.ms plus
// hangingMargin, and the transaction coordinator no longer has that transaction open on that
// partition: its producer's transaction is complete, or began after this one, or does not
// name the partition. Nothing will ever write the marker that closes it (KAFKA-14402 under
// transaction.version=1; a marker lost to an unclean election). A transaction the coordinator
// still holds open is not hanging, however long: the coordinator times it out and aborts it.
const HangingTransaction = "hanging-transaction"

// hangingMargin is how long past its timeout a transaction may stay open before it is judged
// hanging: transaction.abort.timed.out.transaction.cleanup.interval.ms (10s) for the coordinator
// to notice, and as long again for the markers to reach the leaders and be replicated.
const hangingMargin = 30 * time.Second

// hangingCheckEvery: a broker's leaders are looked at no more often than this (the check
// walks the producers of every partition).
const hangingCheckEvery = time.Second

// txnSource is what the hanging-transaction invariant reads besides the replicas.
type txnSource interface {
	Now() time.Duration
	// CoordinatorTxn is the transaction of producer pid as the coordinator with the highest
	// coordinator epoch has it (nil if no running broker's coordinator has it loaded).
	CoordinatorTxn(pid int64) *txn.Metadata
}

// openTxnReplica is a replica that can say which transaction keeps its LSO back.
type openTxnReplica interface {
	OpenTransaction() (pid, first int64, since time.Duration, ok bool)
}

// checkHanging looks at broker b's leader replicas for a hanging transaction.
func (o *Online) checkHanging(b int32) {
	ts, ok := o.src.(txnSource)
	if !ok {
		return
	}
	now := ts.Now()
	if last, seen := o.hangChecked[b]; seen && now-last < hangingCheckEvery {
		return
	}
	o.hangChecked[b] = now
	for _, tp := range o.src.Hosted(b) {
		r := o.src.Replica(b, tp)
		or, ok := r.(openTxnReplica)
		if r == nil || !ok || !r.IsLeader() {
			continue
		}
		pid, first, since, ok := or.OpenTransaction()
		if !ok || first >= r.HW() {
			continue
		}
		m := ts.CoordinatorTxn(pid)
		if m == nil || m.Pending() || now-since <= m.Timeout+hangingMargin {
			continue
		}
		open := m.State == txn.Ongoing || m.State == txn.PrepareCommit || m.State == txn.PrepareAbort || m.State == txn.PrepareEpochFence
		if open && m.Start <= since && slices.Contains(m.Partitions, tp) {
			continue
		}
		o.violate(fmt.Sprintf("%s %d %d", tp, pid, first), HangingTransaction,
			"broker %d leading %s holds producer %d's transaction open from offset %d (appended at %v, %v ago, past its transaction.timeout.ms %v); its coordinator has %s's transaction %s, so no marker will close it: the LSO is stuck at %d",
			b, tp, pid, first, since, now-since, m.Timeout, m.ID, describeTxn(m, tp, since), first)
	}
}

func describeTxn(m *txn.Metadata, tp protocol.TopicPartition, since time.Duration) string {
	switch {
	case m.State != txn.Ongoing && m.State != txn.PrepareCommit && m.State != txn.PrepareAbort && m.State != txn.PrepareEpochFence:
		return "in state " + m.State.String()
	case m.Start > since:
		return fmt.Sprintf("begun later, at %v", m.Start)
	}
	return fmt.Sprintf("open without %s", tp)
}
