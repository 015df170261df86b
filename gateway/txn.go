package gateway

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

// Transactions over the wire (KIP-98, KIP-447), as a transaction.version 1 producer sends them:
// FindCoordinator with key type TRANSACTION and InitProducerId with the transactional.id (conn.go
// passes both through), AddPartitionsToTxn (24) before a partition's first batch,
// AddOffsetsToTxn (25) and TxnOffsetCommit (28) for a consumer's offsets, EndTxn (26). The
// gateway finalizes transaction.version 2 in ApiVersions (transactionVersion below), so a client
// that speaks KIP-890's part 2 sends Produce v12 without AddPartitionsToTxn and EndTxn v5; the
// model's requests then say TransactionVersion 2. AddPartitionsToTxn v4+ (the batched form,
// addNextTxn) is served; TxnOffsetCommit v4+ is not advertised, so a version 2 client still
// sends AddOffsetsToTxn before TxnOffsetCommit (franz-go does when TxnOffsetCommit v5 is missing).
//
// History: a transactional send is complete only when its transaction ends, on whichever
// connection the producer sends EndTxn. The gateway keeps each producer's (id and epoch) open
// transaction: the batches it sent, with the offset each was acknowledged at, and the offsets
// TxnOffsetCommit wrote. EndTxn's answer completes them, as broker/client's transactional
// producer does: committed, every record ok at its offset and each offset a commit of its
// group; aborted, every record failed; an answer other than NONE or a retriable error leaves the
// records' outcome unknown. A transaction that never ends (its producer gone; the coordinator
// aborts it at transaction.timeout.ms) stays out of the history.

// producerKey is a transactional producer's id and epoch: with transaction.version 1 it keeps its
// epoch from one transaction to the next, and its transactions follow one another.
type producerKey struct {
	pid   int64
	epoch int16
}

// openTxn is a producer's transaction in progress as the gateway has seen it.
type openTxn struct {
	batches []*txnBatch
	commits history.Ops // TxnOffsetCommit's offsets, the group's commits if the transaction commits
}

// txnBatch is one transactional batch: its records' value ids and the offset of the first once
// acknowledged.
type txnBatch struct {
	client string
	tp     protocol.TopicPartition
	first  int64
	n      int
	invoke time.Duration
	base   int64 // -1 until acknowledged
}

// openTxnBatch adds a transactional batch to its producer's open transaction, once (a retry
// carries the same values).
func (s *store) openTxnBatch(client string, now time.Duration, tp protocol.TopicPartition, b *protocol.RecordBatch) {
	first := b.Value(0)
	if _, ok := s.txnBatches[first]; ok {
		return
	}
	tb := &txnBatch{client: client, tp: tp, first: first, n: b.Len(), invoke: now, base: -1}
	s.txnBatches[first] = tb
	t := s.openTxn(producerKey{b.ProducerID, b.ProducerEpoch})
	t.batches = append(t.batches, tb)
}

func (s *store) openTxn(k producerKey) *openTxn {
	t := s.txns[k]
	if t == nil {
		t = &openTxn{}
		s.txns[k] = t
	}
	return t
}

// txnAcked notes the offset a transactional batch was appended at.
func (s *store) txnAcked(first, base int64) {
	if tb := s.txnBatches[first]; tb != nil {
		tb.base = base
	}
}

// endTxn completes the producer's open transaction as EndTxn answered it (see above).
func (s *store) endTxn(now time.Duration, k producerKey, commit bool, code protocol.ErrorCode) history.Ops {
	switch code {
	case protocol.COORDINATOR_LOAD_IN_PROGRESS, protocol.COORDINATOR_NOT_AVAILABLE, protocol.NOT_COORDINATOR,
		protocol.CONCURRENT_TRANSACTIONS, protocol.REQUEST_TIMED_OUT:
		return nil // the producer retries EndTxn
	}
	t := s.txns[k]
	if t == nil {
		return nil
	}
	delete(s.txns, k)
	var ops history.Ops
	for _, b := range t.batches {
		delete(s.txnBatches, b.first)
		s.recorded[b.first] = true
		for i := range b.n {
			op := history.Op{Client: b.client, Type: history.Send, Topic: b.tp.Topic, Partition: b.tp.Partition,
				Values: []int64{b.first + int64(i)}, Invoke: b.invoke, Complete: now, Outcome: history.Unknown, Error: code.String()}
			switch {
			case code != protocol.NONE:
			case commit && b.base >= 0:
				op.Outcome, op.Txn, op.Error, op.Offsets = history.OK, history.TxnCommitted, "", []int64{b.base + int64(i)}
			case commit:
				op.Error = "UNACKNOWLEDGED" // committed without an answer to its produce: appended or not
			default:
				op.Outcome, op.Txn, op.Error = history.Fail, history.TxnAborted, "TRANSACTION_ABORTED"
			}
			ops = append(ops, op)
		}
	}
	if commit && code == protocol.NONE {
		for _, op := range t.commits {
			op.Complete = now
			ops = append(ops, op)
		}
	}
	return ops
}

