package controller

import (
	"maps"
	"slices"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/metadata"
	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
	"kafkasim/broker/quorum"
)

// Behavior: the controller node. Step hands quorum messages and timers to the Raft, then
// replays newly committed entries into the committed image, answers requests whose entries
// are now committed, and follows the quorum's leadership: becoming active builds the working
// image and starts every registered broker's session; losing it answers every waiting request
// with NOT_CONTROLLER and drops the working image.

const (
	// sessionCheckInterval is how often the active controller looks for expired sessions.
	sessionCheckInterval = 250 * time.Millisecond
	// producerIDBlockSize is the size of an AllocateProducerIds block (KIP-730).
	producerIDBlockSize = 1000
)

// Controller is a KRaft controller: a voter of the metadata quorum; its leader is the active
// controller.
type Controller struct {
	id   int32
	cfg  config.Broker
	env  node.Env
	raft *quorum.Raft

	committed *metadata.Image
	applied   int64 // entries below applied are in committed

	// Active state (nil / -1 when not the active controller).
	working     *metadata.Image
	activeEpoch int32
	gen         uint64 // timer generation: bumps on every change of active state
	sessions    map[int32]time.Duration
	// BrokerHeartbeatManager's metadataOffset (the last offset each broker reported replaying)
	// and controlledShutdownOffset (the entry that moved a broker's leaderships away).
	metaOffsets     map[int32]int64
	shutdownOffsets map[int32]int64
	pending         []pendingReply

	idBuf []int32
}

// pendingReply is an answer held until the entry at offset is committed.
type pendingReply struct {
	offset int64
	to     int32
	msg    any
	// notController is the answer if leadership is lost first.
	notController any
}

type sessionTick struct{ gen uint64 }
type rebalanceTick struct{ gen uint64 }

// New recovers the controller from disk (through quorum.NewRaft) and replays the committed log.
func New(id int32, voters []int32, cfg config.Broker, env node.Env, disk node.Disk, now time.Duration) *Controller {
	vs := slices.Clone(voters)
	slices.Sort(vs)
	c := &Controller{
		id:          id,
		cfg:         cfg,
		env:         env,
		committed:   metadata.NewImage(),
		activeEpoch: -1,
	}
	c.raft = quorum.NewRaft(quorum.Config{
		ID:                 id,
		Voters:             vs,
		ElectionTimeout:    cfg.ControllerQuorumElectionTimeout,
		ElectionBackoffMax: cfg.ControllerQuorumElectionBackoffMax,
		FetchTimeout:       cfg.ControllerQuorumFetchTimeout,
		RequestTimeout:     cfg.ControllerQuorumRequestTimeout,
		FetchMaxWait:       quorum.DefaultFetchMaxWait,
		DisablePreVote:     !cfg.PreVote,
		VoteTwice:          cfg.Bugs.VoteTwicePerEpoch,
	}, env, disk, now)
	c.sync(now)
	return c
}

// Raft is the controller's quorum member.
func (c *Controller) Raft() *quorum.Raft { return c.raft }

// Committed is the image of the committed metadata log.
func (c *Controller) Committed() *metadata.Image { return c.committed }

// Active reports whether this controller is the quorum leader and may write.
func (c *Controller) Active() bool { return c.raft.IsLeader() && c.raft.Ready() }

// Stop shuts the controller down gracefully: it resigns if it leads, then halts.
func (c *Controller) Stop(now time.Duration) {
	if c.raft.IsLeader() {
		c.raft.Resign(now)
	}
	c.sync(now)
	c.env.Halt()
}

