package session

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
	"kafkasim/tui/zookeeper"
)

// Snapshot is what the screen shows at one instant: read from the cluster through its
// read-only getters, never touched again. The timeline is a list of them.
type Snapshot struct {
	At      time.Duration // virtual time
	Hash    uint64        // trace hash at this instant
	Events  int           // trace length at this instant
	Actions int           // driver actions applied to reach it (replaying them reproduces it)
	Log     int           // entries of the event log up to it

	Nodes      []Node
	Partitions []Partition
	Clients    []Client
	Groups     []Group          // consumer groups, in the order first seen
	Network    []string         // network faults in force, as statements ("partition 1 | 2 3")
	ZooKeeper  *zookeeper.State // the ensemble and the znode tree in ZooKeeper mode, else nil

	Real []RealClient // real Kafka clients through the gateway (real.go)

	Caption   string        // the last say
	Line      int           // the script line in progress or next (0: none)
	Statement string        // that statement
	Paused    bool          // the script stopped at a pause
	Done      bool          // the script has run to its end
	Ended     bool          // the scenario has ended: its finish ran, its verdict is in (Session.Result)
	Failures  int           // expectations, awaits and faults that failed so far
	Waiting   string        // the await, wait or run until in progress ("" none)
	Deadline  time.Duration // when it gives up (an await fails then)
}

// Node is a broker or a controller.
type Node struct {
	ID          int32
	Name        string // "1", "c2"
	Controller  bool
	State       string // running, paused, stopping, stopped, killed, crashed
	Epoch       int64  // broker epoch (the registration's), 0 if never registered
	Fenced      bool   // the controller has fenced the broker
	Active      bool   // the active controller
	Role        string // a controller's quorum role (leader, follower, candidate…)
	QuorumEpoch int32
}

// Down reports whether the node is not running (killed, crashed, stopped or paused).
func (n Node) Down() bool { return n.State != "running" }

// Partition is one topic-partition as the committed metadata and the replicas have it.
type Partition struct {
	Topic    string
	Index    int32
	Leader   int32 // -1: none
	Epoch    int32 // leader epoch
	ISR      []int32
	ELR      []int32
	Offline  bool // no running, unfenced leader
	Unclean  bool // RECOVERING: the leader was elected uncleanly and has not yet recovered (KIP-704)
	Replicas []Replica

	// Adding and Removing are a reassignment in progress (KIP-455's adding and removing
	// replicas; Replicas then lists the target followed by the ones being removed).
	Adding, Removing []int32

	// Codec and Ratio: how the leader stores its latest batches (records.go).
	Codec string
	Ratio float64

	// OpenTxns are the transactions open in the leader's log, oldest first.
	OpenTxns []OpenTxn
}

// OpenTxn is a transaction open on a partition: its producer (the client's name when a
// transactional producer of the scenario has that producer id now), epoch and first offset.
type OpenTxn struct {
	Producer    string
	ProducerID  int64
	Epoch       int16
	FirstOffset int64
}

// Txn is a transactional producer's transaction manager as the client has it.
type Txn struct {
	State       string // TransactionManager's state: READY, IN_TRANSACTION, COMMITTING_TRANSACTION…
	Coordinator int32  // its transaction coordinator, -1 unknown
	ProducerID  int64
	Epoch       int16
	Committed   int64 // transactions committed
	Aborted     int64 // transactions aborted
}

// Reassigning reports whether a reassignment of the partition is in progress.
func (p Partition) Reassigning() bool { return len(p.Adding) > 0 || len(p.Removing) > 0 }

// Name is "topic/index".
func (p Partition) Name() string {
	return protocol.TopicPartition{Topic: p.Topic, Partition: p.Index}.String()
}

// LeaderReplica is the leader's replica, or nil.
func (p Partition) LeaderReplica() *Replica {
	for i := range p.Replicas {
		if p.Replicas[i].Broker == p.Leader {
			return &p.Replicas[i]
		}
	}
	return nil
}

