package scenarios

import (
	"strings"
	"testing"
)

// isr TOPIC/I@B reads broker B's own view of the ISR; its errors name the column like leo's.
func TestISRAtBrokerParses(t *testing.T) {
	for _, src := range []string{
		"await isr orders/0@1 == {1} within 30s\n",
		"expect isr orders/1@2 contains 2\n",
		"expect not isr orders/0@3 != {1,2,3}\n",
	} {
		if _, err := Parse("t.scenario", []byte(head+src)); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
	for src, want := range map[string]string{
		"expect isr orders/0@7 == {1}\n":     "t.scenario:5:21: broker 7 does not exist (brokers are 1..3)",
		"expect isr orders/0@x contains 1\n": `t.scenario:5:21: isr: "x" is not a broker number`,
		"expect isr orders/9@1 == {1}\n":     "t.scenario:5:19: orders has no partition 9",
		"expect isr orders/0@1 > 2\n":        "t.scenario:5:23: isr: expected a comparison",
	} {
		_, err := Parse("t.scenario", []byte(head+src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want prefix %q", src, err, want)
		}
	}
}

// The leader learns an ISR shrink from the metadata log after the controller commits it: once
// the leader's view is {1}, the controller's is too. A broker that is down has no view.
func TestISRAtBrokerIsTheBrokersView(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3 controllers=3
topic orders partitions=1 replication=3 replicas=1,2,3 min.insync.replicas=2
await isr orders/0@2 == {1,2,3} within 10s
kill 2
kill 3
await isr orders/0@1 == {1} within 30s
expect isr orders/0 == {1}
expect isr orders/0@1 contains 1
expect isr orders/0@3 contains 3
`)
	r, err := Run(s, Options{Seed: 87, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Expectations) != 5 {
		t.Fatalf("%d expectations; want 5: %+v", len(r.Expectations), r.Expectations)
	}
	for _, e := range r.Expectations[:4] {
		if !e.OK {
			t.Errorf("line %d %s: %s", e.Line, e.Text, e.Got)
		}
	}
	if e := r.Expectations[4]; e.OK || !strings.Contains(e.Got, "isr orders/0@3 is unknown (broker 3 is not running or has no replica)") {
		t.Errorf("line %d %s: ok=%v, got %q; want unknown: broker 3 is down", e.Line, e.Text, e.OK, e.Got)
	}
}

// committed-txns and aborted-txns count a transactional producer's ended transactions; lso
// reads the leader's last stable offset. They were once sent to the elastic conditions (whose
// subjects precede them) and always said "?".
func TestTransactionConditionsEvaluate(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
topic payments partitions=1 replication=3 min.insync.replicas=2
producer tx topic=payments acks=all rate=100/s transactional.id=payer transaction.records=5 transaction.abort=0.5
await committed-txns tx >= 2 within 30s
await aborted-txns tx >= 1 within 30s
expect lso payments/0 > 0
`)
	r, err := Run(s, Options{Seed: 1, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Expectations) != 3 {
		t.Fatalf("%d expectations; want 3: %+v", len(r.Expectations), r.Expectations)
	}
	for _, e := range r.Expectations {
		if !e.OK || strings.Contains(e.Got, "?") {
			t.Errorf("line %d %s: ok=%v, got %q", e.Line, e.Text, e.OK, e.Got)
		}
	}
}
