package gateway

import (
	"encoding/binary"
	"hash/fnv"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/history"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/broker/record"
)

// Frame is a request a real client sent on a connection, as the world receives it: injected
// at the virtual time the gateway drained it, so the trace (and a recording) holds it.
type Frame struct {
	Bytes []byte // the frame after its size: header and body
}

// TraceArg puts the API key and version in the trace.
func (f *Frame) TraceArg() int64 {
	if len(f.Bytes) < 4 {
		return -1
	}
	return int64(binary.BigEndian.Uint32(f.Bytes))
}

// Hangup tells a connection's node that the client closed the socket.
type Hangup struct{}

// Response is a connection's answer to its client, observed by the node as it answers. Bytes
// is the whole response frame; nil when the request has no response (a produce with acks=0),
// which only lets the connection read its next request.
type Response struct {
	Conn  int
	Bytes []byte
}

// TraceArg puts a hash of the bytes in the trace, so a replay proves it answered the same.
func (r *Response) TraceArg() int64 {
	if r.Bytes == nil {
		return -1
	}
	h := fnv.New64a()
	h.Write(r.Bytes)
	return int64(h.Sum64() >> 1)
}

// Closed is observed when the world closes a connection: its broker's process died or closed
// it (a connection reset). The gateway closes the client's socket.
type Closed struct {
	Conn int
}

// TraceArg puts the connection in the trace.
func (c *Closed) TraceArg() int64 { return int64(c.Conn) }

// conn is one client connection as a node of the world: a client machine that talks to one
// broker over the simulated network. It turns the client's Kafka requests into the model's
// protocol messages and the broker's answers back into Kafka responses, one request at a time
// (Kafka's SocketServer mutes a connection until its response is sent). It records its
// client's sends, polls and group commits in the history.
type conn struct {
	st     *store
	env    node.Env
	idx    int
	broker int32
	name   string // in the history: client.id#connection
	// clientID is the client's client.id (a poll's group is its owner's of the same id).
	clientID string
	corr     int64
	cur      *pending
	polls    map[protocol.TopicPartition]*pollSession
	closed   bool
	w        *watched // its client's counts for watchers (watch.go)
}

// pending is the request in flight.
type pending struct {
	p   *request
	id  int64 // the model's correlation id
	at  time.Duration
	ctl int // for CreateTopics: the controller asked (index into store.controllers)
	// Produce: the partitions sent and the answers for those refused at the gateway.
	produce []protocol.ProducePartition
	refused []protocol.ProducePartitionResponse
	acks    int16
	// Fetch: the offsets asked.
	fetch map[protocol.TopicPartition]int64
	// FindCoordinator v4+: keys still to ask, answers so far.
	keys []string
	// AddPartitionsToTxn v4+: the transactions still to add, and the answers so far (txn.go).
	txns    []kmsg.AddPartitionsToTxnRequestTransaction
	txnsOut []kmsg.AddPartitionsToTxnResponseTransaction
	coords  []kmsg.FindCoordinatorResponseCoordinator
	// JoinGroup: the subscription bytes by protocol name.
	join map[string][]byte
	// model is the protocol request sent (for retries to another controller).
	model any
}

// pollSession follows a partition's polls: successive polls of one session continue each
// other; a fetch from another offset starts a new one.
type pollSession struct {
	n    int
	next int64
}

func newConn(st *store, env node.Env, idx int, broker int32) *conn {
	return &conn{st: st, env: env, idx: idx, broker: broker, polls: map[protocol.TopicPartition]*pollSession{}}
}

// Step handles one input: a frame from the client, the client hanging up, a broker's answer,
// or the connection to the broker being reset.
func (c *conn) Step(now time.Duration, from int32, msg any) {
	if c.closed {
		return
	}
	switch m := msg.(type) {
	case *Frame:
		c.onFrame(now, m)
	case *Hangup:
		c.close(now, false)
	case *node.ConnectionReset:
		switch {
		case m.Peer == c.broker:
			c.close(now, true)
		case c.cur != nil && c.cur.ctl >= 0 && c.cur.model != nil:
			// The controller asked for CreateTopics is gone: ask the next one.
			req := c.cur.model.(*protocol.CreateTopicsRequest)
			resp := &protocol.CreateTopicsResponse{CorrelationID: c.cur.id}
			for _, t := range req.Topics {
				resp.Topics = append(resp.Topics, protocol.CreatableTopicResult{Name: t.Name, Error: protocol.NOT_CONTROLLER})
			}
			c.createTopicsResponse(c.cur, resp)
		}
	default:
		c.onAnswer(now, from, msg)
	}
}

