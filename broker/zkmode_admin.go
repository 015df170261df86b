package broker

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"kafkasim/broker/protocol"
	"kafkasim/broker/zookeeper"
)

// The ZooKeeper-era controller's administrative work (Kafka 3.x KafkaController):
// controlled shutdown (doControlledShutdown), partition reassignment (onPartitionReassignment,
// KIP-455's AlterPartitionReassignments through the controller, the move kept in the topic
// znode's adding_replicas and removing_replicas), preferred and unclean leader election
// (ElectLeaders; the periodic checkAndTriggerAutoLeaderRebalance under
// auto.leader.rebalance.enable), partition additions (CreatePartitions) and configs
// (IncrementalAlterConfigs, /config/topics/T and /config/brokers/<default>).
//
// Behavior: a stopping broker asks the controller to move its leaderships (retrying
// controlled.shutdown.max.retries times, every controlled.shutdown.retry.backoff.ms, then
// stopping anyway), and closes its session once they moved. Not modelled: the
// /admin/reassign_partitions znode path (the API only), topic deletion, the
// leader.imbalance.per.broker.percentage key (Kafka's default, 10%, is used).

const (
	zkClusterConfigPath          = "/config/brokers/<default>"
	zkControlledShutdownRetries  = 3               // controlled.shutdown.max.retries
	zkControlledShutdownBackoff  = 5 * time.Second // controlled.shutdown.retry.backoff.ms
	zkLeaderImbalancePerBrokerPc = 10              // leader.imbalance.per.broker.percentage
)

// zkRebalanceTick is the controller's auto leader rebalance timer.
type zkRebalanceTick struct{ gen int64 }

// zkShutdownRetry retries a controlled shutdown.
type zkShutdownRetry struct {
	attempt int
	corr    int64 // the request it times out; 0 for a retry after the backoff
}

// handleAdmin takes the admin requests only the controller serves; false for other messages.
func (c *zkController) handleAdmin(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case *protocol.ElectLeadersRequest:
		if !c.active {
			resp := &protocol.ElectLeadersResponse{CorrelationID: m.CorrelationID, Results: []protocol.ElectLeadersResult{{Error: protocol.NOT_CONTROLLER}}}
			c.b.env.Send(from, resp)
			return true
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.electLeaders(now, from, m, done) })
	case *protocol.AlterPartitionReassignmentsRequest:
		if !c.active {
			c.b.env.Send(from, &protocol.AlterPartitionReassignmentsResponse{CorrelationID: m.CorrelationID, Results: []protocol.ReassignmentResult{{Error: protocol.NOT_CONTROLLER}}})
			return true
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.reassign(now, from, m, done) })
	case *protocol.ListPartitionReassignmentsRequest:
		resp := &protocol.ListPartitionReassignmentsResponse{CorrelationID: m.CorrelationID}
		if !c.active {
			resp.Error = protocol.NOT_CONTROLLER
		} else {
			for _, tp := range c.allPartitions() {
				if st := c.states[tp]; len(st.AddingReplicas) > 0 || len(st.RemovingReplicas) > 0 {
					resp.Reassignments = append(resp.Reassignments, protocol.OngoingReassignment{TP: tp, Replicas: st.Replicas, AddingReplicas: st.AddingReplicas, RemovingReplicas: st.RemovingReplicas})
				}
			}
		}
		c.b.env.Send(from, resp)
	case *protocol.CreatePartitionsRequest:
		if !c.active {
			c.b.env.Send(from, &protocol.CreatePartitionsResponse{CorrelationID: m.CorrelationID, Error: protocol.NOT_CONTROLLER})
			return true
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.createPartitions(now, from, m, done) })
	case *protocol.IncrementalAlterConfigsRequest:
		if !c.active {
			c.b.env.Send(from, &protocol.IncrementalAlterConfigsResponse{CorrelationID: m.CorrelationID, Error: protocol.NOT_CONTROLLER})
			return true
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.alterConfigs(now, from, m, done) })
	case *protocol.UnregisterBrokerRequest:
		// ZooKeeper mode has no registrations beyond /brokers/ids/N, which went with the
		// broker's session.
		resp := &protocol.UnregisterBrokerResponse{CorrelationID: m.CorrelationID}
		if !c.active {
			resp.Error = protocol.NOT_CONTROLLER
		}
		c.b.env.Send(from, resp)
	case *protocol.ControlledShutdownRequest:
		if !c.active {
			c.b.env.Send(from, &protocol.ControlledShutdownResponse{CorrelationID: m.CorrelationID, Error: protocol.NOT_CONTROLLER})
			return true
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) {
			c.controlledShutdown(now, m.BrokerID, m.BrokerEpoch, func(now time.Duration, code protocol.ErrorCode, remaining []protocol.TopicPartition) {
				c.b.env.Send(from, &protocol.ControlledShutdownResponse{CorrelationID: m.CorrelationID, Error: code, RemainingPartitions: remaining})
				done(now)
			})
		})
	case zkRebalanceTick:
		if c.active && m.gen == c.gen {
			c.enqueue(now, c.rebalance)
		}
	default:
		return false
	}
	return true
}

