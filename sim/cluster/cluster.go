// Package cluster builds a Kafka cluster in a simulated world: KRaft controllers, brokers, an
// admin client, producers and consumers, wired to a sim.World. It is the Go API that tests,
// the scenario runner and the terminal UI drive: build a cluster, apply faults, advance time,
// inspect any node. The package imports both sim and broker; neither imports the other.
package cluster

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/client"
	"kafkasim/broker/config"
	"kafkasim/broker/controller"
	"kafkasim/broker/history"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
)

// Spec describes a cluster.
type Spec struct {
	Brokers     int
	Controllers int           // dedicated KRaft controllers (default 3)
	Broker      config.Broker // cluster-wide broker and topic defaults, protocol switches
	Sim         sim.Options
	// ZooKeeper > 0 runs ZooKeeper mode (zookeeper.go): an ensemble z1..zN instead of the KRaft
	// controllers, with the brokers' zookeeper.session.timeout.ms (0: 18 s).
	ZooKeeper               int
	ZooKeeperSessionTimeout time.Duration
}

// DefaultSpec is a 3-broker, 3-controller cluster with Kafka 4.x defaults.
func DefaultSpec() Spec {
	return Spec{Brokers: 3, Controllers: 3, Broker: config.DefaultBroker(), Sim: sim.DefaultOptions()}
}

// AdminID is the node id of the cluster's admin client.
const AdminID = node.ClientBase

// Cluster is a running simulated Kafka cluster.
type Cluster struct {
	Spec        Spec
	World       *sim.World
	BrokerIDs   []int32
	Controllers []int32
	history     history.Log
	Booted      time.Duration // virtual time at which the cluster had booted

	clients     map[string]int32
	clientNames []string
	nextClient  int32
	producers   int
	topics      map[string]int // name → replication factor, as created
	adminDone   int
	adminErrors []error
	removing    map[int32]bool // brokers to unregister once stopped (elastic.go)
	ZooKeeper   []int32        // the ensemble's servers in ZooKeeper mode (zookeeper.go)
	zk          *zkView
	consumerCfg map[string]*config.Consumer // what a consumer's next start is built with (reconfigure.go)
}

// New validates the spec and starts the controllers, brokers and the admin client at time 0.
func New(spec Spec) (*Cluster, error) {
	if spec.Brokers < 1 {
		return nil, fmt.Errorf("brokers: %d is not a broker count (need at least 1)", spec.Brokers)
	}
	if spec.Brokers > int(node.ControllerBase) {
		return nil, fmt.Errorf("brokers: %d is too many", spec.Brokers)
	}
	if spec.ZooKeeper != 0 {
		return newZooKeeperCluster(spec)
	}
	if spec.Controllers < 1 || spec.Controllers > 9 {
		return nil, fmt.Errorf("controllers: %d is not between 1 and 9", spec.Controllers)
	}
	if err := spec.Broker.Validate(); err != nil {
		return nil, err
	}
	if spec.Sim.ConnectionReset == nil {
		spec.Sim.ConnectionReset = func(peer int32) any { return &node.ConnectionReset{Peer: peer} }
	}
	c := &Cluster{Spec: spec, World: sim.New(spec.Sim), clients: map[string]int32{}, nextClient: AdminID + 1, topics: map[string]int{}}
	c.World.OnObserve(c.observe)
	for i := 1; i <= spec.Controllers; i++ {
		c.Controllers = append(c.Controllers, node.ControllerID(i))
	}
	for i := 1; i <= spec.Brokers; i++ {
		c.BrokerIDs = append(c.BrokerIDs, int32(i))
	}
	for _, id := range c.Controllers {
		id := id
		c.World.AddNode(id, node.Name(id), func(h *sim.Host) sim.Node {
			return controller.New(id, c.Controllers, spec.Broker, h, h.Disk(), h.Now())
		})
	}
	for _, id := range c.BrokerIDs {
		id := id
		c.World.AddNode(id, node.Name(id), func(h *sim.Host) sim.Node {
			return broker.New(broker.Options{ID: id, Controllers: c.Controllers, Config: spec.Broker}, h, h.Disk(), h.Now())
		})
	}
	c.World.AddNode(AdminID, "admin", func(h *sim.Host) sim.Node {
		return client.NewAdmin(client.AdminOptions{Name: "admin", Controllers: c.Controllers, RequestTimeout: 5 * time.Second}, h, h.Now())
	})
	// Boot: the quorum elects a controller, every broker registers and is unfenced, as an
	// operator would wait for before creating topics.
	if err := c.WaitReady(bootLimit); err != nil {
		return nil, fmt.Errorf("cluster did not boot: %v", err)
	}
	c.Booted = c.Now()
	return c, nil
}

