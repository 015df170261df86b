package scenarios

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// head is a set-up the bad lines below are appended to (lines 1–4).
const head = `cluster brokers=3 controllers=3
topic orders partitions=2 replication=3 min.insync.replicas=2
producer p1 topic=orders acks=all rate=100/s partitioner=round-robin
consumer c1 topic=orders
`

// Each kind of bad input is an *Error at the line and column of the problem, before anything runs.
func TestParseErrorsNameFileLineColumn(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown statement", head + "kil 1\n", "t.scenario:5:1: unknown statement \"kil\""},
		{"unknown cluster key", "cluster brokers=3 racks=2\n", "t.scenario:1:19: racks: unknown cluster key (known: brokers, controllers, zookeeper)"},
		{"bad broker count", "cluster brokers=three\n", "t.scenario:1:17: brokers: \"three\" is not a whole number"},
		{"zero brokers", "cluster brokers=0\n", "t.scenario:1:17: brokers: 0 is below the minimum 1"},
		{"too many controllers", "cluster brokers=3 controllers=10\n", "t.scenario:1:31: controllers: 10 is above the maximum 9"},
		{"cluster twice", "cluster brokers=3\ncluster brokers=4\n", "t.scenario:2:1: cluster: given twice (first on line 1)"},
		{"unknown config key", "config replica.lag.time.max=10s\n", "t.scenario:1:8: replica.lag.time.max: unknown config key"},
		{"bad config duration", "config replica.lag.time.max.ms=soon\n", "t.scenario:1:32: replica.lag.time.max.ms: \"soon\" is not a duration"},
		{"bad config together", "config broker.heartbeat.interval.ms=10s\n", "t.scenario:1:8: broker.heartbeat.interval.ms: 10s must be below broker.session.timeout.ms (9s)"},
		{"bad latency", "config network.latency=5ms..1ms\n", "t.scenario:1:24: network.latency: \"5ms..1ms\" is not a latency range (use 1ms..5ms)"},
		{"bad seed", "config seed=-3\n", "t.scenario:1:13: seed: \"-3\" is not a seed"},
		{"key twice", "config seed=1 seed=2\n", "t.scenario:1:15: seed: given twice"},
		{"not key=value", "config seed\n", "t.scenario:1:8: config: expected KEY=VALUE, found \"seed\""},
		{"unknown protocol switch", "protocol truncation=hw\n", "t.scenario:1:21: truncation: \"hw\" is not one of leader-epoch, high-watermark"},
		{"unknown protocol key", "protocol kip101=false\n", "t.scenario:1:10: kip101: unknown protocol switch"},
		{"replication above brokers", "cluster brokers=3\ntopic t partitions=1 replication=4\n", "t.scenario:2:22: replication: 4 is above the broker count 3"},
		{"unknown topic config", "topic t partitions=1 replication=1 retention.mss=1\n", "t.scenario:1:36: retention.mss: unknown topic config key"},
		{"bad partitions", "topic t partitions=x replication=1\n", "t.scenario:1:20: partitions: \"x\" is not a whole number"},
		{"missing replication", "topic t partitions=1\n", "t.scenario:1:1: topic t: replication=R is required"},
		{"replicas names unknown broker", "topic t partitions=1 replicas=1,7\n", "t.scenario:1:31: replicas: partition 0 names broker 7, which does not exist (brokers are 1..3)"},
		{"replicas count", "topic t partitions=2 replicas=1,2\n", "t.scenario:1:31: replicas: 1 assignments for 2 partitions"},
		{"topic twice", "topic t partitions=1 replication=1\ntopic t partitions=1 replication=1\n", "t.scenario:2:7: topic t: already defined on line 1"},
		{"bad topic name", "topic a/b partitions=1 replication=1\n", "t.scenario:1:7: topic: \"a/b\" is not a topic name"},
		{"producer unknown topic", head + "producer p2 topic=payments\nwait 1s\n", "t.scenario:5:19: topic=payments: unknown topic"},
		{"producer bad rate", head + "producer p2 topic=orders rate=100\n", "t.scenario:5:31: rate: \"100\" is not a rate (use 200/s, at most 1000000/s)"},
		{"producer bad acks", head + "producer p2 topic=orders acks=2\n", "t.scenario:5:31: acks: \"2\" is not 0, 1 or all"},
		{"producer idempotence conflict", head + "producer p2 topic=orders acks=1 enable.idempotence=true\n", "t.scenario:5:33: enable.idempotence: true requires that acks must be all"},
		{"producer unknown key", head + "producer p2 topic=orders lingr.ms=5\n", "t.scenario:5:26: lingr.ms: unknown producer config key"},
		{"client name taken", head + "consumer p1 topic=orders\n", "t.scenario:5:10: consumer p1: the name is taken (producer on line 3)"},
		{"client named like a broker", head + "consumer 2 topic=orders\n", "t.scenario:5:10: consumer 2: a client name cannot be a number (brokers are numbered)"},
		{"consumer bad isolation", head + "consumer c2 topic=orders isolation.level=dirty\n", "t.scenario:5:42: isolation.level: \"dirty\" is not one of read_uncommitted, read_committed"},
		{"set-up after time moved", head + "wait 1s\ntopic t partitions=1 replication=1\n", "t.scenario:6:1: topic: set-up statements (cluster, config, protocol, topic, producer, consumer, processor) come before the first statement that moves time or touches the cluster (line 5: wait)"},
		{"bad duration", head + "wait 5\n", "t.scenario:5:6: wait: \"5\" is not a duration (use 250ms, 5s, 2m)"},
		{"negative duration", head + "wait -5s\n", "t.scenario:5:6: wait: \"-5s\" is not a duration (use 250ms, 5s, 2m)"},
		{"await without within", head + "await leader orders/0 == 1\n", "t.scenario:5:1: await: expected await CONDITION within D"},
		{"await bad within", head + "await leader orders/0 == 1 within soon\n", "t.scenario:5:35: within: \"soon\" is not a duration (use 250ms, 5s, 2m)"},
		{"wait past the virtual-time limit", head + "wait 1000000h\n", "t.scenario:5:6: wait: the script would run past 24h0m0s of virtual time"},
		{"waits and awaits past the limit", head + "wait 20h\nawait leader orders/0 == 1 within 5h\n", "t.scenario:6:35: await: the script would run past 24h0m0s of virtual time"},
		{"run until past the limit", head + "run until 25h\n", "t.scenario:5:11: run until: the script would run past 24h0m0s of virtual time"},
		{"bad memory limit", "config memory.limit=lots\n", "t.scenario:1:21: memory.limit: \"lots\" is not a memory size of at least 1MiB (use 512MiB, 2GiB)"},
		{"finish timeout past the limit", "config finish.timeout=25h\n", "t.scenario:1:23: finish.timeout: 25h0m0s is above the maximum 24h0m0s"},
		{"unknown broker", head + "kill 4\n", "t.scenario:5:6: broker 4 does not exist (brokers are 1..3)"},
		{"unknown controller", head + "kill c4\n", "t.scenario:5:6: controller c4 does not exist (controllers are c1..c3)"},
		{"unknown node", head + "crash bob\n", "t.scenario:5:7: unknown node \"bob\" (brokers are 1..3, controllers c1..c3, clients p1, c1)"},
		{"client named like a controller", head + "kill c1\n", "t.scenario:5:6: c1 is ambiguous: both controller c1 and a client of that name (rename the client)"},
		{"fault takes one node", head + "kill 1 2\n", "t.scenario:5:8: kill: unexpected \"2\" (kill takes one node)"},
		{"unknown topic in leader", head + "kill leader payments/0\n", "t.scenario:5:13: unknown topic \"payments\""},
		{"partition index out of range", head + "kill leader orders/2\n", "t.scenario:5:20: orders has no partition 2 (partitions are 0..1)"},
		{"partition one group", head + "partition 1 2\n", "t.scenario:5:1: partition: expected at least two groups separated by |"},
		{"partition empty group", head + "partition 1 | | 2\n", "t.scenario:5:15: partition: a group is empty"},
		{"cut without arrow", head + "cut 1 2\n", "t.scenario:5:7: cut: expected cut X -> Y"},
		{"loss bad probability", head + "loss 1 -> 2 p=1.5\n", "t.scenario:5:15: p: \"1.5\" is not a probability (between 0 and 1)"},
		{"slow bad key", head + "slow 3 delay=1s\n", "t.scenario:5:8: delay: unknown slow key (known: latency)"},
		{"unterminated string", head + "say \"hello\n", "t.scenario:5:5: unterminated string (a closing \" is missing)"},
		{"say without quotes", head + "say hello\n", "t.scenario:5:1: say: expected one quoted text"},
		{"unknown condition", head + "expect leaders orders/0 == 1\n", "t.scenario:5:8: unknown condition \"leaders\""},
		{"bad comparison", head + "expect leader orders/0 >= 1\n", "t.scenario:5:24: leader: expected a comparison (== != in), found \">=\""},
		{"condition leader unknown broker", head + "expect leader orders/0 == 9\n", "t.scenario:5:27: broker 9 does not exist (brokers are 1..3)"},
		{"set not closed", head + "expect isr orders/0 == {1,2\n", "t.scenario:5:24: the set is not closed (a } is missing)"},
		{"set bad member", head + "expect isr orders/0 == {1,x}\n", "t.scenario:5:27: unknown node \"x\""},
		{"trailing words", head + "expect online orders/0 now\n", "t.scenario:5:24: unexpected \"now\" after the condition (online takes no comparison)"},
		{"acked of a consumer", head + "expect acked c1 > 0\n", "t.scenario:5:14: acked: unknown producer \"c1\""},
		{"bad number", head + "expect hw orders/0 >= many\n", "t.scenario:5:23: \"many\" is not a whole number"},
		{"leo without broker", head + "expect leo orders/0 >= 1\n", "t.scenario:5:12: leo: expected TOPIC/INDEX@BROKER"},
		{"leo unknown broker", head + "expect leo orders/0@7 >= 1\n", "t.scenario:5:21: broker 7 does not exist (brokers are 1..3)"},
		{"controller compared with a broker", head + "expect controller == 1\n", "t.scenario:5:22: \"1\" is not a controller (controllers are c1..c3)"},
		{"lost in await", head + "await lost p1 == 0 within 1s\n", "t.scenario:5:7: lost: judged at an instant; use it with expect, not await"},
		{"bad verdict", head + "expect verdict fine\n", "t.scenario:5:8: expect verdict: expected valid, invalid or unknown"},
		{"anomaly without name", head + "expect no anomaly\n", "t.scenario:5:11: expect anomaly: expected one anomaly name"},
		{"send to a consumer", head + "send c1 5\n", "t.scenario:5:6: send: unknown producer \"c1\""},
		{"finish unknown key", "finish recovery=false\n", "t.scenario:1:8: recovery: unknown finish key (known: recover, timeout)"},
		{"run without until", head + "run 5s\n", "t.scenario:5:1: run: expected run until D"},
		{"unknown anomaly", head + "expect no anomaly lost-wrte\n", "t.scenario:5:19: unknown anomaly or invariant \"lost-wrte\" (did you mean lost-write?)"},
		{"unknown anomaly expected", head + "expect anomaly lost-wrte\n", "t.scenario:5:16: unknown anomaly or invariant \"lost-wrte\" (did you mean lost-write?)"},
		{"unknown invariant", head + "expect no anomaly strong-irs\n", "t.scenario:5:19: unknown anomaly or invariant \"strong-irs\" (did you mean strong-isr?)"},
		{"consumer names a topic twice", head + "consumer c2 topic=orders,orders group=g1\n", "t.scenario:5:13: topic=orders,orders: topic orders is named twice"},
		{"consumer with an empty topic", head + "consumer c2 topic=orders, group=g1\n", "t.scenario:5:13: topic=orders,: an empty topic name (expected topic=T or topic=T1,T2)"},
		{"consumer of an unknown second topic", head + "consumer c2 topic=orders,payments group=g1\n", "t.scenario:5:26: topic=payments: unknown topic"},
		{"partition names a node twice", head + "partition 1 | 1 2\n", "t.scenario:5:15: partition: 1 is named twice (a node belongs to one group)"},
		{"partition names a leader twice", head + "partition leader orders/0 | 2 leader orders/0\n", "t.scenario:5:31: partition: leader orders/0 is named twice"},
		{"cut to itself", head + "cut 1 -> 1\n", "t.scenario:5:10: cut: 1 -> 1 is a node to itself"},
		{"loss to itself", head + "loss p1 -> p1 p=0.5\n", "t.scenario:5:12: loss: p1 -> p1 is a node to itself"},
		{"run until in the past", head + "wait 4s\nrun until 1s\n", "t.scenario:6:11: run until 1s: the script has already reached 4s here"},
		{"run until before an earlier run until", head + "run until 10s\nwait 1s\nrun until 10s\n", "t.scenario:7:11: run until 10s: the script has already reached 11s here"},
		{"transaction.version unknown", head + "producer p2 topic=orders transaction.version=3\n", "t.scenario:5:46: transaction.version: \"3\" is not one of 1, 2"},
		{"unknown KIP-848 assignor", head + "consumer c2 topic=orders group=g1 group.protocol=consumer group.remote.assignor=sticky\n", "t.scenario:5:81: group.remote.assignor"},
		{"unknown group protocol", head + "consumer c2 topic=orders group=g1 group.protocol=eager\n", "t.scenario:5:50: group.protocol"},
		{"classic key under KIP-848", head + "consumer c2 topic=orders group=g1 session.timeout.ms=10s group.protocol=consumer\n", "t.scenario:5:35: session.timeout.ms: cannot be set with group.protocol=consumer"},
		{"KIP-848 assignor under classic", head + "consumer c2 topic=orders group=g1 group.remote.assignor=range\n", "t.scenario:5:35: group.remote.assignor: needs group.protocol=consumer"},
		{"transactional producer without idempotence", head + "producer p2 topic=orders transactional.id=t1 enable.idempotence=false\n", "t.scenario:5:26: transactional.id: requires idempotence (enable.idempotence must be true)"},
		{"producer unknown codec", head + "producer p2 topic=orders compression.type=brotli\n", "t.scenario:5:43: compression.type \"brotli\" is not a codec (valid: none, gzip, snappy, lz4, zstd)"},
		{"producer value bytes negative", head + "producer p2 topic=orders value.bytes=-1\n", "t.scenario:5:38: value.bytes: -1 is below the minimum 0"},
		{"topic cleanup policy", "topic t partitions=1 replication=1 cleanup.policy=shred\n", "t.scenario:1:51: cleanup.policy: \"shred\" is not one of delete, compact, compact,delete, delete,compact"},
		{"topic compression none", "topic t partitions=1 replication=1 compression.type=none\n", "t.scenario:1:53: compression.type \"none\" is not a topic compression type (valid: uncompressed, zstd, lz4, snappy, gzip, producer)"},
		{"zookeeper and controllers", "cluster brokers=3 zookeeper=3 controllers=3\n", "t.scenario:1:31: controllers: a ZooKeeper-mode cluster (zookeeper=3) has no KRaft controllers; give zookeeper= or controllers=, not both"},
		{"empty ensemble", "cluster brokers=3 zookeeper=0\n", "t.scenario:1:29: zookeeper: 0 is below the minimum 1"},
		{"zookeeper node in KRaft mode", head + "kill z1\n", "t.scenario:5:6: z1: there is no ZooKeeper ensemble (the cluster runs KRaft; use cluster ... zookeeper=N)"},
		{"zookeeper condition in KRaft mode", head + "expect zk.leader == 1\n", "t.scenario:5:8: zk.leader: the cluster runs KRaft; there is no ZooKeeper ensemble (cluster ... zookeeper=N)"},
		{"zookeeper key in KRaft mode", "config zookeeper.session.timeout.ms=6000\n" + head, "t.scenario:1:8: zookeeper.session.timeout.ms: the cluster runs KRaft; ZooKeeper keys need cluster ... zookeeper=N"},
		{"unknown zookeeper server", "cluster brokers=3 zookeeper=3\ntopic orders partitions=1 replication=3\nkill z4\n", "t.scenario:3:6: ZooKeeper server z4 does not exist (servers are z1..z3)"},
		{"processor to an unknown topic", head + "processor r1 from=orders to=out group=g\n", "t.scenario:5:29: to=out: unknown topic"},
		{"processor without a group", head + "processor r1 from=orders to=orders2\n", "t.scenario:5:1: processor r1: group=G is required"},
		{"processor without from", head + "processor r1 to=orders group=g\n", "t.scenario:5:1: processor r1: from=T is required"},
		{"processor into its input", head + "processor r1 from=orders to=orders group=g\n", "t.scenario:5:26: processor r1: to=orders is also its input (from=)"},
		{"processor with a bad transaction.version", head + "processor r1 from=orders to=out group=g transaction.version=3\n", "t.scenario:5:61: transaction.version: \"3\" is not one of 1, 2"},
		{"commit without a group", head + "commit c1\n", "t.scenario:5:8: commit: consumer c1 has no group (add group=G)"},
		{"leave without a group", head + "leave c1\n", "t.scenario:5:7: leave: consumer c1 has no group (add group=G)"},
		{"begin on a producer that is not transactional", head + "begin p1\n", "t.scenario:5:7: begin: producer p1 is not transactional (add transactional.id=ID)"},
		{"abort on a producer that is not transactional", head + "abort p1\n", "t.scenario:5:7: abort: producer p1 is not transactional (add transactional.id=ID)"},
		{"add an existing broker", head + "add broker 3\n", "t.scenario:5:12: add broker 3: broker 3 already exists"},
		{"remove an unknown broker", head + "remove broker 5\n", "t.scenario:5:15: remove broker 5: broker 5 does not exist here (brokers are 1..3)"},
		{"remove the last broker", "cluster brokers=1\ntopic t partitions=1 replication=1\nremove broker 1\n", "t.scenario:3:15: remove broker 1: it is the last broker of the cluster"},
		{"reassign duplicate broker", head + "reassign orders/0 replicas=2,2\n", "t.scenario:5:30: replicas: broker 2 is named twice"},
		{"reassign unknown broker", head + "reassign orders/0 replicas=2,3,4\n", "t.scenario:5:32: replicas: broker 4 does not exist here (brokers are 1..3)"},
		{"reassign to a removed broker", head + "add broker 4\nremove broker 1\nreassign orders/0 replicas=1,2\n", "t.scenario:7:28: replicas: broker 1 does not exist here (brokers are 1..3; 4 added)"},
		{"reassign bad throttle", head + "reassign orders/0 replicas=1,2 throttle=fast\n", "t.scenario:5:41: throttle: \"fast\" is not a rate in bytes per second"},
		{"reassign zero throttle", head + "reassign orders/0 replicas=1,2 throttle=0MB/s\n", "t.scenario:5:41: throttle: \"0MB/s\" is not a rate in bytes per second"},
		{"reassign throttle twice", head + "reassign orders/0 replicas=1,2 throttle=1MB/s throttle=2MB/s\n", "t.scenario:5:47: reassign: throttle= is given twice"},
		{"partitions fewer", head + "partitions orders 1\n", "t.scenario:5:19: partitions orders 1: orders has 2 partitions here; partitions can be added, never removed"},
		{"partitions not more than grown", head + "partitions orders 4\npartitions orders 4\n", "t.scenario:6:19: partitions orders 4: orders has 4 partitions here"},
		{"elect unclean all", head + "elect unclean all\n", "t.scenario:5:15: elect unclean: name one partition"},
		{"elect bad type", head + "elect clean orders/0\n", "t.scenario:5:1: elect: expected elect preferred TOPIC/INDEX|all or elect unclean TOPIC/INDEX"},
		{"nemesis unknown kind", head + "nemesis kinds=kill,meteor\n", "t.scenario:5:15: kinds: unknown fault kind \"meteor\""},
		{"nemesis targets only", head + "nemesis kinds=controller\n", "t.scenario:5:15: kinds: controller names only where faults fall"},
		{"nemesis modifiers only", head + "nemesis kinds=overlap,lag\n", "t.scenario:5:15: kinds: overlap,lag names only how and where faults fall"},
		{"nemesis bad every", head + "nemesis every=5s..1s\n", "t.scenario:5:15: every: \"5s..1s\" is not a duration or a range"},
		{"nemesis bad unclean.max", head + "nemesis unclean.max=-1\n", "t.scenario:5:21: unclean.max: \"-1\" is not a count"},
		{"nemesis unknown key", head + "nemesis often=yes\n", "t.scenario:5:9: nemesis: unknown key \"often\""},
		{"kill coordinator of no group", head + "kill coordinator g1\n", "t.scenario:5:18: coordinator: expected a group a consumer joins"},
		{"members of no group", head + "expect members g1 == 2\n", "t.scenario:5:16: members: no consumer joins group \"g1\""},
		{"txn of a producer without transactional.id", head + "expect txn p1 == ongoing\n", "t.scenario:5:12: txn: producer \"p1\" has no transactional.id"},
		{"bytes in an unknown unit", head + "expect bytes orders/0@1 <= 10XB\n", "t.scenario:5:28: \"10XB\" is not a whole number"},
		{"segments of an unknown broker", head + "expect segments orders/0@9 >= 1\n", "t.scenario:5:26: broker 9 does not exist (brokers are 1..3)"},
		{"replicas unknown broker", head + "expect replicas orders/0 == {1,9}\n", "t.scenario:5:32: broker 9 does not exist (brokers are 1..3)"},
		{"partitions of no topic", head + "expect partitions payments == 3\n", "t.scenario:5:19: partitions: expected a topic"},
		{"controller epoch", head + "expect controller.epoch >= c2\n", "t.scenario:5:28: \"c2\" is not a whole number"},
		{"right side a set", head + "expect consumed c1 > {1,2}\n", "t.scenario:5:22: consumed >: expected a whole number or a count (size isr, hw, "},
		{"right side a state word", head + "expect hw orders/0 >= stable\n", "t.scenario:5:23: \"stable\" is not a whole number or a count (size isr, hw, "},
		{"right side a set condition", head + "expect consumed c1 > isr orders/0\n", "t.scenario:5:22: consumed >: expected a whole number or a count (size isr, hw, "},
		{"right side of a set a count", head + "expect isr orders/0 == hw orders/0\n", "t.scenario:5:24: isr ==: expected a set like {1,2,3} or a set of brokers (isr, replicas), found hw (a count)"},
		{"right side with its own comparison", head + "expect hw orders/0 < hw orders/1 == 3\n", "t.scenario:5:34: unexpected \"==\" after hw orders/1 (the right-hand side of a comparison is one value)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("t.scenario", []byte(tc.src))
			if err == nil {
				t.Fatalf("Parse = %v, nil; want error %q", s, tc.want)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %T %v; want *Error", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %q; want %q", err.Error(), tc.want)
			}
		})
	}
}

