package broker

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
	"kafkasim/broker/zookeeper"
)

// The ZooKeeper-era controller (Kafka 3.x KafkaController with ZkPartitionStateMachine,
// ZkReplicaStateMachine and ControllerChannelManager), run by the broker that created the
// ephemeral /controller. It works one event at a time (ControllerEventManager): elect,
// failover (read /brokers/ids, the topics and every partition's state with its zkVersion),
// broker changes (the /brokers/ids child watch), topic creation, AlterPartition (KIP-497)
// and producer id blocks (KIP-730). Every write it makes is a multi that first checks the
// /controller_epoch zkVersion it bumped when it won, so a controller that lost its place
// cannot write (ControllerMovedException); its requests to brokers carry its epoch, so brokers
// that saw a newer controller refuse them (STALE_CONTROLLER_EPOCH).
//
// Controlled shutdown, reassignment, preferred and unclean elections, partition additions and
// configs are in zkmode_admin.go.
//
// Behavior: not modelled: topic deletion, the isr_change_notification path of pre-KIP-497
// brokers.

const (
	zkControllerPath      = "/controller"
	zkControllerEpochPath = "/controller_epoch"
	zkBrokerIDsPath       = "/brokers/ids"
	zkTopicsPath          = "/brokers/topics"
	zkProducerIDBlockPath = "/latest_producer_id_block"
	zkProducerIDBlockSize = 1000
)

// ZkStateData is what /brokers/topics/T/partitions/I/state holds.
type ZkStateData struct {
	ControllerEpoch int32
	Leader          int32
	LeaderEpoch     int32
	ISR             []int32
}

// ZkTopicData is what /brokers/topics/T holds: the assignment (and, here, the topic configs
// Kafka keeps in /config/topics/T).
type ZkTopicData struct {
	Assignment [][]int32
	Configs    map[string]string
	// Adding and Removing hold, per partition, a reassignment in progress (KIP-455's
	// adding_replicas and removing_replicas); nil entries for the others.
	Adding, Removing [][]int32
}

// clone copies the topic data for a write: znode data is never changed in place.
func (t *ZkTopicData) clone() *ZkTopicData {
	cp := &ZkTopicData{Configs: t.Configs}
	for i := range t.Assignment {
		cp.Assignment = append(cp.Assignment, slices.Clone(t.Assignment[i]))
		cp.Adding = append(cp.Adding, slices.Clone(t.adding(i)))
		cp.Removing = append(cp.Removing, slices.Clone(t.removing(i)))
	}
	return cp
}

func (t *ZkTopicData) adding(i int) []int32 {
	if i < len(t.Adding) {
		return t.Adding[i]
	}
	return nil
}

func (t *ZkTopicData) removing(i int) []int32 {
	if i < len(t.Removing) {
		return t.Removing[i]
	}
	return nil
}

type zkEvent func(now time.Duration, done func(now time.Duration))

type zkController struct {
	b              *Broker
	active         bool
	epoch          int32
	epochZkVersion int32
	live           map[int32]int64 // live brokers → broker epoch (czxid)
	topics         map[string]*ZkTopicData
	states         map[protocol.TopicPartition]protocol.ZkPartitionState
	queue          []zkEvent
	busy           bool
	shuttingDown   map[int32]bool       // brokers in controlled shutdown (zkmode_admin.go)
	clusterConfigs map[string]string    // /config/brokers/<default>: cluster-wide topic defaults
	channels       map[int32]*zkChannel // ControllerChannelManager's queues (zkmode_channel.go)
	gen            int64                // bumped at resignation: callbacks of an older controllership stop
}

func newZkController(b *Broker) *zkController { return &zkController{b: b} }

func (c *zkController) client() *zookeeper.Client { return c.b.zk.client }

// enqueue adds an event; events run one at a time.
func (c *zkController) enqueue(now time.Duration, ev zkEvent) {
	c.queue = append(c.queue, ev)
	c.run(now)
}

func (c *zkController) run(now time.Duration) {
	for !c.busy && len(c.queue) > 0 {
		ev := c.queue[0]
		c.queue = c.queue[1:]
		c.busy = true
		gen := c.gen
		ev(now, func(now time.Duration) {
			if gen != c.gen {
				return
			}
			c.busy = false
			c.run(now)
		})
	}
}