// bootLimit bounds the boot of a new cluster in virtual time.
const bootLimit = 60 * time.Second

func (c *Cluster) observe(now time.Duration, id int32, ev any) {
	switch e := ev.(type) {
	case *history.Op:
		c.history.Add(*e)
	case history.Ops:
		c.history.AddAll(e)
	case *history.Sends:
		c.history.AddSends(e)
	case *client.AdminResult:
		c.adminDone++
		if err := adminError(e); err != nil {
			c.adminErrors = append(c.adminErrors, err)
		}
	}
}

func adminError(r *client.AdminResult) error {
	switch resp := r.Response.(type) {
	case *protocol.CreateTopicsResponse:
		for _, t := range resp.Topics {
			if t.Error != protocol.NONE {
				return fmt.Errorf("create topic %s: %v %s", t.Name, t.Error, t.ErrorMessage)
			}
		}
	case *protocol.CreatePartitionsResponse:
		if resp.Error != protocol.NONE {
			return fmt.Errorf("create partitions: %v %s", resp.Error, resp.ErrorMessage)
		}
	case *protocol.IncrementalAlterConfigsResponse:
		if resp.Error != protocol.NONE {
			return fmt.Errorf("alter configs: %v %s", resp.Error, resp.ErrorMessage)
		}
	case *protocol.AlterPartitionReassignmentsResponse:
		for _, p := range resp.Results {
			if p.Error != protocol.NONE {
				return fmt.Errorf("reassign %s: %v %s", p.TP, p.Error, p.ErrorMessage)
			}
		}
	case *protocol.UnregisterBrokerResponse:
		if resp.Error != protocol.NONE {
			return fmt.Errorf("unregister broker: %v %s", resp.Error, resp.ErrorMessage)
		}
	}
	return nil
}

// History returns the client operations recorded so far, in completion order (a copy).
func (c *Cluster) History() history.History { return c.history.History(0) }

// HistorySince returns the operations from index from on (a copy).
func (c *Cluster) HistorySince(from int) history.History { return c.history.History(from) }

// Log returns the client operations recorded so far, read in place (not a copy): the
// checker judges a long run's history without copying it.
func (c *Cluster) Log() history.Reader { return &c.history }

// LogView returns the operations recorded so far, read in place and frozen: the run may go on
// (on another goroutine too) while a judge reads it (history.Log.View).
func (c *Cluster) LogView() *history.Log { return c.history.View() }

// Ops is the number of operations recorded so far.
func (c *Cluster) Ops() int { return c.history.Len() }

// AdminErrors lists the admin commands the controller refused.
func (c *Cluster) AdminErrors() []error { return c.adminErrors }

// Now is the virtual time.
func (c *Cluster) Now() time.Duration { return c.World.Now() }

// RunFor advances virtual time by d.
func (c *Cluster) RunFor(d time.Duration) { c.World.RunFor(d) }

// RunUntil advances until cond holds or limit passes; it reports whether cond held.
func (c *Cluster) RunUntil(cond func() bool, limit time.Duration) bool {
	return c.World.RunUntil(cond, limit)
}

// TopicSpec is a topic to create.
type TopicSpec struct {
	Name        string
	Partitions  int
	Replication int
	Assignment  [][]int32         // optional: replicas per partition, first = preferred leader
	Configs     map[string]string // topic configs by Kafka name
}

