package controller

import (
	"math"
	"strconv"
	"time"

	"kafkasim/broker/metadata"
	"kafkasim/broker/protocol"
)

// Behavior: broker lifecycle (KIP-631, KIP-841, KAFKA-15586;
// ClusterControlManager, BrokerHeartbeatManager).
//   - Registration: the same incarnation gets its epoch back (idempotent); a new one is
//     refused with DUPLICATE_BROKER_REGISTRATION while the old session is valid, unless it
//     shut down cleanly; then it gets a fenced RegisterBrokerRecord whose broker epoch is the
//     entry's offset. The old incarnation
//     is fenced in the same entry (leaves ISRs, loses leadership); if it did not shut down
//     cleanly (PreviousBrokerEpoch ≠ the registered epoch) it also leaves every ELR.
//   - Heartbeat: checks the broker epoch, refreshes the session, unfences a broker that has
//     replayed the log up to its registration, fences on request, and runs controlled shutdown
//     as BrokerHeartbeatManager.calculateNextBrokerState does: a broker that leads partitions
//     enters CONTROLLED_SHUTDOWN (its leaderships move, it leaves every ISR); SHUTDOWN_NOW comes
//     only once no leadership is left and every active broker has reported replaying the entry
//     that moved them (controlledShutdownOffset ≤ lowestActiveOffset); SHUTDOWN_NOW fences the
//     broker (handleBrokerFenced).
//   - Session expiry: a broker silent for broker.session.timeout.ms is fenced.
//
// Not modelled: offline log dirs, KAFKA-15019's refresh of the
// session by timed-out heartbeats (heartbeats here are never processed late).

func (c *Controller) handleRegistration(now time.Duration, from int32, req *protocol.BrokerRegistrationRequest) {
	notController := &protocol.BrokerRegistrationResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER, BrokerEpoch: -1}
	if c.working == nil {
		c.env.Send(from, notController)
		return
	}
	old := c.working.Brokers[req.BrokerID]
	if old != nil && old.Incarnation == req.IncarnationID {
		c.sessions[req.BrokerID] = now
		c.reply(from, old.Epoch, &protocol.BrokerRegistrationResponse{CorrelationID: req.CorrelationID, BrokerEpoch: old.Epoch}, notController)
		return
	}
	if old != nil && req.PreviousBrokerEpoch != old.Epoch {
		// ClusterControlManager.registerBroker: a new incarnation is refused while the old
		// one's session is still valid, unless it shut down cleanly (it names the epoch of
		// that session). The broker retries; once the session expires the old incarnation is
		// fenced and the new one gets in.
		if last, ok := c.sessions[req.BrokerID]; ok && now-last < c.cfg.BrokerSessionTimeout {
			c.env.Send(from, &protocol.BrokerRegistrationResponse{CorrelationID: req.CorrelationID, Error: protocol.DUPLICATE_BROKER_REGISTRATION, BrokerEpoch: -1})
			return
		}
	}
	epoch := c.raft.EndOffset()
	var records []any
	records = c.applyChange(records, &metadata.RegisterBrokerRecord{BrokerID: req.BrokerID, BrokerEpoch: epoch, IncarnationID: req.IncarnationID, Fenced: true})
	if old != nil {
		var unclean []int32
		if req.PreviousBrokerEpoch != old.Epoch {
			unclean = []int32{req.BrokerID}
		}
		records = c.fencePartitions(records, req.BrokerID, unclean)
	}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, notController)
		return
	}
	c.sessions[req.BrokerID] = now
	c.reply(from, off, &protocol.BrokerRegistrationResponse{CorrelationID: req.CorrelationID, BrokerEpoch: off}, notController)
}

