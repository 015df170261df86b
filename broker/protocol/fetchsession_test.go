package protocol

import (
	"slices"
	"testing"
)

func fp(part int32, offset int64) FetchPartition {
	return FetchPartition{TP: TopicPartition{Topic: "t", Partition: part}, FetchOffset: offset}
}

// Reference: KIP-227 (FetchSessionHandlerTest.testIncrementals): an incremental fetch carries the
// partitions added or changed since the last fetch, and forgets those no longer fetched.
func TestFetchSessionHandlerSendsOnlyChanges(t *testing.T) {
	var h FetchSessionHandler
	h.Want = append(h.Want, fp(0, 5), fp(1, 7), fp(2, 9))
	req := h.Request()
	if req.SessionEpoch != InitialEpoch || len(req.Partitions) != 3 {
		t.Fatalf("first fetch: epoch %d, %d partitions; want a full fetch of 3", req.SessionEpoch, len(req.Partitions))
	}
	if !h.Answered(&FetchResponse{SessionID: 9}) {
		t.Fatal("Answered refused an answer without error")
	}
	h.Want = append(h.Want, fp(0, 5), fp(2, 10), fp(3, 0)) // 1 forgotten, 2 changed, 3 new
	req = h.Request()
	var got []int32
	for _, p := range req.Partitions {
		got = append(got, p.TP.Partition)
	}
	if req.SessionID != 9 || req.SessionEpoch != 1 || !slices.Equal(got, []int32{2, 3}) ||
		len(req.Forgotten) != 1 || req.Forgotten[0].Partition != 1 {
		t.Fatalf("incremental fetch: session %d epoch %d, partitions %v, forgotten %v; want session 9 epoch 1, [2 3], [t-1]",
			req.SessionID, req.SessionEpoch, got, req.Forgotten)
	}
	h.Abandon()
	h.Want = append(h.Want, fp(0, 5))
	if req = h.Request(); req.SessionID != 9 || req.SessionEpoch != InitialEpoch || len(req.Partitions) != 1 || len(req.Forgotten) != 0 {
		t.Fatalf("after Abandon: session %d epoch %d, %d partitions; want a full fetch closing session 9", req.SessionID, req.SessionEpoch, len(req.Partitions))
	}
}

func TestNextSessionEpochWraps(t *testing.T) {
	for _, tt := range []struct{ in, want int32 }{{0, 1}, {41, 42}, {1<<31 - 1, 1}, {FinalEpoch, FinalEpoch}} {
		if got := NextSessionEpoch(tt.in); got != tt.want {
			t.Errorf("NextSessionEpoch(%d) = %d; want %d", tt.in, got, tt.want)
		}
	}
}
