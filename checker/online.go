package checker

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/client"
	"kafkasim/broker/group"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
	"kafkasim/broker/quorum"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// Invariant names.
const (
	HWAtMostLEO       = "hw-le-leo"                 // every replica: HW ≤ LEO
	LogStartAtMostLSO = "logstart-le-lso-le-hw"     // every replica: logStart ≤ LSO ≤ HW (LSO = HW without transactions)
	LeaderInISR       = "leader-in-isr"             // committed metadata: the leader is in the ISR
	OneLeaderPerEpoch = "one-leader-per-epoch"      // at most one broker leads a partition in one leader epoch
	EpochsGrow        = "leader-epochs-grow"        // leader epochs never go back (committed metadata, every replica)
	LeaderHWMonotonic = "leader-hw-monotonic"       // a leader's HW never goes back within its epoch
	StrongISR         = "strong-isr"                // every ISR member holds the leader's records below its HW
	CommittedKept     = "committed-never-truncated" // the leader holds every committed record, unless an unclean election happened
	CompactionLostKey = "compaction-lost-key"       // a compacted topic's leader holds every key's latest committed record (compaction.go)
)

// InvariantNames lists the online invariants.
var InvariantNames = []string{HWAtMostLEO, LogStartAtMostLSO, LeaderInISR, OneLeaderPerEpoch, EpochsGrow, LeaderHWMonotonic, StrongISR, CommittedKept, OneOwnerPerGeneration, ReassignKeepsMinISR, CompactionLostKey, HangingTransaction, OneQuorumLeaderPerEpoch}

// Violation is an online invariant found false.
type Violation struct {
	Invariant string
	Event     int // trace index of the event after which it first held false
	Detail    string
}

// replica is what the invariants read of one replica; *broker.Partition provides it through
// liveReplica. Two replica values are equal only for the same incarnation of the replica.
type replica interface {
	HW() int64
	LEO() int64
	LogStart() int64
	IsLeader() bool
	LeaderEpoch() int32
	BatchAt(offset int64) *protocol.RecordBatch
}

// source is the cluster as the invariants see it.
type source interface {
	Brokers() []int32
	Hosted(b int32) []protocol.TopicPartition // partitions running broker b hosts, sorted
	Replica(b int32, tp protocol.TopicPartition) replica
	// Current: b runs and is the registered, unfenced incarnation in the committed image im.
	Current(b int32, im *metadata.Image) bool
	// Metadata is the active controller's committed image (nil without one).
	Metadata() *metadata.Image
}

// Online checks invariants after every world event. It never stops the run: it records
// each distinct violation once.
type Online struct {
	src    source
	next   int // trace index of the next event
	event  int // trace index of the event being checked
	seen   map[string]bool
	out    []Violation
	reps   map[repKey]*repState
	parts  map[protocol.TopicPartition]*partState
	leader map[epochKey]int32

	metaImage  *metadata.Image
	metaOffset int64
	metaParts  map[protocol.TopicPartition]*metadata.Partition
	metaEpoch  map[protocol.TopicPartition]int32

	unclean map[protocol.TopicPartition]int32 // highest leader epoch elected uncleanly

	owners map[ownerKey]string // group, generation, partition → the member's client (groups.go)
	claims epochClaims         // KIP-848 groups: who owns each partition at which member epoch (groups.go)

	assign map[protocol.TopicPartition]assignment // as the appended records left it (reassign_checks.go)

	hangChecked map[int32]time.Duration // when each broker's leaders were last checked (hanging.go)
	hosted      map[int32][]hostedEntry // each broker's replicas with their state, as last walked (hosted.go)
	hostedBuf   []hostedReplica

	quorumLeaders map[int32]int32 // metadata quorum epoch → the controller that led it (quorum_checks.go)
	quorumPending [][3]int32      // epoch, first leader, second leader: reported after the step
}

type repKey struct {
	b  int32
	tp protocol.TopicPartition
}

type epochKey struct {
	tp    protocol.TopicPartition
	epoch int32
}

// repState is what is remembered of one replica incarnation.
type repState struct {
	r         replica
	epoch     int32
	leading   bool
	leaderHW  int64 // HW while leading in epoch
	hw, leo   int64 // as last checked
	start     int64
	truncated bool // a truncation was observed since the last check
}

// partState tracks one partition: the committed records and how far replicas were verified.
type partState struct {
	recs     committedLog // committed records
	minEpoch int32        // leaders below this epoch are not judged (an unclean election reset)
	topEpoch int32        // the highest epoch a broker has led in; a leader below it is a zombie
	kept     verified
	isr      map[int32]verified
	compact  *compactState // a compacted topic's keys (compaction.go)
	removed  *removedLog   // what retention and the cleaner removed by design (retention.go)
}

// recID identifies a record: its value and the leader epoch it was appended in.
type recID struct {
	value int64
	epoch int32
}

// verified: member's log matches ref's (or the committed records, ref nil) below upTo, as
// long as both are the same incarnations and neither was truncated below upTo.
type verified struct {
	ref, member replica
	upTo        int64
}

func newOnline(src source) *Online {
	return &Online{src: src, seen: map[string]bool{}, reps: map[repKey]*repState{}, parts: map[protocol.TopicPartition]*partState{},
		leader: map[epochKey]int32{}, metaParts: map[protocol.TopicPartition]*metadata.Partition{}, metaEpoch: map[protocol.TopicPartition]int32{},
		unclean: map[protocol.TopicPartition]int32{}, metaOffset: -2, assign: map[protocol.TopicPartition]assignment{}, hangChecked: map[int32]time.Duration{}, hosted: map[int32][]hostedEntry{}}
}

