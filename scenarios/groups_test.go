package scenarios

import (
	"strings"
	"testing"
)

// Reference: GroupCoordinatorService.joinGroup: a consumer whose session.timeout.ms lies
// outside the broker's group.min.session.timeout.ms..group.max.session.timeout.ms is refused
// with INVALID_SESSION_TIMEOUT, which the Java consumer raises to the application. The run
// says so (narrated, and noted as a failure for the terminal UI) and still finishes.
func TestInvalidSessionTimeoutRunSaysSo(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
topic orders partitions=2 replication=3
consumer c1 topic=orders group=g1 session.timeout.ms=1s
wait 10s
expect state g1 == none
`)
	var out strings.Builder
	r, err := Run(s, Options{Seed: 1, Narrate: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Errorf("run failed: %s", r.Failure)
	}
	want := "consumer c1 gives up on group g1: INVALID_SESSION_TIMEOUT (session.timeout.ms=1s is outside"
	if !strings.Contains(out.String(), want) {
		t.Errorf("narration:\n%s\nwant a line with %q", out.String(), want)
	}
}

// The right-hand side of a group condition may be another count: two groups compared, a
// committed offset against the partition's HW, a group's members against its epoch. A false
// one says both values.
func TestGroupConditionsCompareWithCounts(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
topic orders partitions=4 replication=3
producer p1 topic=orders acks=all rate=100/s keys=16
consumer app1 topic=orders group=g1 group.protocol=consumer
consumer app2 topic=orders group=g2
await size assigned app1 == size assigned app2 within 30s
wait 10s
expect members g1 == members g2
expect committed g1 orders/0 <= hw orders/0
expect lag g1 <= consumed app1
expect members g1 < members g2
`)
	r, err := Run(s, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := "expect members g1 < members g2 — wanted members g1 < members g2, saw members g1 is 1, members g2 is 1"
	if r.OK || !strings.Contains(r.Failure, want) {
		t.Errorf("got ok=%v %q; want the last expectation to fail with %q", r.OK, r.Failure, want)
	}
}

// Under KIP-848 a group's state words are empty, assigning, reconciling and stable; the
// classic protocol's keys are refused with group.protocol=consumer.
func TestConsumerProtocolWords(t *testing.T) {
	for _, src := range []string{"expect state g1 == reconciling\n", "expect state g1 == assigning\n"} {
		mustParseSrc(t, "cluster brokers=3\ntopic orders partitions=4 replication=3\nconsumer app1 topic=orders group=g1 group.protocol=consumer\n"+src)
	}
	_, err := Parse("t.scenario", []byte("cluster brokers=3\ntopic orders partitions=4 replication=3\nconsumer app1 topic=orders group=g1 group.protocol=consumer partition.assignment.strategy=range\n"))
	if err == nil || !strings.Contains(err.Error(), "t.scenario:3:61: partition.assignment.strategy: cannot be set with group.protocol=consumer") {
		t.Errorf("got %v; want partition.assignment.strategy refused with group.protocol=consumer", err)
	}
}
