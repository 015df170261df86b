package broker

import (
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// sendsEnv is quietEnv that keeps what the broker sends.
type sendsEnv struct {
	quietEnv
	sent []any
}

func (e *sendsEnv) Send(_ int32, m any) { e.sent = append(e.sent, m) }

// answered lists the correlation ids of the ProduceResponses sent, with their first error.
func (e *sendsEnv) answered() (corrs []int64, errs []protocol.ErrorCode) {
	for _, m := range e.sent {
		if r, ok := m.(*protocol.ProduceResponse); ok {
			corrs = append(corrs, r.CorrelationID)
			errs = append(errs, r.Partitions[0].Error)
		}
	}
	return corrs, errs
}

const testClient int32 = 100

// leaderAwaitingFollower is a broker leading orders/0 with broker 1 in the ISR: an acks=all
// produce waits in purgatory until broker 1 fetches.
func leaderAwaitingFollower(t *testing.T) (*Broker, *Partition, *sendsEnv) {
	env := &sendsEnv{}
	b := New(Options{ID: 3, Config: config.DefaultBroker()}, env, &memDisk{files: map[string][]any{}}, 0)
	p := b.openPartition(0, protocol.TopicPartition{Topic: "orders", Partition: 0})
	p.makeLeader(0, &metadata.Partition{Topic: "orders", Replicas: []int32{3, 1}, ISR: []int32{3, 1}, Leader: 3, LeaderEpoch: 1})
	return b, p, env
}

func idempotentProduce(corr int64, seq int32) *protocol.ProduceRequest {
	batch := &protocol.RecordBatch{ProducerID: 7, ProducerEpoch: 0, BaseSequence: seq, Records: []protocol.Record{{Value: int64(seq)}}}
	return &protocol.ProduceRequest{CorrelationID: corr, Acks: protocol.AcksAll, Timeout: 30 * time.Second,
		Partitions: []protocol.ProducePartition{{TP: protocol.TopicPartition{Topic: "orders", Partition: 0}, Batch: batch}}}
}

// Kafka's SocketServer mutes a connection when it reads a request and unmutes it when the
// response is sent ("the broker's request processing allows only a single in-flight request per
// connection", the protocol guide). A produce request pipelined behind one waiting in purgatory
// is not read, let alone appended, until that one is answered; when leadership moves meanwhile,
// it is refused NOT_LEADER_OR_FOLLOWER without an append, and the answers come in request order.
// Appending it as well (as the broker did when it handled every request at once) left more of a
// producer's batches appended but unanswered than the five the new leader remembers
// (ProducerStateEntry.NUM_BATCHES_TO_RETAIN); nemesis seed 59 then duplicated 23 records.
func TestSocketServerHandlesOneRequestPerConnection(t *testing.T) {
	b, p, env := leaderAwaitingFollower(t)
	b.Step(time.Millisecond, testClient, idempotentProduce(1, 0))
	b.Step(2*time.Millisecond, testClient, idempotentProduce(2, 1))
	if leo := p.LEO(); leo != 1 {
		t.Fatalf("LEO %d while the first request waits in purgatory; want 1 (the second is not read yet)", leo)
	}
	if corrs, _ := env.answered(); len(corrs) != 0 {
		t.Fatalf("answered %v; want nothing before broker 1 fetches", corrs)
	}
	p.makeFollower(3*time.Millisecond, &metadata.Partition{Topic: "orders", Replicas: []int32{3, 1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 2})
	b.unmuteConnections(3 * time.Millisecond)
	corrs, errs := env.answered()
	if !slices.Equal(corrs, []int64{1, 2}) || !slices.Equal(errs, []protocol.ErrorCode{protocol.NOT_LEADER_OR_FOLLOWER, protocol.NOT_LEADER_OR_FOLLOWER}) {
		t.Fatalf("answers %v %v; want requests 1 then 2, both NOT_LEADER_OR_FOLLOWER", corrs, errs)
	}
	if leo := p.LEO(); leo != 1 {
		t.Fatalf("LEO %d; want 1: the second request came after leadership moved", leo)
	}
}

// A client that closes its connection (NetworkClient.processTimeoutDisconnection after
// request.timeout.ms) takes with it the requests it had pipelined: the broker never reads them,
// and the answer to the one it was handling has nowhere to go.
func TestSocketServerDropsRequestsOfAClosedConnection(t *testing.T) {
	b, p, env := leaderAwaitingFollower(t)
	b.Step(time.Millisecond, testClient, idempotentProduce(1, 0))
	b.Step(2*time.Millisecond, testClient, idempotentProduce(2, 1))
	b.Step(3*time.Millisecond, testClient, &node.ConnectionReset{Peer: testClient})
	p.makeFollower(4*time.Millisecond, &metadata.Partition{Topic: "orders", Replicas: []int32{3, 1}, ISR: []int32{1}, Leader: 1, LeaderEpoch: 2})
	b.unmuteConnections(4 * time.Millisecond)
	if corrs, _ := env.answered(); len(corrs) != 0 {
		t.Fatalf("answered %v on a closed connection", corrs)
	}
	b.Step(5*time.Millisecond, testClient, idempotentProduce(3, 1))
	if corrs, errs := env.answered(); !slices.Equal(corrs, []int64{3}) || errs[0] != protocol.NOT_LEADER_OR_FOLLOWER {
		t.Fatalf("answers %v %v; want the new connection's request 3 answered at once", corrs, errs)
	}
	if leo := p.LEO(); leo != 1 {
		t.Fatalf("LEO %d; want 1", leo)
	}
}