// close ends the connection: a send in flight has an unknown outcome (the client cannot tell
// whether the broker appended it), unless its client retries it (recordSends).
func (c *conn) close(now time.Duration, byWorld bool) {
	if c.cur != nil && len(c.cur.produce) > 0 {
		c.recordSends(now, c.cur, nil)
	}
	if c.cur != nil && c.cur.p.key == int16(kmsg.OffsetCommit) {
		c.recordCommits(now, c.cur, nil)
	}
	c.cur = nil
	c.closed = true
	if c.w != nil {
		c.w.closed(c, byWorld)
	}
	if byWorld {
		c.env.Observe(&Closed{Conn: c.idx})
	}
	c.env.Halt()
}

func (c *conn) nextCorr() int64 {
	c.corr++
	return c.corr
}

func (c *conn) respond(p *request, resp kmsg.Response) {
	c.cur = nil
	c.env.Observe(&Response{Conn: c.idx, Bytes: frameResponse(p, resp)})
}

func (c *conn) send(to int32, pd *pending, msg any) {
	pd.model = msg
	c.cur = pd
	c.env.Send(to, msg)
}

func (c *conn) onFrame(now time.Duration, f *Frame) {
	p, err := parseRequest(f.Bytes)
	if err != nil || p.key == 18 {
		// Checked before the frame entered the world; cannot happen on a recording.
		c.close(now, true)
		return
	}
	if c.name == "" {
		c.clientID, c.name = p.clientID, clientName(p.clientID, c.idx)
		c.w = c.st.watch(c)
	}
	pd := &pending{p: p, id: c.nextCorr(), at: now, ctl: -1}
	switch r := p.req.(type) {
	case *kmsg.MetadataRequest:
		c.metadata(pd, r)
	case *kmsg.ProduceRequest:
		c.produce(now, pd, r)
	case *kmsg.FetchRequest:
		c.fetch(pd, r)
	case *kmsg.ListOffsetsRequest:
		c.listOffsets(pd, r)
	case *kmsg.InitProducerIDRequest:
		m := &protocol.InitProducerIdRequest{CorrelationID: pd.id, ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch,
			TransactionTimeout: time.Duration(r.TransactionTimeoutMillis) * time.Millisecond}
		if r.TransactionalID != nil {
			m.TransactionalID = *r.TransactionalID
		}
		c.send(c.broker, pd, m)
	case *kmsg.FindCoordinatorRequest:
		c.findCoordinator(pd, r)
	case *kmsg.CreateTopicsRequest:
		c.createTopics(pd, r)
	default:
		if !c.group(pd) && !c.txnRequest(pd) {
			c.close(now, true)
		}
	}
}

// onAnswer turns the broker's answer to the request in flight into the client's response.
func (c *conn) onAnswer(now time.Duration, from int32, msg any) {
	pd := c.cur
	if pd == nil {
		return
	}
	switch m := msg.(type) {
	case *protocol.MetadataResponse:
		if m.CorrelationID == pd.id {
			c.metadataResponse(pd, m)
		}
	case *protocol.ProduceResponse:
		if m.CorrelationID == pd.id {
			c.produceResponse(now, pd, m)
		}
	case *protocol.FetchResponse:
		if m.CorrelationID == pd.id {
			c.fetchResponse(now, pd, m)
		}
	case *protocol.ListOffsetsResponse:
		if m.CorrelationID == pd.id {
			c.listOffsetsResponse(pd, m)
		}
	case *protocol.InitProducerIdResponse:
		if m.CorrelationID == pd.id {
			resp := kmsg.NewPtrInitProducerIDResponse()
			resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch = int16(m.Error), m.ProducerID, m.ProducerEpoch
			c.respond(pd.p, resp)
		}
	case *protocol.FindCoordinatorResponse:
		if m.CorrelationID == pd.id {
			c.findCoordinatorResponse(pd, m)
		}
	case *protocol.CreateTopicsResponse:
		if m.CorrelationID == pd.id {
			c.createTopicsResponse(pd, m)
		}
	default:
		if !c.txnResponse(now, pd, msg) {
			c.groupResponse(now, pd, msg)
		}
	}
}

