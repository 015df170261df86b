package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kafkasim/broker/client"
	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// ReassignThrottled is Reassign with kafka-reassign-partitions.sh --throttle RATE: before the
// move it sets leader.replication.throttled.rate and follower.replication.throttled.rate to
// rate bytes per second (cluster-wide, where the tool sets them on each broker of the move),
// and throttles the move's replicas in the topic's configs as the tool computes them
// (ReassignPartitionsCommand.calculateLeaderThrottles / calculateFollowerThrottles): the
// current replicas as leaders, the added ones as followers. Entries for the topic's other
// partitions are kept. When replicas is the target of the move already in progress, only the
// rate changes (the tool's --additional --throttle).
//
// The throttles stay after the move, as they do until kafka-reassign-partitions.sh --verify
// removes them: a throttled replica that later falls behind is throttled again.
func (c *Cluster) ReassignThrottled(tp protocol.TopicPartition, replicas []int32, rate int64) error {
	if rate < 1 {
		return fmt.Errorf("reassign %s: throttle must be at least 1 byte/s", tp)
	}
	p := c.PartitionState(tp)
	rates := map[string]string{
		"leader.replication.throttled.rate":   strconv.FormatInt(rate, 10),
		"follower.replication.throttled.rate": strconv.FormatInt(rate, 10),
	}
	if p != nil && p.Reassigning() && slices.Equal(withoutIDs(p.Replicas, p.RemovingReplicas), replicas) {
		return c.AlterConfigs("", rates)
	}
	if err := c.checkReassign(tp, replicas); err != nil {
		return err
	}
	t := c.Committed().Topics[tp.Topic]
	var adding []int32
	for _, r := range replicas {
		if !slices.Contains(p.Replicas, r) {
			adding = append(adding, r)
		}
	}
	lists := map[string]string{
		"leader.replication.throttled.replicas":   throttleList(t.Configs["leader.replication.throttled.replicas"], tp.Partition, p.Replicas),
		"follower.replication.throttled.replicas": throttleList(t.Configs["follower.replication.throttled.replicas"], tp.Partition, adding),
	}
	if err := c.AlterConfigs("", rates); err != nil {
		return err
	}
	if err := c.AlterConfigs(tp.Topic, lists); err != nil {
		return err
	}
	return c.Reassign(tp, replicas)
}

// throttleList is old with partition's entries replaced by PARTITION:BROKER for brokers.
func throttleList(old string, partition int32, brokers []int32) string {
	if old == "*" {
		return old
	}
	var out []string
	for _, e := range strings.Split(old, ",") {
		if e == "" {
			continue
		}
		if p, _, _ := strings.Cut(e, ":"); p != strconv.Itoa(int(partition)) {
			out = append(out, e)
		}
	}
	for _, b := range brokers {
		out = append(out, fmt.Sprintf("%d:%d", partition, b))
	}
	return strings.Join(out, ",")
}

func withoutIDs(ids, drop []int32) []int32 {
	var out []int32
	for _, id := range ids {
		if !slices.Contains(drop, id) {
			out = append(out, id)
		}
	}
	return out
}

// Reassignment is one entry of ListPartitionReassignments (KIP-455): a partition being moved,
// its replicas (target then the ones being removed) and the adding and removing sets.
type Reassignment struct {
	TP                         protocol.TopicPartition
	Replicas, Adding, Removing []int32
}

// ListPartitionReassignments sends ListPartitionReassignments (all partitions) through the admin
// client; the answer is observed as its AdminResult.
func (c *Cluster) ListPartitionReassignments() {
	c.World.Inject(AdminID, &client.AdminCommand{Request: &protocol.ListPartitionReassignmentsRequest{}})
}

// Reassignments lists the moves in progress in the active controller's committed metadata, in
// topic order: what ListPartitionReassignments answers now
// (ReplicationControlManager.listPartitionReassignments), read without a request, for views.
func (c *Cluster) Reassignments() []Reassignment {
	im := c.Committed()
	if im == nil {
		return nil
	}
	return reassignmentsIn(im)
}

func reassignmentsIn(im *metadata.Image) []Reassignment {
	var out []Reassignment
	for _, name := range im.TopicNames() {
		for _, p := range im.Topics[name].Partitions {
			if p != nil && p.Reassigning() {
				out = append(out, Reassignment{TP: protocol.TopicPartition{Topic: name, Partition: p.Index},
					Replicas: p.Replicas, Adding: p.AddingReplicas, Removing: p.RemovingReplicas})
			}
		}
	}
	return out
}
