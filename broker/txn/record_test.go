package txn

import (
	"encoding/json"
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// The coordinator's hand-written encoding of a transaction's record is encoding/json's, byte
// for byte: nil and empty partitions, the omitted version, ids that need escaping.
func TestAppendMetadataIsEncodingJSON(t *testing.T) {
	tps := []protocol.TopicPartition{{Topic: "orders", Partition: 0}, {Topic: "__consumer_offsets", Partition: 49}}
	for _, m := range []Metadata{
		{ID: "payer", ProducerID: 0, Epoch: -1, LastEpoch: -1},
		{ID: "payer", ProducerID: 1000, Epoch: 32766, Timeout: time.Minute, State: PrepareCommit, Partitions: tps, Start: 4*time.Second + 7, Version: 2, LastEpoch: 32765},
		{ID: "a\"b\\c<d>&e\u00e9\u2028\x01", ProducerID: -1, State: Dead, Partitions: []protocol.TopicPartition{}, Version: 1},
		{ID: "", Partitions: []protocol.TopicPartition{{Topic: "t<&>\"", Partition: -3}}},
	} {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendMetadata(nil, &m); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}
