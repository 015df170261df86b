package scenarios

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A transactional producer whose partition leader dies neither hot-loops on the dead broker nor
// waits out request.timeout.ms for metadata it asked of it: as Kafka's NetworkClient, it tries
// the dead node no faster than its reconnect back-off (reconnect.backoff.ms doubling to
// reconnect.backoff.max.ms, ClusterConnectionStates), a batch whose connection broke is retried
// after retry.backoff.ms, and the MetadataRequest in flight to the dead broker fails with the
// connection, so the producer learns the new leader within a metadata round of its election
// (about 9 s after the kill: broker.session.timeout.ms) and its transactions resume: 15 s
// after the kill it has committed the whole backlog (seeds 1-10: 79 to 81 transactions in
// all). Before, it sent a ProduceRequest to the dead broker every few milliseconds and waited
// request.timeout.ms for a MetadataRequest the dead broker had taken.
//
// The kill lands while transactions are committing: the coordinator's WriteTxnMarkersRequest
// to the dead leader is sent again when the connection breaks
// (TransactionMarkerRequestCompletionHandler re-enqueues a disconnected request), and the
// leaders' AddPartitionsToTxn to a dead coordinator fails at once (AddPartitionsToTxnManager):
// waiting out request.timeout.ms for either, the producer had committed 5 transactions in all.
func TestTransactionalProducerLeaderKilled(t *testing.T) {
	const src = `cluster brokers=3
topic orders partitions=1 replication=3 min.insync.replicas=2
producer tx topic=orders acks=all rate=50/s transactional.id=payer
await committed-txns tx >= 5 within 30s
kill leader orders/0
wait 15s
expect committed-txns tx >= 70
`
	for seed := uint64(1); seed <= 3; seed++ {
		s, err := Parse("t.scenario", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		var lines bytes.Buffer
		r, err := Run(s, Options{Seed: seed, TraceTo: &lines})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			t.Fatalf("seed %d: %s", seed, r.Failure)
		}
		// The fault's time and node, and the resets the producer (node 10001) got from it.
		var killed time.Duration
		dead := ""
		var resets []time.Duration
		for _, l := range strings.Split(lines.String(), "\n") {
			f := strings.Fields(l)
			if len(f) < 3 {
				continue
			}
			at, err := time.ParseDuration(f[0])
			if err != nil {
				continue
			}
			switch {
			case f[1] == "fault" && len(f) >= 4 && f[3] == "kill" && dead == "":
				killed, dead = at, strings.TrimPrefix(f[2], "node=")
			case dead != "" && f[1] == "deliver" && f[2] == "node=10001" && len(f) >= 5 &&
				f[3] == "from="+dead && f[4] == "*node.ConnectionReset":
				resets = append(resets, at)
			}
		}
		if dead == "" || len(resets) == 0 {
			t.Fatalf("seed %d: no kill in the trace", seed)
		}
		// The back-off schedule at its fastest (-20% jitter): 40 ms, 80 ms, ... up to 800 ms.
		// Each kind of request (produce, coordinator, metadata) may follow it; allow 3 of them.
		window := resets[len(resets)-1] - killed
		n, spent, b := 0, time.Duration(0), 40*time.Millisecond
		for spent <= window {
			spent += b
			b = min(2*b, 800*time.Millisecond)
			n++
		}
		if len(resets) > 3*(n+1) {
			t.Errorf("seed %d: %d connection resets from the dead broker %s in %v after the kill; the reconnect back-off allows about %d",
				seed, len(resets), dead, window, 3*(n+1))
		}
	}
}