// --- Metadata (API key 3) ---

func (c *conn) metadata(pd *pending, r *kmsg.MetadataRequest) {
	m := &protocol.MetadataRequest{CorrelationID: pd.id}
	if r.Topics != nil || pd.p.version == 0 {
		m.Topics = []string{}
		for _, t := range r.Topics {
			if t.Topic != nil {
				m.Topics = append(m.Topics, *t.Topic)
			}
		}
		if len(r.Topics) == 0 && pd.p.version == 0 {
			m.Topics = nil // v0: an empty list means every topic
		}
	}
	c.send(c.broker, pd, m)
}

func (c *conn) metadataResponse(pd *pending, m *protocol.MetadataResponse) {
	resp := kmsg.NewPtrMetadataResponse()
	cid := "kafkasim"
	resp.ClusterID = &cid
	resp.ControllerID = -1
	for _, id := range m.Brokers {
		host, port, ok := c.st.hostPort(id)
		if !ok {
			continue
		}
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID, b.Host, b.Port = id, host, port
		resp.Brokers = append(resp.Brokers, b)
		if id == m.ControllerID || resp.ControllerID < 0 {
			resp.ControllerID = id // KRaft: a broker stands for the controller (clients forward through it)
		}
	}
	for _, t := range m.Topics {
		if len(t.Name) > 2 && t.Name[:2] == "__" && pd.p.version > 0 {
			continue // internal topics are not listed to clients (isInternal topics hidden by default)
		}
		rt := kmsg.NewMetadataResponseTopic()
		name := t.Name
		rt.Topic, rt.ErrorCode, rt.TopicID = &name, int16(t.Error), topicID(t.Name)
		for _, p := range t.Partitions {
			rp := kmsg.NewMetadataResponseTopicPartition()
			rp.Partition, rp.ErrorCode, rp.Leader, rp.LeaderEpoch = p.Partition, int16(p.Error), p.Leader, p.LeaderEpoch
			rp.Replicas, rp.ISR = append([]int32{}, p.Replicas...), append([]int32{}, p.ISR...)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	c.respond(pd.p, resp)
}

// --- Produce (API key 0) ---

func (c *conn) produce(now time.Duration, pd *pending, r *kmsg.ProduceRequest) {
	m := &protocol.ProduceRequest{CorrelationID: pd.id, Acks: r.Acks, Timeout: time.Duration(r.TimeoutMillis) * time.Millisecond,
		TransactionalID: str(r.TransactionID), TransactionVersion: c.st.produceTV(str(r.TransactionID), pd.p.version)}
	pd.acks = r.Acks
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			tp := protocol.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			b, code := c.st.toModel(now, tp, p.Records)
			if code != protocol.NONE {
				pd.refused = append(pd.refused, protocol.ProducePartitionResponse{TP: tp, Error: code, BaseOffset: -1, LogStartOffset: -1, CurrentLeader: -1})
				continue
			}
			if b.Transactional {
				c.st.openTxnBatch(c.name, now, tp, b)
			}
			m.Partitions = append(m.Partitions, protocol.ProducePartition{TP: tp, Batch: b})
		}
	}
	pd.produce = m.Partitions
	c.w.sending(pd)
	if len(m.Partitions) > 0 {
		c.send(c.broker, pd, m)
	}
	if r.Acks == protocol.AcksNone {
		// No response: the connection reads on. The sends' outcome is unknown to the client.
		c.recordSends(now, pd, nil)
		c.cur = nil
		c.env.Observe(&Response{Conn: c.idx})
		return
	}
	if len(m.Partitions) == 0 {
		c.produceResponse(now, pd, &protocol.ProduceResponse{CorrelationID: pd.id})
	}
}

