package broker

import (
	"strconv"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
	"kafkasim/broker/zookeeper"
)

// ZooKeeper mode (Kafka 3.x): the broker's control plane is a ZooKeeper session instead of
// KRaft registration and the metadata log. The broker registers the ephemeral /brokers/ids/N
// (its broker epoch is that znode's czxid, KIP-380), runs for controller through the ephemeral
// /controller (zkmode_controller.go), and learns partition leadership from the controller's
// LeaderAndIsr and the cluster from UpdateMetadata. Both feed the same metadata.Image and the
// same Broker.applyPartition the KRaft metadata publisher feeds (the seam: zkPublish), so
// replication, the log, the clients and the checker do not know which mode runs.

// DefaultZooKeeperSessionTimeout is zookeeper.session.timeout.ms (18 s since Kafka 2.5, KIP-537).
const DefaultZooKeeperSessionTimeout = 18 * time.Second

// zkRegisterRetry is the pause before registering again when /brokers/ids/N still belongs to
// the previous session (KafkaZkClient.registerBroker's NODEEXISTS, which fails the start-up
// of a real broker until that session expires; here it retries).
const zkRegisterRetry = time.Second

// zkMode is the broker's ZooKeeper side.
type zkMode struct {
	client          *zookeeper.Client
	ctl             *zkController
	controllerID    int32 // as UpdateMetadata last said (MetadataCache.getControllerId)
	controllerEpoch int32 // the highest controller epoch seen in a request
	registering     bool
	shutdownCorr    int64 // the controlled shutdown request in flight (zkmode_admin.go)
	shutdownAttempt int
	// held are the controller's requests that came before the broker registered: Kafka's
	// broker processes requests only once its registration is done
	// (KafkaServer.startup's enableRequestProcessing), so they wait.
	held []heldRequest
}

// heldRequest is a controller request held until the broker registers.
type heldRequest struct {
	from int32
	msg  any
}

type zkRetryRegister struct{}

// ZooKeeperMode reports whether the broker runs on ZooKeeper.
func (b *Broker) ZooKeeperMode() bool { return b.zk != nil }

// ZkSession is the broker's ZooKeeper session id, 0 when it has none.
func (b *Broker) ZkSession() int64 {
	if b.zk == nil {
		return 0
	}
	return b.zk.client.Session()
}

// IsController reports whether this broker is the active ZooKeeper-mode controller.
func (b *Broker) IsController() bool { return b.zk != nil && b.zk.ctl.active }

// ControllerLiveBrokers is, on the active controller, the brokers it has taken as live (its
// ControllerContext.liveBrokerIds), sorted; nil elsewhere.
func (b *Broker) ControllerLiveBrokers() []int32 {
	if !b.IsController() || b.zk.ctl.live == nil {
		return nil
	}
	return b.zk.ctl.liveIDs()
}

// ControllerLiveIs reports whether ControllerLiveBrokers would return ids (sorted), without
// building it.
func (b *Broker) ControllerLiveIs(ids []int32) bool {
	if !b.IsController() || b.zk.ctl.live == nil {
		return ids == nil
	}
	if len(ids) != len(b.zk.ctl.live) {
		return false
	}
	for _, id := range ids {
		if _, ok := b.zk.ctl.live[id]; !ok {
			return false
		}
	}
	return true
}

// ControllerEpoch is the epoch of this broker's controllership, or the highest it has seen.
func (b *Broker) ControllerEpoch() int32 {
	if b.zk == nil {
		return 0
	}
	if b.zk.ctl.active {
		return b.zk.ctl.epoch
	}
	return b.zk.controllerEpoch
}

func (b *Broker) zkStart(now time.Duration, servers []int32, timeout time.Duration) {
	z := &zkMode{controllerID: protocol.NoLeader}
	b.zk = z
	z.ctl = newZkController(b)
	z.client = zookeeper.NewClient(servers, timeout, b.env)
	z.client.OnState = func(now time.Duration, st zookeeper.SessionState) { b.zkSessionState(now, st) }
	z.client.OnWatch = func(now time.Duration, ev *zookeeper.WatchedEvent) { z.ctl.onWatch(now, ev) }
	z.client.Start(now)
	b.published = true // partitions are taken up from LeaderAndIsr, whenever it comes
}

