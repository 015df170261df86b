package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"kafkasim/broker"
	"kafkasim/broker/client"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/zookeeper"
	"kafkasim/sim"
)

// ZooKeeper mode: an ensemble z1..zN and brokers that register in it, one of them the
// controller through /controller. What the cluster has committed is what ZooKeeper holds: the
// image the tests and the scenario runner read is built from the ensemble leader's data tree.

// zkView caches the image built from the ZooKeeper leader's tree.
type zkView struct {
	leader int32
	zxid   int64
	live   []int32 // the controller's live brokers the image was built with
	image  *metadata.Image
	stale  int // requests refused with STALE_CONTROLLER_EPOCH
}

func newZooKeeperCluster(spec Spec) (*Cluster, error) {
	if spec.ZooKeeper < 1 || spec.ZooKeeper > 9 {
		return nil, fmt.Errorf("zookeeper: %d is not between 1 and 9", spec.ZooKeeper)
	}
	if err := spec.Broker.Validate(); err != nil {
		return nil, err
	}
	if spec.Sim.ConnectionReset == nil {
		spec.Sim.ConnectionReset = func(peer int32) any { return &node.ConnectionReset{Peer: peer} }
	}
	spec.Controllers = 0
	c := &Cluster{Spec: spec, World: sim.New(spec.Sim), clients: map[string]int32{}, nextClient: AdminID + 1, topics: map[string]int{}, zk: &zkView{}}
	c.World.OnObserve(c.observe)
	c.World.OnObserve(func(_ time.Duration, _ int32, ev any) {
		if _, ok := ev.(*broker.StaleControllerRefused); ok {
			c.zk.stale++
		}
	})
	for i := 1; i <= spec.ZooKeeper; i++ {
		c.ZooKeeper = append(c.ZooKeeper, node.ZooKeeperID(i))
	}
	for i := 1; i <= spec.Brokers; i++ {
		c.BrokerIDs = append(c.BrokerIDs, int32(i))
	}
	zcfg := zookeeper.DefaultConfig(c.ZooKeeper)
	for _, id := range c.ZooKeeper {
		c.World.AddNode(id, node.Name(id), func(h *sim.Host) sim.Node {
			return zookeeper.New(zcfg, h, h.Disk(), h.Now())
		})
	}
	for _, id := range c.BrokerIDs {
		id := id
		c.World.AddNode(id, node.Name(id), func(h *sim.Host) sim.Node {
			return broker.New(broker.Options{ID: id, Config: spec.Broker, ZooKeeper: c.ZooKeeper, ZooKeeperSessionTimeout: spec.ZooKeeperSessionTimeout}, h, h.Disk(), h.Now())
		})
	}
	// The admin client bootstraps from the brokers: a broker that is not the controller answers
	// NOT_CONTROLLER and the admin tries the next.
	c.World.AddNode(AdminID, "admin", func(h *sim.Host) sim.Node {
		return client.NewAdmin(client.AdminOptions{Name: "admin", Controllers: c.BrokerIDs, RequestTimeout: 5 * time.Second}, h, h.Now())
	})
	// Boot: the ensemble elects a leader, every broker registers, one wins /controller.
	if err := c.WaitReady(bootLimit); err != nil {
		return nil, fmt.Errorf("cluster did not boot: %v", err)
	}
	if !c.RunUntil(func() bool { return c.ActiveController() > 0 }, bootLimit) {
		return nil, fmt.Errorf("cluster did not boot: no broker won /controller")
	}
	c.Booted = c.Now()
	return c, nil
}

// ZooKeeperServer returns a running ZooKeeper server, or nil.
func (c *Cluster) ZooKeeperServer(id int32) *zookeeper.Server {
	s, _ := c.World.Node(id).(*zookeeper.Server)
	if c.World.State(id) != sim.Running {
		return nil
	}
	return s
}

// ZkLeader is the ensemble's established leader if it runs, else -1. A leader cut off from
// its quorum steps down within syncLimit ticks; among running servers that still claim to
// lead, the one of the highest epoch is the leader.
func (c *Cluster) ZkLeader() int32 {
	best, bestEpoch := int32(-1), int64(-1)
	for _, id := range c.ZooKeeper {
		s := c.ZooKeeperServer(id)
		if s == nil || s.State() != zookeeper.Leading || !s.Serving() {
			continue
		}
		if s.Epoch() > bestEpoch {
			best, bestEpoch = id, s.Epoch()
		}
	}
	return best
}

// ZkTree is the ZooKeeper leader's committed data tree. Without a leader (the ensemble lost
// its quorum) it is the most recent tree a running server holds: what ZooKeeper committed
// stays committed, though nobody can change it; nil if no server runs.
func (c *Cluster) ZkTree() *zookeeper.Tree {
	if s := c.zkTreeServer(); s > 0 {
		return c.ZooKeeperServer(s).Tree()
	}
	return nil
}