// startRebalance arms the auto leader rebalance (KafkaController.onControllerFailover's
// scheduleAutoLeaderRebalanceTask).
func (c *zkController) startRebalance() {
	if c.b.cfg.AutoLeaderRebalanceEnable {
		c.b.env.After(c.b.cfg.LeaderImbalanceCheckInterval, zkRebalanceTick{gen: c.gen})
	}
}

// changeAndTell writes new partition states, then sends LeaderAndIsr to the changed
// partitions' live replicas and UpdateMetadata to every live broker.
func (c *zkController) changeAndTell(now time.Duration, tps []protocol.TopicPartition, decide func(protocol.ZkPartitionState) (protocol.ZkPartitionState, bool), then func(now time.Duration, changed []protocol.TopicPartition)) {
	c.write(now, tps, decide, func(now time.Duration, changed []protocol.TopicPartition) {
		if len(changed) > 0 {
			c.sendLeaderAndIsr(now, c.liveIDs(), changed)
			c.sendUpdateMetadata(now, c.liveIDs())
		}
		then(now, changed)
	})
}

// preferred is a preferred leader election's new state (PreferredReplicaPartitionLeaderElectionStrategy):
// the first replica of the assignment, if it is live and in the ISR.
func (c *zkController) preferred(st protocol.ZkPartitionState) (protocol.ZkPartitionState, protocol.ErrorCode) {
	if len(st.Replicas) == 0 {
		return st, protocol.PREFERRED_LEADER_NOT_AVAILABLE
	}
	pref := st.Replicas[0]
	if st.Leader == pref {
		return st, protocol.ELECTION_NOT_NEEDED
	}
	if _, ok := c.live[pref]; !ok || c.shuttingDown[pref] || !slices.Contains(st.ISR, pref) {
		return st, protocol.PREFERRED_LEADER_NOT_AVAILABLE
	}
	st.Leader, st.LeaderEpoch, st.ControllerEpoch = pref, st.LeaderEpoch+1, c.epoch
	return st, protocol.NONE
}

// unclean is an unclean election's new state: any live replica, when the partition has no
// leader (ElectLeaders with ElectionType UNCLEAN, KIP-460).
func (c *zkController) unclean(st protocol.ZkPartitionState) (protocol.ZkPartitionState, protocol.ErrorCode) {
	if st.Leader != protocol.NoLeader {
		return st, protocol.ELECTION_NOT_NEEDED
	}
	for _, r := range st.Replicas {
		if _, ok := c.live[r]; ok && !c.shuttingDown[r] {
			c.b.env.Observe(&UncleanElection{TP: st.TP, Leader: r})
			st.Leader, st.ISR, st.LeaderEpoch, st.ControllerEpoch = r, []int32{r}, st.LeaderEpoch+1, c.epoch
			return st, protocol.NONE
		}
	}
	return st, protocol.ELIGIBLE_LEADERS_NOT_AVAILABLE
}

