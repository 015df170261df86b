package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"strconv"
)

// The same checks with IBM/sarama and segmentio/kafka-go: metadata, 10,000 records with
// acks=all through a leader kill, consuming them all, a group of two.

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_8_0_0
	cfg.ClientID = "sarama-test"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 100
	cfg.Producer.Retry.Backoff = 20 * time.Millisecond
	cfg.Producer.Partitioner = sarama.NewRoundRobinPartitioner
	cfg.Metadata.Retry.Backoff = 20 * time.Millisecond
	cfg.Metadata.Retry.Max = 100
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Retry.Backoff = 20 * time.Millisecond
	cfg.Consumer.Group.Heartbeat.Interval = 100 * time.Millisecond
	cfg.Consumer.Group.Rebalance.Retry.Backoff = 20 * time.Millisecond
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	return cfg
}

func TestSarama(t *testing.T) {
	srv, stop := serving(t, "", 20, nil)
	addrs := seeds(srv)
	cfg := saramaConfig()
	client, err := sarama.NewClient(addrs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if bs := client.Brokers(); len(bs) != 3 {
		t.Fatalf("sarama sees %d brokers; want 3", len(bs))
	}
	for p := int32(0); p < 3; p++ {
		l, err := client.Leader("demo", p)
		if err != nil || l.ID() != p+1 || l.Addr() != srv.Addrs()[p+1] {
			t.Fatalf("demo/%d: leader %v %v; want broker %d at %s", p, l, err, p+1, srv.Addrs()[p+1])
		}
		if isr, err := client.InSyncReplicas("demo", p); err != nil || len(isr) != 3 {
			t.Fatalf("demo/%d: ISR %v %v; want 3", p, isr, err)
		}
	}
	prod, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	var failed []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		acked := 0
		for acked+len(failed) < n {
			select {
			case <-prod.Successes():
				acked++
				if acked == 3000 {
					go func() {
						if err := srv.Exec("kill leader demo/0"); err != nil {
							t.Error(err)
						}
					}()
				}
			case err := <-prod.Errors():
				failed = append(failed, err)
			}
		}
	}()
	for i := 0; i < n; i++ {
		prod.Input() <- &sarama.ProducerMessage{Topic: "demo", Value: sarama.StringEncoder(fmt.Sprintf("sarama-%d", i))}
	}
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("sarama's records were not all answered")
	}
	if len(failed) > 0 {
		t.Fatalf("%d records failed, first %v", len(failed), failed[0])
	}
	prod.Close()
	cons, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for p := int32(0); p < 3; p++ {
		// A leader elected after the kill answers ListOffsets with OFFSET_NOT_AVAILABLE until its
		// HW catches up (KIP-207), a retriable error sarama leaves to its caller.
		pc, err := cons.ConsumePartition("demo", p, sarama.OffsetOldest)
		for try := 0; errors.Is(err, sarama.ErrOffsetNotAvailable) && try < 50; try++ {
			time.Sleep(100 * time.Millisecond)
			pc, err = cons.ConsumePartition("demo", p, sarama.OffsetOldest)
		}
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.Close()
			for {
				select {
				case m := <-pc.Messages():
					mu.Lock()
					seen[string(m.Value)]++
					total := len(seen)
					mu.Unlock()
					if total >= n {
						cancel()
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	cons.Close()
	if len(seen) != n {
		t.Fatalf("sarama read %d distinct records; want %d", len(seen), n)
	}
	for v, c := range seen {
		if c != 1 {
			t.Fatalf("%s read %d times; want once", v, c)
		}
	}
	saramaGroup(t, addrs)
	client.Close()
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
	t.Log(Summary(res))
}

// claims is a sarama group member's handler: it notes its partitions and reads its claims.
type claims struct {
	mu    sync.Mutex
	parts map[int32]bool
	seen  map[string]bool
}

func (h *claims) Setup(s sarama.ConsumerGroupSession) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.parts = map[int32]bool{}
	for _, p := range s.Claims()["demo"] {
		h.parts[p] = true
	}
	return nil
}
func (h *claims) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *claims) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.seen[string(m.Value)] = true
		h.mu.Unlock()
		s.MarkMessage(m, "")
	}
	return nil
}

func (h *claims) split() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.parts), len(h.seen)
}

// saramaGroup: two members split demo's partitions; when one closes the other takes all three.
func saramaGroup(t *testing.T, addrs []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hs [2]*claims
	var gs [2]sarama.ConsumerGroup
	var wg sync.WaitGroup
	for i := range hs {
		g, err := sarama.NewConsumerGroup(addrs, "sarama-group", saramaConfig())
		if err != nil {
			t.Fatal(err)
		}
		gs[i], hs[i] = g, &claims{seen: map[string]bool{}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := g.Consume(ctx, []string{"demo"}, hs[i]); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
					time.Sleep(20 * time.Millisecond)
				}
				if errors.Is(ctx.Err(), context.Canceled) {
					return
				}
			}
		}()
	}
	waitFor(t, "the two members to split the partitions", func() bool {
		a, _ := hs[0].split()
		b, _ := hs[1].split()
		return a > 0 && b > 0 && a+b == 3
	})
	gs[1].Close()
	waitFor(t, "the remaining member to take all three partitions", func() bool {
		a, _ := hs[0].split()
		return a == 3
	})
	cancel()
	gs[0].Close()
	wg.Wait()
}