// Every word of a capability not built yet is a parse error naming the capability.
func TestEveryUnmodelledWordIsAnError(t *testing.T) {
	for w, c := range unmodelled {
		if !strings.HasSuffix(c, "not modelled yet") {
			t.Errorf("%v: capability %q does not say it is not modelled yet", w, c)
		}
	}
	// ZooKeeper mode's words (zk.leader, z1, zookeeper=) arrived with it: zkcond_test.go.
}

// The conditions on a log's bytes parse, sizes in KB, MB or GB.
func TestRecordConditionsParse(t *testing.T) {
	for _, src := range []string{"bytes orders/0@1 <= 10MB", "bytes orders/0 > 1GB", "segments orders/0@1 >= 3", "logstart orders/0 >= 1", "keys orders/0 == 1"} {
		if _, err := Parse("t.scenario", []byte(head+"expect "+src+"\n")); err != nil {
			t.Errorf("expect %s: %v; want it parsed", src, err)
		}
	}
}

// Retention and segment keys work today; they are not refused as unmodelled.
func TestKeysThatWorkAreAccepted(t *testing.T) {
	src := head + "topic t partitions=1 replication=1 retention.ms=1h retention.bytes=1000 segment.bytes=1MB segment.ms=1h\nproducer p2 topic=orders linger.ms=5 batch.size=100 keys=3\n"
	if _, err := Parse("t.scenario", []byte(src)); err != nil {
		t.Errorf("Parse: %v; want retention, segment, linger, batch and keys accepted", err)
	}
}

