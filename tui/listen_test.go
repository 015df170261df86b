package tui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kafkasim/gateway"
	"kafkasim/scenarios"
	"kafkasim/tui/session"
)

// listenDemo is three brokers and a topic of three partitions, replication 3, no clients of
// its own: what the real client writes is all there is.
const listenDemo = `cluster brokers=3 controllers=1
topic demo partitions=3 replication=3 replicas=1,2,3;2,3,1;3,1,2 min.insync.replicas=2
`

// listening builds the UI on listenDemo with the gateway attached on free ports.
func listening(t *testing.T) *Model {
	t.Helper()
	s, err := scenarios.Parse("listen.scenario", []byte(listenDemo))
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Scenario: s, Seed: 1, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	m.syncJudge = true
	m.w, m.h = 200, 50
	m.speed = defaultSpeed + 1 // ×3: the cluster boots and elects sooner
	t.Cleanup(m.Close)
	return m
}

// frames drives the model as the program's frame clock does, from this goroutine only (the
// model is not safe for concurrent use), until cond holds or the deadline passes.
func frames(t *testing.T, m *Model, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; the UI shows:\n%s", what, screen(m))
		}
		m.Update(tickMsg{})
		time.Sleep(2 * time.Millisecond)
	}
}

// produceAsync sends n records to demo and reports how many were acknowledged and the first
// error, through acked (closed once every record has its answer).
func produceAsync(cl *kgo.Client, from, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		var first error
		results := make(chan error, n)
		for i := from; i < from+n; i++ {
			cl.Produce(context.Background(), &kgo.Record{Topic: "demo", Value: []byte(fmt.Sprintf("v%d", i))}, func(_ *kgo.Record, err error) { results <- err })
		}
		for range n {
			if err := <-results; err != nil && first == nil {
				first = err
			}
		}
		done <- first
	}()
	return done
}

// committed is the records the leaders of demo's partitions hold below their high watermark,
// as the UI's snapshot shows them, and whether every such partition's ISR is whole.
func committed(snap *session.Snapshot) (records int64, isr int) {
	isr = 3
	for _, p := range snap.Partitions {
		if p.Topic != "demo" {
			continue
		}
		if r := p.LeaderReplica(); r != nil {
			records += r.HW
		}
		isr = min(isr, len(p.ISR))
	}
	return records, isr
}

// A real franz-go client produces into the world the UI shows: the records reach every
// partition's high watermark on screen, paced by the wall clock; a broker killed by the UI's
// key (K, then y) closes the client's connections, and the client's next records go to the
// new leaders and show up there too.
func TestListenUIShowsARealClientsRecords(t *testing.T) {
	m := listening(t)
	srv := m.Listener()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(srv.AddrList(), ",")...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	const n = 30
	done := produceAsync(cl, 0, n)
	var perr error
	acked := false
	frames(t, m, "the client's records on screen", func() bool {
		select {
		case perr = <-done:
			acked = true
		default:
		}
		got, isr := committed(m.s.Snapshot())
		return acked && got == n && isr == 3
	})
	if perr != nil {
		t.Fatalf("a record failed: %v", perr)
	}
	if !strings.Contains(screen(m), "clients at "+strings.Split(srv.AddrList(), ",")[0]) {
		t.Errorf("the header does not say where clients connect:\n%s", screen(m))
	}

	// Kill the leader of demo/0 (broker 1) with the keys, as a user would.
	m.selPart = 0
	for i, p := range m.s.Snapshot().Partitions {
		if p.Topic == "demo" && p.Index == 0 {
			m.selPart = i
		}
	}
	m.Update(press("K"))
	m.Update(press("y"))
	if !strings.HasPrefix(m.msg, "✓ kill") {
		t.Fatalf("K y: %q; want the kill run", m.msg)
	}
	done = produceAsync(cl, n, n)
	acked = false
	frames(t, m, "the records after the kill on screen", func() bool {
		select {
		case perr = <-done:
			acked = true
		default:
		}
		got, _ := committed(m.s.Snapshot())
		p := m.s.Snapshot().Partitions[m.selPart]
		return acked && got >= 2*n && p.Leader != 1
	})
	if perr != nil {
		t.Fatalf("a record after the kill failed: %v", perr)
	}
	ops := 0
	for _, op := range m.s.Cluster().History() {
		if op.Type == "send" && strings.HasPrefix(op.Client, "kgo#") {
			ops++
		}
	}
	if ops < 2*n {
		t.Errorf("the history holds %d of the client's sends; want %d", ops, 2*n)
	}
}

// A statement while rewound would fork a timeline re-simulated from the seed, without the
// clients' requests: it is refused.
func TestListenUIRefusesToFork(t *testing.T) {
	m := listening(t)
	m.playing = true
	frames(t, m, "a few snapshots", func() bool { return m.s.Len() > 3 })
	m.s.Seek(1)
	m.exec("kill 2")
	if m.msg != forkRefused || m.s.Timelines() != 1 {
		t.Errorf("kill while rewound: %q, %d timelines; want %q and one", m.msg, m.s.Timelines(), forkRefused)
	}
}

// Bad --listen values name the flag, before the UI opens.
func TestListenUIErrorsNameTheFlag(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, listen := range []string{"10.1.2.3:9092", busy.Addr().String()} {
		_, err := New(Options{Seed: 1, Listen: listen})
		var fe *gateway.FlagError
		if !errors.As(err, &fe) || fe.Flag != "listen" {
			t.Errorf("--listen %s: got %v; want an error naming --listen", listen, err)
		}
	}
}