// waitFor polls cond for up to 15 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKafkaGo(t *testing.T) {
	srv, stop := serving(t, "", 20, nil)
	addrs := seeds(srv)
	conn, err := kafka.Dial("tcp", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	brokers, err := conn.Brokers()
	if err != nil || len(brokers) != 3 {
		t.Fatalf("kafka-go sees brokers %v %v; want 3", brokers, err)
	}
	for _, b := range brokers {
		if addr := b.Host + ":" + strconv.Itoa(b.Port); addr != srv.Addrs()[int32(b.ID)] {
			t.Errorf("broker %d at %s; want %s", b.ID, addr, srv.Addrs()[int32(b.ID)])
		}
	}
	parts, err := conn.ReadPartitions("demo")
	if err != nil || len(parts) != 3 {
		t.Fatalf("demo's partitions %v %v; want 3", parts, err)
	}
	for _, p := range parts {
		if p.Leader.ID != p.ID+1 || len(p.Isr) != 3 {
			t.Errorf("demo/%d: leader %d ISR %v; want %d and 3 in sync", p.ID, p.Leader.ID, p.Isr, p.ID+1)
		}
	}
	// CreateTopics through the controller Metadata names.
	ctl, err := conn.Controller()
	if err != nil {
		t.Fatal(err)
	}
	cc, err := kafka.Dial("tcp", ctl.Host+":"+strconv.Itoa(ctl.Port))
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.CreateTopics(kafka.TopicConfig{Topic: "created", NumPartitions: 3, ReplicationFactor: 3}); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	cc.Close()
	waitFor(t, "the created topic's leaders", func() bool {
		ps, err := conn.ReadPartitions("created")
		return err == nil && len(ps) == 3 && ps[0].Leader.ID > 0 && ps[1].Leader.ID > 0 && ps[2].Leader.ID > 0
	})

	// 10,000 records, acks=all, a leader killed after 3,000. kafka-go is not idempotent: a
	// retry may duplicate, nothing acknowledged may be lost.
	w := &kafka.Writer{Addr: kafka.TCP(addrs...), Topic: "demo", RequiredAcks: kafka.RequireAll, Balancer: &kafka.RoundRobin{},
		BatchTimeout: 2 * time.Millisecond, BatchSize: 500, Transport: &kafka.Transport{MetadataTTL: 50 * time.Millisecond}, MaxAttempts: 50, WriteBackoffMin: 20 * time.Millisecond, WriteBackoffMax: 50 * time.Millisecond}
	defer w.Close()
	const n = 10000
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i := 0; i < n; i += 1000 {
		if i == 3000 {
			if err := srv.Exec("kill leader demo/0"); err != nil {
				t.Fatal(err)
			}
		}
		msgs := make([]kafka.Message, 1000)
		for j := range msgs {
			msgs[j].Value = []byte(fmt.Sprintf("kafka-go-%d", i+j))
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			t.Fatalf("write %d..%d: %v", i, i+999, err)
		}
	}
	// readAll reads every partition from the start to its end.
	readAll := func() map[string]bool {
		seen := map[string]bool{}
		for p := 0; p < 3; p++ {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: addrs, Topic: "demo", Partition: p, MaxWait: 50 * time.Millisecond})
			r.SetOffset(kafka.FirstOffset)
			lag, err := r.ReadLag(ctx)
			if err != nil {
				t.Fatalf("demo/%d: lag: %v", p, err)
			}
			for ; lag > 0; lag-- {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					t.Fatalf("demo/%d: %v", p, err)
				}
				seen[string(m.Value)] = true
			}
			r.Close()
		}
		return seen
	}
	seen := readAll()
	if len(seen) != n {
		t.Fatalf("kafka-go read %d distinct records; want %d", len(seen), n)
	}

	// A group of two splits the partitions; each reader reads and commits.
	var readers [2]*kafka.Reader
	var mu sync.Mutex
	got := map[int]map[int]bool{0: {}, 1: {}}
	gctx, gcancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range readers {
		readers[i] = kafka.NewReader(kafka.ReaderConfig{Brokers: addrs, Topic: "demo", GroupID: "kafka-go-group",
			MaxWait: 50 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond, CommitInterval: 100 * time.Millisecond,
			StartOffset: kafka.FirstOffset, ReadBackoffMin: 10 * time.Millisecond, ReadBackoffMax: 50 * time.Millisecond, JoinGroupBackoff: 50 * time.Millisecond})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := readers[i].ReadMessage(gctx)
				if err != nil {
					return
				}
				mu.Lock()
				got[i][m.Partition] = true
				mu.Unlock()
			}
		}()
	}
	// Records keep coming, so a member that joins after the other read everything reads too.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; gctx.Err() == nil; i++ {
			w.WriteMessages(gctx, kafka.Message{Value: []byte(fmt.Sprintf("kafka-go-more-%d", i))})
			time.Sleep(5 * time.Millisecond)
		}
	}()
	waitFor(t, "kafka-go's group to split the partitions", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got[0]) > 0 && len(got[1]) > 0 && len(got[0])+len(got[1]) >= 3
	})
	gcancel()
	wg.Wait()
	for _, r := range readers {
		r.Close()
	}
	w.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	readAll() // the records written meanwhile are read too, as the checker wants
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
	t.Log(Summary(res))
}