func (c *conn) produceResponse(now time.Duration, pd *pending, m *protocol.ProduceResponse) {
	c.recordSends(now, pd, m)
	c.w.answered(pd, m)
	resp := kmsg.NewPtrProduceResponse()
	byTopic := map[string]int{}
	for _, pr := range append(append([]protocol.ProducePartitionResponse{}, m.Partitions...), pd.refused...) {
		i, ok := byTopic[pr.TP.Topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[pr.TP.Topic] = i
			t := kmsg.NewProduceResponseTopic()
			t.Topic = pr.TP.Topic
			resp.Topics = append(resp.Topics, t)
		}
		rp := kmsg.NewProduceResponseTopicPartition()
		rp.Partition, rp.ErrorCode, rp.BaseOffset, rp.LogStartOffset = pr.TP.Partition, int16(pr.Error), pr.BaseOffset, pr.LogStartOffset
		rp.LogAppendTime = -1
		if pr.Error != protocol.NONE {
			rp.BaseOffset = -1
			if pr.CurrentLeader >= 0 {
				rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = pr.CurrentLeader, pr.CurrentLeaderEp
			}
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	c.respond(pd.p, resp)
}

// recordSends records one send op per record of the batches pd carried: ok with its offset
// when the partition's answer is NONE; failed when the broker refused it before appending
// (the answers a Java producer treats as never appended); else unknown (a timeout, a leader
// change during acks=all, no answer at all: the record may be in the log).
func (c *conn) recordSends(now time.Duration, pd *pending, m *protocol.ProduceResponse) {
	answers := map[protocol.TopicPartition]protocol.ProducePartitionResponse{}
	if m != nil {
		for _, pr := range m.Partitions {
			answers[pr.TP] = pr
		}
	}
	var ops history.Ops
	for _, pp := range pd.produce {
		out, errName, base := history.Unknown, "NETWORK_EXCEPTION", int64(-1)
		if pr, ok := answers[pp.TP]; ok {
			errName = pr.Error.String()
			switch {
			case pr.Error == protocol.NONE:
				out, errName, base = history.OK, "", pr.BaseOffset
			case notAppended(pr.Error):
				out = history.Fail
			}
		}
		if pd.acks == protocol.AcksNone {
			errName = ""
		}
		if pp.Batch.Transactional {
			// Complete when its transaction ends (txn.go).
			if out == history.OK {
				c.st.txnAcked(pp.Batch.Value(0), base)
			}
			continue
		}
		if out != history.OK && pp.Batch.Idempotent() && pd.acks != protocol.AcksNone {
			// An idempotent producer retries the batch with the same sequence, which the
			// gateway maps to the same values: the retry's answer is the outcome (the Java
			// producer's send callback fires once too). One it gives up on stays out of the
			// history: the client alone knows it gave up.
			continue
		}
		first := pp.Batch.Value(0)
		if c.st.recorded[first] {
			continue // an idempotent retry whose first answer was lost: its outcome is known
		}
		c.st.recorded[first] = true
		invoke := pd.at
		if at, ok := c.st.invoked[first]; ok {
			invoke = at // a retry: the send began with the first attempt
		}
		for i := range pp.Batch.Len() {
			op := history.Op{Client: c.name, Type: history.Send, Topic: pp.TP.Topic, Partition: pp.TP.Partition,
				Values: []int64{pp.Batch.Value(i)}, Invoke: invoke, Complete: now, Outcome: out, Error: errName}
			if base >= 0 {
				op.Offsets = []int64{base + int64(i)}
			}
			ops = append(ops, op)
		}
	}
	if len(ops) > 0 {
		c.env.Observe(ops)
	}
}

// Produce errors the model's protocol package does not name.
const (
	messageTooLarge    protocol.ErrorCode = 10 // MESSAGE_TOO_LARGE
	recordListTooLarge protocol.ErrorCode = 18 // RECORD_LIST_TOO_LARGE
)

// notAppended: errors a leader answers before it appends anything (the Java producer fails
// the batch, or retries it; either way these records are not in the log).
func notAppended(e protocol.ErrorCode) bool {
	switch e {
	case protocol.UNKNOWN_TOPIC_OR_PARTITION, record.CORRUPT_MESSAGE, record.INVALID_RECORD, protocol.NOT_ENOUGH_REPLICAS,
		protocol.OUT_OF_ORDER_SEQUENCE_NUMBER, protocol.UNKNOWN_PRODUCER_ID, protocol.INVALID_PRODUCER_EPOCH,
		messageTooLarge, recordListTooLarge, protocol.INVALID_REQUIRED_ACKS, protocol.FENCED_LEADER_EPOCH,
		protocol.UNKNOWN_LEADER_EPOCH:
		return true
	}
	return false
}

// --- Fetch (API key 1) ---

func (c *conn) fetch(pd *pending, r *kmsg.FetchRequest) {
	m := &protocol.FetchRequest{CorrelationID: pd.id, ReplicaID: protocol.ConsumerID, ReplicaEpoch: -1, SessionEpoch: protocol.FinalEpoch,
		MaxWait: time.Duration(r.MaxWaitMillis) * time.Millisecond, MinBytes: r.MinBytes, MaxBytes: r.MaxBytes, IsolationLevel: r.IsolationLevel}
	if pd.p.version < 3 || m.MaxBytes <= 0 {
		m.MaxBytes = 50 << 20
	}
	if pd.p.version >= 7 {
		m.SessionID, m.SessionEpoch = r.SessionID, r.SessionEpoch
		for _, t := range r.ForgottenTopics {
			for _, p := range t.Partitions {
				m.Forgotten = append(m.Forgotten, protocol.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	pd.fetch = c.st.sessions.fetchOffsets(c.broker, r, pd.p.version)
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			tp := protocol.TopicPartition{Topic: t.Topic, Partition: p.Partition}
			last := p.LastFetchedEpoch
			if pd.p.version < 12 {
				last = protocol.UnknownEpoch
			}
			cur := p.CurrentLeaderEpoch
			if pd.p.version < 9 {
				cur = protocol.UnknownEpoch
			}
			m.Partitions = append(m.Partitions, protocol.FetchPartition{TP: tp, FetchOffset: p.FetchOffset, LogStartOffset: -1,
				CurrentLeaderEpoch: cur, LastFetchedEpoch: last})
		}
	}
	c.send(c.broker, pd, m)
}

func (c *conn) fetchResponse(now time.Duration, pd *pending, m *protocol.FetchResponse) {
	r := pd.p.req.(*kmsg.FetchRequest)
	c.st.sessions.answered(c.broker, r, pd.p.version, m, pd.fetch)
	c.st.countFetch(pd.p.version, r.SessionEpoch, m)
	resp := kmsg.NewPtrFetchResponse()
	resp.ErrorCode, resp.SessionID = int16(m.Error), m.SessionID
	byTopic := map[string]int{}
	var ops history.Ops
	for _, pr := range m.Partitions {
		i, ok := byTopic[pr.TP.Topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[pr.TP.Topic] = i
			t := kmsg.NewFetchResponseTopic()
			t.Topic = pr.TP.Topic
			resp.Topics = append(resp.Topics, t)
		}
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.Partition, rp.ErrorCode = pr.TP.Partition, int16(pr.Error)
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = pr.HighWatermark, pr.LastStableOffset, pr.LogStartOffset
		if pr.DivergingEpoch.Epoch >= 0 {
			rp.DivergingEpoch.Epoch, rp.DivergingEpoch.EndOffset = pr.DivergingEpoch.Epoch, pr.DivergingEpoch.EndOffset
		}
		if pr.Error != protocol.NONE && pr.CurrentLeader >= 0 {
			rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = pr.CurrentLeader, pr.CurrentLeaderEpoch
		}
		for _, a := range pr.AbortedTransactions {
			at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
			at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
			rp.AbortedTransactions = append(rp.AbortedTransactions, at)
		}
		rp.RecordBatches = []byte{} // MemoryRecords.EMPTY, never null
		for _, b := range pr.Batches {
			rp.RecordBatches = c.st.appendWire(rp.RecordBatches, b)
		}
		if op := c.poll(now, pd, pr); op != nil {
			ops = append(ops, *op)
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	if len(ops) > 0 {
		c.env.Observe(ops)
	}
	c.respond(pd.p, resp)
}

// poll is the history's poll op of one partition's answer: the records at and after the
// offset asked. A read_committed client drops the records of aborted transactions as the
// Java consumer's Fetcher does (an aborted transaction's records, from its first offset to
// its producer's marker), and so does its op.
func (c *conn) poll(now time.Duration, pd *pending, pr protocol.FetchPartitionResponse) *history.Op {
	from, ok := pd.fetch[pr.TP]
	if !ok || pr.Error != protocol.NONE {
		return nil
	}
	committed := pd.p.req.(*kmsg.FetchRequest).IsolationLevel == protocol.ReadCommitted
	aborted := map[int64]int64{} // producer id → first offset of its aborted transaction
	used := make([]bool, len(pr.AbortedTransactions))
	var values, offsets []int64
	next := from
	for _, b := range pr.Batches {
		if b.Control {
			delete(aborted, b.ProducerID)
			next = max(next, b.NextOffset())
			continue
		}
		if committed && b.Transactional {
			for i, a := range pr.AbortedTransactions {
				if !used[i] && a.ProducerID == b.ProducerID && a.FirstOffset <= b.BaseOffset {
					aborted[a.ProducerID], used[i] = a.FirstOffset, true // until its marker
				}
			}
			if _, skip := aborted[b.ProducerID]; skip {
				next = max(next, b.NextOffset())
				continue
			}
		}
		for i := range b.Len() {
			if off := b.OffsetOf(i); off >= from {
				values, offsets = append(values, b.Value(i)), append(offsets, off)
			}
		}
		if b.NextOffset() > from { // past a cleaned batch's gaps too, as the client fetches next
			next = max(next, b.NextOffset())
		}
	}
	if len(values) == 0 {
		return nil
	}
	s := c.polls[pr.TP]
	if s == nil || s.next != from {
		if s == nil {
			s = &pollSession{}
			c.polls[pr.TP] = s
		}
		s.n++
	}
	s.next = next
	c.w.polled(pr.TP, len(values))
	op := &history.Op{Client: c.name, Type: history.Poll, Topic: pr.TP.Topic, Partition: pr.TP.Partition,
		Values: values, Offsets: offsets, Invoke: pd.at, Complete: now, Outcome: history.OK,
		Session: c.name + "/" + pr.TP.String() + "/" + itoa(s.n)}
	if o := c.st.ownerOf(c.clientID, pr.TP); o != nil {
		op.Group, op.Generation = o.group, o.generation
	}
	if committed {
		op.Isolation = history.ReadCommitted
	}
	return op
}

// --- ListOffsets (API key 2) ---

func (c *conn) listOffsets(pd *pending, r *kmsg.ListOffsetsRequest) {
	m := &protocol.ListOffsetsRequest{CorrelationID: pd.id, ReplicaID: protocol.ConsumerID, IsolationLevel: r.IsolationLevel}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			ts := p.Timestamp
			if ts != protocol.EarliestOffset {
				ts = protocol.LatestOffset // timestamps are not modelled: the end of the log
			}
			cur := p.CurrentLeaderEpoch
			if pd.p.version < 4 {
				cur = protocol.UnknownEpoch
			}
			m.Partitions = append(m.Partitions, protocol.ListOffsetsPartition{TP: protocol.TopicPartition{Topic: t.Topic, Partition: p.Partition},
				CurrentLeaderEpoch: cur, Timestamp: ts})
		}
	}
	c.send(c.broker, pd, m)
}

func (c *conn) listOffsetsResponse(pd *pending, m *protocol.ListOffsetsResponse) {
	resp := kmsg.NewPtrListOffsetsResponse()
	byTopic := map[string]int{}
	for _, pr := range m.Partitions {
		i, ok := byTopic[pr.TP.Topic]
		if !ok {
			i = len(resp.Topics)
			byTopic[pr.TP.Topic] = i
			t := kmsg.NewListOffsetsResponseTopic()
			t.Topic = pr.TP.Topic
			resp.Topics = append(resp.Topics, t)
		}
		rp := kmsg.NewListOffsetsResponseTopicPartition()
		rp.Partition, rp.ErrorCode, rp.Offset, rp.LeaderEpoch, rp.Timestamp = pr.TP.Partition, int16(pr.Error), pr.Offset, pr.LeaderEpoch, -1
		if pr.Error == protocol.NONE {
			rp.OldStyleOffsets = []int64{pr.Offset}
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	c.respond(pd.p, resp)
}

// --- FindCoordinator (API key 10) ---

func (c *conn) findCoordinator(pd *pending, r *kmsg.FindCoordinatorRequest) {
	keys := r.CoordinatorKeys
	if pd.p.version < 4 {
		keys = []string{r.CoordinatorKey}
	}
	if len(keys) == 0 {
		c.respond(pd.p, kmsg.NewPtrFindCoordinatorResponse())
		return
	}
	pd.keys = keys
	c.send(c.broker, pd, &protocol.FindCoordinatorRequest{CorrelationID: pd.id, Key: keys[0], KeyType: r.CoordinatorType})
}

func (c *conn) findCoordinatorResponse(pd *pending, m *protocol.FindCoordinatorResponse) {
	co := kmsg.NewFindCoordinatorResponseCoordinator()
	co.Key, co.ErrorCode, co.NodeID = pd.keys[0], int16(m.Error), m.NodeID
	if m.Error == protocol.NONE {
		if host, port, ok := c.st.hostPort(m.NodeID); ok {
			co.Host, co.Port = host, port
		} else {
			co.ErrorCode, co.NodeID = int16(protocol.COORDINATOR_NOT_AVAILABLE), -1
		}
	} else {
		co.NodeID = -1
	}
	pd.coords = append(pd.coords, co)
	pd.keys = pd.keys[1:]
	if len(pd.keys) > 0 {
		pd.id = c.nextCorr()
		kt := pd.p.req.(*kmsg.FindCoordinatorRequest).CoordinatorType
		c.send(c.broker, pd, &protocol.FindCoordinatorRequest{CorrelationID: pd.id, Key: pd.keys[0], KeyType: kt})
		return
	}
	resp := kmsg.NewPtrFindCoordinatorResponse()
	if pd.p.version >= 4 {
		resp.Coordinators = pd.coords
	} else {
		co := pd.coords[0]
		resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = co.ErrorCode, co.NodeID, co.Host, co.Port
	}
	c.respond(pd.p, resp)
}

// --- CreateTopics (API key 19) ---

// createTopics goes to the controllers, as a broker forwards it (KIP-590): to each in turn
// until the active one answers.
func (c *conn) createTopics(pd *pending, r *kmsg.CreateTopicsRequest) {
	m := &protocol.CreateTopicsRequest{CorrelationID: pd.id}
	for _, t := range r.Topics {
		ct := protocol.CreatableTopic{Name: t.Topic, NumPartitions: t.NumPartitions, ReplicationFactor: t.ReplicationFactor}
		if ct.NumPartitions <= 0 {
			ct.NumPartitions = 1 // num.partitions
		}
		if ct.ReplicationFactor <= 0 {
			ct.ReplicationFactor = int16(min(3, c.st.brokers)) // default.replication.factor as clusters set it
		}
		for _, a := range t.ReplicaAssignment {
			ct.Assignments = append(ct.Assignments, a.Replicas)
		}
		if len(t.ReplicaAssignment) > 0 {
			ct.NumPartitions, ct.ReplicationFactor = int32(len(t.ReplicaAssignment)), int16(len(t.ReplicaAssignment[0].Replicas))
		}
		for _, cf := range t.Configs {
			if cf.Value != nil {
				if ct.Configs == nil {
					ct.Configs = map[string]string{}
				}
				ct.Configs[cf.Name] = *cf.Value
			}
		}
		m.Topics = append(m.Topics, ct)
	}
	if r.ValidateOnly || len(c.st.controllers) == 0 {
		resp := kmsg.NewPtrCreateTopicsResponse()
		for _, t := range m.Topics {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t.Name, t.NumPartitions, t.ReplicationFactor
			resp.Topics = append(resp.Topics, rt)
		}
		c.respond(pd.p, resp)
		return
	}
	pd.ctl = 0
	c.send(c.st.controllers[0], pd, m)
}

func (c *conn) createTopicsResponse(pd *pending, m *protocol.CreateTopicsResponse) {
	req := pd.model.(*protocol.CreateTopicsRequest)
	notController := false
	for _, t := range m.Topics {
		notController = notController || t.Error == protocol.NOT_CONTROLLER
	}
	if notController && pd.ctl+1 < len(c.st.controllers) {
		pd.ctl++
		pd.id = c.nextCorr()
		req.CorrelationID = pd.id
		c.send(c.st.controllers[pd.ctl], pd, req)
		return
	}
	resp := kmsg.NewPtrCreateTopicsResponse()
	for i, t := range m.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic, rt.ErrorCode, rt.TopicID = t.Name, int16(t.Error), topicID(t.Name)
		if t.ErrorMessage != "" {
			msg := t.ErrorMessage
			rt.ErrorMessage = &msg
		}
		if i < len(req.Topics) {
			rt.NumPartitions, rt.ReplicationFactor = req.Topics[i].NumPartitions, req.Topics[i].ReplicationFactor
		}
		resp.Topics = append(resp.Topics, rt)
	}
	c.respond(pd.p, resp)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
