package gateway

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/scenarios"
)

// demo is the cluster the tests serve: three brokers, one topic of three partitions with
// replication 3 and min.insync.replicas=2, no clients of its own.
const demo = `cluster brokers=3 controllers=1
topic demo partitions=3 replication=3 replicas=1,2,3;2,3,1;3,1,2 min.insync.replicas=2
`

// serving starts a gateway on demo (or src) at speed and stops it when the test ends,
// returning the server and a function that ends the session and gives its result.
func serving(t *testing.T, src string, speed float64, rec *bytes.Buffer) (*Server, func() *scenarios.Result) {
	t.Helper()
	if src == "" {
		src = demo
	}
	s, err := scenarios.Parse("test.scenario", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Scenario: s, Listen: "127.0.0.1:0", Speed: speed}
	if rec != nil {
		o.Record = rec
	}
	srv, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	var res *scenarios.Result
	done := make(chan *scenarios.Result, 1)
	go func() { done <- srv.Run(ctx) }()
	stop := func() *scenarios.Result {
		once.Do(func() {
			cancel()
			res = <-done
		})
		return res
	}
	t.Cleanup(func() { stop() })
	return srv, stop
}

func seeds(srv *Server) []string { return strings.Split(srv.AddrList(), ",") }

func newClient(t *testing.T, srv *Server, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds(srv)...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestMetadataListsEveryBrokerAtItsOwnPort(t *testing.T) {
	srv, _ := serving(t, "", 5, nil)
	cl := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	topic := "demo"
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = &topic
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Brokers) != 3 {
		t.Fatalf("got %d brokers; want 3", len(resp.Brokers))
	}
	ports := map[int32]bool{}
	for _, b := range resp.Brokers {
		if want := srv.Addrs()[b.NodeID]; fmt.Sprintf("%s:%d", b.Host, b.Port) != want {
			t.Errorf("broker %d at %s:%d; want %s", b.NodeID, b.Host, b.Port, want)
		}
		ports[b.Port] = true
	}
	if len(ports) != 3 {
		t.Errorf("ports %v; want 3 distinct", ports)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 3 {
		t.Fatalf("topics %+v; want demo with 3 partitions", resp.Topics)
	}
	for _, p := range resp.Topics[0].Partitions {
		if want := int32(p.Partition + 1); p.Leader != want || len(p.ISR) != 3 {
			t.Errorf("demo/%d: leader %d ISR %v; want leader %d and 3 in sync", p.Partition, p.Leader, p.ISR, want)
		}
	}
}

// produce sends n records value-0..value-(n-1) to demo and waits for every acknowledgement.
func produce(t *testing.T, cl *kgo.Client, from, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := from; i < from+n; i++ {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Topic: "demo", Value: []byte(fmt.Sprintf("value-%d", i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d records failed, first: %v", len(errs), n, errs[0])
	}
}

// consume reads demo from the beginning until it has n distinct values.
func consume(t *testing.T, cl *kgo.Client, n int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	seen := map[string]int{}
	total := 0
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d distinct of %d (%d records) before the deadline", len(seen), n, total)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			total++
		})
	}
	return seen
}

func TestProduceAndConsumeWithFranzGo(t *testing.T) {
	srv, stop := serving(t, "", 5, nil)
	cl := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()))
	produce(t, cl, 0, 1000)
	cons := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := consume(t, cons, 1000)
	for i := 0; i < 1000; i++ {
		if seen[fmt.Sprintf("value-%d", i)] != 1 {
			t.Fatalf("value-%d read %d times; want once", i, seen[fmt.Sprintf("value-%d", i)])
		}
	}
	cl.Close()
	cons.Close()
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
	t.Log(Summary(res))
}