// zkTreeServer is the server whose tree ZkTree reads: the leader, else the running server of
// the highest applied zxid (the lowest id among equals); -1 if none runs.
func (c *Cluster) zkTreeServer() int32 {
	if l := c.ZkLeader(); l > 0 {
		return l
	}
	best, zxid := int32(-1), int64(-1)
	for _, id := range c.ZooKeeper {
		if s := c.ZooKeeperServer(id); s != nil && s.Tree().Zxid > zxid {
			best, zxid = id, s.Tree().Zxid
		}
	}
	return best
}

// zkController is the broker holding /controller if it is running, else -1.
func (c *Cluster) zkController() int32 {
	t := c.ZkTree()
	if t == nil {
		return -1
	}
	n := t.Nodes["/controller"]
	if n == nil {
		return -1
	}
	id := n.Data.(int32)
	if c.World.State(id) != sim.Running {
		return -1
	}
	return id
}

// ControllerEpoch is /controller_epoch as ZooKeeper holds it (0 before the first election or
// without a ZooKeeper leader).
func (c *Cluster) ControllerEpoch() int32 {
	if t := c.ZkTree(); t != nil {
		if n := t.Nodes["/controller_epoch"]; n != nil {
			return n.Data.(int32)
		}
	}
	return 0
}

// zkCommitted builds the committed image from ZooKeeper: registered brokers (/brokers/ids, the
// czxid their epoch), topics and partition states (the zkVersion the partition epoch).
func (c *Cluster) zkCommitted() *metadata.Image {
	l := c.zkTreeServer()
	if l < 0 {
		return nil
	}
	t := c.ZooKeeperServer(l).Tree()
	var ctlBroker *broker.Broker
	if ctl := c.zkController(); ctl > 0 {
		ctlBroker, _ = c.World.Node(ctl).(*broker.Broker)
	}
	sameLive := ctlBroker == nil && c.zk.live == nil || ctlBroker != nil && ctlBroker.ControllerLiveIs(c.zk.live)
	if c.zk.image != nil && c.zk.leader == l && c.zk.zxid == t.Zxid && sameLive {
		return c.zk.image
	}
	var live []int32
	if ctlBroker != nil {
		live = ctlBroker.ControllerLiveBrokers()
	}
	im := metadata.NewImage()
	for _, name := range t.Children("/brokers/ids") {
		n := t.Nodes["/brokers/ids/"+name]
		id, _ := strconv.Atoi(name)
		// A broker registered in ZooKeeper that the active controller has not taken in yet
		// (its /brokers/ids watch not processed) is not live: shown as KRaft shows a fenced
		// one. Without an active controller, registration is all there is.
		im.Brokers[int32(id)] = &metadata.Broker{ID: int32(id), Epoch: n.Czxid, Fenced: live != nil && !slices.Contains(live, int32(id))}
	}
	for _, name := range t.Children("/brokers/topics") {
		td, ok := t.Nodes["/brokers/topics/"+name].Data.(*broker.ZkTopicData)
		if !ok {
			continue
		}
		top := &metadata.Topic{Name: name, Configs: td.Configs}
		for i, reps := range td.Assignment {
			n := t.Nodes[fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", name, i)]
			if n == nil {
				top.Partitions = append(top.Partitions, nil)
				continue
			}
			d := n.Data.(broker.ZkStateData)
			var adding, removing []int32
			if i < len(td.Adding) {
				adding, removing = td.Adding[i], td.Removing[i]
			}
			top.Partitions = append(top.Partitions, &metadata.Partition{Topic: name, Index: int32(i), Replicas: reps,
				ISR: d.ISR, Leader: d.Leader, LeaderEpoch: d.LeaderEpoch, PartitionEpoch: n.Version, AddingReplicas: adding, RemovingReplicas: removing})
		}
		im.Topics[name] = top
	}
	im.Offset = t.Zxid
	c.zk.leader, c.zk.zxid, c.zk.live, c.zk.image = l, t.Zxid, live, im
	return im
}

// controlPlane is the quorum of the control plane random faults may fall on: the KRaft
// controllers, or the ZooKeeper ensemble (a minority at a time, as for the controllers).
func (c *Cluster) controlPlane() []int32 {
	if c.ZooKeeperMode() {
		return c.ZooKeeper
	}
	return c.Controllers
}

// StaleControllerRefusals counts the requests brokers refused for an older controller epoch
// (STALE_CONTROLLER_EPOCH): a zombie controller's.
func (c *Cluster) StaleControllerRefusals() int {
	if c.zk == nil {
		return 0
	}
	return c.zk.stale
}

// ZooKeeperMode reports whether the cluster runs on ZooKeeper.
func (c *Cluster) ZooKeeperMode() bool { return c.zk != nil }
