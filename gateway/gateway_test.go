package gateway

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
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
	o := Options{Scenario: s, Source: []byte(src), Listen: "127.0.0.1:0", Speed: speed}
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
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds(srv)...), kgo.MetadataMinAge(50 * time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond })}, opts...)...)
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

// produce sends n records value-from..value-(from+n-1) to demo and waits for every
// acknowledgement; after the first `at` acknowledgements it calls during (if not nil) while
// the rest are in flight or not yet produced (a client with a small buffer blocks in Produce).
func produce(t *testing.T, cl *kgo.Client, from, n int, at int, during func()) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	acked := 0
	hook, hooked := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(hooked)
		if during != nil {
			<-hook
			during()
		}
	}()
	for i := from; i < from+n; i++ {
		wg.Add(1)
		cl.Produce(context.Background(), &kgo.Record{Topic: "demo", Value: []byte(fmt.Sprintf("value-%d", i))}, func(_ *kgo.Record, err error) {
			mu.Lock()
			if err != nil {
				errs = append(errs, err)
			}
			acked++
			if acked == at {
				close(hook)
			}
			mu.Unlock()
			wg.Done()
		})
	}
	wg.Wait()
	<-hooked
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
	produce(t, cl, 0, 1000, 0, nil)
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
		if res.Report != nil {
			t.Log(res.Report.Text())
		}
		if dump := os.Getenv("GATEWAY_DUMP"); dump != "" && res.Cluster != nil {
			f, _ := os.Create(dump)
			res.Cluster.History().WriteJSONLines(f)
			f.Close()
		}
	}
	t.Log(Summary(res))
}

// Produce 10,000 records with acks=all while the leader of demo/0 is killed half-way: every
// acknowledged record is read back, and the checker finds the run valid.
func TestProduceThroughALeaderKill(t *testing.T) {
	srv, stop := serving(t, "", 20, nil)
	cl := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.MaxBufferedRecords(500))
	produce(t, cl, 0, 10000, 3000, func() {
		if err := srv.Exec("kill leader demo/0"); err != nil {
			t.Error(err)
		}
	})
	t0 := time.Now()
	cons := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := consume(t, cons, 10000)
	t.Logf("consumed in %v", time.Since(t0))
	for v, n := range seen {
		if n != 1 {
			t.Errorf("%s read %d times; want once", v, n)
		}
	}
	cl.Close()
	cons.Close()
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
		if res.Report != nil {
			t.Log(res.Report.Text())
		}
		if dump := os.Getenv("GATEWAY_DUMP"); dump != "" && res.Cluster != nil {
			f, _ := os.Create(dump)
			res.Cluster.History().WriteJSONLines(f)
			f.Close()
		}
	}
	t.Log(Summary(res))
}

// Each codec franz-go writes round-trips byte-exact: the consumer reads the producer's bytes.
func TestCompressionRoundTrips(t *testing.T) {
	srv, _ := serving(t, "", 5, nil)
	codecs := []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()}
	for i, codec := range codecs {
		topic := fmt.Sprintf("codec%d", i)
		admin := newClient(t, srv)
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 1, 3
		req.Topics = append(req.Topics, rt)
		req.TimeoutMillis = 5000
		resp, err := req.RequestWith(context.Background(), admin)
		if err != nil || resp.Topics[0].ErrorCode != 0 {
			t.Fatalf("create %s: %v %+v", topic, err, resp)
		}
		p := newClient(t, srv, kgo.ProducerBatchCompression(codec), kgo.DefaultProduceTopic(topic), kgo.AllowAutoTopicCreation())
		var want [][]byte
		for j := 0; j < 50; j++ {
			v := bytes.Repeat([]byte(fmt.Sprintf("%s record %d; ", topic, j)), 10+j)
			want = append(want, v)
			if err := p.ProduceSync(context.Background(), &kgo.Record{Key: []byte{byte(j)}, Value: v, Headers: []kgo.RecordHeader{{Key: "h", Value: []byte{1, 2}}}}).FirstErr(); err != nil {
				t.Fatalf("%s: %v", topic, err)
			}
		}
		c := newClient(t, srv, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var got []*kgo.Record
		for len(got) < len(want) && ctx.Err() == nil {
			c.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, r) })
		}
		cancel()
		if len(got) != len(want) {
			t.Fatalf("%s: read %d records; want %d", topic, len(got), len(want))
		}
		for j, r := range got {
			if !bytes.Equal(r.Value, want[j]) || !bytes.Equal(r.Key, []byte{byte(j)}) || len(r.Headers) != 1 || r.Headers[0].Key != "h" {
				t.Fatalf("%s: record %d came back different", topic, j)
			}
		}
	}
}

