package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

// sentVersions is, from a recording, the requests a client.id sent after its first skip
// EndTxn requests, by API key and version.
func sentVersions(t *testing.T, rec *bytes.Buffer, clientID string, skip int) map[int16]map[int16]int {
	t.Helper()
	out := map[int16]map[int16]int{}
	sc := bufio.NewScanner(bytes.NewReader(rec.Bytes()))
	sc.Buffer(nil, maxFrame*2)
	for sc.Scan() {
		var in Input
		if json.Unmarshal(sc.Bytes(), &in) != nil || len(in.Frame) < 4 {
			continue
		}
		if p, err := parseRequest(in.Frame); err != nil || p.clientID != clientID {
			continue
		}
		key, v := int16(binary.BigEndian.Uint16(in.Frame)), int16(binary.BigEndian.Uint16(in.Frame[2:]))
		if skip > 0 {
			if key == int16(kmsg.EndTxn) {
				skip--
			}
			continue
		}
		if out[key] == nil {
			out[key] = map[int16]int{}
		}
		out[key][v]++
	}
	return out
}

// Transaction version 2 over the wire (KIP-890): the gateway finalizes transaction.version 2,
// so franz-go opts in: its transactional produces are Produce v12 and no AddPartitionsToTxn goes
// out (the leaders add the partitions themselves), EndTxn is v5 and its answer's bumped epoch is
// the one the next transaction runs on (else the coordinator fences it). Committed and aborted
// transactions end as they should: read_committed sees the committed records only and the
// checker finds the run valid. A client capped below the version 2 requests (Kafka 3.9's
// versions) keeps to version 1 against the same cluster, AddPartitionsToTxn and all.
func TestTransactionVersion2(t *testing.T) {
	var rec bytes.Buffer
	srv, stop := serving(t, txnDemo, 10, &rec)
	tx := newClient(t, srv, kgo.TransactionalID("tx-2"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ClientID("tx2"))
	for i, commit := range []bool{true, false, true, false, true} { // transactions 2 to 5 with transaction.version 2 (below)
		prefix := "a"
		if commit {
			prefix = "c"
		}
		transact(t, tx, prefix, 10*i, 10, commit)
	}
	tx.Close()
	old := newClient(t, srv, kgo.TransactionalID("tx-1"), kgo.ClientID("tx1"), kgo.MaxVersions(kversion.V3_9_0()))
	transact(t, old, "o", 0, 5, true)
	old.Close()

	rc := newClient(t, srv, kgo.ConsumeTopics("demo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := consume(t, rc, 35)
	for v, n := range seen {
		if strings.HasPrefix(v, "a") || n != 1 {
			t.Errorf("read_committed read %s %d times; want committed records once each", v, n)
		}
	}
	rc.Close()
	res := stop()
	if res.Verdict != "valid" {
		t.Errorf("verdict %s %v; want valid", res.Verdict, res.Anomalies)
	}
	var committed, aborted int
	for _, op := range res.Cluster.History() {
		if op.Type != history.Send || !strings.HasPrefix(op.Client, "tx2#") {
			continue
		}
		switch {
		case op.Outcome == history.OK && op.Txn == history.TxnCommitted:
			committed++
		case op.Outcome == history.Fail && op.Txn == history.TxnAborted:
			aborted++
		}
	}
	if committed != 30 || aborted != 20 {
		t.Errorf("the TV2 client's history: %d committed, %d aborted; want 30 and 20", committed, aborted)
	}
	// franz-go opts in when a transaction ends (or begins) after the brokers' ApiVersions
	// answers named the feature: its first transaction is a version 1 one.
	v2, v1 := sentVersions(t, &rec, "tx2", 1), sentVersions(t, &rec, "tx1", 0)
	produce, endTxn, addParts := int16(kmsg.Produce), int16(kmsg.EndTxn), int16(kmsg.AddPartitionsToTxn)
	if len(v2[produce]) != 1 || v2[produce][12] == 0 || len(v2[endTxn]) != 1 || v2[endTxn][5] != 4 || len(v2[addParts]) != 0 {
		t.Errorf("after its first transaction the TV2 client sent Produce %v, EndTxn %v, AddPartitionsToTxn %v; want Produce v12 only, four EndTxn v5, none",
			v2[produce], v2[endTxn], v2[addParts])
	}
	if v1[endTxn][4] != 1 || v1[addParts][3] == 0 || v1[produce][12] != 0 {
		t.Errorf("the capped client sent Produce %v, EndTxn %v, AddPartitionsToTxn %v; want below v12, one EndTxn v4, AddPartitionsToTxn v3",
			v1[produce], v1[endTxn], v1[addParts])
	}
	if srv.ss.st.tvOf("tx-2") != 2 || srv.ss.st.tvOf("tx-1") != 1 {
		t.Errorf("transaction versions: tx-2 %d, tx-1 %d; want 2 and 1", srv.ss.st.tvOf("tx-2"), srv.ss.st.tvOf("tx-1"))
	}
}

// AddPartitionsToTxn v5, KIP-890's batched form, sent raw: each transaction is added at its
// coordinator (the model's), one verifyOnly transaction is refused (brokers send those to
// each other), and the transaction so opened aborts with EndTxn v5, answered with the bumped
// epoch.
func TestAddPartitionsToTxnV5(t *testing.T) {
	var rec bytes.Buffer
	srv, stop := serving(t, txnDemo, 10, &rec)
	cl := newClient(t, srv, kgo.ClientID("raw"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := "raw-1"
	var init *kmsg.InitProducerIDResponse
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID, req.TransactionTimeoutMillis = &id, 60_000
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode == 0 {
			init = resp
			break
		}
		time.Sleep(20 * time.Millisecond) // the coordinator loads its partition
	}
	add := kmsg.NewPtrAddPartitionsToTxnRequest()
	add.Version = 5
	for i, verify := range []bool{false, true} {
		tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
		tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = id, init.ProducerID, init.ProducerEpoch, verify
		tt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
		tt.Topic, tt.Partitions = "demo", []int32{int32(i)}
		tx.Topics = append(tx.Topics, tt)
		add.Transactions = append(add.Transactions, tx)
	}
	resp, err := cl.Request(ctx, add) // to the coordinator, at the highest version both speak: 5
	if err != nil {
		t.Fatal(err)
	}
	ar := resp.(*kmsg.AddPartitionsToTxnResponse)
	if len(ar.Transactions) != 2 {
		t.Fatalf("%d transactions answered; want 2", len(ar.Transactions))
	}
	codes := []int16{ar.Transactions[0].Topics[0].Partitions[0].ErrorCode, ar.Transactions[1].Topics[0].Partitions[0].ErrorCode}
	if codes[0] != 0 || codes[1] != int16(protocol.INVALID_REQUEST) {
		t.Errorf("AddPartitionsToTxn v5 answers %v; want NONE for the add and INVALID_REQUEST for the verifyOnly", codes)
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = id, init.ProducerID, init.ProducerEpoch, false
	er, err := end.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if er.ErrorCode != 0 || er.ProducerID != init.ProducerID || er.ProducerEpoch != init.ProducerEpoch+1 {
		t.Errorf("EndTxn v5: error %d, producer %d epoch %d; want NONE and producer %d at epoch %d", er.ErrorCode, er.ProducerID, er.ProducerEpoch, init.ProducerID, init.ProducerEpoch+1)
	}
	cl.Close()
	stop()
	sent := sentVersions(t, &rec, "raw", 0)
	if sent[int16(kmsg.AddPartitionsToTxn)][5] != 1 || sent[int16(kmsg.EndTxn)][5] != 1 {
		t.Errorf("AddPartitionsToTxn sent %v, EndTxn %v; want v5 once each", sent[int16(kmsg.AddPartitionsToTxn)], sent[int16(kmsg.EndTxn)])
	}
}