func (c *Controller) handleHeartbeat(now time.Duration, from int32, req *protocol.BrokerHeartbeatRequest) {
	resp := &protocol.BrokerHeartbeatResponse{CorrelationID: req.CorrelationID, IsFenced: true}
	if c.working == nil {
		resp.Error = protocol.NOT_CONTROLLER
		c.env.Send(from, resp)
		return
	}
	b := c.working.Brokers[req.BrokerID]
	if b == nil {
		resp.Error = protocol.BROKER_ID_NOT_REGISTERED
		c.env.Send(from, resp)
		return
	}
	if b.Epoch != req.BrokerEpoch {
		resp.Error = protocol.STALE_BROKER_EPOCH
		c.env.Send(from, resp)
		return
	}
	c.sessions[req.BrokerID] = now
	// Unfencing waits until the broker has replayed its own registration record.
	caughtUp := req.CurrentMetadataOffset >= b.Epoch
	var records []any
	shutDownNow, enteredShutdown := false, false
	_, inShutdown := c.shutdownOffsets[b.ID]
	switch {
	case b.Fenced:
		// FENCED: a shutdown is granted at once; otherwise unfence once caught up.
		if req.WantShutDown {
			shutDownNow = true
		} else if !req.WantFence && caughtUp {
			records = c.applyChange(records, &metadata.BrokerRegistrationChangeRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch})
			records = c.electForUnfenced(records, b.ID)
		}
	case inShutdown:
		// CONTROLLED_SHUTDOWN: wait until no leadership is left and the active brokers have
		// replayed the moves.
		if !c.leadsAny(b.ID) && c.shutdownOffsets[b.ID] <= c.lowestActiveOffset() {
			shutDownNow = true
			records = c.fenceBroker(records, b)
		}
	case req.WantFence:
		// UNFENCED, asking to be fenced (and perhaps to shut down at once).
		shutDownNow = req.WantShutDown
		records = c.fenceBroker(records, b)
	case req.WantShutDown && c.leadsAny(b.ID):
		// KIP-841: controlled shutdown is persisted; the broker leaves every ISR and its
		// leaderships move away.
		enteredShutdown = true
		records = c.applyChange(records, &metadata.BrokerRegistrationChangeRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch, InControlledShutdown: true})
		records = c.fencePartitions(records, b.ID, nil)
	case req.WantShutDown:
		// Nothing to move: SHUTDOWN_NOW at once, which fences the broker.
		shutDownNow = true
		records = c.fenceBroker(records, b)
	}
	// BrokerHeartbeatManager.touch: an active broker's metadata offset.
	c.metaOffsets[b.ID] = req.CurrentMetadataOffset
	b = c.working.Brokers[req.BrokerID]
	resp.IsCaughtUp = caughtUp
	resp.IsFenced = b.Fenced
	resp.ShouldShutDown = shutDownNow
	if b.Fenced {
		delete(c.shutdownOffsets, b.ID)
	}
	if len(records) == 0 {
		c.env.Send(from, resp)
		return
	}
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, &protocol.BrokerHeartbeatResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER, IsFenced: true})
		return
	}
	if enteredShutdown {
		// QuorumController's processBatchEndOffset: maybeUpdateControlledShutdownOffset.
		c.shutdownOffsets[b.ID] = off
	}
	c.reply(from, off, resp, &protocol.BrokerHeartbeatResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER, IsFenced: true})
}

// lowestActiveOffset is BrokerHeartbeatManager.lowestActiveOffset: the lowest metadata offset
// reported by an active broker (unfenced, not in controlled shutdown); -1 for one that has not
// reported since this controller became active.
func (c *Controller) lowestActiveOffset() int64 {
	lowest := int64(math.MaxInt64)
	for _, id := range c.brokerIDs() {
		b := c.working.Brokers[id]
		if _, in := c.shutdownOffsets[id]; b.Fenced || b.InControlledShutdown || in {
			continue
		}
		off, ok := c.metaOffsets[id]
		if !ok {
			off = -1
		}
		lowest = min(lowest, off)
	}
	return lowest
}

// checkSessions fences every unfenced broker whose last heartbeat is older than
// broker.session.timeout.ms, one entry per broker.
func (c *Controller) checkSessions(now time.Duration) {
	for _, id := range c.brokerIDs() {
		b := c.working.Brokers[id]
		if b.Fenced {
			continue
		}
		last, ok := c.sessions[id]
		if !ok {
			c.sessions[id] = now
			continue
		}
		if now-last <= c.cfg.BrokerSessionTimeout {
			continue
		}
		records := c.fenceBroker(nil, b)
		if _, ok := c.appendRecords(now, records); !ok {
			return
		}
	}
}

// fenceBroker fences b: BrokerRegistrationChangeRecord plus the partition changes.
func (c *Controller) fenceBroker(records []any, b *metadata.Broker) []any {
	records = c.applyChange(records, &metadata.BrokerRegistrationChangeRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch, Fenced: true, InControlledShutdown: b.InControlledShutdown})
	return c.fencePartitions(records, b.ID, nil)
}