// worldInputs is what came into the world from outside so far: its nodes and its injected
// inputs. The world's own steps (heartbeats, fetches) do not change it.
func worldInputs(t *testing.T, srv *Server) string {
	t.Helper()
	var out string
	if err := srv.do(func(ss *session) {
		out = fmt.Sprintf("nodes %v injects %d", ss.c.World.IDs(), ss.c.World.Stats().Injects)
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A raw socket sending garbage, an unknown API key or a version the gateway does not serve is
// disconnected, and nothing reaches the world.
func TestGarbageDisconnectsAndChangesNothing(t *testing.T) {
	var rec bytes.Buffer
	srv, stop := serving(t, "", 5, &rec)
	frame := func(key, version int16, body []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+2+len(body)))
		b = binary.BigEndian.AppendUint16(b, uint16(key))
		b = binary.BigEndian.AppendUint16(b, uint16(version))
		b = binary.BigEndian.AppendUint32(b, 7)
		b = binary.BigEndian.AppendUint16(b, 0xffff) // null client id
		return append(b, body...)
	}
	cases := map[string][]byte{
		"garbage":             []byte("GET / HTTP/1.1\r\nHost: kafka\r\n\r\n"),
		"unknown key":         frame(999, 0, nil),
		"unsupported version": frame(3, 99, nil),
		"unserved key":        frame(21, 0, nil), // DeleteRecords: not advertised
		"truncated body":      frame(0, 7, []byte{0, 1}),
		"huge size":           {0x7f, 0xff, 0xff, 0xff, 0, 0},
	}
	before := worldInputs(t, srv)
	for name, b := range cases {
		nc, err := net.Dial("tcp", seeds(srv)[0])
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n, err := nc.Read(make([]byte, 64)); err == nil {
			t.Errorf("%s: got %d bytes back; want the connection closed", name, n)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the connection stayed open", name)
		}
		nc.Close()
	}
	if after := worldInputs(t, srv); after != before {
		t.Errorf("the world changed: %s; want %s", after, before)
	}
	// The recording holds no input either: the session replays as one no client touched.
	live := stop()
	if n := strings.Count(rec.String(), `"frame"`) + strings.Count(rec.String(), `"hangup"`); n != 0 {
		t.Errorf("the recording holds %d inputs from the garbage connections; want none", n)
	}
	replays(t, &rec, live)
}

// A recorded session replays, headless, to the same trace hash.
func TestRecordedSessionReplays(t *testing.T) {
	var rec bytes.Buffer
	srv, stop := serving(t, "", 10, &rec)
	cl := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(200))
	produce(t, cl, 0, 2000, 1000, func() {
		if err := srv.Exec("kill leader demo/1"); err != nil {
			t.Error(err)
		}
	})
	cons := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	consume(t, cons, 2000)
	cl.Close()
	cons.Close()
	live := stop()
	replays(t, &rec, live)
}

// replays replays a recorded session and checks that it ends as the live one did.
func replays(t *testing.T, rec *bytes.Buffer, live *scenarios.Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "session.jsonl")
	if err := os.WriteFile(path, rec.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rp, err := Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	if rp.Result.TraceHash != live.TraceHash || rp.Recorded != live.TraceHash {
		t.Errorf("replayed trace %016x (recorded %016x); want the live %016x", rp.Result.TraceHash, rp.Recorded, live.TraceHash)
	}
	if rp.Result.Ops != live.Ops || rp.Result.Verdict != live.Verdict {
		t.Errorf("replay: %d ops, verdict %s; live: %d ops, verdict %s", rp.Result.Ops, rp.Result.Verdict, live.Ops, live.Verdict)
	}
	t.Logf("replayed %d requests; %s", rp.Frames, Summary(rp.Result))
}

