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
// gateway advertises no finalized transaction.version, so clients never use KIP-890's version 2
// (EndTxn v5+, AddPartitionsToTxn v4+ are not advertised), and the model's requests say
// TransactionVersion 1.
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
	first := b.Records[0].Value
	if _, ok := s.txnBatches[first]; ok {
		return
	}
	tb := &txnBatch{client: client, tp: tp, first: first, n: len(b.Records), invoke: now, base: -1}
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

// txnRequest starts a transactional request; false if pd is not one.
func (c *conn) txnRequest(pd *pending) bool {
	switch r := pd.p.req.(type) {
	case *kmsg.AddPartitionsToTxnRequest:
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
			ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, GroupID: r.Group, TransactionVersion: 1})
	case *kmsg.EndTxnRequest:
		c.send(c.broker, pd, &protocol.EndTxnRequest{CorrelationID: pd.id, TransactionalID: r.TransactionalID,
			ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch, Committed: r.Commit, TransactionVersion: 1})
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