// resign: onControllerResignation. Pending events are dropped.
func (c *zkController) resign(now time.Duration) {
	was := c.active
	c.active = false
	c.gen++
	c.busy = false
	c.queue = nil
	c.live, c.topics, c.states, c.shuttingDown, c.clusterConfigs, c.channels = nil, nil, nil, nil, nil, nil
	if was {
		c.b.env.Observe(&ControllerResigned{Broker: c.b.id, Epoch: c.epoch})
	}
}

// elect: KafkaController.elect. Read /controller (leaving a watch); if nobody holds it, create
// it and bump /controller_epoch in one multi (registerControllerAndIncrementControllerEpoch).
func (c *zkController) elect(now time.Duration) {
	c.enqueue(now, func(now time.Duration, done func(time.Duration)) {
		zk := c.client()
		zk.Exists(now, zkControllerPath, true, func(now time.Duration, r *zookeeper.Reply) {
			switch r.Err {
			case zookeeper.OK:
				c.b.zk.controllerID = r.Node.Data.(int32)
				done(now)
				return
			case zookeeper.NONODE:
			default:
				done(now)
				return
			}
			zk.GetData(now, zkControllerEpochPath, false, func(now time.Duration, r *zookeeper.Reply) {
				if r.Err == zookeeper.NONODE {
					zk.Multi(now, func(now time.Duration, _ *zookeeper.Reply) {
						done(now)
						c.elect(now)
					}, zookeeper.Create(zkControllerEpochPath, int32(0), false))
					return
				}
				if r.Err != zookeeper.OK {
					done(now)
					return
				}
				epoch := r.Node.Data.(int32) + 1
				zk.Multi(now, func(now time.Duration, r *zookeeper.Reply) {
					if r.Err != zookeeper.OK {
						// Another broker won: watch its /controller.
						zk.Exists(now, zkControllerPath, true, func(now time.Duration, r *zookeeper.Reply) {
							if r.Err == zookeeper.OK {
								c.b.zk.controllerID = r.Node.Data.(int32)
							}
							done(now)
						})
						return
					}
					c.active, c.epoch, c.epochZkVersion = true, epoch, r.Versions[1]
					c.b.zk.controllerID = c.b.id
					c.b.zk.controllerEpoch = max(c.b.zk.controllerEpoch, epoch)
					c.b.env.Observe(&ControllerElected{Broker: c.b.id, Epoch: epoch})
					zk.Exists(now, zkControllerPath, true, nil)
					c.failover(now, done)
				}, zookeeper.Create(zkControllerPath, c.b.id, true), zookeeper.SetData(zkControllerEpochPath, epoch, r.Node.Version))
			})
		})
	})
}

// onWatch: the /controller watch re-runs the election when the controller goes
// (ControllerChangeHandler); the /brokers/ids child watch is a BrokerChange.
func (c *zkController) onWatch(now time.Duration, ev *zookeeper.WatchedEvent) {
	switch ev.Path {
	case zkControllerPath:
		if ev.Type == zookeeper.NodeDeleted && c.active {
			c.resign(now)
		}
		c.elect(now)
	case zkBrokerIDsPath:
		if c.active {
			c.enqueue(now, c.brokerChange)
		}
	}
}

// join calls then once n callbacks have called the returned function.
func join(n int, then func(now time.Duration)) func(now time.Duration) {
	if n == 0 {
		return nil
	}
	return func(now time.Duration) {
		n--
		if n == 0 {
			then(now)
		}
	}
}

// readBrokers reads the live brokers and their epochs (the czxid of /brokers/ids/N), leaving
// the child watch.
func (c *zkController) readBrokers(now time.Duration, then func(now time.Duration, live map[int32]int64)) {
	zk := c.client()
	gen := c.gen
	zk.GetChildren(now, zkBrokerIDsPath, true, func(now time.Duration, r *zookeeper.Reply) {
		live := map[int32]int64{}
		if r.Err != zookeeper.OK || len(r.Children) == 0 {
			then(now, live)
			return
		}
		step := join(len(r.Children), func(now time.Duration) {
			if gen == c.gen {
				then(now, live)
			}
		})
		for _, name := range r.Children {
			id, _ := strconv.Atoi(name)
			zk.GetData(now, zkBrokerIDsPath+"/"+name, false, func(now time.Duration, r *zookeeper.Reply) {
				if r.Err == zookeeper.OK {
					live[int32(id)] = r.Node.Czxid
				}
				step(now)
			})
		}
	})
}

