package checker

import (
	"strings"
	"testing"

	"kafkasim/broker"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// A fake cluster for the invariants that the fixed broker never breaks and no protocol
// switch breaks either: each test plants the bug in the fake (a "planted bug" without
// touching broker/), and the real runs of realrun_test.go and nemesis_test.go show the same
// invariants quiet on the real broker.

type fakeReplica struct {
	hw, leo, start int64
	leader         bool
	epoch          int32
	values         []int64 // value at offset i (epoch 0)
}

func (r *fakeReplica) HW() int64          { return r.hw }
func (r *fakeReplica) LEO() int64         { return r.leo }
func (r *fakeReplica) LogStart() int64    { return r.start }
func (r *fakeReplica) IsLeader() bool     { return r.leader }
func (r *fakeReplica) LeaderEpoch() int32 { return r.epoch }
func (r *fakeReplica) BatchAt(off int64) *protocol.RecordBatch {
	if off < r.start || off >= int64(len(r.values)) {
		return nil
	}
	return &protocol.RecordBatch{BaseOffset: off, Records: []protocol.Record{{Value: r.values[off]}}}
}

type fakeSource struct {
	reps map[int32]*fakeReplica // broker → its replica of orders/0
	meta *metadata.Image
}

func (s *fakeSource) Brokers() []int32 { return []int32{1, 2, 3} }
func (s *fakeSource) Hosted(b int32) []protocol.TopicPartition {
	if s.reps[b] == nil {
		return nil
	}
	return []protocol.TopicPartition{p0}
}
func (s *fakeSource) Replica(b int32, tp protocol.TopicPartition) replica {
	if r := s.reps[b]; r != nil && tp == p0 {
		return r
	}
	return nil
}
func (s *fakeSource) Current(b int32, _ *metadata.Image) bool { return s.reps[b] != nil }
func (s *fakeSource) Metadata() *metadata.Image               { return s.meta }

// setMeta commits a new state of orders/0.
func (s *fakeSource) setMeta(leader int32, epoch int32, isr ...int32) {
	if s.meta == nil {
		s.meta = metadata.NewImage()
		s.meta.Topics["orders"] = &metadata.Topic{Name: "orders", Partitions: []*metadata.Partition{nil}}
	}
	s.meta.Offset++
	s.meta.Topics["orders"].Partitions[0] = &metadata.Partition{Topic: "orders", Index: 0, Replicas: []int32{1, 2, 3}, ISR: isr, Leader: leader, LeaderEpoch: epoch}
}

func newFake() (*fakeSource, *Online) {
	s := &fakeSource{reps: map[int32]*fakeReplica{}}
	s.setMeta(1, 0, 1, 2, 3)
	o := newOnline(s)
	o.afterOther(0)
	return s, o
}

func wantOnly(t *testing.T, o *Online, inv string, event int, detail string) {
	t.Helper()
	vs := o.Violations()
	if len(vs) != 1 || vs[0].Invariant != inv || vs[0].Event != event || !strings.Contains(vs[0].Detail, detail) {
		t.Fatalf("violations %+v; want one %s at event %d saying %q", vs, inv, event, detail)
	}
}

func wantNone(t *testing.T, o *Online) {
	t.Helper()
	if vs := o.Violations(); len(vs) > 0 {
		t.Fatalf("violations %+v; want none", vs)
	}
}

func TestInvariantHWAtMostLEO(t *testing.T) {
	s, o := newFake()
	s.reps[2] = &fakeReplica{hw: 3, leo: 5, values: []int64{1, 2, 3, 4, 5}}
	o.afterBroker(1, 2)
	wantNone(t, o)
	s.reps[2].hw = 6 // planted: HW above LEO
	o.afterBroker(2, 2)
	o.afterBroker(3, 2) // still false: recorded once
	wantOnly(t, o, HWAtMostLEO, 2, "broker 2's replica of orders/0 has HW 6 above its LEO 5")
}

func TestInvariantLogStartAtMostLSO(t *testing.T) {
	s, o := newFake()
	s.reps[2] = &fakeReplica{hw: 3, leo: 5, start: 3, values: []int64{1, 2, 3, 4, 5}}
	o.afterBroker(1, 2)
	wantNone(t, o)
	s.reps[2].start = 4 // planted: retention past the HW
	o.afterBroker(2, 2)
	wantOnly(t, o, LogStartAtMostLSO, 2, "log start 4 above its LSO = HW 3")
}

func TestInvariantLeaderInISR(t *testing.T) {
	s, o := newFake()
	s.setMeta(2, 1, 2, 3)
	o.afterOther(1)
	wantNone(t, o)
	s.setMeta(1, 2, 2, 3) // planted: the controller elects outside the ISR without saying so
	o.afterOther(2)
	wantOnly(t, o, LeaderInISR, 2, "names leader 1 outside the ISR [2 3] (leader epoch 2)")
}

func TestInvariantOneLeaderPerEpoch(t *testing.T) {
	s, o := newFake()
	s.reps[1] = &fakeReplica{hw: 2, leo: 2, leader: true, epoch: 3, values: []int64{1, 2}}
	s.reps[2] = &fakeReplica{hw: 2, leo: 2, epoch: 3, values: []int64{1, 2}}
	o.afterBroker(1, 1)
	o.afterBroker(2, 2)
	wantNone(t, o)
	s.reps[2].leader = true // planted: a second leader in epoch 3
	o.afterBroker(3, 2)
	wantOnly(t, o, OneLeaderPerEpoch, 3, "brokers 1 and 2 both lead orders/0 in leader epoch 3")
}

func TestInvariantEpochsGrow(t *testing.T) {
	t.Run("replica", func(t *testing.T) {
		s, o := newFake()
		s.reps[2] = &fakeReplica{hw: 2, leo: 2, epoch: 3, values: []int64{1, 2}}
		o.afterBroker(1, 2)
		s.reps[2] = &fakeReplica{hw: 2, leo: 2, epoch: 1, values: []int64{1, 2}} // a restart starts afresh
		o.afterBroker(2, 2)
		wantNone(t, o)
		s.reps[2].epoch = 0 // planted: the same incarnation goes back
		o.afterBroker(3, 2)
		wantOnly(t, o, EpochsGrow, 3, "broker 2's replica of orders/0 went from leader epoch 1 back to 0")
	})
	t.Run("metadata", func(t *testing.T) {
		s, o := newFake()
		s.setMeta(2, 4, 2, 3)
		o.afterOther(1)
		wantNone(t, o)
		s.setMeta(3, 3, 2, 3) // planted
		o.afterOther(2)
		wantOnly(t, o, EpochsGrow, 2, "the committed leader epoch of orders/0 went from 4 back to 3")
	})
}

func TestInvariantLeaderHWMonotonic(t *testing.T) {
	s, o := newFake()
	s.reps[1] = &fakeReplica{hw: 4, leo: 5, leader: true, epoch: 2, values: []int64{1, 2, 3, 4, 5}}
	o.afterBroker(1, 1)
	s.reps[1].epoch, s.reps[1].hw = 3, 2 // a new epoch may start lower
	o.afterBroker(2, 1)
	s.reps[1].hw = 5
	o.afterBroker(3, 1)
	wantNone(t, o)
	s.reps[1].hw = 4 // planted: back within epoch 3
	o.afterBroker(4, 1)
	wantOnly(t, o, LeaderHWMonotonic, 4, "broker 1 leading orders/0 in epoch 3 moved its HW back from 5 to 4")
}

// StrongIsr and committed records on the fake too: the real runs show them against the
// broker; these pin the details (what is compared, incremental re-checks, forgiveness after
// an unclean election).
func TestInvariantStrongISR(t *testing.T) {
	s, o := newFake()
	s.reps[1] = &fakeReplica{hw: 3, leo: 4, leader: true, values: []int64{1, 2, 3, 4}}
	s.reps[2] = &fakeReplica{hw: 3, leo: 3, values: []int64{1, 2, 3}}
	s.reps[3] = &fakeReplica{hw: 1, leo: 1, values: []int64{1}}
	s.setMeta(1, 0, 1, 2)
	o.afterOther(1)
	wantNone(t, o)
	// Planted: an ISR member truncates below the HW and fetches something else.
	o.observe(&broker.Truncated{Broker: 2, TP: p0, From: 3, To: 1})
	s.reps[2].values[1] = 9
	o.afterBroker(2, 2)
	wantOnly(t, o, StrongISR, 2, "ISR member 2 of orders/0 holds 9 (epoch 0) at offset 1 where leader 1 (epoch 0) holds 2 (epoch 0), below its HW 3")
}

func TestInvariantCommittedKept(t *testing.T) {
	s, o := newFake()
	s.reps[1] = &fakeReplica{hw: 3, leo: 4, leader: true, values: []int64{1, 2, 3, 4}}
	o.afterBroker(1, 1)
	delete(s.reps, 1)
	s.reps[2] = &fakeReplica{hw: 1, leo: 2, leader: true, epoch: 1, values: []int64{1, 2}}
	o.afterBroker(2, 2)
	wantOnly(t, o, CommittedKept, 2, "leader 2 of orders/0 (epoch 1) ends at offset 2, but records up to offset 2 were committed: 1 committed records are gone")

	// After an unclean election the loss is permitted.
	s, o = newFake()
	s.reps[1] = &fakeReplica{hw: 3, leo: 4, leader: true, values: []int64{1, 2, 3, 4}}
	o.afterBroker(1, 1)
	delete(s.reps, 1)
	o.observe(&metadata.PartitionChangeRecord{Topic: "orders", Partition: 0, Leader: 2, LeaderEpoch: 1, ISR: []int32{2}, Unclean: true})
	s.reps[2] = &fakeReplica{hw: 1, leo: 2, leader: true, epoch: 1, values: []int64{1, 2}}
	o.afterBroker(2, 2)
	wantNone(t, o)
	if !o.UncleanElections() {
		t.Errorf("UncleanElections() = false after an unclean PartitionChangeRecord")
	}
}

// A zombie leader is not judged: broker 1, cut off from the metadata log, still presumes
// leadership in epoch 0 after broker 2 led in epoch 1 and committed more; broker 2 dies and
// broker 1 is the only broker presuming leadership, with a shorter log. Its log is truncated
// once it learns, and the committed records are on the new epoch's ISR (kafka7128's nemesis,
// seed 43: the checker used to report committed-never-truncated here).
func TestInvariantCommittedKeptIgnoresZombie(t *testing.T) {
	s, o := newFake()
	s.reps[1] = &fakeReplica{hw: 2, leo: 2, leader: true, values: []int64{1, 2}}
	s.reps[2] = &fakeReplica{hw: 2, leo: 2, values: []int64{1, 2}}
	o.afterBroker(1, 1)
	s.setMeta(2, 1, 2, 3) // the controller fenced broker 1 and elected broker 2
	o.afterOther(2)
	s.reps[2] = &fakeReplica{hw: 4, leo: 4, leader: true, epoch: 1, values: []int64{1, 2, 3, 4}}
	s.reps[3] = &fakeReplica{hw: 4, leo: 4, values: []int64{1, 2, 3, 4}}
	o.afterBroker(2, 2)
	delete(s.reps, 2)                                     // broker 2 dies; broker 1 still presumes leadership in epoch 0
	s.reps[1].leo, s.reps[1].values = 3, []int64{1, 2, 9} // and appends what it cannot commit
	o.afterBroker(3, 1)
	wantNone(t, o)

	// A leader of the newest epoch is still judged (planted: broker 3 lost records 3 and 4).
	s.setMeta(3, 2, 3)
	o.afterOther(4)
	s.reps[3] = &fakeReplica{hw: 2, leo: 2, leader: true, epoch: 2, values: []int64{1, 2}}
	o.afterBroker(4, 3)
	wantOnly(t, o, CommittedKept, 4, "leader 3 of orders/0 (epoch 2) ends at offset 2, but records up to offset 3 were committed: 2 committed records are gone")
}
