package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"kafkasim/broker/protocol"
	"kafkasim/broker/txn"
	"kafkasim/sim/cluster"
)

// txnStates are the words of `txn P == STATE`, TransactionState's states as the scenario
// language spells them; none: the coordinator has no transaction for P's transactional.id
// (not yet, or no coordinator is running).
var txnStates = map[txn.State]string{
	txn.Empty: "empty", txn.Ongoing: "ongoing", txn.PrepareCommit: "prepare-commit", txn.PrepareAbort: "prepare-abort",
	txn.CompleteCommit: "complete-commit", txn.CompleteAbort: "complete-abort", txn.Dead: "dead", txn.PrepareEpochFence: "prepare-epoch-fence",
}

// txnCondition parses `txn P == STATE` (or !=): P is a transactional producer, or a processor
// with a transactional.id (its producer's transaction).
func (p *parser) txnCondition(k *cond, toks []token) (*cond, error) {
	w := toks[0]
	if len(toks) < 2 {
		return nil, p.errAt(colAt(toks, 1), "txn: expected a transactional producer, e.g. txn p1 == ongoing")
	}
	var name, id, kind string
	if pd := p.s.producer(toks[1].text); pd != nil {
		name, id, kind = pd.name, pd.cfg.TransactionalID, "producer"
	} else if cd := p.s.consumer(toks[1].text); cd != nil && cd.proc != nil {
		name, id, kind = cd.name, cd.proc.producer.TransactionalID, "processor"
	} else {
		return nil, p.errTok(toks[1], "txn: unknown producer or processor %q", toks[1].text)
	}
	if id == "" {
		return nil, p.errTok(toks[1], "txn: %s %q has no transactional.id", kind, toks[1].text)
	}
	k.subj, k.client, k.topic = sTxn, name, id
	if len(toks) < 3 || (toks[2].text != "==" && toks[2].text != "!=") {
		return nil, p.errAt(colAt(toks, 2), "txn: expected == or !=")
	}
	k.op = toks[2].text
	words := slices.Sorted(func(yield func(string) bool) {
		for _, s := range txnStates {
			if !yield(s) {
				return
			}
		}
	})
	words = append(words, "none")
	if len(toks) != 4 || !slices.Contains(words, toks[3].text) {
		return nil, p.errAt(colAt(toks, 3), "%s: expected one of %s", w.text, strings.Join(words, ", "))
	}
	k.word = toks[3].text
	return k, nil
}

// evalTxn judges `txn P == STATE`: P's transaction as the coordinator has it, the leader of
// its transactional.id's partition of __transaction_state (k.topic holds the id).
func (k *cond) evalTxn(c *cluster.Cluster) (bool, string) {
	st := "none"
	if l := c.Leader(cluster.TP(protocol.TransactionStateTopic, int(k.txnPartition(c)))); l >= 0 {
		if b := c.Broker(l); b != nil {
			if m := b.TxnCoordinator().Transaction(k.topic); m != nil {
				st = txnStates[m.State]
			}
		}
	}
	return (st == k.word) == (k.op == "=="), fmt.Sprintf("txn %s is %s", k.client, st)
}

// txnPartition is the partition of __transaction_state that holds k's transactional id.
func (k *cond) txnPartition(c *cluster.Cluster) int32 {
	n := int32(50)
	if im := c.Committed(); im != nil {
		if t := im.Topics[protocol.TransactionStateTopic]; t != nil && len(t.Partitions) > 0 {
			n = int32(len(t.Partitions))
		}
	}
	return txn.PartitionFor(k.topic, n)
}