// fencePartitions removes broker id from every ISR it is in and re-elects where it led
// (ReplicationControlManager.generateLeaderAndIsrUpdates). With unclean set, the broker also
// leaves every ELR (KAFKA-15586). The broker must already be unacceptable in the working image.
func (c *Controller) fencePartitions(records []any, id int32, unclean []int32) []any {
	drop := []int32{id}
	for _, name := range c.working.TopicNames() {
		for _, p := range c.working.Topics[name].Partitions {
			if p == nil {
				continue
			}
			inISR := metadata.Contains(p.ISR, id)
			inELR := unclean != nil && metadata.Contains(p.ELR, id)
			if !inISR && p.Leader != id && !inELR {
				continue
			}
			b := c.builder(p).SetTargetISR(without(p.ISR, drop))
			if unclean != nil {
				b.SetUncleanShutdownReplicas(unclean)
			}
			if rec := b.Build(); rec != nil {
				records = c.applyChange(records, rec)
			}
		}
	}
	return records
}

// electForUnfenced elects leaders for leaderless partitions that the newly unfenced broker can
// lead (from the ISR, the ELR, as last known leader, or uncleanly where the topic allows).
func (c *Controller) electForUnfenced(records []any, id int32) []any {
	for _, name := range c.working.TopicNames() {
		for _, p := range c.working.Topics[name].Partitions {
			if p == nil || p.Leader != protocol.NoLeader || !metadata.Contains(p.Replicas, id) {
				continue
			}
			if rec := c.builder(p).Build(); rec != nil {
				records = c.applyChange(records, rec)
			}
		}
	}
	return records
}

// leadsAny reports whether broker id leads a partition in the working image.
func (c *Controller) leadsAny(id int32) bool {
	for _, t := range c.working.Topics {
		for _, p := range t.Partitions {
			if p != nil && p.Leader == id {
				return true
			}
		}
	}
	return false
}

// handleUnregisterBroker is ReplicationControlManager.unregisterBroker (UnregisterBroker, API
// key 64): a registered broker leaves every ISR and ELR (handleBrokerUnregistered, leaders
// re-elected among the others), then an UnregisterBrokerRecord removes its registration.
// Kafka does not check the broker's replicas: partitions that still name it lose a replica
// until they are reassigned (decommissioning first drains the broker by reassignment).
func (c *Controller) handleUnregisterBroker(now time.Duration, from int32, req *protocol.UnregisterBrokerRequest) {
	nc := &protocol.UnregisterBrokerResponse{CorrelationID: req.CorrelationID, Error: protocol.NOT_CONTROLLER, ErrorMessage: "this controller is not active"}
	if c.working == nil {
		c.env.Send(from, nc)
		return
	}
	b := c.working.Brokers[req.BrokerID]
	if b == nil {
		c.env.Send(from, &protocol.UnregisterBrokerResponse{CorrelationID: req.CorrelationID, Error: protocol.BROKER_ID_NOT_REGISTERED,
			ErrorMessage: "broker " + strconv.Itoa(int(req.BrokerID)) + " is not currently registered"})
		return
	}
	var records []any
	acceptable := func(r int32) bool { return r != b.ID && c.acceptable(r) }
	drop := []int32{b.ID}
	for _, name := range c.working.TopicNames() {
		for _, p := range c.working.Topics[name].Partitions {
			if p == nil || (!metadata.Contains(p.ISR, b.ID) && !metadata.Contains(p.ELR, b.ID) && p.Leader != b.ID) {
				continue
			}
			tc := c.topicConfig(p.Topic)
			pb := NewPartitionChangeBuilder(p, acceptable, c.effectiveMinISR(p.Topic, tc), c.cfg.EligibleLeaderReplicas).
				SetTargetISR(without(p.ISR, drop)).SetUncleanShutdownReplicas(drop)
			if tc.UncleanLeaderElectionEnable {
				pb.SetElection(ElectionUnclean)
			}
			if rec := pb.Build(); rec != nil {
				records = c.applyChange(records, rec)
			}
		}
	}
	records = c.applyChange(records, &metadata.UnregisterBrokerRecord{BrokerID: b.ID, BrokerEpoch: b.Epoch})
	delete(c.sessions, b.ID)
	delete(c.metaOffsets, b.ID)
	delete(c.shutdownOffsets, b.ID)
	off, ok := c.appendRecords(now, records)
	if !ok {
		c.env.Send(from, nc)
		return
	}
	c.reply(from, off, &protocol.UnregisterBrokerResponse{CorrelationID: req.CorrelationID}, nc)
}