func zkStatePath(tp protocol.TopicPartition) string {
	return zkTopicsPath + "/" + tp.Topic + "/partitions/" + strconv.Itoa(int(tp.Partition)) + "/state"
}

// failover: onControllerFailover. Read the brokers, the topics and every partition state,
// send UpdateMetadata to every live broker and LeaderAndIsr to every live replica, and elect
// leaders for the partitions whose leader is gone.
func (c *zkController) failover(now time.Duration, done func(time.Duration)) {
	zk := c.client()
	gen := c.gen
	c.readBrokers(now, func(now time.Duration, live map[int32]int64) {
		c.live = live
		c.topics = map[string]*ZkTopicData{}
		c.states = map[protocol.TopicPartition]protocol.ZkPartitionState{}
		zk.GetChildren(now, zkTopicsPath, false, func(now time.Duration, r *zookeeper.Reply) {
			if gen != c.gen {
				return
			}
			finish := func(now time.Duration) {
				c.sendUpdateMetadata(now, c.liveIDs())
				c.sendLeaderAndIsr(now, c.liveIDs(), c.allPartitions())
				c.b.env.Observe(&ControllerFailoverDone{Broker: c.b.id, Epoch: c.epoch, Brokers: len(c.live), Partitions: len(c.states)})
				c.startRebalance()
				c.electOffline(now, done)
			}
			if r.Err != zookeeper.OK || len(r.Children) == 0 {
				finish(now)
				return
			}
			topicsDone := join(len(r.Children), func(now time.Duration) {
				if gen == c.gen {
					finish(now)
				}
			})
			for _, name := range r.Children {
				zk.GetData(now, zkTopicsPath+"/"+name, false, func(now time.Duration, r *zookeeper.Reply) {
					if r.Err != zookeeper.OK {
						topicsDone(now)
						return
					}
					td := r.Node.Data.(*ZkTopicData)
					c.topics[name] = td
					partsDone := join(len(td.Assignment), topicsDone)
					for i := range td.Assignment {
						tp := protocol.TopicPartition{Topic: name, Partition: int32(i)}
						zk.GetData(now, zkStatePath(tp), false, func(now time.Duration, r *zookeeper.Reply) {
							if r.Err == zookeeper.OK {
								c.states[tp] = c.stateFrom(tp, r.Node)
							}
							partsDone(now)
						})
					}
				})
			}
		})
	})
}

func (c *zkController) stateFrom(tp protocol.TopicPartition, n *zookeeper.Znode) protocol.ZkPartitionState {
	d := n.Data.(ZkStateData)
	t, i := c.topics[tp.Topic], int(tp.Partition)
	return protocol.ZkPartitionState{TP: tp, ControllerEpoch: d.ControllerEpoch, Leader: d.Leader, LeaderEpoch: d.LeaderEpoch,
		ISR: d.ISR, ZkVersion: n.Version, Replicas: t.Assignment[i], AddingReplicas: t.adding(i), RemovingReplicas: t.removing(i)}
}

func (c *zkController) liveIDs() []int32 { return slices.Sorted(maps.Keys(c.live)) }

func (c *zkController) allPartitions() []protocol.TopicPartition {
	tps := slices.Collect(maps.Keys(c.states))
	slices.SortFunc(tps, compareTP)
	return tps
}

func (c *zkController) configs() map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, t := range c.topics {
		out[name] = t.Configs
	}
	if c.clusterConfigs != nil {
		out[""] = c.clusterConfigs
	}
	return out
}