// Bad input names its flag: an address beyond loopback without --listen-any, a port in use.
func TestListenErrorsNameTheFlag(t *testing.T) {
	s, err := scenarios.Parse("test.scenario", []byte(demo))
	if err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, listen := range []string{"10.1.2.3:9092", "0.0.0.0:9092", busy.Addr().String(), "127.0.0.1", "127.0.0.1:x"} {
		_, err := Start(Options{Scenario: s, Listen: listen})
		var fe *FlagError
		if !errors.As(err, &fe) || fe.Flag != "listen" || !strings.HasPrefix(err.Error(), "--listen: ") {
			t.Errorf("--listen %s: got %v; want an error naming --listen", listen, err)
		}
	}
}

// member is a group consumer that records what it read and from which partitions.
type member struct {
	cl    *kgo.Client
	mu    sync.Mutex
	seen  map[string]bool
	parts map[int32]bool
}

func (m *member) poll(ctx context.Context) {
	fs := m.cl.PollFetches(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	fs.EachRecord(func(r *kgo.Record) {
		m.seen[string(r.Value)] = true
		m.parts[r.Partition] = true
	})
}

func joinGroup(t *testing.T, srv *Server) *member {
	cl := newClient(t, srv, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("demo"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.HeartbeatInterval(100*time.Millisecond),
		kgo.AutoCommitInterval(100*time.Millisecond))
	return &member{cl: cl, seen: map[string]bool{}, parts: map[int32]bool{}}
}

// A group of two splits the partitions; when one leaves, the other takes them over and reads
// on from the committed offsets.
func TestGroupOfTwoSplitsAndRebalances(t *testing.T) {
	var rec bytes.Buffer
	srv, stop := serving(t, "", 10, &rec)
	p := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produce(t, p, 0, 3000, 0, nil)
	a, b := joinGroup(t, srv), joinGroup(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	union := func() int {
		all := map[string]bool{}
		for _, m := range []*member{a, b} {
			m.mu.Lock()
			for v := range m.seen {
				all[v] = true
			}
			m.mu.Unlock()
		}
		return len(all)
	}
	var wg sync.WaitGroup
	for _, m := range []*member{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for union() < 3000 && ctx.Err() == nil {
				pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
				m.poll(pctx)
				pcancel()
			}
		}()
	}
	wg.Wait()
	if n := union(); n != 3000 {
		t.Fatalf("the group read %d distinct records; want 3000", n)
	}
	if len(a.parts) == 0 || len(b.parts) == 0 || len(a.parts)+len(b.parts) < 3 {
		t.Fatalf("partitions read: %v and %v; want the two members to split the three", a.parts, b.parts)
	}
	// b leaves; a takes over every partition and reads what is produced next.
	if err := b.cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	b.cl.Close()
	produce(t, p, 3000, 300, 0, nil)
	for ctx.Err() == nil {
		missing := 0
		a.mu.Lock()
		for i := 3000; i < 3300; i++ {
			if !a.seen[fmt.Sprintf("value-%d", i)] {
				missing++
			}
		}
		a.mu.Unlock()
		if missing == 0 {
			break
		}
		pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
		a.poll(pctx)
		pcancel()
	}
	if ctx.Err() != nil {
		t.Fatalf("after the rebalance the remaining member did not read every new record (partitions %v)", a.parts)
	}
	a.cl.Close()
	p.Close()
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
	replays(t, &rec, res)
}

// The serve command's own checks name their flags.
func TestCommandFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"--speed", "0"}, {"--listen", "192.0.2.1:9092"}, {"--listen", "localhost"}} {
		var got error
		cmd := Command("seed", func(ok bool, err error) error { got = err; return err })
		cmd.SetArgs(args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		cmd.Execute()
		var fe *FlagError
		if !errors.As(got, &fe) || "--"+fe.Flag != args[0] {
			t.Errorf("serve %v: got %v; want an error naming %s", args, got, args[0])
		}
	}
}
