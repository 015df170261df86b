package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"kafkasim/tui/session"
)

// realClient is the snapshot's real client of client.id id, or nil.
func realClient(snap *session.Snapshot, id string) *session.RealClient {
	for i := range snap.Real {
		if snap.Real[i].ID == id {
			return &snap.Real[i]
		}
	}
	return nil
}

// A real franz-go producer and consumer appear in the clients pane beside the simulated ones:
// their client.id, the partitions they produce to and read from, their records acked and
// polled; when the UI kills a broker they are connected to, the pane says they are cut from it.
func TestListenUIShowsRealClientsInThePane(t *testing.T) {
	m := listening(t)
	m.playing = true
	seeds := kgo.SeedBrokers(strings.Split(m.Listener().AddrList(), ",")...)
	quick := []kgo.Opt{seeds, kgo.MetadataMinAge(50 * time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond })}
	pr, err := kgo.NewClient(append(quick, kgo.ClientID("mine"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()

	const n = 30
	done := produceAsync(pr, 0, n)
	var perr error
	acked := false
	frames(t, m, "the producer's records acked in the pane", func() bool {
		select {
		case perr = <-done:
			acked = true
		default:
		}
		c := realClient(m.s.Snapshot(), "mine")
		return acked && c != nil && c.Acked == n
	})
	if perr != nil {
		t.Fatalf("a record failed: %v", perr)
	}
	c := realClient(m.s.Snapshot(), "mine")
	if c.Sent != n || len(c.Produces) != 3 || c.Open == 0 || !strings.HasPrefix(c.Addr, "127.0.0.1:") {
		t.Errorf("the producer as the pane has it: %+v; want %d sent to demo's 3 partitions over open connections from loopback", *c, n)
	}
	if !strings.Contains(screen(m), "⇄ mine") {
		t.Errorf("the screen does not show the real producer:\n%s", screen(m))
	}

	co, err := kgo.NewClient(append(quick, kgo.ClientID("reader"), kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			co.PollFetches(ctx)
		}
	}()
	frames(t, m, "the consumer's records polled in the pane", func() bool {
		c := realClient(m.s.Snapshot(), "reader")
		return c != nil && c.Polled >= n
	})
	if c := realClient(m.s.Snapshot(), "reader"); len(c.Consumes) != 3 {
		t.Errorf("the consumer reads %v; want demo's 3 partitions", c.Consumes)
	}

	// The producer has a connection to every leader (round robin); killing broker 1 cuts it from it.
	m.exec("kill 1")
	frames(t, m, "the producer cut from broker 1 in the pane", func() bool {
		c := realClient(m.s.Snapshot(), "mine")
		return slices.Contains(c.CutFrom, 1)
	})
	if !strings.Contains(screen(m), "cut from {1}") {
		t.Errorf("the screen does not say the producer was cut from broker 1:\n%s", screen(m))
	}
}