// sendUpdateMetadata sends every partition's state and the live brokers to the given brokers
// (ControllerChannelManager's addUpdateMetadataRequestForBrokers).
func (c *zkController) sendUpdateMetadata(now time.Duration, to []int32) {
	var live []protocol.LiveBroker
	for _, id := range c.liveIDs() {
		live = append(live, protocol.LiveBroker{ID: id, Epoch: c.live[id]})
	}
	var parts []protocol.ZkPartitionState
	for _, tp := range c.allPartitions() {
		parts = append(parts, c.states[tp])
	}
	cfgs := c.configs()
	for _, id := range to {
		c.channelSend(id, &protocol.UpdateMetadataRequest{CorrelationID: c.b.nextCorr(), ControllerID: c.b.id, ControllerEpoch: c.epoch,
			BrokerEpoch: c.live[id], LiveBrokers: live, Partitions: parts, Configs: cfgs})
	}
}

// sendLeaderAndIsr sends the partitions' states to their live replicas among to.
func (c *zkController) sendLeaderAndIsr(now time.Duration, to []int32, tps []protocol.TopicPartition) {
	cfgs := c.configs()
	for _, id := range to {
		var parts []protocol.ZkPartitionState
		for _, tp := range tps {
			if st, ok := c.states[tp]; ok && slices.Contains(st.Replicas, id) {
				parts = append(parts, st)
			}
		}
		if len(parts) == 0 {
			continue
		}
		if _, ok := c.live[id]; !ok {
			continue
		}
		c.channelSend(id, &protocol.LeaderAndIsrRequest{CorrelationID: c.b.nextCorr(), ControllerID: c.b.id, ControllerEpoch: c.epoch,
			BrokerEpoch: c.live[id], Partitions: parts, Configs: cfgs})
	}
}

func (c *zkController) topicConfig(topic string) config.Topic {
	t, err := config.TopicFrom(c.b.cfg.Topic, c.topics[topic].Configs)
	if err != nil {
		return c.b.cfg.Topic
	}
	return t
}

// electLeader decides a partition's state when replicas in gone left (or came back): the
// leader, if gone, is replaced by the first live ISR member in assignment order
// (OfflinePartitionLeaderElectionStrategy), or by any live replica when unclean election is
// enabled, else NoLeader; gone replicas leave the ISR, but the last member stays
// (ZkReplicaStateMachine.doRemoveReplicasFromIsr). Any change bumps the leader epoch.
func (c *zkController) electLeader(st protocol.ZkPartitionState, gone map[int32]bool) (protocol.ZkPartitionState, bool) {
	alive := func(id int32) bool { _, ok := c.live[id]; return ok && !gone[id] }
	next := st
	if st.Leader == protocol.NoLeader || !alive(st.Leader) {
		next.Leader = protocol.NoLeader
		for _, r := range st.Replicas {
			if slices.Contains(st.ISR, r) && alive(r) {
				next.Leader = r
				break
			}
		}
		if next.Leader == protocol.NoLeader && c.topicConfig(st.TP.Topic).UncleanLeaderElectionEnable {
			for _, r := range st.Replicas {
				if alive(r) {
					next.Leader, next.ISR = r, []int32{r}
					c.b.env.Observe(&UncleanElection{TP: st.TP, Leader: r})
					break
				}
			}
		}
	}
	isr := slices.DeleteFunc(slices.Clone(next.ISR), func(r int32) bool { return !alive(r) })
	if len(isr) == 0 {
		isr = next.ISR // the last member stays
		if len(isr) > 1 {
			isr = isr[:1]
		}
	}
	next.ISR = isr
	if next.Leader == st.Leader && slices.Equal(next.ISR, st.ISR) {
		return st, false
	}
	next.LeaderEpoch = st.LeaderEpoch + 1
	next.ControllerEpoch = c.epoch
	return next, true
}