// electLeaders: ElectLeaders (KafkaController.onReplicaElection).
func (c *zkController) electLeaders(now time.Duration, from int32, m *protocol.ElectLeadersRequest, done func(time.Duration)) {
	tps := m.Partitions
	if tps == nil {
		tps = c.allPartitions()
	}
	resp := &protocol.ElectLeadersResponse{CorrelationID: m.CorrelationID}
	want := map[protocol.TopicPartition]protocol.ZkPartitionState{}
	var todo []protocol.TopicPartition
	for _, tp := range tps {
		res := protocol.ElectLeadersResult{TP: tp}
		st, ok := c.states[tp]
		switch {
		case !ok:
			res.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
		case m.ElectionType == protocol.ElectionPreferred:
			st, res.Error = c.preferred(st)
		case m.ElectionType == protocol.ElectionUnclean:
			st, res.Error = c.unclean(st)
		default:
			res.Error = protocol.INVALID_REQUEST
		}
		if res.Error == protocol.NONE {
			want[tp] = st
			todo = append(todo, tp)
		}
		resp.Results = append(resp.Results, res)
	}
	c.changeAndTell(now, todo, func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
		next, ok := want[st.TP]
		if ok && next.ZkVersion != st.ZkVersion {
			return st, false // changed meanwhile
		}
		return next, ok
	}, func(now time.Duration, changed []protocol.TopicPartition) {
		for i, r := range resp.Results {
			if r.Error == protocol.NONE && !slices.Contains(changed, r.TP) {
				resp.Results[i].Error = protocol.PREFERRED_LEADER_NOT_AVAILABLE
			}
		}
		c.b.env.Send(from, resp)
		done(now)
	})
}

// rebalance: checkAndTriggerAutoLeaderRebalance. For each broker, the partitions it should
// lead (first in the assignment) but does not; past leader.imbalance.per.broker.percentage of
// its preferred partitions, a preferred election runs on them.
func (c *zkController) rebalance(now time.Duration, done func(time.Duration)) {
	preferredOf := map[int32][]protocol.TopicPartition{}
	imbalanced := map[int32][]protocol.TopicPartition{}
	for _, tp := range c.allPartitions() {
		st := c.states[tp]
		if len(st.Replicas) == 0 || len(st.AddingReplicas) > 0 || len(st.RemovingReplicas) > 0 {
			continue
		}
		pref := st.Replicas[0]
		preferredOf[pref] = append(preferredOf[pref], tp)
		if st.Leader != pref {
			imbalanced[pref] = append(imbalanced[pref], tp)
		}
	}
	var todo []protocol.TopicPartition
	for _, id := range slices.Sorted(maps.Keys(imbalanced)) {
		if _, ok := c.live[id]; !ok || c.shuttingDown[id] {
			continue
		}
		if len(imbalanced[id])*100 > zkLeaderImbalancePerBrokerPc*len(preferredOf[id]) {
			todo = append(todo, imbalanced[id]...)
		}
	}
	slices.SortFunc(todo, compareTP)
	c.changeAndTell(now, todo, func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
		next, code := c.preferred(st)
		return next, code == protocol.NONE
	}, func(now time.Duration, _ []protocol.TopicPartition) {
		c.startRebalance()
		done(now)
	})
}