// CreateTopic validates the topic against the cluster and asks the controller to create it.
// The topic exists once the controller has committed it (see WaitTopics).
func (c *Cluster) CreateTopic(t TopicSpec) error {
	if t.Name == "" {
		return fmt.Errorf("topic: a name is required")
	}
	if _, dup := c.topics[t.Name]; dup {
		return fmt.Errorf("topic %s: already defined", t.Name)
	}
	if t.Partitions < 1 {
		return fmt.Errorf("partitions: %d is not a partition count (need at least 1)", t.Partitions)
	}
	if t.Assignment != nil {
		if len(t.Assignment) != t.Partitions {
			return fmt.Errorf("replicas: %d assignments for %d partitions", len(t.Assignment), t.Partitions)
		}
		if t.Replication == 0 {
			t.Replication = len(t.Assignment[0])
		}
		for i, rs := range t.Assignment {
			if len(rs) != t.Replication {
				return fmt.Errorf("replicas: partition %d has %d replicas, replication is %d", i, len(rs), t.Replication)
			}
			for j, r := range rs {
				if !slices.Contains(c.BrokerIDs, r) {
					return fmt.Errorf("replicas: partition %d names broker %d, which does not exist (brokers are 1..%d)", i, r, len(c.BrokerIDs))
				}
				if slices.Contains(rs[:j], r) {
					return fmt.Errorf("replicas: partition %d names broker %d twice", i, r)
				}
			}
		}
	}
	if t.Replication < 1 {
		return fmt.Errorf("replication: %d is not a replication factor (need at least 1)", t.Replication)
	}
	if t.Replication > len(c.BrokerIDs) {
		return fmt.Errorf("replication: %d is above the broker count %d", t.Replication, len(c.BrokerIDs))
	}
	// min.insync.replicas may exceed the replication factor: Kafka uses the smaller of the two
	// (Partition.effectiveMinIsr, KAFKA-15583).
	if _, err := config.TopicFrom(c.Spec.Broker.Topic, t.Configs); err != nil {
		return err
	}
	c.topics[t.Name] = t.Replication
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.CreateTopicsRequest{Topics: []protocol.CreatableTopic{{
		Name: t.Name, NumPartitions: int32(t.Partitions), ReplicationFactor: int16(t.Replication), Assignments: t.Assignment, Configs: t.Configs,
	}}}})
	return nil
}

// AddPartitions raises a topic's partition count.
func (c *Cluster) AddPartitions(topic string, count int) error {
	if _, ok := c.topics[topic]; !ok {
		return fmt.Errorf("topic %s: unknown topic", topic)
	}
	if cur := c.PartitionCount(topic); count <= cur {
		return fmt.Errorf("partitions: %d is not above the current count %d (partitions can be added, never removed)", count, cur)
	}
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.CreatePartitionsRequest{Topic: topic, Count: int32(count)}})
	return nil
}

// ElectLeaders asks the controller for a preferred (or unclean) election.
func (c *Cluster) ElectLeaders(unclean bool, tps ...protocol.TopicPartition) {
	typ := protocol.ElectionPreferred
	if unclean {
		typ = protocol.ElectionUnclean
	}
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.ElectLeadersRequest{ElectionType: typ, Partitions: tps}})
}

// AlterConfigs sets topic configs (topic "" = cluster-wide defaults) through the controller.
func (c *Cluster) AlterConfigs(topic string, configs map[string]string) error {
	if topic != "" {
		if _, ok := c.topics[topic]; !ok {
			return fmt.Errorf("topic %s: unknown topic", topic)
		}
	}
	if _, err := config.TopicFrom(c.Spec.Broker.Topic, configs); err != nil {
		return err
	}
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.IncrementalAlterConfigsRequest{Topic: topic, Configs: configs}})
	return nil
}

// ProducerSpec describes a producer client.
type ProducerSpec struct {
	Name   string
	Topic  string
	Config config.Producer
	Rate   float64 // records per second; 0 = only Send
	Keys   int
	// Tombstones: the fraction of keyed records sent with a null value (producer tombstones=).
	Tombstones float64
}

