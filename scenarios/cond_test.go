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

// Every condition whose value is a count, a broker or a set of brokers takes another such
// condition on its right-hand side, in await and in expect.
func TestConditionRightHandSides(t *testing.T) {
	const setup = `cluster brokers=3 controllers=3
topic orders partitions=2 replication=3 min.insync.replicas=2
producer p1 topic=orders acks=all rate=100/s
producer tx topic=orders acks=all rate=100/s transactional.id=t1
consumer c1 topic=orders
consumer c2 topic=orders
consumer app1 topic=orders group=g1
`
	for _, src := range []string{
		"expect consumed c1 > consumed c2\n",
		"await consumed c1 >= consumed c2 within 10s\n",
		"expect not consumed c1 != consumed c2\n",
		"expect hw orders/0 <= leo orders/0@1\n",
		"expect hw orders/0@2 == hw orders/1\n",
		"expect lso orders/0 <= hw orders/0\n",
		"expect logstart orders/0 <= lso orders/0\n",
		"expect bytes orders/0@1 >= bytes orders/0@2\n",
		"expect segments orders/0 == segments orders/1\n",
		"expect records orders/0 >= keys orders/0\n",
		"expect acked p1 > errors p1\n",
		"expect lost p1 <= acked p1\n",
		"expect committed-txns tx > aborted-txns tx\n",
		"expect epoch orders/0 <= controller.epoch\n",
		"expect controller.epoch >= epoch orders/1\n",
		"expect brokers == partitions orders\n",
		"expect partitions orders < brokers\n",
		"expect size isr orders/0 == size isr orders/1\n",
		"expect size isr orders/0 >= size assigned app1\n",
		"expect members g1 <= generation g1\n",
		"expect committed g1 orders/0 <= hw orders/0\n",
		"expect lag g1 <= consumed c1\n",
		"expect redelivered g1 <= records orders/1\n",
		"expect acked p1 > 10MB\n",
		"expect leader orders/0 == leader orders/1\n",
		"expect leader orders/0 != coordinator g1\n",
		"expect coordinator g1 == leader orders/1\n",
		"expect controller == controller\n",
		"expect isr orders/0 == replicas orders/0\n",
		"await replicas orders/1 != isr orders/1@2 within 5s\n",
		"expect isr orders/0 contains leader orders/0\n",
		"expect replicas orders/0 contains coordinator g1\n",
	} {
		if _, err := Parse("t.scenario", []byte(setup+src)); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
	counts := "(size isr, hw, leo, epoch, controller.epoch, acked, errors, consumed, lost, members, generation, size assigned, committed, lag, redelivered, partitions, brokers, lso, committed-txns, aborted-txns, bytes, segments, logstart, keys, records, stale.controller.refused, stores, leads)"
	for src, want := range map[string]string{
		"expect consumed c1 > {1,2}\n":                     "t.scenario:8:22: consumed >: expected a whole number or a count " + counts + ", found a set",
		"expect consumed c1 > stable\n":                    `t.scenario:8:22: "stable" is not a whole number or a count ` + counts,
		"expect consumed c1 > isr orders/0\n":              "t.scenario:8:22: consumed >: expected a whole number or a count " + counts + ", found isr (a set of brokers)",
		"expect consumed c1 > state g1\n":                  "t.scenario:8:22: consumed >: expected a whole number or a count " + counts + ", found state (a state)",
		"expect consumed c1 > online orders/0\n":           "t.scenario:8:22: consumed >: expected a whole number or a count " + counts + ", found online (true or false)",
		"expect consumed c1 > leader orders/0\n":           "t.scenario:8:22: consumed >: expected a whole number or a count " + counts + ", found leader (a broker)",
		"expect hw orders/0 == assigned app1\n":            "t.scenario:8:23: hw ==: expected a whole number or a count " + counts + ", found assigned (a set of partitions)",
		"expect consumed c1 > consumed\n":                  "t.scenario:8:30: consumed: expected a client name",
		"expect consumed c1 > consumed c9\n":               `t.scenario:8:31: consumed: unknown consumer "c9"`,
		"expect consumed c1 > consumed c2 > 3\n":           `t.scenario:8:34: unexpected ">" after consumed c2 (the right-hand side of a comparison is one value)`,
		"expect consumed c1 > hw\n":                        "t.scenario:8:24: hw: expected TOPIC/INDEX, e.g. orders/0",
		"expect consumed c1 > size isr\n":                  "t.scenario:8:30: size: expected TOPIC/INDEX, e.g. orders/0",
		"expect consumed c1 > partitions nosuch\n":         "t.scenario:8:33: partitions: expected a topic",
		"await consumed c1 > lost p1 within 5s\n":          "t.scenario:8:21: lost: judged at an instant; use it with expect, not await",
		"expect members g1 == state g1\n":                  "t.scenario:8:22: members ==: expected a whole number or a count " + counts + ", found state (a state)",
		"expect leader orders/0 == hw orders/0\n":          "t.scenario:8:27: leader ==: expected a broker, none, or a condition naming one (leader, coordinator), found hw (a count)",
		"expect isr orders/0 == consumed c1\n":             "t.scenario:8:24: isr ==: expected a set like {1,2,3} or a set of brokers (isr, replicas), found consumed (a count)",
		"expect isr orders/0 == leader orders/0\n":         "t.scenario:8:24: isr ==: expected a set like {1,2,3} or a set of brokers (isr, replicas), found leader (a broker)",
		"expect isr orders/0 == 3\n":                       `t.scenario:8:24: isr ==: expected a set like {1,2,3} or a set of brokers (isr, replicas), found "3"`,
		"expect isr orders/0 contains replicas orders/0\n": "t.scenario:8:30: isr contains: expected a broker, none, or a condition naming one (leader, coordinator), found replicas (a set of brokers)",
		"expect replicas orders/0 == isr orders/9\n":       "t.scenario:8:40: orders has no partition 9",
		"expect hw orders/0 in hw orders/1\n":              `t.scenario:8:23: expected a set like {1,2,3}, found "hw"`,
	} {
		_, err := Parse("t.scenario", []byte(setup+src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want prefix %q", src, err, want)
		}
	}
}

// A read_uncommitted consumer reads the aborted transactions' records too, so it has read
// more than a read_committed one reading the same log: consumed ru > consumed rc holds on a
// real run, and the reverse fails, saying both values.
func TestConsumedComparesTwoConsumers(t *testing.T) {
	const src = `cluster brokers=3
topic payments partitions=3 replication=3 min.insync.replicas=2
producer tx topic=payments acks=all rate=200/s transactional.id=payer transaction.records=10 transaction.abort=0.3
consumer rc topic=payments isolation.level=read_committed
consumer ru topic=payments isolation.level=read_uncommitted
await aborted-txns tx >= 2 within 30s
await consumed ru > consumed rc within 30s
wait 5s
expect consumed ru > consumed rc
expect isr payments/0 == replicas payments/0
expect isr payments/1 contains leader payments/1
`
	r, err := Run(mustParseSrc(t, src), Options{Seed: 1, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || len(r.Expectations) != 5 {
		t.Fatalf("ok=%v, failure %q, %d expectations; want 5 (two awaits) that hold", r.OK, r.Failure, len(r.Expectations))
	}
	for _, e := range r.Expectations {
		if !e.OK {
			t.Errorf("line %d %s: %s", e.Line, e.Text, e.Got)
		}
	}
	if got := r.Expectations[2].Got; !strings.Contains(got, "consumed ru is ") || !strings.Contains(got, ", consumed rc is ") {
		t.Errorf("saw %q; want both consumers' counts", got)
	}

	r, err = Run(mustParseSrc(t, src+"expect consumed rc >= consumed ru\n"), Options{Seed: 1, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || !strings.Contains(r.Failure, "expect consumed rc >= consumed ru — wanted consumed rc >= consumed ru, saw consumed rc is ") {
		t.Errorf("ok=%v, failure %q; want the reverse to fail saying both counts", r.OK, r.Failure)
	}
}

// proposed isr TOPIC/I@B is the ISR broker B proposed in an AlterPartition still in flight
// (Kafka's PendingShrinkIsr or PendingExpandIsr): it holds from the proposal until the answer,
// before B's own view (isr TOPIC/I@B) has the change; with none in flight it is unknown. Its
// errors name the column.
func TestProposedISR(t *testing.T) {
	for src, want := range map[string]string{
		"expect proposed orders/0@1 == {1}\n":        `t.scenario:5:17: proposed: expected proposed isr TOPIC/INDEX@BROKER`,
		"expect proposed isr orders/0@7 == {1}\n":    "t.scenario:5:30: broker 7 does not exist (brokers are 1..3)",
		"expect proposed isr orders/0 == {1}\n":      `t.scenario:5:21: isr: expected TOPIC/INDEX@BROKER`,
		"expect proposed isr orders/0@1 > 2\n":       "t.scenario:5:32: proposed: expected a comparison (== != contains)",
		"await proposed isr orders/0@1 within 10s\n": "t.scenario:5:30: proposed: expected a comparison",
	} {
		_, err := Parse("t.scenario", []byte(head+src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want prefix %q", src, err, want)
		}
	}
	s := mustParseSrc(t, `cluster brokers=3 controllers=3
config replica.lag.time.max.ms=5s
topic orders partitions=1 replication=3 replicas=1,2,3 min.insync.replicas=2
await isr orders/0@1 == {1,2,3} within 10s
expect not proposed isr orders/0@1 != {}
kill 3
await proposed isr orders/0@1 == {1,2} within 30s
expect isr orders/0@1 == {1,2,3}
await isr orders/0@1 == {1,2} within 5s
expect not proposed isr orders/0@1 != {}
`)
	r, err := Run(s, Options{Seed: 1, NoCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK || len(r.Expectations) != 6 {
		t.Fatalf("failure %q; %d expectations: %+v", r.Failure, len(r.Expectations), r.Expectations)
	}
	for _, i := range []int{1, 5} {
		if e := r.Expectations[i]; !strings.Contains(e.Got, "proposed isr orders/0@1 is unknown (broker 1 has no AlterPartition for orders/0 in flight)") {
			t.Errorf("line %d %s: got %q; want unknown: none in flight", e.Line, e.Text, e.Got)
		}
	}
	for _, e := range r.Expectations {
		if !e.OK {
			t.Errorf("line %d %s: %s", e.Line, e.Text, e.Got)
		}
	}
}
