package broker

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// The answer to a fetch is read against the partitions that fetch carried, even when the
// follower started fetching another partition from the same leader while it was out
// (AbstractFetcherThread matches each answered partition to its fetch state as the request
// had it): a partition the fetch did not carry is not taken from the answer.
func TestFetchAnswerReadAgainstThePartitionsSent(t *testing.T) {
	env := &sendsEnv{}
	b := New(Options{ID: 3, Config: newTestBroker().cfg}, env, &memDisk{files: map[string][]any{}}, 0)
	tp0, tp1 := protocol.TopicPartition{Topic: "orders", Partition: 0}, protocol.TopicPartition{Topic: "orders", Partition: 1}
	p1 := b.openPartition(0, tp1)
	b.startFetching(0, p1, 1)
	answer := func(now time.Duration, r *protocol.FetchResponse) {
		r.CorrelationID = b.fetchers.get(1).corr
		b.Step(now, 1, r)
	}
	answer(time.Millisecond, &protocol.FetchResponse{SessionID: 42}) // the session opens; the next fetch carries orders/1 as it is
	if req := env.sent[len(env.sent)-1].(*protocol.FetchRequest); req.SessionID != 42 || req.SessionEpoch != 1 {
		t.Fatalf("second fetch: session %d epoch %d; want session 42 epoch 1", req.SessionID, req.SessionEpoch)
	}
	p0 := b.openPartition(2*time.Millisecond, tp0)
	b.startFetching(2*time.Millisecond, p0, 1) // joins the next fetch: one is out
	answer(3*time.Millisecond, &protocol.FetchResponse{SessionID: 42, Partitions: []protocol.FetchPartitionResponse{
		{TP: tp0, Error: protocol.NOT_LEADER_OR_FOLLOWER},
		{TP: tp1, Error: protocol.NOT_LEADER_OR_FOLLOWER},
	}})
	if p1.backoffUntil == 0 {
		t.Errorf("orders/1, in the fetch answered: not backed off; want backed off by its error")
	}
	if p0.backoffUntil != 0 {
		t.Errorf("orders/0, not in the fetch answered: backed off until %v; want its answer left alone", p0.backoffUntil)
	}
	if req := env.sent[len(env.sent)-1].(*protocol.FetchRequest); len(req.Partitions) != 1 || req.Partitions[0].TP != tp0 {
		t.Errorf("next fetch carries %+v; want orders/0 alone (orders/1 backed off)", req.Partitions)
	}
}