// write stores new partition states, each conditional on its zkVersion and on the controller
// epoch's zkVersion (KafkaZkClient.updateLeaderAndIsr). A state changed under us is re-read and
// decided again; a changed controller epoch means we are no longer controller.
func (c *zkController) write(now time.Duration, tps []protocol.TopicPartition, decide func(protocol.ZkPartitionState) (protocol.ZkPartitionState, bool), then func(now time.Duration, changed []protocol.TopicPartition)) {
	zk := c.client()
	gen := c.gen
	var changed []protocol.TopicPartition
	var todo []protocol.ZkPartitionState
	for _, tp := range tps {
		if next, ok := decide(c.states[tp]); ok {
			todo = append(todo, next)
		}
	}
	if len(todo) == 0 {
		then(now, nil)
		return
	}
	step := join(len(todo), func(now time.Duration) {
		if gen == c.gen {
			slices.SortFunc(changed, compareTP)
			then(now, changed)
		}
	})
	for _, next := range todo {
		next := next
		data := ZkStateData{ControllerEpoch: next.ControllerEpoch, Leader: next.Leader, LeaderEpoch: next.LeaderEpoch, ISR: next.ISR}
		zk.Multi(now, func(now time.Duration, r *zookeeper.Reply) {
			if gen != c.gen {
				return
			}
			switch {
			case r.Err == zookeeper.OK:
				next.ZkVersion = r.Versions[1]
				c.states[next.TP] = next
				changed = append(changed, next.TP)
				step(now)
			case r.Err == zookeeper.BADVERSION && r.ErrOp == 0:
				c.b.env.Observe(&ControllerMoved{Broker: c.b.id, Epoch: c.epoch})
				c.resign(now)
				c.elect(now)
			case r.Err == zookeeper.BADVERSION:
				zk.GetData(now, zkStatePath(next.TP), false, func(now time.Duration, r *zookeeper.Reply) {
					if r.Err == zookeeper.OK && gen == c.gen {
						c.states[next.TP] = c.stateFrom(next.TP, r.Node)
					}
					step(now)
				})
			default:
				step(now)
			}
		}, zookeeper.Check(zkControllerEpochPath, c.epochZkVersion), zookeeper.SetData(zkStatePath(next.TP), data, next.ZkVersion))
	}
}

// electOffline elects leaders for the partitions without a live leader
// (triggerOnlinePartitionStateChange).
func (c *zkController) electOffline(now time.Duration, done func(time.Duration)) {
	c.write(now, c.allPartitions(), func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
		return c.electLeader(st, nil)
	}, func(now time.Duration, changed []protocol.TopicPartition) {
		if len(changed) > 0 {
			c.sendLeaderAndIsr(now, c.liveIDs(), changed)
			c.sendUpdateMetadata(now, c.liveIDs())
		}
		done(now)
	})
}

// brokerChange: the /brokers/ids children changed (BrokerChange). Brokers gone or bounced (a
// new broker epoch, KIP-380) fail first (onBrokerFailure); new and bounced ones then start
// (onBrokerStartup).
func (c *zkController) brokerChange(now time.Duration, done func(time.Duration)) {
	c.readBrokers(now, func(now time.Duration, live map[int32]int64) {
		gone := map[int32]bool{}
		var started []int32
		for _, id := range slices.Sorted(maps.Keys(c.live)) {
			if e, ok := live[id]; !ok || e != c.live[id] {
				gone[id] = true
			}
		}
		for _, id := range slices.Sorted(maps.Keys(live)) {
			if e, ok := c.live[id]; !ok || e != live[id] {
				started = append(started, id)
			}
		}
		if len(gone) == 0 && len(started) == 0 {
			done(now)
			return
		}
		c.b.env.Observe(&BrokersChanged{Controller: c.b.id, Gone: slices.Sorted(maps.Keys(gone)), Started: started})
		// onBrokerFailure: the gone brokers leave the cluster, their partitions elect.
		for id := range gone {
			delete(c.live, id)
			delete(c.shuttingDown, id)
		}
		c.channelRemove()
		c.write(now, c.allPartitions(), func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
			return c.electLeader(st, gone)
		}, func(now time.Duration, changed []protocol.TopicPartition) {
			c.sendLeaderAndIsr(now, c.liveIDs(), changed)
			// onBrokerStartup: the new brokers join, learn the cluster and their replicas.
			for _, id := range started {
				c.live[id] = live[id]
			}
			c.sendUpdateMetadata(now, c.liveIDs())
			c.sendLeaderAndIsr(now, started, c.allPartitions())
			c.electOffline(now, done)
		})
	})
}