// run until D is judged against the time the script has certainly reached: after awaits it may
// have passed, and that is no error.
func TestRunUntilAfterAwaitIsAccepted(t *testing.T) {
	src := head + "wait 1s\nawait online orders/0 within 10s\nrun until 1s\nrun until 1s\n"
	if _, err := Parse("t.scenario", []byte(src)); err != nil {
		t.Errorf("Parse: %v; want run until at the time reached accepted", err)
	}
}

// The *Error fields carry what the message says.
func TestErrorFields(t *testing.T) {
	_, err := Parse("a/b.scenario", []byte("# title\n\ncluster brokers=3\n  kill  9\n"))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("got %v; want *Error", err)
	}
	if pe.File != "a/b.scenario" || pe.Line != 4 || pe.Col != 9 || pe.Msg != "broker 9 does not exist (brokers are 1..3)" {
		t.Errorf("got %+v; want a/b.scenario line 4 column 9", *pe)
	}
}

// Everything the language document shows parses, with the words the runner needs.
func TestParseLanguageDocument(t *testing.T) {
	src := `# Unclean leader election loses acknowledged writes (Jepsen, Kafka 0.8, 2013)

cluster brokers=3 controllers=3
config replica.lag.time.max.ms=10s min.insync.replicas=1 network.latency=1ms..5ms seed=7 finish.timeout=90s os.flush.interval=5s
protocol truncation=high-watermark eligible.leader.replicas=false strict.min.isr=false
topic orders partitions=1 replication=3 replicas=1,2,3 min.insync.replicas=1 unclean.leader.election.enable=true
topic events partitions=2 replication=3 replicas=1,2,3;2,3,1
producer p1 topic=orders acks=all rate=200/s
producer p2 topic=events acks=1 keys=10 partitioner=key-hash enable.idempotence=false retries=3 linger.ms=10ms
consumer c1 topic=orders
consumer reader topic=events isolation.level=read_committed auto.offset.reset=latest

say "Broker 1 leads orders/0. Cut it off from its followers."  # a comment
await leader orders/0 == 1 within 10s
partition 1 | 2 3
await isr orders/0 == {1} within 60s
wait 5s
pause
kill 1
crash leader events/1
stop 2
restart 2
pause 3
resume 3
isolate controller
cut 1 -> p1
loss p2 -> 2 p=0.1
slow 3 latency=200ms
heal
send p1 10
rate p2 0/s
run until 2m
await leader orders/0 in {2,3} within 30s
await leader orders/0 == none within 30s
expect leader orders/0 != 1
expect isr orders/0 == {1,2,3}
expect isr orders/0 contains 3
expect size isr orders/0 >= 2
expect hw orders/0 >= 100
expect leo orders/0@2 >= 100
expect epoch orders/0 >= 2
expect online orders/0
expect offline orders/0
expect controller == c2
expect controller != none
expect acked p1 >= 500
expect errors p1 > 0
expect consumed c1 >= 500
expect not online events/0
expect isr events/1 == {}
expect epoch orders/0 in {1, 2, 3}
expect lost p1 == 0
expect diverged orders/0
expect hw orders/0@3 < 5
expect anomaly lost-write
expect no anomaly duplicate
expect verdict invalid
finish recover=false
`
	s, err := Parse("doc.scenario", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if want := "Unclean leader election loses acknowledged writes (Jepsen, Kafka 0.8, 2013)"; s.Title != want {
		t.Errorf("Title = %q; want %q", s.Title, want)
	}
	if s.Seed != 7 || s.recover || s.finishTimeout != 90*time.Second || s.latMin != time.Millisecond || s.latMax != 5*time.Millisecond {
		t.Errorf("seed %d recover %v finish.timeout %v latency %v..%v; want 7 false 1m30s 1ms..5ms", s.Seed, s.recover, s.finishTimeout, s.latMin, s.latMax)
	}
	if s.broker.Truncation != "high-watermark" || s.broker.EligibleLeaderReplicas || s.broker.StrictMinISR || s.broker.ReplicaLagTimeMax != 10*time.Second {
		t.Errorf("broker config %+v; want the protocol switches and replica.lag.time.max.ms applied", s.broker)
	}
	if got := s.consumer("c1").cfg.AutoOffsetReset; got != "earliest" {
		t.Errorf("default auto.offset.reset = %q; want earliest", got)
	}
	if got := s.consumer("reader").cfg.AutoOffsetReset; got != "latest" {
		t.Errorf("auto.offset.reset=latest gave %q", got)
	}
	if pd := s.producer("p2"); pd.keys != 10 || pd.cfg.Acks != 1 || pd.cfg.Partitioner != "key-hash" || pd.cfg.Retries != 3 {
		t.Errorf("producer p2 = %+v; want keys 10, acks 1, key-hash, retries 3", pd)
	}
	if got := len(s.stmts); got != 45 {
		t.Errorf("%d statements; want 45", got)
	}
	if st := s.stmts[2]; st.fault == nil || st.fault.Name != "partition" || len(st.groups) != 2 || len(st.groups[1]) != 2 {
		t.Errorf("partition 1 | 2 3 parsed as %+v", st)
	}
	if st := s.stmts[0]; st.say != "Broker 1 leads orders/0. Cut it off from its followers." || st.text != `say "Broker 1 leads orders/0. Cut it off from its followers."` {
		t.Errorf("say parsed as %q, text %q", st.say, st.text)
	}
}

// A client may be named like a controller as long as the name is not used where a node goes.
func TestClientNamedLikeController(t *testing.T) {
	src := head + "expect consumed c1 >= 0\nkill controller\nkill c2\n"
	if _, err := Parse("t.scenario", []byte(src)); err != nil {
		t.Fatalf("Parse: %v; want consumer c1 allowed", err)
	}
}

// ParseFile names the file in its errors, and a missing file is an error, not a panic.
func TestParseFile(t *testing.T) {
	if _, err := ParseFile("testdata-does-not-exist.scenario"); err == nil {
		t.Error("ParseFile of a missing file: nil error; want one")
	}
	s, err := ParseFile("leader-failover.scenario")
	if err != nil {
		t.Fatal(err)
	}
	if s.File != "leader-failover.scenario" || !strings.HasPrefix(s.Title, "Leader failover") {
		t.Errorf("File %q Title %q", s.File, s.Title)
	}
}

// The elastic words follow the script: a broker added may be named, a partition added may be
// looked at, and the conditions parse.
func TestElasticWordsFollowTheScript(t *testing.T) {
	src := head + "add broker 4\nkill 4\nrestart 4\npartitions orders 4\nexpect leader orders/3 in {1,2,3,4}\n" +
		"reassign orders/3 replicas=4,1,2\nawait replicas orders/3 == {1,2,4} within 30s\nexpect not reassigning orders/3\n" +
		"expect partitions orders == 4\nexpect brokers == 4\nelect preferred all\nelect preferred orders/0\nelect unclean orders/1\n" +
		"remove broker 4\n"
	if _, err := Parse("t.scenario", []byte(src)); err != nil {
		t.Fatalf("Parse: %v; want the elastic words accepted", err)
	}
}
