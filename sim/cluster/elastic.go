package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kafkasim/broker"
	"kafkasim/broker/client"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/sim"
)

// Elastic clusters: brokers join and leave a running cluster, partitions move between them
// (KIP-455 reassignment) and topics grow. Each operation is checked here against the active
// controller's committed metadata, so that a mistake a user can make (an unknown broker, a
// broker named twice, removing the last broker or one that still holds replicas) is an error
// in words at once; what passes goes to the controller through the admin client, as
// kafka-reassign-partitions.sh and kafka-topics.sh would send it.

// AddBroker starts a new, empty broker id in the running cluster. It registers with the
// controller quorum, is unfenced once it has caught up with the metadata log, and from then on
// takes part in the placement of new partitions; existing partitions move onto it only by
// reassignment.
func (c *Cluster) AddBroker(id int32) error {
	if id < 1 || id >= node.ControllerBase {
		return fmt.Errorf("add broker %d: not a broker id (1..%d)", id, node.ControllerBase-1)
	}
	if slices.Contains(c.BrokerIDs, id) {
		return fmt.Errorf("add broker %d: broker %d already exists", id, id)
	}
	spec := c.Spec.Broker
	if err := c.World.Add(id, node.Name(id), func(h *sim.Host) sim.Node {
		return broker.New(broker.Options{ID: id, Controllers: c.Controllers, Config: spec, ZooKeeper: c.ZooKeeper, ZooKeeperSessionTimeout: c.Spec.ZooKeeperSessionTimeout}, h, h.Disk(), h.Now())
	}); err != nil {
		return err
	}
	ids := append(slices.Clone(c.BrokerIDs), id)
	slices.Sort(ids)
	c.BrokerIDs = ids
	return nil
}

// RemoveBroker decommissions broker id: a controlled shutdown (its leaderships move away),
// then, once it has stopped, UnregisterBroker removes its registration. It is refused while
// the broker still holds replicas: Kafka's controller would unregister it anyway and leave
// those partitions a replica short, so an operator drains the broker by reassignment first.
// The last registered broker cannot be removed.
func (c *Cluster) RemoveBroker(id int32) error {
	if !slices.Contains(c.BrokerIDs, id) {
		return fmt.Errorf("remove broker %d: broker %d does not exist", id, id)
	}
	im := c.Committed()
	if im == nil {
		return fmt.Errorf("remove broker %d: there is no active controller now", id)
	}
	if im.Brokers[id] == nil {
		return fmt.Errorf("remove broker %d: broker %d is not registered", id, id)
	}
	if len(im.Brokers) == 1 {
		return fmt.Errorf("remove broker %d: it is the last broker of the cluster", id)
	}
	if held := replicasOn(im, id); len(held) > 0 {
		return fmt.Errorf("remove broker %d: it still holds replicas of %s; reassign them to other brokers first", id, listTPs(held))
	}
	if c.World.State(id) != sim.Running {
		return fmt.Errorf("remove broker %d: broker %d is %v (start it so that it shuts down cleanly)", id, id, c.World.State(id))
	}
	if c.removing == nil {
		c.removing = map[int32]bool{}
		c.World.OnEvent(c.unregisterStopped)
	}
	c.removing[id] = true
	return c.World.Stop(id)
}

// unregisterStopped sends UnregisterBroker for a broker being removed once its process ends.
func (c *Cluster) unregisterStopped(e *sim.Event) {
	if e.Kind != sim.Halt || !c.removing[e.Node] {
		return
	}
	delete(c.removing, e.Node)
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.UnregisterBrokerRequest{BrokerID: e.Node}})
}

// Reassign moves tp's replicas to replicas (first = preferred leader) through
// AlterPartitionReassignments. The move is done once the new replicas have joined the ISR.
func (c *Cluster) Reassign(tp protocol.TopicPartition, replicas []int32) error {
	if err := c.checkReassign(tp, replicas); err != nil {
		return err
	}
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.AlterPartitionReassignmentsRequest{
		Partitions: []protocol.ReassignablePartition{{TP: tp, Replicas: slices.Clone(replicas)}},
	}})
	return nil
}

// checkReassign is what Reassign checks before it sends the request.
func (c *Cluster) checkReassign(tp protocol.TopicPartition, replicas []int32) error {
	name := tp.String()
	im := c.Committed()
	if im == nil {
		return fmt.Errorf("reassign %s: there is no active controller now", name)
	}
	if im.Partition(tp.Topic, tp.Partition) == nil {
		return fmt.Errorf("reassign %s: no such partition", name)
	}
	if len(replicas) == 0 {
		return fmt.Errorf("reassign %s: the replica list is empty", name)
	}
	for i, r := range replicas {
		if slices.Contains(replicas[:i], r) {
			return fmt.Errorf("reassign %s: broker %d is named twice", name, r)
		}
		if im.Brokers[r] == nil {
			return fmt.Errorf("reassign %s: broker %d is not registered (registered brokers: %s)", name, r, listIDs(im.BrokerIDs()))
		}
	}
	return nil
}

// Replicas is tp's assignment in the committed metadata (during a move: the target replicas
// followed by the ones being removed).
func (c *Cluster) Replicas(tp protocol.TopicPartition) []int32 {
	if p := c.PartitionState(tp); p != nil {
		return p.Replicas
	}
	return nil
}

// Reassigning reports whether a reassignment of tp is in progress.
func (c *Cluster) Reassigning(tp protocol.TopicPartition) bool {
	p := c.PartitionState(tp)
	return p != nil && p.Reassigning()
}

// LiveBrokers counts the brokers registered and unfenced in the committed metadata.
func (c *Cluster) LiveBrokers() int {
	im := c.Committed()
	if im == nil {
		return 0
	}
	n := 0
	for _, b := range im.Brokers {
		if !b.Fenced {
			n++
		}
	}
	return n
}

// replicasOn lists the partitions that name broker id as a replica, in topic order.
func replicasOn(im *metadata.Image, id int32) []protocol.TopicPartition {
	var out []protocol.TopicPartition
	for _, name := range im.TopicNames() {
		for _, p := range im.Topics[name].Partitions {
			if p != nil && metadata.Contains(p.Replicas, id) {
				out = append(out, protocol.TopicPartition{Topic: name, Partition: p.Index})
			}
		}
	}
	return out
}

func listTPs(tps []protocol.TopicPartition) string {
	const most = 5
	var parts []string
	for i, tp := range tps {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(tps)-most))
			break
		}
		parts = append(parts, tp.String())
	}
	return strings.Join(parts, ", ")
}

func listIDs(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return strings.Join(parts, ",")
}