// Step handles one delivered message or fired timer.
func (c *Controller) Step(now time.Duration, from int32, msg any) {
	if c.raft.Handle(now, from, msg) {
		c.sync(now)
		return
	}
	c.sync(now) // leadership may have changed through a quorum timer since the last step
	switch m := msg.(type) {
	case sessionTick:
		if from == c.env.ID() && m.gen == c.gen && c.working != nil {
			c.checkSessions(now)
			c.env.After(sessionCheckInterval, sessionTick{gen: c.gen})
		}
	case rebalanceTick:
		if from == c.env.ID() && m.gen == c.gen && c.working != nil {
			c.rebalance(now)
			c.env.After(c.cfg.LeaderImbalanceCheckInterval, rebalanceTick{gen: c.gen})
		}
	case *protocol.BrokerRegistrationRequest:
		c.handleRegistration(now, from, m)
	case *protocol.BrokerHeartbeatRequest:
		c.handleHeartbeat(now, from, m)
	case *protocol.AlterPartitionRequest:
		c.handleAlterPartition(now, from, m)
	case *protocol.CreateTopicsRequest:
		c.handleCreateTopics(now, from, m)
	case *protocol.CreatePartitionsRequest:
		c.handleCreatePartitions(now, from, m)
	case *protocol.ElectLeadersRequest:
		c.handleElectLeaders(now, from, m)
	case *protocol.IncrementalAlterConfigsRequest:
		c.handleAlterConfigs(now, from, m)
	case *protocol.AllocateProducerIdsRequest:
		c.handleAllocateProducerIDs(now, from, m)
	case *protocol.AlterPartitionReassignmentsRequest:
		c.handleAlterPartitionReassignments(now, from, m)
	case *protocol.UnregisterBrokerRequest:
		c.handleUnregisterBroker(now, from, m)
	case *protocol.ListPartitionReassignmentsRequest:
		c.handleListPartitionReassignments(from, m)
	}
	c.sync(now)
}

// sync replays committed entries, answers requests whose entries are committed, and follows
// the quorum's leadership.
func (c *Controller) sync(now time.Duration) {
	hw := c.raft.HighWatermark()
	if hw > c.applied {
		for _, e := range c.raft.Entries(c.applied, hw) {
			for _, r := range e.Records {
				c.committed.Apply(r)
			}
			c.committed.Offset = e.Offset
		}
		c.applied = hw
	}
	if len(c.pending) > 0 {
		kept := c.pending[:0]
		for _, p := range c.pending {
			if p.offset < hw {
				c.env.Send(p.to, p.msg)
			} else {
				kept = append(kept, p)
			}
		}
		clear(c.pending[len(kept):])
		c.pending = kept
	}
	active := c.Active()
	if c.working != nil && (!active || c.raft.Epoch() != c.activeEpoch) {
		c.resign()
	}
	if active && c.working == nil {
		c.becomeActive(now)
	}
}

// becomeActive builds the working image: the committed image plus every entry the quorum log
// holds beyond it (they will commit before anything this controller appends).
func (c *Controller) becomeActive(now time.Duration) {
	c.working = cloneImage(c.committed)
	end := c.raft.EndOffset()
	if end > c.applied {
		for _, e := range c.raft.Entries(c.applied, end) {
			for _, r := range e.Records {
				c.working.Apply(r)
			}
			c.working.Offset = e.Offset
		}
	}
	c.activeEpoch = c.raft.Epoch()
	c.gen++
	// A newly active controller starts every registered broker's session now (KRaft's
	// BrokerHeartbeatManager starts empty and gives each broker a full session).
	c.sessions = make(map[int32]time.Duration, len(c.working.Brokers))
	for id := range c.working.Brokers {
		c.sessions[id] = now
	}
	c.metaOffsets, c.shutdownOffsets = map[int32]int64{}, map[int32]int64{}
	c.env.After(sessionCheckInterval, sessionTick{gen: c.gen})
	if c.cfg.AutoLeaderRebalanceEnable && c.cfg.LeaderImbalanceCheckInterval > 0 {
		c.env.After(c.cfg.LeaderImbalanceCheckInterval, rebalanceTick{gen: c.gen})
	}
}

// resign drops the active state: waiting requests get NOT_CONTROLLER, the working image is
// rebuilt from the committed one when this controller is active again.
func (c *Controller) resign() {
	for _, p := range c.pending {
		c.env.Send(p.to, p.notController)
	}
	clear(c.pending)
	c.pending = c.pending[:0]
	c.working = nil
	c.sessions = nil
	c.metaOffsets, c.shutdownOffsets = nil, nil
	c.activeEpoch = -1
	c.gen++
}

// appendRecords appends one entry holding records (already applied to the working image) and
// records each in the trace. It reports the entry's offset; on failure the controller resigns.
func (c *Controller) appendRecords(now time.Duration, records []any) (int64, bool) {
	off, ok := c.raft.Append(now, records)
	if !ok {
		c.resign()
		return 0, false
	}
	c.working.Offset = off
	for _, r := range records {
		c.env.Observe(r)
	}
	return off, true
}

// reply answers at once, or once the entry at offset commits.
func (c *Controller) reply(to int32, offset int64, msg, notController any) {
	if offset < c.raft.HighWatermark() {
		c.env.Send(to, msg)
		return
	}
	c.pending = append(c.pending, pendingReply{offset: offset, to: to, msg: msg, notController: notController})
}

