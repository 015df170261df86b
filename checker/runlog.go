package checker

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// Election is one leader change of a partition, as the report tells it: the controller's
// PartitionChangeRecord (PartitionChangeBuilder.tryElection) and the new leader's
// Partition.makeLeader, which says how long its log was.
type Election struct {
	At      time.Duration // when the controller elected the leader (or the broker took over)
	TP      string        // "orders/0"
	Leader  int32         // the new leader (-1: the partition went offline)
	Prev    int32         // the last leader before (-1: none), across a spell offline
	Epoch   int32         // the new leader epoch
	Unclean bool          // elected from outside the ISR and ELR (unclean.leader.election.enable)
	LEO     int64         // the new leader's log end offset when it took over, -1 if unknown
}

// ReplicaPoint is one sample of a replica: its log end offset and high watermark.
type ReplicaPoint struct {
	At      time.Duration
	LEO, HW int64
	Up      bool // the broker ran and hosted the replica (else LEO and HW are the last seen)
	Leader  bool // the committed metadata named it leader
}

// ReplicaSeries is one replica's samples over a run, for the report's HW/LEO chart.
type ReplicaSeries struct {
	TP     string
	Broker int32
	Points []ReplicaPoint
}

// SampleEvery is how often, in virtual time, RecordRun samples every replica's HW and LEO.
const SampleEvery = 100 * time.Millisecond

// maxSampledPartitions bounds the partitions RecordRun samples: the report charts a few.
const maxSampledPartitions = 8

// RunLog collects, while a cluster runs, what the report tells besides the history: the
// faults, the leader elections, and each replica's HW and LEO over time. It only reads the
// cluster (read-only getters, as the TUI's snapshots do), so the run's trace is the same
// with or without it.
type RunLog struct {
	c         *cluster.Cluster
	faults    FaultLog
	elections []Election
	byEpoch   map[electionKey]int // (partition, epoch) → index into elections
	leader    map[string]int32    // partition → its leader per the last record seen
	series    []*ReplicaSeries
	seriesOf  map[repKey]*ReplicaSeries
	tps       []protocol.TopicPartition
	assigned  map[protocol.TopicPartition][]int32
	next      time.Duration
}

type electionKey struct {
	tp    string
	epoch int32
}

// RecordRun starts collecting c's faults, elections and replica samples. Call it once the
// cluster exists (scenarios.Options.Observe).
func RecordRun(c *cluster.Cluster) *RunLog {
	l := &RunLog{c: c, byEpoch: map[electionKey]int{}, leader: map[string]int32{}, seriesOf: map[repKey]*ReplicaSeries{},
		assigned: map[protocol.TopicPartition][]int32{}, next: c.Now()}
	c.World.OnObserve(func(now time.Duration, _ int32, ev any) { l.observe(now, ev) })
	c.World.OnEvent(func(e *sim.Event) {
		l.faults.log.Add(*e)
		if e.Time >= l.next {
			l.sample(e.Time)
			l.next = e.Time - e.Time%SampleEvery + SampleEvery
		}
	})
	return l
}

// Faults returns the run's faults in time order.
func (l *RunLog) Faults() []Fault { return l.faults.Faults() }

// Elections returns the leader changes of the run's topics (not the internal ones) in time
// order, each partition's first (its creation, leader epoch 0) included.
func (l *RunLog) Elections() []Election { return slices.Clone(l.elections) }

// Replicas returns every sampled replica's series, by partition then broker.
func (l *RunLog) Replicas() []ReplicaSeries {
	out := make([]ReplicaSeries, 0, len(l.series))
	for _, s := range l.series {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b ReplicaSeries) int { return cmp.Or(cmp.Compare(a.TP, b.TP), cmp.Compare(a.Broker, b.Broker)) })
	return out
}

func (l *RunLog) observe(now time.Duration, ev any) {
	switch e := ev.(type) {
	case *metadata.PartitionChangeRecord:
		if strings.HasPrefix(e.Topic, "__") {
			return
		}
	case *broker.BecameLeader:
		if strings.HasPrefix(e.TP.Topic, "__") {
			return
		}
	}
	switch e := ev.(type) {
	case *metadata.PartitionRecord:
		l.leader[cluster.TP(e.Topic, int(e.Partition)).String()] = e.Leader
	case *metadata.PartitionChangeRecord:
		tp := cluster.TP(e.Topic, int(e.Partition)).String()
		prev, known := l.leader[tp]
		l.leader[tp] = e.Leader
		if known && prev == e.Leader {
			return
		}
		el := l.election(tp, e.LeaderEpoch, now)
		el.Leader, el.Unclean = e.Leader, el.Unclean || e.Unclean
	case *broker.BecameLeader:
		el := l.election(e.TP.String(), e.Epoch, now)
		el.Leader = e.Broker
		if el.LEO < 0 {
			el.LEO = e.StartOffset
		}
	}
}

// election is the partition's election of epoch, new if not seen yet.
func (l *RunLog) election(tp string, epoch int32, now time.Duration) *Election {
	k := electionKey{tp, epoch}
	if i, ok := l.byEpoch[k]; ok {
		return &l.elections[i]
	}
	l.byEpoch[k] = len(l.elections)
	prev := int32(-1)
	for i := len(l.elections) - 1; i >= 0; i-- {
		if l.elections[i].TP == tp && l.elections[i].Leader >= 0 {
			prev = l.elections[i].Leader
			break
		}
	}
	l.elections = append(l.elections, Election{At: now, TP: tp, Leader: -1, Prev: prev, Epoch: epoch, LEO: -1})
	return &l.elections[len(l.elections)-1]
}

// sample reads every replica's LEO and HW (a down broker keeps its last values).
func (l *RunLog) sample(now time.Duration) {
	c := l.c
	if im := c.Committed(); im != nil {
		l.tps = l.tps[:0]
		for _, name := range im.TopicNames() {
			if strings.HasPrefix(name, "__") {
				continue // internal topics: __consumer_offsets, __transaction_state
			}
			for i, p := range im.Topics[name].Partitions {
				if len(l.tps) == maxSampledPartitions {
					break
				}
				tp := cluster.TP(name, i)
				l.tps = append(l.tps, tp)
				if p != nil {
					l.assigned[tp] = p.Replicas
				}
			}
		}
	}
	for _, tp := range l.tps {
		leader := c.Leader(tp)
		for _, b := range l.assigned[tp] {
			k := repKey{b, tp}
			s := l.seriesOf[k]
			if s == nil {
				s = &ReplicaSeries{TP: tp.String(), Broker: b}
				l.seriesOf[k] = s
				l.series = append(l.series, s)
			}
			pt := ReplicaPoint{At: now, LEO: -1, HW: -1, Leader: b == leader}
			if r := c.Replica(b, tp); r != nil && c.World.State(b) == sim.Running {
				pt.LEO, pt.HW, pt.Up = r.LEO(), r.HW(), true
			} else if n := len(s.Points); n > 0 {
				pt.LEO, pt.HW = s.Points[n-1].LEO, s.Points[n-1].HW
			}
			s.Points = append(s.Points, pt)
		}
	}
}
