package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// clientsNow is the gateway's clients as a watcher sees them, read between two steps of the
// world.
func clientsNow(t *testing.T, srv *Server, id string) *Client {
	t.Helper()
	var got *Client
	if err := srv.do(func(*session) {
		for _, c := range srv.Clients() {
			if c.ID == id {
				got = &c
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// A watcher sees a real producer's records sent and acknowledged, the partition it writes to
// and the brokers it talks to; once its partition's leader is isolated, the request the
// network holds shows as a wait on that broker.
func TestWatchedClientStallsOnAnIsolatedLeader(t *testing.T) {
	srv, _ := serving(t, demo, 10, nil)
	cl := newClient(t, srv, kgo.ClientID("w"), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProduceRequestTimeout(time.Second),
		kgo.RecordDeliveryTimeout(time.Minute))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 5 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "demo", Partition: 0, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	c := clientsNow(t, srv, "w")
	if c == nil || c.Sent != 5 || c.Acked != 5 || len(c.Produces) != 1 || c.Produces[0].Partition != 0 || c.Open == 0 || c.Stalled != -1 {
		t.Fatalf("the producer as watched: %+v; want 5 sent and acked to demo/0 over open connections, nothing waiting", c)
	}
	if err := srv.Exec("isolate 1"); err != nil {
		t.Fatal(err)
	}
	cl.Produce(ctx, &kgo.Record{Topic: "demo", Partition: 0, Value: []byte("held")}, nil)
	for {
		if c := clientsNow(t, srv, "w"); c.Stalled == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the producer never showed a request held by broker 1: %+v", *clientsNow(t, srv, "w"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