// controlledShutdown: KafkaController.doControlledShutdown. The broker's leaderships move to
// the first live ISR member of the assignment not shutting down
// (ControlledShutdownPartitionLeaderElectionStrategy) and it leaves the ISRs it follows in
// (a StopReplica without delete stops its fetchers). Partitions it leads with no one to take
// over remain, and are answered.
func (c *zkController) controlledShutdown(now time.Duration, id int32, epoch int64, reply func(time.Duration, protocol.ErrorCode, []protocol.TopicPartition)) {
	if e, ok := c.live[id]; !ok || e != epoch {
		reply(now, protocol.STALE_BROKER_EPOCH, nil)
		return
	}
	if c.shuttingDown == nil {
		c.shuttingDown = map[int32]bool{}
	}
	c.shuttingDown[id] = true
	c.b.env.Observe(&ControlledShutdownStarted{Controller: c.b.id, Broker: id})
	var led, followed []protocol.TopicPartition
	for _, tp := range c.allPartitions() {
		st := c.states[tp]
		switch {
		case !slices.Contains(st.Replicas, id) || len(st.Replicas) < 2:
		case st.Leader == id:
			led = append(led, tp)
		default:
			followed = append(followed, tp)
		}
	}
	eligible := func(r int32) bool { _, ok := c.live[r]; return ok && !c.shuttingDown[r] }
	c.changeAndTell(now, append(slices.Clone(led), followed...), func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
		next := st
		if st.Leader == id {
			next.Leader = protocol.NoLeader
			for _, r := range st.Replicas {
				if eligible(r) && slices.Contains(st.ISR, r) {
					next.Leader = r
					break
				}
			}
			if next.Leader == protocol.NoLeader {
				return st, false // no one to take over: it stays (remaining)
			}
		}
		isr := slices.DeleteFunc(slices.Clone(st.ISR), func(r int32) bool { return r == id })
		if len(isr) == 0 {
			return st, false
		}
		next.ISR = isr
		next.LeaderEpoch, next.ControllerEpoch = st.LeaderEpoch+1, c.epoch
		return next, true
	}, func(now time.Duration, _ []protocol.TopicPartition) {
		var stop []protocol.TopicPartition
		for _, tp := range followed {
			if c.states[tp].Leader != id {
				stop = append(stop, tp)
			}
		}
		if len(stop) > 0 {
			c.channelSend(id, &protocol.StopReplicaRequest{CorrelationID: c.b.nextCorr(), ControllerID: c.b.id, ControllerEpoch: c.epoch, BrokerEpoch: c.live[id], Partitions: stop})
		}
		var remaining []protocol.TopicPartition
		for _, tp := range c.allPartitions() {
			if st := c.states[tp]; st.Leader == id && len(st.Replicas) > 1 {
				remaining = append(remaining, tp)
			}
		}
		reply(now, protocol.NONE, remaining)
	})
}

// zkControlledShutdown: the broker's side (KafkaServer.controlledShutdown). It asks the
// controller it knows; with no controller, after the last retry, or once nothing remains, it
// closes its session and stops.
func (b *Broker) zkControlledShutdown(now time.Duration, attempt int) {
	z := b.zk
	if z.ctl.active {
		z.ctl.enqueue(now, func(now time.Duration, done func(time.Duration)) {
			z.ctl.controlledShutdown(now, b.id, b.lifecycle.epoch, func(now time.Duration, code protocol.ErrorCode, remaining []protocol.TopicPartition) {
				done(now)
				b.zkShutdownAnswer(now, attempt, code, remaining)
			})
		})
		return
	}
	if z.controllerID < 0 || z.controllerID == b.id {
		b.zkFinishStop(now)
		return
	}
	z.shutdownCorr = b.nextCorr()
	b.env.Send(z.controllerID, &protocol.ControlledShutdownRequest{CorrelationID: z.shutdownCorr, BrokerID: b.id, BrokerEpoch: b.lifecycle.epoch})
	b.env.After(b.cfg.ControllerSocketTimeout, zkShutdownRetry{attempt: attempt + 1, corr: z.shutdownCorr})
}

// zkShutdownAnswer takes the controller's answer.
func (b *Broker) zkShutdownAnswer(now time.Duration, attempt int, code protocol.ErrorCode, remaining []protocol.TopicPartition) {
	if b.halted {
		return
	}
	b.zk.shutdownCorr = 0
	if code == protocol.NONE && len(remaining) == 0 || attempt >= zkControlledShutdownRetries {
		b.zkFinishStop(now)
		return
	}
	b.env.After(zkControlledShutdownBackoff, zkShutdownRetry{attempt: attempt + 1})
}

