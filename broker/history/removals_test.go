package history

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// Removals written after a history's operations read back with it; ReadJSONLines skips them.
func TestRemovalsRoundTrip(t *testing.T) {
	h := History{{Client: "p1", Type: Send, Topic: "t", Values: []int64{7}, Offsets: []int64{0}, Invoke: 1, Complete: 2, Outcome: OK}}
	rs := []Removal{
		{Kind: RetentionRemoval, Topic: "t", Partition: 0, At: time.Second, Start: 120},
		{Kind: CompactionRemoval, Topic: "t", Partition: 1, At: 2 * time.Second, Offsets: []int64{3, 5}},
		{Kind: IllegalRemoval, Topic: "t", Partition: 1, From: 8, To: 9},
	}
	var buf bytes.Buffer
	if err := h.WriteJSONLines(&buf); err != nil {
		t.Fatal(err)
	}
	if err := WriteRemovals(&buf, rs); err != nil {
		t.Fatal(err)
	}
	gotH, gotR, err := ReadWithRemovals(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotH, h) || !reflect.DeepEqual(gotR, rs) {
		t.Fatalf("read %+v %+v; want %+v %+v", gotH, gotR, h, rs)
	}
	if only, err := ReadJSONLines(bytes.NewReader(buf.Bytes())); err != nil || len(only) != 1 {
		t.Fatalf("ReadJSONLines: %d ops, %v; want the one op", len(only), err)
	}
}