// cloneImage copies an image deeply enough that applying records to the copy leaves the
// original untouched (Apply replaces brokers and partitions rather than editing them, but
// appends to topics' partition lists and edits config maps).
func cloneImage(im *metadata.Image) *metadata.Image {
	out := &metadata.Image{
		Offset:         im.Offset,
		Brokers:        make(map[int32]*metadata.Broker, len(im.Brokers)),
		Topics:         make(map[string]*metadata.Topic, len(im.Topics)),
		Configs:        make(map[string]string, len(im.Configs)),
		NextProducerID: im.NextProducerID,
	}
	for id, b := range im.Brokers {
		out.Brokers[id] = b
	}
	for n, t := range im.Topics {
		ct := *t
		ct.Partitions = slices.Clone(t.Partitions)
		ct.Configs = make(map[string]string, len(t.Configs))
		for k, v := range t.Configs {
			ct.Configs[k] = v
		}
		out.Topics[n] = &ct
	}
	for k, v := range im.Configs {
		out.Configs[k] = v
	}
	return out
}

// brokerIDs lists the working image's brokers in id order, reusing a buffer.
func (c *Controller) brokerIDs() []int32 {
	c.idBuf = slices.AppendSeq(c.idBuf[:0], maps.Keys(c.working.Brokers))
	slices.Sort(c.idBuf)
	return c.idBuf
}

// acceptable reports whether broker r may lead or join an ISR in the working image:
// registered, unfenced, not in controlled shutdown (KIP-841).
func (c *Controller) acceptable(r int32) bool {
	b := c.working.Brokers[r]
	return b != nil && !b.Fenced && !b.InControlledShutdown
}

// topicConfig is the effective configuration of a topic in the working image.
func (c *Controller) topicConfig(topic string) config.Topic {
	defaults, err := config.TopicFrom(c.cfg.Topic, c.working.Configs)
	if err != nil {
		defaults = c.cfg.Topic
	}
	var keys map[string]string
	if t := c.working.Topics[topic]; t != nil {
		keys = t.Configs
	}
	tc, err := config.TopicFrom(defaults, keys)
	if err != nil {
		return defaults
	}
	return tc
}

// effectiveMinISR is ReplicationControlManager.getTopicEffectiveMinIsr: min.insync.replicas,
// capped at the replication factor of the topic's partition 0 (KAFKA-15583).
func (c *Controller) effectiveMinISR(topic string, tc config.Topic) int {
	if t := c.working.Topics[topic]; t != nil && len(t.Partitions) > 0 && t.Partitions[0] != nil {
		return min(tc.MinInsyncReplicas, len(t.Partitions[0].Replicas))
	}
	return tc.MinInsyncReplicas
}

// builder starts a change of p with the working image's view of acceptable leaders and the
// topic's configuration (the effective min.insync.replicas; unclean.leader.election.enable
// selects the unclean election).
func (c *Controller) builder(p *metadata.Partition) *PartitionChangeBuilder {
	tc := c.topicConfig(p.Topic)
	b := NewPartitionChangeBuilder(p, c.acceptable, c.effectiveMinISR(p.Topic, tc), c.cfg.EligibleLeaderReplicas)
	b.completeEarly = c.cfg.Bugs.ReassignEarly
	if tc.UncleanLeaderElectionEnable {
		b.SetElection(ElectionUnclean)
	}
	return b
}

// plantBugs applies the planted bugs of config.Bugs to a partition change (checker tests only).
func (c *Controller) plantBugs(pc *metadata.PartitionChangeRecord) {
	bugs := c.cfg.Bugs
	old := c.working.Partition(pc.Topic, pc.Partition)
	if old == nil || pc.Leader < 0 || pc.Leader == old.Leader {
		return
	}
	switch {
	case bugs.StaleLeaderEpoch:
		pc.LeaderEpoch = old.LeaderEpoch
	case bugs.LeaderEpochRegress:
		pc.LeaderEpoch = old.LeaderEpoch - 1
	}
	if bugs.LeaderOutsideISR {
		isr := make([]int32, 0, len(pc.ISR))
		for _, r := range pc.ISR {
			if r != pc.Leader {
				isr = append(isr, r)
			}
		}
		pc.ISR = isr
	}
}

// applyChange applies a record to the working image and adds it to records.
func (c *Controller) applyChange(records []any, rec any) []any {
	if pc, ok := rec.(*metadata.PartitionChangeRecord); ok {
		c.plantBugs(pc)
	}
	c.working.Apply(rec)
	return append(records, rec)
}
