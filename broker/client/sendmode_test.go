package client

import (
	"testing"

	"kafkasim/broker/protocol"
)

// send.mode=sync is producer.send(record).get(): ten records handed over at once leave one by
// one, each in a request of its own sent only after the previous one's answer, each after
// linger.ms in its batch of one.
func TestSyncSendsOneRecordAtATime(t *testing.T) {
	w := newWorld(t)
	newFakeCluster(w, 1, 1)
	cfg := producerConfig(t, "linger.ms", "5")
	cfg.SendMode = "sync"
	p := startProducer(t, w, cfg, 0)
	start := w.now
	w.input(&SendRecords{Count: 10})
	for w.now < start+200*ms {
		if s := p.Stats(); s.InFlight > 1 {
			t.Fatalf("at %v: %d records in flight; want at most 1", w.now, s.InFlight)
		}
		w.runUntil(w.now + ms/4)
	}
	reqs := w.produces()
	if len(reqs) != 10 {
		t.Fatalf("got %d ProduceRequests; want 10, one per record", len(reqs))
	}
	for i, r := range reqs {
		if n := r.msg.(*protocol.ProduceRequest).Partitions[0].Batch.Len(); n != 1 {
			t.Errorf("request %d carries %d records; want 1", i, n)
		}
		// linger.ms in the batch, then the previous answer's round trip (the fake answers after 1ms).
		if i > 0 && r.at-reqs[i-1].at < 6*ms {
			t.Errorf("request %d went %v after the previous one; want at least linger.ms + a round trip (6ms)", i, r.at-reqs[i-1].at)
		}
	}
	if s := p.Stats(); s.Acked != 10 {
		t.Errorf("acked %d; want 10", s.Acked)
	}
}

// The default (async) pipelines: the same ten records go in one batch.
func TestAsyncSendsBatchTheRecords(t *testing.T) {
	w := newWorld(t)
	newFakeCluster(w, 1, 1)
	p := startProducer(t, w, producerConfig(t, "linger.ms", "5"), 0)
	w.input(&SendRecords{Count: 10})
	w.runUntil(w.now + 200*ms)
	if got := len(w.produces()); got != 1 {
		t.Errorf("got %d ProduceRequests; want 1", got)
	}
	if s := p.Stats(); s.Acked != 10 {
		t.Errorf("acked %d; want 10", s.Acked)
	}
}

// Under acks=0 a record completes when it is sent, so the next one goes at once after it.
func TestSyncSendsAcksZero(t *testing.T) {
	w := newWorld(t)
	newFakeCluster(w, 1, 1)
	cfg := producerConfig(t, "linger.ms", "0", "acks", "0")
	cfg.SendMode = "sync"
	p := startProducer(t, w, cfg, 0)
	w.input(&SendRecords{Count: 5})
	w.runUntil(w.now + 50*ms)
	if got := len(w.produces()); got != 5 {
		t.Errorf("got %d ProduceRequests; want 5", got)
	}
	if s := p.Stats(); s.Acked != 5 {
		t.Errorf("acked %d; want 5", s.Acked)
	}
}
