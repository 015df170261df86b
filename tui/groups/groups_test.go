package groups

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/scenarios"
	"kafkasim/tui/internal/viewtest"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The view at 80, 120 and 200 columns, at the end of a run whose consumer r2 was killed: g1
// rebalanced to generation 2, r1 and r3 own two partitions each (go test -update rewrites the
// golden files).
func TestGroupsViewGolden(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
}

// Rewound to before the session timeout, the view shows r2 still a member, marked down.
func TestGroupsViewRewoundShowsTheDeadMember(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range s.Events() {
		if strings.HasPrefix(e.Text, "g1 rebalances: r2 left") {
			s.ShowEvent(i - 1)
			break
		}
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0))
	if !strings.Contains(out, "generation 1") || !strings.Contains(out, "r2★  {orders/2}  ✖ down") {
		t.Errorf("got\n%s\nwant generation 1 and r2 marked down", out)
	}
}

// A height too small for every line ends with "…" and keeps the group's header.
func TestGroupsViewFitsItsHeight(t *testing.T) {
	s, err := session.GroupFixture()
	if err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 4))
	lines := strings.Split(out, "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "g1  stable") || !strings.Contains(lines[3], "…") {
		t.Errorf("got\n%s\nwant 4 lines: the title, g1's header, a member, then …", out)
	}
	if h := Height(s.Snapshot()); h != len(strings.Split(ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0)), "\n")) {
		t.Errorf("Height %d differs from the lines drawn", h)
	}
}

// Killing the coordinator: until another broker leads the group's partition of
// __consumer_offsets and loads it, the view shows the group as last seen; then the new
// coordinator's load is logged and the view shows it serving the group.
func TestGroupsViewCoordinatorKilled(t *testing.T) {
	sc, err := scenarios.Parse("coordinator-kill.scenario", []byte(`cluster brokers=3
topic orders partitions=4 replication=3
producer p1 topic=orders acks=all rate=100/s partitioner=round-robin
consumer r1 topic=orders group=g1
consumer r2 topic=orders group=g1
await state g1 == stable within 30s
wait 60s
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30 && s.Snapshot().Line < 7; i++ {
		s.Advance(time.Second)
	}
	old := s.Snapshot().Groups[0].Coordinator
	if err := s.Exec("kill coordinator g1"); err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 120, 0))
	if !strings.Contains(out, "(as last seen)") || !strings.Contains(out, "r1   {orders/0,orders/1}") {
		t.Errorf("right after the kill:\n%s\nwant g1 as last seen, its members kept", out)
	}
	s.Advance(15 * time.Second)
	g := s.Snapshot().Groups[0]
	if !g.Loaded || g.Coordinator == old || g.Coordinator < 0 {
		t.Fatalf("15s later: coordinator %d loaded %v; want another broker than %d serving g1", g.Coordinator, g.Loaded, old)
	}
	loads := 0
	for _, e := range s.Events() {
		if strings.Contains(e.Text, " loads g1 from __consumer_offsets") {
			loads++
		}
	}
	if loads == 0 {
		t.Errorf("no line says the new coordinator loaded g1")
	}
}

// kip848 is a KIP-848 group: r1 reads alone, then r2 joins.
const kip848 = `cluster brokers=3
topic orders partitions=4 replication=3
producer p1 topic=orders acks=all rate=100/s partitioner=round-robin
consumer r1 topic=orders group=g1 group.protocol=consumer
consumer r2 topic=orders group=g1 group.protocol=consumer
stop r2
await size assigned r1 == 4 within 30s
wait 3s
restart r2
await size assigned r2 == 2 within 30s
wait 3s
`

func kip848Session(t *testing.T) *session.Session {
	t.Helper()
	sc, err := scenarios.Parse("kip848.scenario", []byte(kip848))
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && !s.Snapshot().Done; i++ {
		s.Continue()
		s.Advance(time.Second)
	}
	return s
}

// A consumer group (KIP-848) shows its group epoch and target assignment epoch instead of a
// generation, and each member's epoch; rewound to r2's join, r1 still owns everything at epoch
// 1 while r2, at the new epoch, waits for the partitions r1 must revoke first.
func TestGroupsViewConsumerProtocolShowsEpochs(t *testing.T) {
	s := kip848Session(t)
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
	end := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0))
	if !strings.Contains(end, "consumer (uniform)") || strings.Contains(end, "generation") {
		t.Errorf("got\n%s\nwant a consumer group with epochs, no generation", end)
	}
	found := false
	for i, e := range s.Events() {
		if strings.HasPrefix(e.Text, "g1 rebalances: r2 joined") {
			s.ShowEvent(i)
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("no rebalance event for r2's join in\n%v", s.Events())
	}
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0))
	if !strings.Contains(out, "g1  reconciling  epoch 2 (assignment 2)") || !strings.Contains(out, "r1   {orders/0,orders/1,orders/2,orders/3}  epoch 1") {
		t.Errorf("got\n%s\nwant g1 reconciling at epoch 2, r1 still owning all four at epoch 1", out)
	}
}

// twoTopics is a group reading two topics: r1 subscribes to orders and payments, r2 to
// payments alone.
const twoTopics = `cluster brokers=3
topic orders partitions=2 replication=3
topic payments partitions=2 replication=3
producer p1 topic=orders acks=all rate=100/s partitioner=round-robin
producer p2 topic=payments acks=all rate=100/s partitioner=round-robin
consumer r1 topic=orders,payments group=g1 partition.assignment.strategy=roundrobin
consumer r2 topic=payments group=g1 partition.assignment.strategy=roundrobin
await size assigned r2 == 1 within 30s
wait 12s
`

// A group of two topics shows each member's partitions topic by topic, and every
// topic-partition of both topics with its owner, committed offset and lag. roundrobin deals
// orders/0 and orders/1 to r1 (r2 does not read orders), then payments/0 to r2 and payments/1
// to r1 (RoundRobinAssignor's circle over the members sorted by member id).
func TestGroupsViewTwoTopics(t *testing.T) {
	sc, err := scenarios.Parse("two-topics.scenario", []byte(twoTopics))
	if err != nil {
		t.Fatal(err)
	}
	s, err := session.New(session.Options{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000 && !s.Snapshot().Done; i++ {
		s.Continue()
		s.Advance(time.Second)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Snapshot(), theme.New(false), w, 0) })
	out := ansi.Strip(Render(s.Snapshot(), theme.New(false), 80, 0))
	for _, want := range []string{"r1   orders/{0,1} payments/{1}", "r2★  {payments/0}", "payments/0   r2", "payments/1   r1", "orders/1     r1"} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant %q", out, want)
		}
	}
}