// zkStep handles the ZooKeeper-mode inputs; false for the rest.
func (b *Broker) zkStep(now time.Duration, from int32, msg any) bool {
	z := b.zk
	if z.client.Handle(now, from, msg) {
		return true
	}
	switch msg.(type) {
	case *protocol.LeaderAndIsrRequest, *protocol.UpdateMetadataRequest, *protocol.StopReplicaRequest:
		if !b.lifecycle.registered() {
			z.held = append(z.held, heldRequest{from, msg})
			return true
		}
	}
	switch m := msg.(type) {
	case zkRetryRegister:
		b.zkRegister(now)
	case *protocol.LeaderAndIsrRequest:
		b.env.Send(from, &protocol.LeaderAndIsrResponse{CorrelationID: m.CorrelationID, Error: b.handleLeaderAndIsr(now, m)})
	case *protocol.UpdateMetadataRequest:
		b.env.Send(from, &protocol.UpdateMetadataResponse{CorrelationID: m.CorrelationID, Error: b.handleUpdateMetadata(now, m)})
	case *protocol.StopReplicaRequest:
		b.env.Send(from, &protocol.StopReplicaResponse{CorrelationID: m.CorrelationID, Error: b.handleStopReplica(now, m)})
	case *protocol.LeaderAndIsrResponse:
		z.ctl.channelAnswered(from, m.CorrelationID)
	case *protocol.UpdateMetadataResponse:
		z.ctl.channelAnswered(from, m.CorrelationID)
	case *protocol.StopReplicaResponse:
		z.ctl.channelAnswered(from, m.CorrelationID)
	case *protocol.AlterPartitionRequest, *protocol.CreateTopicsRequest, *protocol.AllocateProducerIdsRequest:
		z.ctl.handle(now, from, msg)
	default:
		return z.ctl.handleAdmin(now, from, msg) || z.ctl.channelStep(msg) || b.zkShutdownStep(now, msg)
	}
	return true
}

// zkSessionState: a new session registers the broker and runs for controller; an expired
// one resigns the controllership and starts a new session (KafkaController's Expire event
// and KafkaZkClient's reinitialize).
func (b *Broker) zkSessionState(now time.Duration, st zookeeper.SessionState) {
	switch st {
	case zookeeper.SyncConnected:
		if !b.lifecycle.registered() && !b.zk.registering {
			b.zkRegister(now)
		}
	case zookeeper.Expired:
		b.env.Observe(&ZkSessionExpired{Broker: b.id, Epoch: b.lifecycle.epoch})
		b.zk.ctl.resign(now)
		b.lifecycle.epoch, b.lifecycle.fenced = -1, true
		b.zk.registering = false
		b.zk.client.Start(now)
	}
}

// zkRegister creates the top-level paths (KafkaZkClient.createTopLevelPaths), then the
// ephemeral /brokers/ids/N, whose czxid is the broker epoch.
func (b *Broker) zkRegister(now time.Duration) {
	c := b.zk.client
	b.zk.registering = true
	for _, p := range []string{"/brokers", "/brokers/ids", "/brokers/topics", "/latest_producer_id_block"} {
		c.Multi(now, nil, zookeeper.Create(p, nil, false))
	}
	path := zkBrokerPath(b.id)
	c.Multi(now, func(now time.Duration, r *zookeeper.Reply) {
		switch r.Err {
		case zookeeper.OK:
			c.GetData(now, path, false, func(now time.Duration, r *zookeeper.Reply) {
				if r.Err != zookeeper.OK {
					b.zk.registering = false
					return
				}
				b.zk.registering = false
				b.lifecycle.epoch, b.lifecycle.fenced = r.Node.Czxid, false
				b.env.Observe(&Registered{Broker: b.id, Epoch: b.lifecycle.epoch})
				held := b.zk.held
				b.zk.held = nil
				for _, h := range held {
					b.zkStep(now, h.from, h.msg)
				}
				b.zk.ctl.elect(now)
			})
		case zookeeper.NODEEXISTS:
			b.env.After(zkRegisterRetry, zkRetryRegister{})
		default:
			b.zk.registering = false
		}
	}, zookeeper.Create(path, b.id, true))
}