// AddProducer starts a producer node.
func (c *Cluster) AddProducer(p ProducerSpec) (int32, error) {
	if err := c.checkClient(p.Name, p.Topic); err != nil {
		return 0, err
	}
	cfg := p.Config
	if err := cfg.Finish(); err != nil {
		return 0, err
	}
	if p.Rate < 0 {
		return 0, fmt.Errorf("rate: %v is negative", p.Rate)
	}
	id := c.newClient(p.Name)
	base := int64(c.producers) * 1_000_000
	c.producers++
	// A restarted producer is a new incarnation that goes on from the values its predecessor
	// made: values repeated would read as duplicates to the checker.
	var prev *client.Producer
	c.World.AddNode(id, p.Name, func(h *sim.Host) sim.Node {
		if prev != nil {
			base += prev.Stats().Sent
		}
		prev = client.NewProducer(client.ProducerOptions{
			Name: p.Name, Topic: p.Topic, Config: cfg, Rate: p.Rate, Keys: p.Keys, Tombstones: p.Tombstones, ValueBase: base, Bootstrap: c.BrokerIDs,
		}, h, h.Now())
		return prev
	})
	return id, nil
}

// ConsumerSpec describes a consumer client.
type ConsumerSpec struct {
	Name   string
	Topic  string
	Topics []string // a consumer of several topics: all of them (Topic is the first)
	Config config.Consumer
}

// AddConsumer starts a consumer node.
func (c *Cluster) AddConsumer(s ConsumerSpec) (int32, error) {
	if err := c.checkClient(s.Name, s.Topic); err != nil {
		return 0, err
	}
	for _, t := range s.Topics {
		if _, ok := c.topics[t]; !ok {
			return 0, fmt.Errorf("topic=%s: unknown topic", t)
		}
	}
	id := c.newClient(s.Name)
	cfg := c.keepConsumerConfig(s.Name, s.Config)
	c.World.AddNode(id, s.Name, func(h *sim.Host) sim.Node {
		return client.NewConsumer(client.ConsumerOptions{Name: s.Name, Topic: s.Topic, Topics: s.Topics, Config: *cfg, Bootstrap: c.BrokerIDs}, h, h.Now())
	})
	return id, nil
}

func (c *Cluster) checkClient(name, topic string) error {
	if name == "" {
		return fmt.Errorf("client: a name is required")
	}
	if _, dup := c.clients[name]; dup {
		return fmt.Errorf("client %s: the name is taken", name)
	}
	if _, ok := c.topics[topic]; !ok {
		return fmt.Errorf("topic=%s: unknown topic", topic)
	}
	return nil
}

func (c *Cluster) newClient(name string) int32 {
	id := c.nextClient
	c.nextClient++
	c.clients[name] = id
	c.clientNames = append(c.clientNames, name)
	return id
}

// Client returns a client's node id by name.
func (c *Cluster) Client(name string) (int32, bool) {
	id, ok := c.clients[name]
	return id, ok
}

// ClientNames lists clients in creation order.
func (c *Cluster) ClientNames() []string { return c.clientNames }

// Send hands n records to a producer now.
func (c *Cluster) Send(producer string, n int) error {
	id, ok := c.clients[producer]
	if !ok {
		return fmt.Errorf("producer %s: unknown client", producer)
	}
	c.World.Inject(id, &client.SendRecords{Count: n})
	return nil
}

// SetRate changes a producer's rate.
func (c *Cluster) SetRate(producer string, perSecond float64) error {
	id, ok := c.clients[producer]
	if !ok {
		return fmt.Errorf("producer %s: unknown client", producer)
	}
	c.World.Inject(id, &client.SetRate{PerSecond: perSecond})
	return nil
}

// Producer returns a running producer, or nil.
func (c *Cluster) Producer(name string) *client.Producer {
	switch n := c.World.Node(c.clients[name]).(type) {
	case *client.Producer:
		return n
	case *client.Processor:
		return n.Producer() // a processor's producer (processor.go)
	}
	return nil
}

// Consumer returns a running consumer, or nil.
func (c *Cluster) Consumer(name string) *client.Consumer {
	switch n := c.World.Node(c.clients[name]).(type) {
	case *client.Consumer:
		return n
	case *client.Processor:
		return n.Consumer() // a processor's consumer (processor.go)
	}
	return nil
}

// Broker returns a running broker, or nil.
func (c *Cluster) Broker(id int32) *broker.Broker {
	b, _ := c.World.Node(id).(*broker.Broker)
	return b
}

// Controller returns a running controller by node id, or nil.
func (c *Cluster) Controller(id int32) *controller.Controller {
	k, _ := c.World.Node(id).(*controller.Controller)
	return k
}