// Replica is one broker's copy of a partition.
type Replica struct {
	Broker    int32
	Up        bool // the broker runs and hosts the replica
	LEO       int64
	HW        int64
	LogStart  int64
	InISR     bool
	InELR     bool
	Lag       int64 // the leader's LEO minus this LEO (0 for the leader or when unknown)
	Truncated bool  // its log was cut within the last TruncatedFor
	Stale     bool  // down: LEO/HW are the last seen
	Throttled bool  // its fetches wait for the replication throttle, its own or its leader's (KIP-73)
	Bytes     int64 // its log's size on disk (records.go)
	Segments  int   // its log's segment count
	LSO       int64 // its last stable offset: the HW, or the first offset of the oldest open transaction below it
	// Rolls are the base offsets of its segments after the first: where the log rolled; the
	// last is the active segment's.
	Rolls []int64
}

// Client is a producer or a consumer.
type Client struct {
	Name     string
	Producer bool
	Up       bool
	Paused   bool // its process is paused (p resumes it)
	Sent     int64
	Acked    int64
	Failed   int64
	Unknown  int64
	InFlight int64
	Consumed int64
	Txn      *Txn    // a transactional producer's, nil for any other client
	Codec    string  // a producer's compression.type
	Ratio    float64 // its batches' uncompressed size over their encoded size (0: none sent yet)
}

// TruncatedFor is how long a truncated replica stays marked.
const TruncatedFor = 5 * time.Second

// take reads the cluster. prev (may be nil) supplies what a down broker last showed.
func (tl *Timeline) take() *Snapshot {
	c := tl.c
	w := c.World
	s := &Snapshot{
		At: c.Now(), Hash: w.Trace().Hash(), Events: w.Trace().Len(), Actions: len(tl.actions), Log: len(tl.events),
		Caption: tl.caption, Line: tl.player.Line(), Statement: tl.player.Current(), Paused: tl.player.Paused(),
		Done: tl.player.Done(), Failures: tl.player.Failures(), Network: slices.Clone(tl.network),
		Ended: tl.result != nil,
	}
	if text, deadline, ok := tl.player.Waiting(); ok {
		s.Waiting, s.Deadline = text, deadline
	}
	im := c.Committed()
	active := c.ActiveController()
	for _, id := range c.BrokerIDs {
		n := Node{ID: id, Name: w.Name(id), State: w.State(id).String(), Active: id == active} // ZooKeeper mode: the controller broker
		if im != nil {
			if reg := im.Brokers[id]; reg != nil {
				n.Epoch, n.Fenced = reg.Epoch, reg.Fenced
			}
		} else if b := c.Broker(id); b != nil {
			n.Epoch, n.Fenced = b.Epoch(), b.Fenced()
		}
		s.Nodes = append(s.Nodes, n)
	}
	for _, id := range c.Controllers {
		n := Node{ID: id, Name: w.Name(id), Controller: true, State: w.State(id).String(), Active: id == active}
		if k := c.Controller(id); k != nil {
			n.Role, n.QuorumEpoch = k.Raft().Role(), k.Raft().Epoch()
		}
		s.Nodes = append(s.Nodes, n)
	}
	if s.ZooKeeper = zookeeper.Capture(c); s.ZooKeeper != nil { // the ensemble, as the controllers line shows
		for i, id := range c.ZooKeeper {
			z := s.ZooKeeper.Servers[i]
			s.Nodes = append(s.Nodes, Node{ID: id, Name: z.Name, Controller: true, State: z.State, Role: z.Role, QuorumEpoch: int32(z.Epoch)})
		}
	}
	for _, tp := range tl.partitions() {
		p := Partition{Topic: tp.Topic, Index: tp.Partition, Leader: -1}
		var assigned []int32
		if ps := c.PartitionState(tp); ps != nil {
			p.Leader, p.Epoch, p.Unclean = ps.Leader, ps.LeaderEpoch, ps.Recovering()
			p.ISR, p.ELR = slices.Clone(ps.ISR), slices.Clone(ps.ELR)
			p.Adding, p.Removing = slices.Clone(ps.AddingReplicas), slices.Clone(ps.RemovingReplicas)
			assigned = ps.Replicas
			tl.assigned[tp] = assigned
		} else {
			assigned = tl.assigned[tp] // no active controller: the last assignment seen
		}
		p.Offline = !c.Online(tp)
		var leaderLEO int64 = -1
		if r := c.Replica(p.Leader, tp); r != nil {
			leaderLEO = r.LEO()
		}
		for _, b := range assigned {
			rep := Replica{Broker: b, InISR: slices.Contains(p.ISR, b), InELR: slices.Contains(p.ELR, b)}
			if r := c.Replica(b, tp); r != nil {
				rep.Up, rep.LEO, rep.HW, rep.LogStart, rep.LSO = true, r.LEO(), r.HW(), r.LogStart(), r.LastStableOffset()
				rep.Bytes, rep.Segments, rep.Rolls = logSize(r.Log())
				if b == p.Leader {
					p.Codec, p.Ratio = compression(r.Log())
					for _, o := range r.OpenTransactions() {
						p.OpenTxns = append(p.OpenTxns, OpenTxn{ProducerID: o.ProducerID, Epoch: o.Epoch, FirstOffset: o.FirstOffset})
					}
				}
				rep.Throttled = c.Broker(b).ReplicationThrottled(tp)
				if lb := c.Broker(p.Leader); lb != nil && b != p.Leader {
					rep.Throttled = rep.Throttled || lb.LeaderThrottles(tp, b)
				}
			} else if last, ok := tl.lastSeen[replicaKey{tp, b}]; ok {
				rep.LEO, rep.HW, rep.LogStart, rep.LSO, rep.Stale = last.LEO, last.HW, last.LogStart, last.LSO, true
			}
			if rep.Up {
				tl.lastSeen[replicaKey{tp, b}] = rep
			}
			if leaderLEO >= 0 && b != p.Leader && rep.LEO < leaderLEO {
				rep.Lag = leaderLEO - rep.LEO
			}
			if at, ok := tl.truncated[replicaKey{tp, b}]; ok && s.At-at < TruncatedFor {
				rep.Truncated = true
			}
			p.Replicas = append(p.Replicas, rep)
		}
		s.Partitions = append(s.Partitions, p)
	}
	for _, name := range c.ClientNames() {
		cl := Client{Name: name}
		if pr := c.Producer(name); pr != nil {
			st := pr.Stats()
			cl.Producer, cl.Up = true, true
			cl.Sent, cl.Acked, cl.Failed, cl.Unknown, cl.InFlight = st.Sent, st.Acked, st.Failed, st.Unknown, st.InFlight
			cl.Codec = pr.Compression()
			if st.Bytes > 0 {
				cl.Ratio = float64(st.Plain) / float64(st.Bytes)
			}
			if ts, ok := pr.TransactionStatus(); ok {
				cl.Txn = &Txn{State: string(ts.State), Coordinator: ts.Coordinator, ProducerID: ts.ProducerID, Epoch: ts.Epoch, Committed: st.Committed, Aborted: st.Aborted}
			}
		} else if co := c.Consumer(name); co != nil {
			cl.Up = true
			cl.Consumed = co.Stats().Consumed
		} else if id, ok := c.Client(name); ok && w.State(id) != sim.Running {
			cl.Producer = tl.producers[name]
		}
		if id, ok := c.Client(name); ok {
			cl.Paused = w.State(id) == sim.Paused
		}
		s.Clients = append(s.Clients, cl)
	}
	nameOpenTxns(s)
	s.Groups = tl.takeGroups()
	if tl.real != nil {
		s.Real = tl.real()
	}
	return s
}

