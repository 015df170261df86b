package checker

import (
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/sim/cluster"
)

// twoTopicGroupRun: group g1 reads two topics, orders (4 partitions) and payments (2), with
// c1 and c2 subscribed to both and c3 to payments alone (different subscriptions in one
// group); c1 is killed and restarted, so the group rebalances.
func twoTopicGroupRun(t *testing.T, protocol string, plant func(b *config.Bugs, c *config.Consumer)) *Report {
	t.Helper()
	var cb config.Consumer
	r := newRun(t, 3, 71, func(s *cluster.Spec) {
		_ = s.Broker.Set("offsets.topic.num.partitions", "5")
		if plant != nil {
			plant(&s.Broker.Bugs, &cb)
		}
	})
	r.topic(cluster.TopicSpec{Name: "orders", Partitions: 4, Replication: 3})
	r.topic(cluster.TopicSpec{Name: "payments", Partitions: 2, Replication: 3})
	r.producer("p1", "orders", 200, "acks", "all")
	r.producer("p2", "payments", 100, "acks", "all")
	for _, c := range []struct {
		name   string
		topics []string
	}{{"c1", []string{"orders", "payments"}}, {"c2", []string{"orders", "payments"}}, {"c3", []string{"payments"}}} {
		cc := config.DefaultConsumer()
		cc.AutoOffsetReset = "earliest"
		cc.Bugs = cb.Bugs
		_ = cc.Set("group", "g1")
		if protocol == "classic" {
			_ = cc.Set("session.timeout.ms", "10s")
		}
		_ = cc.Set("processing", "50ms")
		_ = cc.Set("group.protocol", protocol)
		if _, err := r.c.AddConsumer(cluster.ConsumerSpec{Name: c.name, Topic: c.topics[0], Topics: c.topics, Config: cc}); err != nil {
			t.Fatal(err)
		}
	}
	r.c.RunFor(15 * time.Second)
	id, _ := r.c.Client("c1")
	_ = r.c.World.Kill(id)
	r.c.RunFor(20 * time.Second)
	_ = r.c.World.Restart(id)
	r.c.RunFor(15 * time.Second)
	_ = r.c.SetRate("p1", 0)
	_ = r.c.SetRate("p2", 0)
	r.c.RunFor(15 * time.Second)
	r.c.Close()
	return Check(r.c.History(), Config{Idempotent: true, Online: r.online})
}

// The group rules work per topic-partition: over a group of two topics they stay quiet on a
// correct run and fire with a planted bug; the classic leader that gives every member every
// partition is caught on partitions of both topics.
func TestGroupRulesOverTwoTopics(t *testing.T) {
	for _, protocol := range []string{"classic", "consumer"} {
		t.Run(protocol, func(t *testing.T) {
			fixed := twoTopicGroupRun(t, protocol, nil)
			if fixed.Verdict != Valid {
				t.Fatalf("verdict %s without a planted bug; want valid\n%s", fixed.Verdict, fixed.Text())
			}
			for _, name := range []string{OneOwnerPerGeneration, GroupSkip, PollSkip, NonmonotonicPoll} {
				if n := fixed.Findings()[name]; n > 0 {
					t.Errorf("%s %d without a planted bug; want 0\n%s", name, n, fixed.Text())
				}
			}
			oneOwner := func(_ *config.Bugs, c *config.Consumer) { c.Bugs.AssignEverything = true }
			if protocol == "consumer" {
				oneOwner = func(b *config.Bugs, _ *config.Consumer) { b.AssignBeforeRevoke = true }
			}
			cases := []struct {
				name   string
				plant  func(b *config.Bugs, c *config.Consumer)
				topics []string // named in the findings
			}{
				{OneOwnerPerGeneration, oneOwner, nil},
				{GroupSkip, func(_ *config.Bugs, c *config.Consumer) { c.Bugs.CommitAhead = true }, nil},
			}
			if protocol == "classic" {
				cases[0].topics = []string{"orders/", "payments/"} // every member is given every partition of both
			}
			for _, tc := range cases {
				rep := twoTopicGroupRun(t, protocol, tc.plant)
				if rep.Findings()[tc.name] == 0 {
					t.Errorf("%s: not found with the planted bug\n%s", tc.name, rep.Text())
					continue
				}
				text := rep.Text()
				for _, topic := range tc.topics {
					if !strings.Contains(text, topic) {
						t.Errorf("%s: the report names no partition of %s\n%s", tc.name, strings.TrimSuffix(topic, "/"), text)
					}
				}
			}
		})
	}
}