// handle takes the requests only the controller serves.
func (c *zkController) handle(now time.Duration, from int32, msg any) {
	switch m := msg.(type) {
	case *protocol.AlterPartitionRequest:
		if !c.active {
			c.b.env.Send(from, &protocol.AlterPartitionResponse{CorrelationID: m.CorrelationID, Error: protocol.NOT_CONTROLLER})
			return
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.alterPartition(now, from, m, done) })
	case *protocol.CreateTopicsRequest:
		if !c.active {
			resp := &protocol.CreateTopicsResponse{CorrelationID: m.CorrelationID}
			for _, t := range m.Topics {
				resp.Topics = append(resp.Topics, protocol.CreatableTopicResult{Name: t.Name, Error: protocol.NOT_CONTROLLER})
			}
			c.b.env.Send(from, resp)
			return
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.createTopics(now, from, m, done) })
	case *protocol.AllocateProducerIdsRequest:
		if !c.active {
			c.b.env.Send(from, &protocol.AllocateProducerIdsResponse{CorrelationID: m.CorrelationID, Error: protocol.NOT_CONTROLLER})
			return
		}
		c.enqueue(now, func(now time.Duration, done func(time.Duration)) { c.allocateProducerIDs(now, from, m, done) })
	}
}

// alterPartition: KafkaController.processAlterPartition (KIP-497). The leader's proposal must
// carry the current leader epoch and zkVersion; the new ISR's members must be live brokers of
// the epochs the leader saw. The answer carries the new zkVersion.
func (c *zkController) alterPartition(now time.Duration, from int32, m *protocol.AlterPartitionRequest, done func(time.Duration)) {
	resp := &protocol.AlterPartitionResponse{CorrelationID: m.CorrelationID}
	if e, ok := c.live[m.BrokerID]; !ok || e != m.BrokerEpoch {
		resp.Error = protocol.STALE_BROKER_EPOCH
		for _, it := range m.Partitions {
			c.b.env.Observe(&AlterPartitionRefused{TP: it.TP, Error: resp.Error})
		}
		c.b.env.Send(from, resp)
		done(now)
		return
	}
	var tps []protocol.TopicPartition
	want := map[protocol.TopicPartition][]int32{}
	for _, it := range m.Partitions {
		st, ok := c.states[it.TP]
		res := protocol.AlterPartitionResult{TP: it.TP}
		var isr []int32
		for _, s := range it.NewISR {
			isr = append(isr, s.BrokerID)
		}
		switch {
		case !ok:
			res.Error = protocol.UNKNOWN_TOPIC_OR_PARTITION
		case it.LeaderEpoch != st.LeaderEpoch || st.Leader != m.BrokerID:
			res.Error = protocol.FENCED_LEADER_EPOCH
		case it.PartitionEpoch != st.ZkVersion:
			res.Error = protocol.INVALID_UPDATE_VERSION
		default:
			for _, s := range it.NewISR {
				if e, ok := c.live[s.BrokerID]; !ok || s.BrokerEpoch >= 0 && s.BrokerEpoch != e {
					res.Error = protocol.INELIGIBLE_REPLICA
				}
				// A broker in controlled shutdown does not come back into an ISR.
				if c.shuttingDown[s.BrokerID] && !slices.Contains(st.ISR, s.BrokerID) {
					res.Error = protocol.INELIGIBLE_REPLICA
				}
			}
		}
		if res.Error != protocol.NONE {
			c.b.env.Observe(&AlterPartitionRefused{TP: it.TP, Error: res.Error})
			resp.Partitions = append(resp.Partitions, res)
			continue
		}
		tps = append(tps, it.TP)
		want[it.TP] = isr
	}
	c.write(now, tps, func(st protocol.ZkPartitionState) (protocol.ZkPartitionState, bool) {
		isr, ok := want[st.TP]
		if !ok {
			return st, false
		}
		st.ISR = isr
		st.ControllerEpoch = c.epoch
		return st, true
	}, func(now time.Duration, changed []protocol.TopicPartition) {
		for _, tp := range tps {
			res := protocol.AlterPartitionResult{TP: tp}
			if slices.Contains(changed, tp) {
				st := c.states[tp]
				res.LeaderID, res.LeaderEpoch, res.ISR, res.PartitionEpoch = st.Leader, st.LeaderEpoch, st.ISR, st.ZkVersion
			} else {
				res.Error = protocol.INVALID_UPDATE_VERSION
			}
			resp.Partitions = append(resp.Partitions, res)
		}
		c.b.env.Send(from, resp)
		if len(changed) > 0 {
			c.sendUpdateMetadata(now, c.liveIDs())
		}
		c.maybeCompleteReassignments(now, changed, done)
	})
}