// ActiveController is the quorum leader if it is running and ready, else -1. A controller
// that was paused or cut off may still believe it leads an older epoch (a zombie): among the
// running controllers that claim leadership, the one with the highest quorum epoch is the
// leader.
func (c *Cluster) ActiveController() int32 {
	if c.zk != nil {
		return c.zkController()
	}
	best, bestEpoch := int32(-1), int32(-1)
	for _, id := range c.Controllers {
		k := c.Controller(id)
		if k == nil || !k.Active() || c.World.State(id) != sim.Running {
			continue
		}
		if e := k.Raft().Epoch(); e > bestEpoch {
			best, bestEpoch = id, e
		}
	}
	return best
}

// Committed is the active controller's committed metadata image, or nil without one.
func (c *Cluster) Committed() *metadata.Image {
	if c.zk != nil {
		return c.zkCommitted()
	}
	if id := c.ActiveController(); id >= 0 {
		return c.Controller(id).Committed()
	}
	return nil
}

// PartitionState is a partition as the active controller's committed metadata has it.
func (c *Cluster) PartitionState(tp protocol.TopicPartition) *metadata.Partition {
	if im := c.Committed(); im != nil {
		return im.Partition(tp.Topic, tp.Partition)
	}
	return nil
}

// Leader is the partition's leader per the committed metadata (-1 none or unknown).
func (c *Cluster) Leader(tp protocol.TopicPartition) int32 {
	if p := c.PartitionState(tp); p != nil {
		return p.Leader
	}
	return protocol.NoLeader
}

// ISR is the partition's committed ISR.
func (c *Cluster) ISR(tp protocol.TopicPartition) []int32 {
	if p := c.PartitionState(tp); p != nil {
		return p.ISR
	}
	return nil
}

// PartitionCount is a topic's partition count per the committed metadata (0 if unknown).
func (c *Cluster) PartitionCount(topic string) int {
	if im := c.Committed(); im != nil {
		if t := im.Topics[topic]; t != nil {
			return len(t.Partitions)
		}
	}
	return 0
}

// Online reports whether the partition has a leader that is running and not fenced.
func (c *Cluster) Online(tp protocol.TopicPartition) bool {
	p := c.PartitionState(tp)
	if p == nil || p.Leader < 0 || c.World.State(p.Leader) != sim.Running {
		return false
	}
	reg := c.Committed().Brokers[p.Leader]
	return reg != nil && !reg.Fenced
}

// Replica is broker id's replica of tp if the broker runs and hosts it, else nil.
func (c *Cluster) Replica(id int32, tp protocol.TopicPartition) *broker.Partition {
	if b := c.Broker(id); b != nil {
		return b.Partition(tp)
	}
	return nil
}

// Ready reports whether every running broker is registered and unfenced and every created
// topic is committed with a leader for each partition.
func (c *Cluster) Ready() bool {
	im := c.Committed()
	if im == nil {
		return false
	}
	for _, id := range c.BrokerIDs {
		if c.World.State(id) != sim.Running {
			continue
		}
		reg := im.Brokers[id]
		if reg == nil || reg.Fenced {
			return false
		}
	}
	for name := range c.topics {
		t := im.Topics[name]
		if t == nil || len(t.Partitions) == 0 {
			return false
		}
		for _, p := range t.Partitions {
			if p == nil || p.Leader < 0 {
				return false
			}
		}
	}
	return true
}

// WaitReady runs until Ready or the limit passes.
func (c *Cluster) WaitReady(limit time.Duration) error {
	if c.RunUntil(c.Ready, limit) {
		return nil
	}
	if len(c.adminErrors) > 0 {
		return c.adminErrors[0]
	}
	return fmt.Errorf("cluster not ready after %v", limit)
}

// Close ends the run for the history: every client reports its pending operations.
func (c *Cluster) Close() {
	for _, name := range c.clientNames {
		if p := c.Producer(name); p != nil {
			p.Close(c.Now())
		}
	}
}

// TP is shorthand for a topic-partition.
func TP(topic string, partition int) protocol.TopicPartition {
	return protocol.TopicPartition{Topic: topic, Partition: int32(partition)}
}
