package broker

import (
	"maps"
	"slices"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// memDisk and quietEnv are the smallest machine a broker runs on outside the simulator.
type memDisk struct{ files map[string][]any }

func (d *memDisk) Append(file string, entry any) { d.files[file] = append(d.files[file], entry) }
func (d *memDisk) Truncate(file string, n int)   { d.files[file] = d.files[file][:n] }
func (d *memDisk) Read(file string) []any        { return d.files[file] }
func (d *memDisk) Len(file string) int           { return len(d.files[file]) }
func (d *memDisk) Write(file string, es []any)   { d.files[file] = slices.Clone(es) }
func (d *memDisk) Flush(string)                  {}
func (d *memDisk) Remove(file string)            { delete(d.files, file) }
func (d *memDisk) Files() []string               { return slices.Sorted(maps.Keys(d.files)) }

type quietEnv struct{}

func (quietEnv) ID() int32                { return 3 }
func (quietEnv) Send(int32, any)          {}
func (quietEnv) After(time.Duration, any) {}
func (quietEnv) Rand() uint64             { return 1 }
func (quietEnv) Halt()                    {}
func (quietEnv) Observe(any)              {}
func newTestBroker() *Broker {
	return New(Options{ID: 3, Config: config.DefaultBroker()}, quietEnv{}, &memDisk{files: map[string][]any{}}, 0)
}
func batch(base int64, n int) *protocol.RecordBatch {
	b := &protocol.RecordBatch{BaseOffset: base, ProducerID: protocol.NoProducerID, BaseSequence: protocol.NoSequence}
	for i := 0; i < n; i++ {
		b.Records = append(b.Records, protocol.Record{Value: base + int64(i)})
	}
	return b
}

// Reference: UnifiedLog.maybeUpdateHighWatermark, called by ReplicaFetcherThread.
// processPartitionData: a follower sets its HW to the leader's, bounded by its own log start and
// end offsets, so it goes down when a new leader reports a lower HW than the old one did (a new
// leader's HW lags until every ISR member has fetched from it).
func TestFollowerHighWatermarkFollowsLeaderDown(t *testing.T) {
	b := newTestBroker()
	p := b.openPartition(0, protocol.TopicPartition{Topic: "orders", Partition: 0})
	if err := p.log.AppendAsFollower([]*protocol.RecordBatch{batch(0, 10)}, 0); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct{ leaderHW, want int64 }{
		{8, 8},   // the old leader's HW
		{5, 5},   // a new leader's lower HW: the follower's goes down with it
		{20, 10}, // never past the follower's LEO
	} {
		p.processFetch(time.Second, &protocol.FetchPartitionResponse{TP: p.tp, HighWatermark: step.leaderHW, DivergingEpoch: protocol.EpochEndOffset{Epoch: protocol.UnknownEpoch, EndOffset: -1}})
		if p.hw != step.want {
			t.Fatalf("leader HW %d: got follower HW %d; want %d (min(leader HW, LEO))", step.leaderHW, p.hw, step.want)
		}
	}
}
