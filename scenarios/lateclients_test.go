package scenarios

import (
	"errors"
	"strings"
	"testing"
)

// SCENARIO_LANGUAGE, "Clients are nodes": a client statement may appear after time has moved;
// the client starts at that instant. A producer declared five seconds in has written five
// seconds' worth at its rate five seconds later, not ten; a consumer declared then joins the
// group then (the group had one member before, two after).
func TestLateClientsStartAtTheirLine(t *testing.T) {
	src := `cluster brokers=3
topic orders partitions=2 replication=3 min.insync.replicas=2
producer early topic=orders acks=all rate=20/s
consumer r1 topic=orders group=g
await members g == 1 within 30s
wait 5s
producer late topic=orders acks=all rate=20/s
consumer r2 topic=orders group=g
expect acked late == 0
expect members g == 1
wait 5s
expect acked late >= 80
expect acked late <= 101
expect acked early >= 180
await members g == 2 within 30s
expect verdict valid
`
	s := mustParseSrc(t, src)
	r1, err := Run(s, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !r1.OK {
		t.Fatalf("run failed: %s", r1.Failure)
	}
	r2, err := Run(mustParseSrc(t, src), Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r1.TraceHash != r2.TraceHash {
		t.Errorf("trace hashes %x and %x; want the same seed to give the same trace", r1.TraceHash, r2.TraceHash)
	}
}

// A late fleet starts every member at its line; a late processor too. (One producer feeds the
// processor: the checker orders a processor's sends handed over at one instant by value, which
// holds for one input producer's values only.)
func TestLateFleetAndProcessor(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
topic in partitions=3 replication=3
topic out partitions=3 replication=3
topic more partitions=3 replication=3
producer w topic=in acks=all rate=10/s keys=8
wait 2s
producer v topic=more acks=all rate=10/s count=3
processor x from=in to=out group=px
consumer r topic=out group=pr
wait 3s
expect acked v-1 > 0
expect acked v-3 > 0
expect acked v-3 <= 31
await consumed r > 0 within 30s
expect verdict valid
`)
	if n := s.Statements(); n != 10 {
		t.Errorf("got %d statements; want 10 (the late producer, processor and consumer are statements)", n)
	}
	r, err := Run(s, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Fatalf("run failed: %s", r.Failure)
	}
}

// What cannot come late is an error at its line and column: a topic or cluster statement, a
// late client of an unknown topic, a statement naming a client before its declaration.
func TestLateClientErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"topic after time moved", head + "wait 1s\ntopic t partitions=1 replication=1\n",
			"t.scenario:6:1: topic: set-up statements (cluster, config, protocol, topic, producer, consumer, processor) come before the first statement that moves time or touches the cluster (line 5: wait); only a producer, consumer or processor may come later (it starts then)"},
		{"late producer of an unknown topic", head + "wait 1s\nproducer p2 topic=payments\n",
			"t.scenario:6:19: topic=payments: unknown topic"},
		{"late processor to an unknown topic", head + "wait 1s\nprocessor x from=orders to=out group=g\n",
			"t.scenario:6:28: to=out: unknown topic"},
		{"client named before its line", head + "wait 1s\nkill p2\nproducer p2 topic=orders\n",
			"t.scenario:6:6: unknown node \"p2\""},
		{"late client's name taken", head + "wait 1s\nproducer p1 topic=orders\n",
			"t.scenario:6:10: producer p1: the name is taken (producer on line 3)"},
		{"late client's bad key", head + "wait 1s\nproducer p2 topic=orders acks=most\n",
			"t.scenario:6:31: acks"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.scenario", []byte(tc.src))
			var pe *Error
			if !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v; want %s", err, tc.want)
			}
		})
	}
}