func zkBrokerPath(id int32) string { return "/brokers/ids/" + strconv.Itoa(int(id)) }

// zkStop: a controlled shutdown (zkmode_admin.go) moves the broker's leaderships away first,
// when controlled.shutdown.enable; then the session closes.
func (b *Broker) zkStop(now time.Duration) {
	b.lifecycle.shuttingDown = true
	if !b.cfg.ControlledShutdownEnable || !b.lifecycle.registered() {
		b.zkFinishStop(now)
		return
	}
	b.zk.shutdownAttempt = 1
	b.zkControlledShutdown(now, 1)
}

// zkFinishStop: a clean shutdown closes the session, so the controller learns at once (its
// /brokers/ids child watch fires) instead of after the session timeout.
func (b *Broker) zkFinishStop(now time.Duration) {
	if b.halted {
		return
	}
	b.zk.ctl.resign(now)
	b.zk.client.Close(now)
	b.finishShutdown()
}

// controllerEpochCheck fences a request from an older controller (STALE_CONTROLLER_EPOCH) or
// addressed to an older incarnation of this broker (STALE_BROKER_EPOCH, KIP-380).
func (b *Broker) controllerEpochCheck(ctlEpoch int32, brokerEpoch int64) protocol.ErrorCode {
	if ctlEpoch < b.zk.controllerEpoch {
		b.env.Observe(&StaleControllerRefused{Broker: b.id, Epoch: ctlEpoch, Known: b.zk.controllerEpoch})
		return protocol.STALE_CONTROLLER_EPOCH
	}
	if brokerEpoch >= 0 && brokerEpoch < b.lifecycle.epoch {
		return protocol.STALE_BROKER_EPOCH
	}
	b.zk.controllerEpoch = ctlEpoch
	return protocol.NONE
}

// handleLeaderAndIsr: ReplicaManager.becomeLeaderOrFollower. A partition state is taken when
// its leader epoch is newer than the replica's (or the replica is new to this broker).
func (b *Broker) handleLeaderAndIsr(now time.Duration, m *protocol.LeaderAndIsrRequest) protocol.ErrorCode {
	if e := b.controllerEpochCheck(m.ControllerEpoch, m.BrokerEpoch); e != protocol.NONE {
		return e
	}
	var take []*metadata.Partition
	for _, st := range m.Partitions {
		p := b.parts[st.TP]
		if p != nil && p.started && st.LeaderEpoch <= p.leaderEpoch {
			// ReplicaManager.becomeLeaderOrFollower: with a ZooKeeper controller only a higher
			// leader epoch is taken; the partition's error is STALE_CONTROLLER_EPOCH.
			continue
		}
		take = append(take, b.zkImagePartition(st, m.Configs))
	}
	b.zkPublish(now, take, true)
	return protocol.NONE
}