// zkShutdownStep handles the broker's side of a controlled shutdown; false for other messages.
func (b *Broker) zkShutdownStep(now time.Duration, msg any) bool {
	switch m := msg.(type) {
	case *protocol.ControlledShutdownResponse:
		if b.lifecycle.shuttingDown && m.CorrelationID == b.zk.shutdownCorr {
			b.zkShutdownAnswer(now, b.zk.shutdownAttempt, m.Error, m.RemainingPartitions)
		}
	case zkShutdownRetry:
		if !b.lifecycle.shuttingDown || b.halted || m.corr != 0 && m.corr != b.zk.shutdownCorr {
			return true
		}
		if m.attempt > zkControlledShutdownRetries {
			b.zkFinishStop(now)
			return true
		}
		b.zk.shutdownAttempt = m.attempt
		b.zkControlledShutdown(now, m.attempt)
	default:
		return false
	}
	return true
}

// reassign: AlterPartitionReassignments through the controller (onPartitionReassignment).
// The move's replicas (the target, then the ones being removed) and its adding and removing
// sets go to the topic znode; the replicas get LeaderAndIsr with a bumped leader epoch, and
// the new ones start fetching. The move completes when the ISR holds every target replica
// (maybeCompleteReassignment, re-checked after each ISR change).
func (c *zkController) reassign(now time.Duration, from int32, m *protocol.AlterPartitionReassignmentsRequest, done func(time.Duration)) {
	resp := &protocol.AlterPartitionReassignmentsResponse{CorrelationID: m.CorrelationID}
	newTopics := map[string]*ZkTopicData{}
	var moved []protocol.TopicPartition
	for _, rp := range m.Partitions {
		res := protocol.ReassignmentResult{TP: rp.TP}
		st, ok := c.states[rp.TP]
		if !ok {
			res.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
			resp.Results = append(resp.Results, res)
			continue
		}
		original := slices.DeleteFunc(slices.Clone(st.Replicas), func(r int32) bool { return slices.Contains(st.AddingReplicas, r) })
		target := rp.Replicas
		if rp.Cancel {
			if len(st.AddingReplicas) == 0 && len(st.RemovingReplicas) == 0 {
				res.Error = protocol.NO_REASSIGNMENT_IN_PROGRESS
				resp.Results = append(resp.Results, res)
				continue
			}
			target = original
		}
		for _, r := range target {
			if _, ok := c.live[r]; !ok {
				res.Error = protocol.INVALID_REPLICA_ASSIGNMENT
			}
		}
		if len(target) == 0 {
			res.Error = protocol.INVALID_REPLICA_ASSIGNMENT
		}
		if res.Error != protocol.NONE {
			resp.Results = append(resp.Results, res)
			continue
		}
		td := newTopics[rp.TP.Topic]
		if td == nil {
			td = c.topics[rp.TP.Topic].clone()
			newTopics[rp.TP.Topic] = td
		}
		var adding, removing []int32
		for _, r := range target {
			if !slices.Contains(original, r) {
				adding = append(adding, r)
			}
		}
		for _, r := range original {
			if !slices.Contains(target, r) {
				removing = append(removing, r)
			}
		}
		slices.Sort(adding)
		slices.Sort(removing)
		i := rp.TP.Partition
		td.Assignment[i] = append(slices.Clone(target), removing...)
		td.Adding[i], td.Removing[i] = adding, removing
		moved = append(moved, rp.TP)
		resp.Results = append(resp.Results, res)
	}
	if len(moved) == 0 {
		c.b.env.Send(from, resp)
		done(now)
		return
	}
	c.writeTopics(now, newTopics, func(now time.Duration, ok bool) {
		if !ok {
			for i := range resp.Results {
				resp.Results[i].Error = protocol.NOT_CONTROLLER
			}
			c.b.env.Send(from, resp)
			return
		}
		c.b.env.Send(from, resp)
		c.b.env.Observe(&ReassignmentStarted{Controller: c.b.id, Partitions: len(moved)})
		// updateLeaderEpochAndSendRequest: the replicas, old and new, learn the move.
		c.changeAndTell(now, moved, func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
			st.LeaderEpoch, st.ControllerEpoch = st.LeaderEpoch+1, c.epoch
			return st, true
		}, func(now time.Duration, _ []protocol.TopicPartition) {
			c.maybeCompleteReassignments(now, moved, done)
		})
	})
}