// createTopics writes /brokers/topics/T and each partition's initial state (leader: the first
// live replica of its assignment; ISR: the live replicas) and tells the replicas. In Kafka the
// request handler writes the topic znode and the controller's topic watch creates the
// partitions (onNewPartitionCreation); here the controller does both in one multi.
func (c *zkController) createTopics(now time.Duration, from int32, m *protocol.CreateTopicsRequest, done func(time.Duration)) {
	resp := &protocol.CreateTopicsResponse{CorrelationID: m.CorrelationID}
	live := c.liveIDs()
	var ops []zookeeper.Op
	var created []string
	newStates := map[protocol.TopicPartition]protocol.ZkPartitionState{}
	newTopics := map[string]*ZkTopicData{}
	for _, t := range m.Topics {
		res := protocol.CreatableTopicResult{Name: t.Name}
		asg := t.Assignments
		switch {
		case c.topics[t.Name] != nil || newTopics[t.Name] != nil:
			res.Error = protocol.TOPIC_ALREADY_EXISTS
		case asg == nil && (int(t.ReplicationFactor) > len(live) || t.ReplicationFactor < 1):
			res.Error = protocol.INVALID_REPLICATION_FACTOR
		}
		if res.Error != protocol.NONE {
			resp.Topics = append(resp.Topics, res)
			continue
		}
		if asg == nil {
			asg = zkAssign(int(t.NumPartitions), int(t.ReplicationFactor), live)
		}
		td := &ZkTopicData{Assignment: asg, Configs: t.Configs}
		if td.Configs == nil {
			td.Configs = map[string]string{}
		}
		newTopics[t.Name] = td
		created = append(created, t.Name)
		ops = append(ops, zookeeper.Create(zkTopicsPath+"/"+t.Name, td, false), zookeeper.Create(zkTopicsPath+"/"+t.Name+"/partitions", nil, false))
		for i, reps := range asg {
			tp := protocol.TopicPartition{Topic: t.Name, Partition: int32(i)}
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
			st := protocol.ZkPartitionState{TP: tp, ControllerEpoch: c.epoch, Leader: leader, ISR: isr, Replicas: reps}
			newStates[tp] = st
			ops = append(ops, zookeeper.Create(zkTopicsPath+"/"+t.Name+"/partitions/"+strconv.Itoa(i), nil, false),
				zookeeper.Create(zkStatePath(tp), ZkStateData{ControllerEpoch: c.epoch, Leader: leader, ISR: isr}, false))
		}
	}
	if len(ops) == 0 {
		c.b.env.Send(from, resp)
		done(now)
		return
	}
	gen := c.gen
	c.client().Multi(now, func(now time.Duration, r *zookeeper.Reply) {
		if gen != c.gen {
			return
		}
		code := protocol.NONE
		switch {
		case r.Err == zookeeper.BADVERSION && r.ErrOp == 0:
			code = protocol.NOT_CONTROLLER
		case r.Err != zookeeper.OK:
			code = protocol.TOPIC_ALREADY_EXISTS
		}
		for _, name := range created {
			resp.Topics = append(resp.Topics, protocol.CreatableTopicResult{Name: name, Error: code})
		}
		c.b.env.Send(from, resp)
		if code == protocol.NOT_CONTROLLER {
			c.resign(now)
			c.elect(now)
			return
		}
		if code != protocol.NONE {
			done(now)
			return
		}
		maps.Copy(c.topics, newTopics)
		maps.Copy(c.states, newStates)
		tps := slices.Collect(maps.Keys(newStates))
		slices.SortFunc(tps, compareTP)
		c.sendUpdateMetadata(now, c.liveIDs())
		c.sendLeaderAndIsr(now, c.liveIDs(), tps)
		done(now)
	}, append([]zookeeper.Op{zookeeper.Check(zkControllerEpochPath, c.epochZkVersion)}, ops...)...)
}

