package scenarios

import (
	"strings"
	"testing"
)

// restart C KEY=V: a consumer restarts with some settings changed (a rolling upgrade); what is
// not a consumer, or what a consumer cannot change, is refused at FILE:LINE:COL; restart
// without settings is still the fault, on any node.
func TestRestartWithSettingsWords(t *testing.T) {
	head := "cluster brokers=3\ntopic orders partitions=4 replication=3\nproducer p1 topic=orders rate=10/s\nconsumer app1 topic=orders group=g1\n"
	mustParseSrc(t, head+"stop app1\nrestart app1 group.protocol=consumer\nrestart 2\n")
	for _, c := range []struct{ stmt, want string }{
		{"restart p1 acks=all", "t.scenario:5:9: restart p1 KEY=V: only a consumer restarts with new settings"},
		{"restart app1 topic=other", "t.scenario:5:14: restart app1: topic cannot change at a restart"},
		{"restart app1 group.protocol=modern", "t.scenario:5:29: group.protocol: \"modern\" is not one of classic, consumer"},
		{"restart app1 group.protocol=consumer partition.assignment.strategy=range", "t.scenario:5:38: partition.assignment.strategy: cannot be set with group.protocol=consumer"},
	} {
		_, err := Parse("t.scenario", []byte(head+c.stmt+"\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want %q", c.stmt, err, c.want)
		}
	}
}

// The settings hold from the restart on: the consumer that comes back speaks KIP-848's
// protocol, and converts its classic group (the online upgrade).
func TestRestartWithSettingsUpgradesGroup(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
topic orders partitions=4 replication=3
consumer app1 topic=orders group=g1
consumer app2 topic=orders group=g1
await size assigned app1 == 2 within 30s
await size assigned app2 == 2 within 30s
stop app1
await size assigned app2 == 4 within 30s
restart app1 group.protocol=consumer
await size assigned app1 == 2 within 30s
expect members g1 == 2
expect generation g1 == 3
`)
	r, err := Run(s, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Errorf("run failed: %s", r.Failure)
	}
}

// With group.consumer.migration.policy=disabled the coordinator refuses the upgrade
// (GROUP_ID_NOT_FOUND), which the consumer raises to the application: the run says why.
func TestRestartWithSettingsUpgradeRefusedByPolicy(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
config group.consumer.migration.policy=disabled
topic orders partitions=4 replication=3
consumer app1 topic=orders group=g1
consumer app2 topic=orders group=g1
await size assigned app1 == 2 within 30s
await size assigned app2 == 2 within 30s
stop app1
await size assigned app2 == 4 within 30s
restart app1 group.protocol=consumer
wait 5s
expect members g1 == 1
expect size assigned app2 == 4
`)
	var out strings.Builder
	r, err := Run(s, Options{Seed: 1, Narrate: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Errorf("run failed: %s", r.Failure)
	}
	want := "consumer app1 gives up on group g1: GROUP_ID_NOT_FOUND (group g1 is a classic group with members, and the broker's group.consumer.migration.policy does not allow its online upgrade)"
	if !strings.Contains(out.String(), want) {
		t.Errorf("narration:\n%s\nwant a line with %q", out.String(), want)
	}
}