// writeTopics stores topic znodes (conditional on the controller epoch) and takes them into
// the controller's state; ok is false when the controller moved.
func (c *zkController) writeTopics(now time.Duration, topics map[string]*ZkTopicData, then func(now time.Duration, ok bool)) {
	ops := []zookeeper.Op{zookeeper.Check(zkControllerEpochPath, c.epochZkVersion)}
	for _, name := range slices.Sorted(maps.Keys(topics)) {
		ops = append(ops, zookeeper.SetData(zkTopicsPath+"/"+name, topics[name], -1))
	}
	gen := c.gen
	c.client().Multi(now, func(now time.Duration, r *zookeeper.Reply) {
		if gen != c.gen {
			return
		}
		if r.Err != zookeeper.OK {
			c.b.env.Observe(&ControllerMoved{Broker: c.b.id, Epoch: c.epoch})
			c.resign(now)
			c.elect(now)
			then(now, false)
			return
		}
		for name, td := range topics {
			c.topics[name] = td
			for i := range td.Assignment {
				tp := protocol.TopicPartition{Topic: name, Partition: int32(i)}
				if st, ok := c.states[tp]; ok {
					st.Replicas, st.AddingReplicas, st.RemovingReplicas = td.Assignment[i], td.adding(i), td.removing(i)
					c.states[tp] = st
				}
			}
		}
		then(now, true)
	}, ops...)
}

// maybeCompleteReassignments completes the moves among tps whose target replicas are all in
// the ISR: the leader moves into the target if it is not there
// (ReassignPartitionLeaderElectionStrategy), the removed replicas leave the ISR, the
// assignment becomes the target, and the removed replicas are stopped and deleted.
func (c *zkController) maybeCompleteReassignments(now time.Duration, tps []protocol.TopicPartition, done func(time.Duration)) {
	var ready []protocol.TopicPartition
	for _, tp := range tps {
		st, ok := c.states[tp]
		if !ok || len(st.AddingReplicas) == 0 && len(st.RemovingReplicas) == 0 {
			continue
		}
		target := slices.DeleteFunc(slices.Clone(st.Replicas), func(r int32) bool { return slices.Contains(st.RemovingReplicas, r) })
		all := true
		for _, r := range target {
			all = all && slices.Contains(st.ISR, r)
		}
		if all {
			ready = append(ready, tp)
		}
	}
	if len(ready) == 0 {
		done(now)
		return
	}
	removed := map[protocol.TopicPartition][]int32{}
	c.write(now, ready, func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
		target := slices.DeleteFunc(slices.Clone(st.Replicas), func(r int32) bool { return slices.Contains(st.RemovingReplicas, r) })
		next := st
		if !slices.Contains(target, st.Leader) || c.shuttingDown[st.Leader] {
			next.Leader = protocol.NoLeader
			for _, r := range target {
				if _, ok := c.live[r]; ok && slices.Contains(st.ISR, r) {
					next.Leader = r
					break
				}
			}
			if next.Leader == protocol.NoLeader {
				return st, false
			}
		}
		next.ISR = slices.DeleteFunc(slices.Clone(st.ISR), func(r int32) bool { return !slices.Contains(target, r) })
		next.LeaderEpoch, next.ControllerEpoch = st.LeaderEpoch+1, c.epoch
		removed[st.TP] = st.RemovingReplicas
		return next, true
	}, func(now time.Duration, changed []protocol.TopicPartition) {
		if len(changed) == 0 {
			done(now)
			return
		}
		newTopics := map[string]*ZkTopicData{}
		for _, tp := range changed {
			td := newTopics[tp.Topic]
			if td == nil {
				td = c.topics[tp.Topic].clone()
				newTopics[tp.Topic] = td
			}
			st := c.states[tp]
			td.Assignment[tp.Partition] = slices.DeleteFunc(slices.Clone(st.Replicas), func(r int32) bool { return slices.Contains(removed[tp], r) })
			td.Adding[tp.Partition], td.Removing[tp.Partition] = nil, nil
		}
		c.writeTopics(now, newTopics, func(now time.Duration, ok bool) {
			if !ok {
				return
			}
			c.sendLeaderAndIsr(now, c.liveIDs(), changed)
			for _, id := range c.liveIDs() {
				var stop []protocol.TopicPartition
				for _, tp := range changed {
					if slices.Contains(removed[tp], id) {
						stop = append(stop, tp)
					}
				}
				if len(stop) > 0 {
					c.channelSend(id, &protocol.StopReplicaRequest{CorrelationID: c.b.nextCorr(), ControllerID: c.b.id, ControllerEpoch: c.epoch, BrokerEpoch: c.live[id], Partitions: stop, Delete: true})
				}
			}
			c.sendUpdateMetadata(now, c.liveIDs())
			c.b.env.Observe(&ReassignmentCompleted{Controller: c.b.id, Partitions: len(changed)})
			done(now)
		})
	})
}