type replicaKey struct {
	tp     protocol.TopicPartition
	broker int32
}

// partitions lists every partition of the committed metadata, sorted by topic then index,
// internal topics last.
func (tl *Timeline) partitions() []protocol.TopicPartition {
	c := tl.player.Cluster()
	im := c.Committed()
	if im == nil {
		return tl.lastTPs
	}
	// The topics people made first, the internal ones (__consumer_offsets) after them.
	names := slices.Clone(im.TopicNames())
	slices.SortStableFunc(names, func(a, b string) int {
		return cmp.Compare(b2i(strings.HasPrefix(a, "__")), b2i(strings.HasPrefix(b, "__")))
	})
	var out []protocol.TopicPartition
	for _, name := range names {
		for i := range im.Topics[name].Partitions {
			out = append(out, cluster.TP(name, i))
		}
	}
	tl.lastTPs = out
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nameOpenTxns names each open transaction's producer after the transactional producer that
// has its producer id now (a fenced or restarted one's old transaction keeps only its id).
func nameOpenTxns(s *Snapshot) {
	for i := range s.Partitions {
		for j := range s.Partitions[i].OpenTxns {
			o := &s.Partitions[i].OpenTxns[j]
			for _, c := range s.Clients {
				if c.Txn != nil && c.Txn.ProducerID == o.ProducerID {
					o.Producer = c.Name
				}
			}
		}
	}
}
