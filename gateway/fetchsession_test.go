package gateway

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
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