// createPartitions: CreatePartitions (AdminZkClient.addPartitions, then the controller's
// onNewPartitionCreation): the new partitions' assignment goes into the topic znode and each
// gets its state, led by its first live replica.
func (c *zkController) createPartitions(now time.Duration, from int32, m *protocol.CreatePartitionsRequest, done func(time.Duration)) {
	resp := &protocol.CreatePartitionsResponse{CorrelationID: m.CorrelationID}
	t := c.topics[m.Topic]
	switch {
	case t == nil:
		resp.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
	case int(m.Count) <= len(t.Assignment):
		resp.Error = protocol.INVALID_PARTITIONS
	}
	if resp.Error != protocol.NONE {
		c.b.env.Send(from, resp)
		done(now)
		return
	}
	td := t.clone()
	cur := len(t.Assignment)
	asg := m.Assignments
	if asg == nil {
		asg = zkAssign(int(m.Count), len(t.Assignment[0]), c.liveIDs())[cur:]
	}
	ops := []zookeeper.Op{zookeeper.Check(zkControllerEpochPath, c.epochZkVersion)}
	newStates := map[protocol.TopicPartition]protocol.ZkPartitionState{}
	for j, reps := range asg {
		i := cur + j
		td.Assignment = append(td.Assignment, reps)
		td.Adding, td.Removing = append(td.Adding, nil), append(td.Removing, nil)
		tp := protocol.TopicPartition{Topic: m.Topic, Partition: int32(i)}
		st := c.initialState(tp, reps)
		newStates[tp] = st
		ops = append(ops, zookeeper.Create(zkTopicsPath+"/"+m.Topic+"/partitions/"+strconv.Itoa(i), nil, false),
			zookeeper.Create(zkStatePath(tp), ZkStateData{ControllerEpoch: c.epoch, Leader: st.Leader, ISR: st.ISR}, false))
	}
	ops = append(ops, zookeeper.SetData(zkTopicsPath+"/"+m.Topic, td, -1))
	gen := c.gen
	c.client().Multi(now, func(now time.Duration, r *zookeeper.Reply) {
		if gen != c.gen {
			return
		}
		if r.Err != zookeeper.OK {
			resp.Error = protocol.NOT_CONTROLLER
			c.b.env.Send(from, resp)
			c.resign(now)
			c.elect(now)
			return
		}
		c.topics[m.Topic] = td
		maps.Copy(c.states, newStates)
		tps := slices.SortedFunc(maps.Keys(newStates), compareTP)
		c.b.env.Send(from, resp)
		c.sendUpdateMetadata(now, c.liveIDs())
		c.sendLeaderAndIsr(now, c.liveIDs(), tps)
		done(now)
	}, ops...)
}