// handleUpdateMetadata: the metadata cache (ZkMetadataCache.updateMetadata) takes the live
// brokers and every partition's state; replicas act only on LeaderAndIsr.
func (b *Broker) handleUpdateMetadata(now time.Duration, m *protocol.UpdateMetadataRequest) protocol.ErrorCode {
	if e := b.controllerEpochCheck(m.ControllerEpoch, m.BrokerEpoch); e != protocol.NONE {
		return e
	}
	b.zk.controllerID = m.ControllerID
	brokers := map[int32]*metadata.Broker{}
	for _, lb := range m.LiveBrokers {
		if old := b.image.Brokers[lb.ID]; old != nil && old.Epoch == lb.Epoch {
			brokers[lb.ID] = old
		} else {
			brokers[lb.ID] = &metadata.Broker{ID: lb.ID, Epoch: lb.Epoch}
		}
	}
	b.image.Brokers = brokers
	if cfg, ok := m.Configs[""]; ok {
		b.image.Configs = cfg
	}
	var parts []*metadata.Partition
	for _, st := range m.Partitions {
		cur := b.image.Partition(st.TP.Topic, st.TP.Partition)
		if p := b.parts[st.TP]; p != nil && p.isLeader && cur != nil && cur.LeaderEpoch == st.LeaderEpoch && cur.PartitionEpoch > st.ZkVersion {
			continue // this leader knows a newer ISR (its AlterPartition answer)
		}
		parts = append(parts, b.zkImagePartition(st, m.Configs))
	}
	b.zkPublish(now, parts, false)
	if len(m.Configs) > 0 {
		b.refreshConfigs("")
	}
	// Followers may have joined or left the live brokers: the leaders' HW may move.
	for _, p := range b.order {
		if p.isLeader {
			p.maybeIncrementHW(now)
		}
	}
	return protocol.NONE
}

func (b *Broker) handleStopReplica(now time.Duration, m *protocol.StopReplicaRequest) protocol.ErrorCode {
	if e := b.controllerEpochCheck(m.ControllerEpoch, m.BrokerEpoch); e != protocol.NONE {
		return e
	}
	for _, tp := range m.Partitions {
		if p := b.parts[tp]; p != nil {
			p.stopReplica(now)
			b.coordinatorLeadership(now, p)
			if m.Delete {
				b.deletePartition(p)
			}
		}
	}
	return protocol.NONE
}

// zkImagePartition turns a partition state into the image's form; the zkVersion is the
// partition epoch.
func (b *Broker) zkImagePartition(st protocol.ZkPartitionState, configs map[string]map[string]string) *metadata.Partition {
	t := b.image.Topics[st.TP.Topic]
	if t == nil {
		t = &metadata.Topic{Name: st.TP.Topic, Configs: map[string]string{}}
		b.image.Topics[st.TP.Topic] = t
	}
	if c, ok := configs[st.TP.Topic]; ok {
		t.Configs = c
	}
	return &metadata.Partition{Topic: st.TP.Topic, Index: st.TP.Partition, Replicas: st.Replicas, ISR: st.ISR,
		Leader: st.Leader, LeaderEpoch: st.LeaderEpoch, PartitionEpoch: st.ZkVersion, AddingReplicas: st.AddingReplicas, RemovingReplicas: st.RemovingReplicas}
}

// zkPublish is the seam: partition states from the ZooKeeper-mode controller enter the image
// the KRaft metadata publisher also fills, and, from LeaderAndIsr, the replicas act on them
// through Broker.applyPartition, as in KRaft mode.
func (b *Broker) zkPublish(now time.Duration, parts []*metadata.Partition, act bool) {
	for _, p := range parts {
		t := b.image.Topics[p.Topic]
		for int32(len(t.Partitions)) <= p.Index {
			t.Partitions = append(t.Partitions, nil)
		}
		t.Partitions[p.Index] = p
	}
	if !act {
		return
	}
	for _, p := range parts {
		if lp := b.parts[protocol.TopicPartition{Topic: p.Topic, Partition: p.Index}]; lp != nil {
			lp.cfg = b.topicConfig(p.Topic)
			lp.log.SetConfig(lp.cfg)
			b.staleFetch(lp) // its throttle may have changed (fetcher.go)
		}
		b.applyPartition(now, p)
	}
}

// ZkSessionExpired: the broker's ZooKeeper session expired; it lost /brokers/ids/N and starts
// a new session.
type ZkSessionExpired struct {
	Broker int32
	Epoch  int64
}

// TraceArg puts the old broker epoch in the trace.
func (e *ZkSessionExpired) TraceArg() int64 { return e.Epoch }

// StaleControllerRefused: the broker refused a request from a controller of an older epoch.
type StaleControllerRefused struct {
	Broker int32
	Epoch  int32
	Known  int32
}

// TraceArg puts the stale epoch in the trace.
func (e *StaleControllerRefused) TraceArg() int64 { return int64(e.Epoch) }