// zkAssign places replicas round-robin with a shift per wrap, as
// AdminUtils.assignReplicasToBrokers does without racks (from a fixed start).
func zkAssign(partitions, rf int, brokers []int32) [][]int32 {
	n := len(brokers)
	out := make([][]int32, partitions)
	for p := 0; p < partitions; p++ {
		first := p % n
		shift := (p / n) % max(n-1, 1)
		reps := []int32{brokers[first]}
		for j := 0; j < rf-1; j++ {
			reps = append(reps, brokers[(first+1+(shift+j)%max(n-1, 1))%n])
		}
		out[p] = reps
	}
	return out
}

// allocateProducerIDs hands out the next block of /latest_producer_id_block
// (ZkProducerIdManager.getNewProducerIdBlock), conditional on its version.
func (c *zkController) allocateProducerIDs(now time.Duration, from int32, m *protocol.AllocateProducerIdsRequest, done func(time.Duration)) {
	zk := c.client()
	zk.GetData(now, zkProducerIDBlockPath, false, func(now time.Duration, r *zookeeper.Reply) {
		if r.Err != zookeeper.OK {
			c.b.env.Send(from, &protocol.AllocateProducerIdsResponse{CorrelationID: m.CorrelationID, Error: protocol.UNKNOWN_SERVER_ERROR})
			done(now)
			return
		}
		start := int64(0)
		if v, ok := r.Node.Data.(int64); ok {
			start = v
		}
		zk.Multi(now, func(now time.Duration, w *zookeeper.Reply) {
			resp := &protocol.AllocateProducerIdsResponse{CorrelationID: m.CorrelationID, ProducerIDStart: start, ProducerIDLen: zkProducerIDBlockSize}
			if w.Err != zookeeper.OK {
				resp = &protocol.AllocateProducerIdsResponse{CorrelationID: m.CorrelationID, Error: protocol.UNKNOWN_SERVER_ERROR}
			}
			c.b.env.Send(from, resp)
			done(now)
		}, zookeeper.SetData(zkProducerIDBlockPath, start+zkProducerIDBlockSize, r.Node.Version))
	})
}

// ControllerElected: a broker created /controller and bumped /controller_epoch.
type ControllerElected struct {
	Broker int32
	Epoch  int32
}

// TraceArg puts the epoch in the trace.
func (e *ControllerElected) TraceArg() int64 { return int64(e.Epoch) }

// ControllerFailoverDone: the new controller has read ZooKeeper and told the brokers.
type ControllerFailoverDone struct {
	Broker     int32
	Epoch      int32
	Brokers    int
	Partitions int
}

// TraceArg puts the epoch in the trace.
func (e *ControllerFailoverDone) TraceArg() int64 { return int64(e.Epoch) }

// ControllerResigned: the broker is no longer controller.
type ControllerResigned struct {
	Broker int32
	Epoch  int32
}

// TraceArg puts the epoch in the trace.
func (e *ControllerResigned) TraceArg() int64 { return int64(e.Epoch) }

// ControllerMoved: a write found /controller_epoch changed: another controller took over.
type ControllerMoved struct {
	Broker int32
	Epoch  int32
}

// TraceArg puts the epoch in the trace.
func (e *ControllerMoved) TraceArg() int64 { return int64(e.Epoch) }

// BrokersChanged: the controller saw brokers go and come (its /brokers/ids watch).
type BrokersChanged struct {
	Controller int32
	Gone       []int32
	Started    []int32
}

// TraceArg puts the number of gone brokers in the trace.
func (e *BrokersChanged) TraceArg() int64 { return int64(len(e.Gone)) }

// AlterPartitionRefused: the controller refused a leader's ISR change (a stale leader epoch or
// zkVersion: the leader's "cached zkVersion" no longer matches).
type AlterPartitionRefused struct {
	TP    protocol.TopicPartition
	Error protocol.ErrorCode
}

// TraceArg puts the error in the trace.
func (e *AlterPartitionRefused) TraceArg() int64 { return int64(e.Error) }

// UncleanElection: the controller elected a replica outside the ISR.
type UncleanElection struct {
	TP     protocol.TopicPartition
	Leader int32
}

// TraceArg puts the leader in the trace.
func (e *UncleanElection) TraceArg() int64 { return int64(e.Leader) }
