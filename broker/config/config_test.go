package config

import (
	"testing"
	"time"
)

func TestBrokerSet(t *testing.T) {
	cases := []struct {
		key, value string
		check      func(b Broker) bool
		err        string
	}{
		{"replica.lag.time.max.ms", "10000", func(b Broker) bool { return b.ReplicaLagTimeMax == 10*time.Second }, ""},
		{"replica.lag.time.max.ms", "10s", func(b Broker) bool { return b.ReplicaLagTimeMax == 10*time.Second }, ""},
		{"leader.imbalance.check.interval.seconds", "30", func(b Broker) bool { return b.LeaderImbalanceCheckInterval == 30*time.Second }, ""},
		{"log.retention.ms", "-1", func(b Broker) bool { return b.Topic.Retention == Forever }, ""},
		{"retention.ms", "7d", func(b Broker) bool { return b.Topic.Retention == 7*24*time.Hour }, ""},
		{"min.insync.replicas", "2", func(b Broker) bool { return b.Topic.MinInsyncReplicas == 2 }, ""},
		{"unclean.leader.election.enable", "true", func(b Broker) bool { return b.Topic.UncleanLeaderElectionEnable }, ""},
		{"min.insync.replicas", "0", nil, "min.insync.replicas: 0 is below the minimum 1"},
		{"unclean.leader.election.enable", "yes", nil, `unclean.leader.election.enable: "yes" is not true or false`},
		{"broker.session.timeout.ms", "-5", nil, `broker.session.timeout.ms: "-5" is negative`},
		{"log.segment.bytes", "big", nil, `log.segment.bytes: "big" is not an integer`},
		{"made.up", "1", nil, "made.up: unknown config key"},
	}
	for _, tc := range cases {
		b := DefaultBroker()
		err := b.Set(tc.key, tc.value)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("Set(%s, %s) = %v; want %q", tc.key, tc.value, err, tc.err)
			}
		case err != nil:
			t.Errorf("Set(%s, %s) = %v; want nil", tc.key, tc.value, err)
		case !tc.check(b):
			t.Errorf("Set(%s, %s) did not take effect", tc.key, tc.value)
		}
	}
}

func TestProtocolSwitches(t *testing.T) {
	b := DefaultBroker()
	if b.Truncation != TruncateLeaderEpoch || b.IsrExpansion != ExpandAtLeaderEpoch || !b.StrictMinISR || !b.EligibleLeaderReplicas || !b.PreVote {
		t.Fatalf("defaults = %q %q %v %v %v; want Kafka 4.x rules", b.Truncation, b.IsrExpansion, b.StrictMinISR, b.EligibleLeaderReplicas, b.PreVote)
	}
	for _, kv := range [][2]string{{"truncation", "high-watermark"}, {"isr.expansion", "high-watermark"}, {"strict.min.isr", "false"}, {"eligible.leader.replicas", "false"}, {"pre.vote", "false"}} {
		if err := b.SetProtocol(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if b.Truncation != TruncateHighWatermark || b.IsrExpansion != ExpandAtHighWatermark || b.StrictMinISR || b.EligibleLeaderReplicas || b.PreVote {
		t.Errorf("after switches = %q %q %v %v %v; want the old rules", b.Truncation, b.IsrExpansion, b.StrictMinISR, b.EligibleLeaderReplicas, b.PreVote)
	}
	if err := b.SetProtocol("isr.expansion", "eventually"); err == nil || err.Error() != `isr.expansion: "eventually" is not one of leader-epoch, high-watermark` {
		t.Errorf("bad isr.expansion: %v", err)
	}
	if err := b.SetProtocol("truncation", "sometimes"); err == nil || err.Error() != `truncation: "sometimes" is not one of leader-epoch, high-watermark` {
		t.Errorf("bad truncation: %v", err)
	}
	if err := b.SetProtocol("kip.999", "true"); err == nil {
		t.Error("unknown switch accepted")
	}
}

// KIP-679: idempotence is on by default and quietly off when acks≠all unless asked for.
func TestProducerFinish(t *testing.T) {
	p := DefaultProducer()
	_ = p.Set("acks", "1")
	if err := p.Finish(); err != nil || p.EnableIdempotence {
		t.Errorf("acks=1: idempotence %v, err %v; want off, nil", p.EnableIdempotence, err)
	}
	p = DefaultProducer()
	_ = p.Set("max.in.flight.requests.per.connection", "6")
	_ = p.Set("enable.idempotence", "true")
	if err := p.Finish(); err == nil || err.Error() != "enable.idempotence: true requires that max.in.flight.requests.per.connection must be at most 5" {
		t.Errorf("in flight 6 with idempotence: %v", err)
	}
	p = DefaultProducer()
	if err := p.Finish(); err != nil || !p.EnableIdempotence {
		t.Errorf("defaults: idempotence %v, err %v; want on", p.EnableIdempotence, err)
	}
	p = DefaultProducer()
	_ = p.Set("delivery.timeout.ms", "1s")
	if err := p.Finish(); err == nil {
		t.Error("delivery.timeout.ms below request.timeout.ms accepted")
	}
}

func TestTopicFromDefaults(t *testing.T) {
	def := DefaultTopic()
	tc, err := TopicFrom(def, map[string]string{"min.insync.replicas": "2", "retention.bytes": "1000"})
	if err != nil || tc.MinInsyncReplicas != 2 || tc.RetentionBytes != 1000 || tc.SegmentBytes != def.SegmentBytes {
		t.Errorf("TopicFrom = %+v, %v", tc, err)
	}
	if _, err := TopicFrom(def, map[string]string{"replica.lag.time.max.ms": "1"}); err == nil || err.Error() != "replica.lag.time.max.ms: unknown topic config key" {
		t.Errorf("broker key as topic config: %v", err)
	}
}