// initialState is a new partition's state: led by its first live replica, the live replicas
// its ISR.
func (c *zkController) initialState(tp protocol.TopicPartition, reps []int32) protocol.ZkPartitionState {
	var isr []int32
	for _, r := range reps {
		if _, ok := c.live[r]; ok {
			isr = append(isr, r)
		}
	}
	leader := protocol.NoLeader
	if len(isr) > 0 {
		leader = isr[0]
	} else {
		isr = []int32{reps[0]}
	}
	return protocol.ZkPartitionState{TP: tp, ControllerEpoch: c.epoch, Leader: leader, ISR: isr, Replicas: reps}
}

// alterConfigs: IncrementalAlterConfigs. A topic's configs go to its znode (Kafka's
// /config/topics/T), the cluster-wide defaults to /config/brokers/<default>; every broker
// learns them from UpdateMetadata.
func (c *zkController) alterConfigs(now time.Duration, from int32, m *protocol.IncrementalAlterConfigsRequest, done func(time.Duration)) {
	resp := &protocol.IncrementalAlterConfigsResponse{CorrelationID: m.CorrelationID}
	finish := func(now time.Duration, ok bool) {
		if !ok {
			resp.Error = protocol.NOT_CONTROLLER
			c.b.env.Send(from, resp)
			return
		}
		c.b.env.Send(from, resp)
		c.sendUpdateMetadata(now, c.liveIDs())
		done(now)
	}
	if m.Topic != "" {
		t := c.topics[m.Topic]
		if t == nil {
			resp.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
			c.b.env.Send(from, resp)
			done(now)
			return
		}
		td := t.clone()
		td.Configs = maps.Clone(t.Configs)
		maps.Copy(td.Configs, m.Configs)
		c.writeTopics(now, map[string]*ZkTopicData{m.Topic: td}, finish)
		return
	}
	cfg := maps.Clone(c.clusterConfigs)
	if cfg == nil {
		cfg = map[string]string{}
	}
	maps.Copy(cfg, m.Configs)
	gen := c.gen
	zk := c.client()
	zk.Multi(now, nil, zookeeper.Create("/config", nil, false))
	zk.Multi(now, nil, zookeeper.Create("/config/brokers", nil, false))
	zk.Multi(now, func(now time.Duration, r *zookeeper.Reply) {
		if gen != c.gen {
			return
		}
		op := zookeeper.SetData(zkClusterConfigPath, cfg, -1)
		if r.Err == zookeeper.NONODE {
			op = zookeeper.Create(zkClusterConfigPath, cfg, false)
		}
		zk.Multi(now, func(now time.Duration, r *zookeeper.Reply) {
			if gen != c.gen {
				return
			}
			if r.Err == zookeeper.OK {
				c.clusterConfigs = cfg
			}
			finish(now, r.Err == zookeeper.OK)
		}, zookeeper.Check(zkControllerEpochPath, c.epochZkVersion), op)
	}, zookeeper.Check(zkClusterConfigPath, -1))
}

// ControlledShutdownStarted: the controller began moving a stopping broker's leaderships.
type ControlledShutdownStarted struct {
	Controller int32
	Broker     int32
}

// TraceArg puts the broker in the trace.
func (e *ControlledShutdownStarted) TraceArg() int64 { return int64(e.Broker) }

// ReassignmentStarted: the controller wrote a move into the topic znodes.
type ReassignmentStarted struct {
	Controller int32
	Partitions int
}

// TraceArg puts the partition count in the trace.
func (e *ReassignmentStarted) TraceArg() int64 { return int64(e.Partitions) }

// ReassignmentCompleted: moves completed.
type ReassignmentCompleted struct {
	Controller int32
	Partitions int
}

// TraceArg puts the partition count in the trace.
func (e *ReassignmentCompleted) TraceArg() int64 { return int64(e.Partitions) }