// transactionVersion is the finalized transaction.version the gateway advertises in
// ApiVersions (KIP-584), the default of a Kafka 4 cluster: clients that speak KIP-890's part 2
// (franz-go) send Produce v12 without AddPartitionsToTxn, the leader adding the partition to the
// transaction itself (broker.addPartitionsFirst, ReplicaManager's transaction verification), and
// EndTxn v5, answered with the bumped epoch. Clients that do not keep to version 1.
const transactionVersion = 2

// produceTV is the transaction.version of a produce request: 2 from Produce v12 on (KIP-890:
// the broker adds the partition itself), which also marks its transactional.id as a version 2
// client's.
func (s *store) produceTV(txnID string, version int16) int8 {
	if txnID == "" || version < 12 {
		return 1
	}
	s.tv2[txnID] = true
	return 2
}

// tvOf is the transaction.version a transactional.id's client has shown it speaks (Produce
// v12+, EndTxn v5+), else 1.
func (s *store) tvOf(txnID string) int8 {
	if s.tv2[txnID] {
		return 2
	}
	return 1
}

// txnRequest starts a transactional request; false if pd is not one.
func (c *conn) txnRequest(pd *pending) bool {
	switch r := pd.p.req.(type) {
	case *kmsg.AddPartitionsToTxnRequest:
		if pd.p.version >= 4 {
			pd.txns = r.Transactions
			c.addNextTxn(pd)
			return true
		}
		m := &protocol.AddPartitionsToTxnRequest{CorrelationID: pd.id, TransactionalID: r.TransactionalID, ProducerID: r.ProducerID,
			ProducerEpoch: r.ProducerEpoch}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				m.Partitions = append(m.Partitions, protocol.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
		c.send(c.broker, pd, m)
	case *kmsg.AddOffsetsToTxnRequest:
		c.send(c.broker, pd, &protocol.AddOffsetsToTxnRequest{CorrelationID: pd.id, TransactionalID: r.TransactionalID,
			ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, GroupID: r.Group, TransactionVersion: c.st.tvOf(r.TransactionalID)})
	case *kmsg.EndTxnRequest:
		tv := int8(1)
		if pd.p.version >= 5 {
			tv = 2 // EndTxn v5+: the client speaks transaction.version 2 (KIP-890)
			c.st.tv2[r.TransactionalID] = true
		}
		c.send(c.broker, pd, &protocol.EndTxnRequest{CorrelationID: pd.id, TransactionalID: r.TransactionalID,
			ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, Committed: r.Commit, TransactionVersion: tv})
	case *kmsg.TxnOffsetCommitRequest:
		m := &protocol.TxnOffsetCommitRequest{CorrelationID: pd.id, TransactionalID: r.TransactionalID, GroupID: r.Group,
			ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, GenerationID: -1}
		if pd.p.version >= 3 {
			m.GenerationID, m.MemberID, m.GroupInstanceID = r.Generation, r.MemberID, str(r.InstanceID)
		}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				ep := p.LeaderEpoch
				if pd.p.version < 2 {
					ep = protocol.UnknownEpoch
				}
				m.Partitions = append(m.Partitions, protocol.OffsetCommitPartition{TP: protocol.TopicPartition{Topic: t.Topic, Partition: p.Partition},
					Offset: p.Offset, LeaderEpoch: ep})
			}
		}
		c.send(c.broker, pd, m)
	default:
		return false
	}
	return true
}