// Attach starts checking c's invariants after every event of its world, from now on. It
// registers OnEvent and OnObserve hooks; an event re-checks only what it can have changed
// (the replicas of the broker it happened at, or the metadata after a controller's step).
func Attach(c *cluster.Cluster) *Online {
	o := newOnline(&clusterSource{c: c, isBroker: map[int32]bool{}})
	cs := o.src.(*clusterSource)
	for _, b := range c.BrokerIDs {
		cs.isBroker[b] = true
	}
	o.next = c.World.Trace().Len()
	c.World.OnObserve(func(_ time.Duration, _ int32, ev any) { o.observe(ev) })
	c.World.OnEvent(func(e *sim.Event) {
		idx := o.next
		o.next++
		switch e.Kind {
		case sim.Deliver, sim.Timer, sim.Inject, sim.Start, sim.Fault, sim.Halt:
		default:
			return // observations and drops come with a step already checked, or change nothing
		}
		if len(c.BrokerIDs) != cs.brokers { // a broker added since (add broker N)
			cs.brokers = len(c.BrokerIDs)
			for _, b := range c.BrokerIDs {
				cs.isBroker[b] = true
			}
		}
		if cs.isBroker[e.Node] {
			o.afterBroker(idx, e.Node)
		} else {
			o.afterOther(idx)
		}
	})
	return o
}

// Violations lists the violations found so far, in the order found.
func (o *Online) Violations() []Violation { return slices.Clone(o.out) }

// UncleanElections reports whether the controller elected a leader uncleanly so far.
func (o *Online) UncleanElections() bool { return len(o.unclean) > 0 }

// UncleanCoordinatorElections reports whether an unclean election so far was of a partition of
// __consumer_offsets or __transaction_state: the coordinators' state written before it (a
// group's committed offsets, a transaction's outcome) may be gone.
func (o *Online) UncleanCoordinatorElections() bool {
	for tp := range o.unclean {
		if tp.Topic == protocol.OffsetsTopic || tp.Topic == protocol.TransactionStateTopic {
			return true
		}
	}
	return false
}

func (o *Online) violate(key, inv, format string, args ...any) {
	k := inv + "|" + key
	if o.seen[k] {
		return
	}
	o.seen[k] = true
	o.out = append(o.out, Violation{Invariant: inv, Event: o.event, Detail: fmt.Sprintf(format, args...)})
}

// observe takes in what nodes report during a step, before the step's events are checked:
// truncations (verified ranges shrink) and unclean elections.
func (o *Online) observe(ev any) {
	switch e := ev.(type) {
	case quorum.StateChange:
		o.quorumLeader(e)
	case *client.GroupAssigned:
		o.groupAssigned(e)
	case *group.MemberLeft:
		o.groupMemberLeft(e)
	case *group.StateChanged:
		o.groupEpochSeen(e.Group, e.Generation)
	case *group.Loaded:
		o.groupEpochSeen(e.Group, e.Generation)
	case *broker.Truncated:
		o.truncated(e.TP, e.To)
		if rs := o.reps[repKey{e.Broker, e.TP}]; rs != nil {
			rs.truncated = true
		}
	case *metadata.PartitionRecord:
		o.reassignRecord(e)
	case *metadata.PartitionChangeRecord:
		o.reassignRecord(e)
		if e.Unclean {
			tp := protocol.TopicPartition{Topic: e.Topic, Partition: e.Partition}
			if cur, ok := o.unclean[tp]; !ok || e.LeaderEpoch > cur {
				o.unclean[tp] = e.LeaderEpoch
			}
		}
	}
}

func (o *Online) truncated(tp protocol.TopicPartition, to int64) {
	ps := o.parts[tp]
	if ps == nil {
		return
	}
	ps.kept.upTo = min(ps.kept.upTo, to)
	for b, v := range ps.isr {
		v.upTo = min(v.upTo, to)
		ps.isr[b] = v
	}
}

func (o *Online) part(tp protocol.TopicPartition) *partState {
	ps := o.parts[tp]
	if ps == nil {
		ps = &partState{isr: map[int32]verified{}}
		o.parts[tp] = ps
	}
	return ps
}

// afterBroker checks broker b's replicas, and the partitions they belong to, after event idx.
func (o *Online) afterBroker(idx int, b int32) {
	o.event = idx
	if o.afterBrokerHosted(b) { // hosted.go: the same checks without a map lookup per replica
		o.checkHanging(b)
		return
	}
	for _, tp := range o.src.Hosted(b) {
		if r := o.src.Replica(b, tp); r != nil && o.checkReplica(b, tp, r) {
			o.checkPartition(tp)
		}
	}
	o.checkHanging(b)
}

// afterOther checks the committed metadata if it changed, and the partitions whose state
// changed with it.
func (o *Online) afterOther(idx int) {
	o.event = idx
	if len(o.quorumPending) > 0 {
		o.flushQuorum()
	}
	im := o.src.Metadata()
	if im == nil || (im == o.metaImage && im.Offset == o.metaOffset) {
		return
	}
	o.metaImage, o.metaOffset = im, im.Offset
	for _, name := range im.TopicNames() {
		for _, mp := range im.Topics[name].Partitions {
			if mp == nil {
				continue
			}
			tp := protocol.TopicPartition{Topic: mp.Topic, Partition: mp.Index}
			if o.metaParts[tp] == mp {
				continue
			}
			o.metaParts[tp] = mp
			o.checkMetadata(tp, mp)
			o.checkPartition(tp)
		}
	}
}
