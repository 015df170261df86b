package broker

import (
	"testing"
	"time"

	"kafkasim/broker/protocol"
)

// Reference: LogManager.flushDirtyLogs: the periodic flusher flushes a log whose flush.ms has
// passed since its last flush; a log of a topic without flush.ms or flush.messages is never
// due, however long it waits (and the broker does not look at it).
func TestPeriodicFlushHonoursFlushMs(t *testing.T) {
	b := newTestBroker()
	timed := b.openPartition(0, protocol.TopicPartition{Topic: "orders", Partition: 0})
	timed.cfg.FlushInterval = time.Second
	timed.log.SetConfig(timed.cfg)
	plain := b.openPartition(0, protocol.TopicPartition{Topic: "orders", Partition: 1})
	for _, p := range []*Partition{timed, plain} {
		if err := p.log.AppendAsFollower([]*protocol.RecordBatch{batch(0, 3)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	b.Step(2*time.Second, b.id, timer{kind: tickHWCheckpoint})
	if n := timed.log.UnflushedMessages(); n != 0 {
		t.Errorf("flush.ms=1000, 2s after the append: %d messages unflushed; want 0", n)
	}
	if n := plain.log.UnflushedMessages(); n != 3 {
		t.Errorf("no flush.ms: %d messages unflushed; want 3 (left to replication)", n)
	}
}
