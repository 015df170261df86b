package clients

import (
	"kafkasim/tui/internal/viewtest"
	"strings"
	"testing"

	"kafkasim/broker/protocol"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The clients at 80, 120 and 200 columns.
func TestClientsPaneGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.History(), theme.New(false), w, -1) })
}

// The classroom producer writes 1,000 records a second; its rate over the last second says so.
func TestProducerRate(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	if got := Rate(s.History(), 0); got < 900 || got > 1100 {
		t.Errorf("p1 rate %.0f/s; want about 1000/s", got)
	}
}

// Real clients through the gateway below the simulated ones: a producer, a group member
// consuming cut from a broker that died, one whose broker died under it and one whose request a network fault holds.
func TestRealClientsGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	hist := s.History()
	snap := *hist[len(hist)-1]
	demo := func(ps ...int32) []protocol.TopicPartition {
		var out []protocol.TopicPartition
		for _, p := range ps {
			out = append(out, protocol.TopicPartition{Topic: "demo", Partition: p})
		}
		return out
	}
	snap.Real = []session.RealClient{
		{ID: "app", Addr: "127.0.0.1:53211", Brokers: []int32{1, 2, 3}, Open: 3, Stalled: -1, Produces: demo(0, 1, 2), Sent: 300, Acked: 296},
		{ID: "reader", Addr: "127.0.0.1:53240", Brokers: []int32{2}, CutFrom: []int32{1}, Open: 2, Stalled: -1, Consumes: demo(0, 2), Groups: []string{"g"}, Polled: 150},
		{ID: "gone", Addr: "127.0.0.1:53300", Stalled: -1, Cut: true, Produces: demo(1), Sent: 10, Acked: 8, Errors: 2},
		{ID: "held", Addr: "127.0.0.1:53310", Brokers: []int32{3}, Open: 1, Stalled: 3, Produces: demo(2), Sent: 5},
	}
	h := append(hist[:len(hist)-1:len(hist)-1], &snap)
	viewtest.Golden(t, func(w int) string { return Render(h, theme.New(false), w, -1) })
	if got := Height(&snap); got != 1+len(snap.Clients)+4 {
		t.Errorf("Height %d; want a line per simulated and real client and the title", got)
	}
}

// A transactional producer's line says its transaction manager's state, its coordinator, its
// epoch and its transactions so far.
func TestClientsPaneTransactionsGolden(t *testing.T) {
	s, err := session.TxnFixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.History(), theme.New(false), w, -1) })
}

// A producer with compression.type says its codec and the ratio of its batches' uncompressed
// size to their encoded size; an uncompressed one says nothing more.
func TestProducerCompressionRatio(t *testing.T) {
	snap := &session.Snapshot{Clients: []session.Client{
		{Name: "p1", Producer: true, Up: true, Codec: "lz4", Ratio: 2.34},
		{Name: "p2", Producer: true, Up: true, Codec: "none", Ratio: 1},
	}}
	out := Render([]*session.Snapshot{snap}, theme.New(false), 120, -1)
	lines := strings.Split(out, "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "lz4 2.3:1") || strings.Contains(lines[2], ":1") {
		t.Errorf("clients pane:\n%s\nwant p1 saying lz4 2.3:1, p2 no ratio", out)
	}
}