// txnResponse answers a transactional request from the coordinator's answer; false if msg is
// not one.
func (c *conn) txnResponse(now time.Duration, pd *pending, msg any) bool {
	switch m := msg.(type) {
	case *protocol.AddPartitionsToTxnResponse:
		if m.CorrelationID != pd.id {
			return true
		}
		if pd.p.version >= 4 {
			pd.txnsOut = append(pd.txnsOut, addTxnResult(pd.txns[0], m.Error))
			pd.txns = pd.txns[1:]
			c.addNextTxn(pd)
			return true
		}
		resp := kmsg.NewPtrAddPartitionsToTxnResponse()
		for _, t := range pd.p.req.(*kmsg.AddPartitionsToTxnRequest).Topics {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, int16(m.Error)
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		c.respond(pd.p, resp)
	case *protocol.AddOffsetsToTxnResponse:
		if m.CorrelationID == pd.id {
			resp := kmsg.NewPtrAddOffsetsToTxnResponse()
			resp.ErrorCode = int16(m.Error)
			c.respond(pd.p, resp)
		}
	case *protocol.EndTxnResponse:
		if m.CorrelationID != pd.id {
			return true
		}
		req := pd.model.(*protocol.EndTxnRequest)
		if ops := c.st.endTxn(now, producerKey{req.ProducerID, req.ProducerEpoch}, req.Committed, m.Error); len(ops) > 0 {
			c.env.Observe(ops)
		}
		resp := kmsg.NewPtrEndTxnResponse()
		resp.ErrorCode = int16(m.Error)
		resp.ProducerID, resp.ProducerEpoch = m.ProducerID, m.ProducerEpoch // v5+: the epoch bumped (KIP-890)
		c.respond(pd.p, resp)
	case *protocol.TxnOffsetCommitResponse:
		if m.CorrelationID != pd.id {
			return true
		}
		req := pd.model.(*protocol.TxnOffsetCommitRequest)
		resp := kmsg.NewPtrTxnOffsetCommitResponse()
		for _, pr := range m.Partitions {
			if pr.Error == protocol.NONE {
				for _, p := range req.Partitions {
					if p.TP == pr.TP {
						t := c.st.openTxn(producerKey{req.ProducerID, req.ProducerEpoch})
						t.commits = append(t.commits, history.Op{Client: c.name, Type: history.Commit, Topic: p.TP.Topic,
							Partition: p.TP.Partition, Offsets: []int64{p.Offset}, Invoke: pd.at, Outcome: history.OK,
							Group: req.GroupID, Generation: req.GenerationID})
					}
				}
			}
			i := len(resp.Topics) - 1
			if i < 0 || resp.Topics[i].Topic != pr.TP.Topic {
				t := kmsg.NewTxnOffsetCommitResponseTopic()
				t.Topic = pr.TP.Topic
				resp.Topics = append(resp.Topics, t)
				i++
			}
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = pr.TP.Partition, int16(pr.Error)
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
		}
		c.respond(pd.p, resp)
	default:
		return false
	}
	return true
}

// addNextTxn sends the next transaction of an AddPartitionsToTxn v4+ request (KIP-890's
// batched form: one or more transactions, each to its coordinator) to the coordinator through
// the connection's broker, one at a time; once each is answered, the client is. A verifyOnly
// transaction (a leader asking whether the partitions are already in the transaction,
// AddPartitionsToTxnManager's verification) is answered INVALID_REQUEST without reaching the
// world: brokers send it to one another, and the model's leaders verify by adding.
func (c *conn) addNextTxn(pd *pending) {
	for len(pd.txns) > 0 && pd.txns[0].VerifyOnly {
		pd.txnsOut = append(pd.txnsOut, addTxnResult(pd.txns[0], protocol.INVALID_REQUEST))
		pd.txns = pd.txns[1:]
	}
	if len(pd.txns) == 0 {
		resp := kmsg.NewPtrAddPartitionsToTxnResponse()
		resp.Transactions = pd.txnsOut
		c.respond(pd.p, resp)
		return
	}
	t := pd.txns[0]
	m := &protocol.AddPartitionsToTxnRequest{CorrelationID: c.nextCorr(), TransactionalID: t.TransactionalID, ProducerID: t.ProducerID,
		ProducerEpoch: t.ProducerEpoch}
	for _, tt := range t.Topics {
		for _, p := range tt.Partitions {
			m.Partitions = append(m.Partitions, protocol.TopicPartition{Topic: tt.Topic, Partition: p})
		}
	}
	pd.id = m.CorrelationID
	c.send(c.broker, pd, m)
}

// addTxnResult is one transaction's answer to AddPartitionsToTxn v4+: code for each partition.
func addTxnResult(t kmsg.AddPartitionsToTxnRequestTransaction, code protocol.ErrorCode) kmsg.AddPartitionsToTxnResponseTransaction {
	out := kmsg.NewAddPartitionsToTxnResponseTransaction()
	out.TransactionalID = t.TransactionalID
	for _, tt := range t.Topics {
		rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
		rt.Topic = tt.Topic
		for _, p := range tt.Partitions {
			rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
			rp.Partition, rp.ErrorCode = p, int16(code)
			rt.Partitions = append(rt.Partitions, rp)
		}
		out.Topics = append(out.Topics, rt)
	}
	return out
}
