package client

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

func TestAdminRetriesOnNotControllerAndTimeout(t *testing.T) {
	// c1 is not the controller, c2 does not answer, c3 is active.
	w := newWorld(t)
	var to []int32
	var corrs []int64
	w.handle = func(dst int32, msg any) {
		r, ok := msg.(*protocol.CreateTopicsRequest)
		if !ok {
			return
		}
		to = append(to, dst)
		corrs = append(corrs, r.CorrelationID)
		switch dst {
		case 3001:
			w.reply(dst, &protocol.CreateTopicsResponse{CorrelationID: r.CorrelationID, Topics: []protocol.CreatableTopicResult{{Name: "t", Error: protocol.NOT_CONTROLLER}}})
		case 3003:
			w.reply(dst, &protocol.CreateTopicsResponse{CorrelationID: r.CorrelationID, Topics: []protocol.CreatableTopicResult{{Name: r.Topics[0].Name}}})
		}
	}
	a := NewAdmin(AdminOptions{Name: "admin", Controllers: []int32{3001, 3002, 3003}, RequestTimeout: time.Second}, w.env(), 0)
	w.node = a
	first := &protocol.CreateTopicsRequest{Topics: []protocol.CreatableTopic{{Name: "t", NumPartitions: 3, ReplicationFactor: 3}}}
	second := &protocol.CreateTopicsRequest{Topics: []protocol.CreatableTopic{{Name: "u", NumPartitions: 1, ReplicationFactor: 1}}}
	w.input(&AdminCommand{Request: first})
	w.input(&AdminCommand{Request: second})
	if a.Pending() != 2 {
		t.Fatalf("Pending() = %d; want 2", a.Pending())
	}
	w.runUntil(5 * time.Second)
	wantTo := []int32{3001, 3002, 3003, 3003}
	if len(to) != len(wantTo) {
		t.Fatalf("sent to %v; want %v", to, wantTo)
	}
	for i := range to {
		if to[i] != wantTo[i] {
			t.Fatalf("sent to %v; want %v", to, wantTo)
		}
		if i > 0 && corrs[i] <= corrs[i-1] {
			t.Errorf("correlation ids %v; want increasing", corrs)
		}
	}
	var results []*AdminResult
	for _, ev := range w.observed {
		if r, ok := ev.(*AdminResult); ok {
			results = append(results, r)
		}
	}
	if len(results) != 2 || results[0].Request != first || results[1].Request != second {
		t.Fatalf("got %d results; want the two commands in order", len(results))
	}
	if r := results[0].Response.(*protocol.CreateTopicsResponse); r.Topics[0].Error != protocol.NONE {
		t.Errorf("first result error = %v; want NONE", r.Topics[0].Error)
	}
	if first.CorrelationID != 0 {
		t.Errorf("the command's request was modified (CorrelationID %d); want a copy sent", first.CorrelationID)
	}
	if a.Pending() != 0 {
		t.Errorf("Pending() = %d; want 0", a.Pending())
	}
}
