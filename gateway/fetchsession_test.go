package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
)

// franz-go's consumer fetches in incremental sessions (KIP-227) through the gateway: the
// leaders' FetchSessionCache opens a session with its first, full fetch, and the later fetches
// name only what changed; it reads every record once.
func TestFranzGoRunsIncrementalFetchSessions(t *testing.T) {
	srv, stop := serving(t, "", 10, nil)
	p := newClient(t, srv, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	cons := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxPartitionBytes(1000))
	for round := range 5 { // each round read by fetches of the sessions already open
		produce(t, p, round*200, 200, 0, nil)
		for v, n := range consume(t, cons, 200) {
			if n != 1 {
				t.Errorf("%s read %d times; want once", v, n)
			}
		}
	}
	var f FetchStats
	if err := srv.do(func(ss *session) { f = ss.st.fetches }); err != nil {
		t.Fatal(err)
	}
	if f.Full == 0 || f.Incremental <= f.Full || f.Sessionless > 0 {
		t.Errorf("fetches %+v; want sessions opened and most fetches incremental", f)
	}
	t.Logf("fetches: %+v", f)
	cons.Close()
	p.Close()
	if res := stop(); res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
}

// A session is the broker's, not the connection's: a client may fetch in it from a second
// connection while its fetch on the first is still parked at the leader. The later fetch moves
// the session's epoch on and changes its partitions; the parked one, when it completes, is
// answered INVALID_FETCH_SESSION_EPOCH without partitions
// (IncrementalFetchContext.updateAndGenerateResponseData), and the world goes on.
func TestFetchSessionUsedFromTwoConnectionsAtOnce(t *testing.T) {
	srv, stop := serving(t, "", 1, nil)
	a := newClient(t, srv, kgo.ClientID("parker"))
	b := newClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fetch := func(id, epoch, maxWait int32, parts ...int32) *kmsg.FetchRequest {
		r := kmsg.NewPtrFetchRequest()
		r.ReplicaID, r.MaxWaitMillis, r.MinBytes, r.MaxBytes = -1, maxWait, 1, 1<<20
		r.SessionID, r.SessionEpoch = id, epoch
		if len(parts) > 0 {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = "demo"
			for _, p := range parts {
				fp := kmsg.NewFetchRequestTopicPartition()
				fp.Partition, fp.PartitionMaxBytes, fp.CurrentLeaderEpoch, fp.LastFetchedEpoch, fp.LogStartOffset = p, 1<<20, -1, -1, -1
				rt.Partitions = append(rt.Partitions, fp)
			}
			r.Topics = []kmsg.FetchRequestTopic{rt}
		}
		return r
	}

	// The leader of demo/0, and a session there opened by a full fetch.
	leader := int32(-1)
	for leader < 0 {
		mreq := kmsg.NewPtrMetadataRequest()
		mt := kmsg.NewMetadataRequestTopic()
		mt.Topic = kmsg.StringPtr("demo")
		mreq.Topics = []kmsg.MetadataRequestTopic{mt}
		resp, err := mreq.RequestWith(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		for _, mt := range resp.Topics {
			for _, p := range mt.Partitions {
				if p.Partition == 0 && p.ErrorCode == 0 {
					leader = p.Leader
				}
			}
		}
	}
	if _, err := b.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil { // b learns the brokers too
		t.Fatal(err)
	}
	opened, err := fetch(protocol.InvalidSessionID, protocol.InitialEpoch, 0, 0).RequestWith(ctx, a.Broker(int(leader)))
	if err != nil || opened.ErrorCode != 0 || opened.SessionID == protocol.InvalidSessionID {
		t.Fatalf("full fetch: %+v, %v; want a new session", opened, err)
	}
	sid := opened.SessionID

	// Epoch 1 parks on the first connection (demo/0 is empty).
	type answer struct {
		r   *kmsg.FetchResponse
		err error
	}
	parked := make(chan answer, 1)
	go func() {
		r, err := fetch(sid, 1, 2000).RequestWith(ctx, a.Broker(int(leader)))
		parked <- answer{r, err}
	}()
	for waiting := false; !waiting; {
		if err := srv.do(func(ss *session) {
			if w := ss.st.watched["parker"]; w != nil {
				for _, c := range w.conns {
					// Sent a while ago: at the leader, past any network delay.
					if pd := c.cur; pd != nil && ss.c.Now()-pd.at > 200*time.Millisecond {
						if r, ok := pd.p.req.(*kmsg.FetchRequest); ok && r.SessionEpoch == 1 {
							waiting = true
						}
					}
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-parked:
			t.Fatalf("epoch 1 answered before the second connection fetched: %+v, %v", got.r, got.err)
		default:
		}
	}

	// Epoch 2 from the second connection adds demo/1 (led elsewhere: answered at once).
	next, err := fetch(sid, 2, 2000, 1).RequestWith(ctx, b.Broker(int(leader)))
	if err != nil || next.ErrorCode != 0 || next.SessionID != sid {
		t.Fatalf("epoch 2: %+v, %v; want an answer in session %d", next, err, sid)
	}
	got := <-parked
	if got.err != nil || got.r.ErrorCode != int16(protocol.INVALID_FETCH_SESSION_EPOCH) || len(got.r.Topics) != 0 {
		t.Errorf("epoch 1: %+v, %v; want INVALID_FETCH_SESSION_EPOCH and no partitions", got.r, got.err)
	}
	// The refused epoch leaves the session as epoch 2 left it, at the leader and in the
	// gateway's mirror: the history's polls still know both partitions' fetch offsets.
	if err := srv.do(func(ss *session) {
		if s := ss.st.sessions[sessionKey{leader, sid}]; len(s) != 2 {
			t.Errorf("the gateway's copy of session %d after the refused epoch: %v; want demo/0 and demo/1", sid, s)
		}
	}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	if res := stop(); res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
}
