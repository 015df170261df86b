package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/history"
	"kafkasim/checker"
)

// A real group consumer's polls and commits go into the history as a simulated consumer's do:
// its polls carry the group and generation of the member that owns the partition, its
// OffsetCommits are the group's commits; the checker judges them (valid here: it committed
// what it read).
func TestGroupCommitsGoIntoTheHistory(t *testing.T) {
	srv, stop := serving(t, "", 10, nil)
	p := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	produce(t, p, 0, 300, 0, nil)
	cons := newClient(t, srv, kgo.ConsumerGroup("g"), kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), kgo.HeartbeatInterval(100*time.Millisecond))
	consume(t, cons, 300)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cons.Close()
	p.Close()
	res := stop()
	commits := map[int32]int64{}
	polls := 0
	for _, op := range res.Cluster.History() {
		switch {
		case op.Type == history.Commit && op.Group == "g" && op.Outcome == history.OK:
			commits[op.Partition] = max(commits[op.Partition], op.Offsets[0])
			if op.Generation < 1 {
				t.Errorf("commit %+v: generation %d; want the member's", op, op.Generation)
			}
		case op.Type == history.Poll && op.Group == "g":
			polls++
		case op.Type == history.Poll:
			t.Errorf("poll %+v names no group; want g", op)
		}
	}
	for part := int32(0); part < 3; part++ {
		if commits[part] != 100 {
			t.Errorf("group g's commit of demo/%d: %d; want 100 (every record read)", part, commits[part])
		}
	}
	if polls == 0 {
		t.Error("no poll of group g in the history")
	}
	if res.Verdict != "valid" || res.Anomalies[checker.GroupSkip] > 0 {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
}

// A real client's commit past records no member of its group received is a group-skip, as a
// simulated consumer's is: a member reads demo/0's first 100 records and leaves; 100 more are
// written; another client commits offset 180 for the (now empty) group.
func TestGroupSkipByARealClientsCommit(t *testing.T) {
	srv, stop := serving(t, "", 10, nil)
	p := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(from, n int) {
		for i := from; i < from+n; i++ {
			if err := p.ProduceSync(ctx, &kgo.Record{Topic: "demo", Partition: 0, Value: []byte(fmt.Sprintf("value-%d", i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 100)
	reader := newClient(t, srv, kgo.ClientID("reader"), kgo.ConsumerGroup("g2"), kgo.ConsumeTopics("demo"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	consume(t, reader, 100)
	reader.Close() // leaves the group: it is empty now
	send(100, 100)

	committer := newClient(t, srv, kgo.ClientID("committer"))
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = "g2", -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "demo"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.LeaderEpoch = 0, 180, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, committer)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("the commit got error %d; want none", code)
	}
	committer.Close()
	p.Close()
	res := stop()
	if res.Anomalies[checker.GroupSkip] == 0 || res.Verdict != "invalid" {
		t.Fatalf("verdict %s %v; want invalid with a group-skip", res.Verdict, res.Anomalies)
	}
}
