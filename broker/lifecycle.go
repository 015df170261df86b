package broker

import (
	"time"

	"kafkasim/broker/protocol"
)

// controlledShutdownTimeout bounds how long a stopping broker waits for the controller to move
// its leaderships away before it shuts down anyway (cleanly: it still flushes and writes the
// clean-shutdown marker).
const controlledShutdownTimeout = 20 * time.Second

// lifecycle is the broker's registration with the controller and the session it opens, as
// Kafka's BrokerLifecycleManager keeps them (KIP-631, KIP-841): register with an incarnation id
// to get a broker epoch, heartbeat every broker.heartbeat.interval.ms, learn from the answers
// whether the controller has the broker fenced, and ask through the heartbeat to shut down.
// It keeps the session's state and builds the requests; the broker sends them.
type lifecycle struct {
	incarnation  uint64
	prevEpoch    int64 // broker epoch of the last session if it ended cleanly, else -1
	epoch        int64 // broker epoch, -1 until registered
	fenced       bool
	regInFlight  bool
	regSent      time.Duration
	hbInFlight   bool
	hbSent       time.Duration
	shuttingDown bool
	// shutdownHeard: a heartbeat answer came during the controlled shutdown.
	shutdownHeard bool
}

// newLifecycle starts unregistered and fenced. prevEpoch is the epoch the clean-shutdown marker
// holds, -1 if the last session did not end cleanly.
func newLifecycle(incarnation uint64, prevEpoch int64) lifecycle {
	return lifecycle{incarnation: incarnation, prevEpoch: prevEpoch, epoch: -1, fenced: true}
}

func (l *lifecycle) registered() bool { return l.epoch >= 0 }

// due reports whether the next request (a registration until the broker has an epoch, then a
// heartbeat) may be sent at now: none is in flight, or the one in flight has waited timeout.
func (l *lifecycle) due(now, timeout time.Duration) bool {
	if !l.registered() {
		return !l.regInFlight || now-l.regSent >= timeout
	}
	return !l.hbInFlight || now-l.hbSent >= timeout
}

// registration is the BrokerRegistrationRequest sent at now (BrokerLifecycleManager.sendBrokerRegistration).
func (l *lifecycle) registration(now time.Duration, corr int64, id int32) *protocol.BrokerRegistrationRequest {
	l.regInFlight, l.regSent = true, now
	return &protocol.BrokerRegistrationRequest{
		CorrelationID: corr, BrokerID: id, IncarnationID: l.incarnation, PreviousBrokerEpoch: l.prevEpoch,
	}
}

// heartbeat is the BrokerHeartbeatRequest sent at now (BrokerLifecycleManager.sendBrokerHeartbeat);
// metadataOffset is the last metadata offset the broker has applied.
func (l *lifecycle) heartbeat(now time.Duration, corr int64, id int32, metadataOffset int64) *protocol.BrokerHeartbeatRequest {
	l.hbInFlight, l.hbSent = true, now
	return &protocol.BrokerHeartbeatRequest{
		CorrelationID: corr, BrokerID: id, BrokerEpoch: l.epoch,
		CurrentMetadataOffset: metadataOffset, WantShutDown: l.shuttingDown,
	}
}

// onRegistration takes the broker epoch the controller assigned; false if the registration
// failed or the broker is registered already.
func (l *lifecycle) onRegistration(m *protocol.BrokerRegistrationResponse) bool {
	l.regInFlight = false
	if m.Error != protocol.NONE || l.registered() {
		return false
	}
	l.epoch = m.BrokerEpoch
	l.fenced = true
	return true
}

// onHeartbeat takes in the controller's answer; true when a controlled shutdown under way may
// finish (the controller has moved the broker's leaderships away).
func (l *lifecycle) onHeartbeat(m *protocol.BrokerHeartbeatResponse) bool {
	l.hbInFlight = false
	switch m.Error {
	case protocol.NONE:
	case protocol.STALE_BROKER_EPOCH, protocol.BROKER_ID_NOT_REGISTERED:
		// The controller no longer knows this session: register again.
		l.epoch = -1
		l.fenced = true
		return false
	default:
		return false
	}
	l.fenced = m.IsFenced
	return l.shuttingDown && m.ShouldShutDown
}

// firstShutdownAnswer reports, once per shutdown, the first successful answer to a heartbeat
// that asked to shut down: BrokerLifecycleManager sends the next one 50 ms later (in
// PENDING_CONTROLLED_SHUTDOWN), then at the usual interval.
func (l *lifecycle) firstShutdownAnswer(m *protocol.BrokerHeartbeatResponse) bool {
	if !l.shuttingDown || l.shutdownHeard || m.Error != protocol.NONE {
		return false
	}
	l.shutdownHeard = true
	return true
}

// controllerGone: the connection to a controller was reset; the request in flight is sent
// again at the next heartbeat tick.
func (l *lifecycle) controllerGone() { l.hbInFlight, l.regInFlight = false, false }

func (b *Broker) activeController() int32 {
	if b.zk != nil {
		return b.zk.controllerID
	}
	id, _ := b.meta.Leader()
	return id
}

// lifecycleTick, at every heartbeat tick: register while the broker has no epoch, else
// heartbeat, unless a request is still in flight.
func (b *Broker) lifecycleTick(now time.Duration) {
	if b.zk != nil {
		return // the ZooKeeper session is the broker's registration (zkmode.go)
	}
	if !b.lifecycle.due(now, b.cfg.ControllerQuorumRequestTimeout) {
		return
	}
	if b.lifecycle.registered() {
		b.sendHeartbeat(now)
		return
	}
	c := b.activeController()
	if c < 0 {
		return
	}
	b.env.Send(c, b.lifecycle.registration(now, b.nextCorr(), b.id))
}

func (b *Broker) sendHeartbeat(now time.Duration) {
	c := b.activeController()
	if c < 0 {
		return
	}
	b.env.Send(c, b.lifecycle.heartbeat(now, b.nextCorr(), b.id, b.applied-1))
}

func (b *Broker) handleRegistration(now time.Duration, m *protocol.BrokerRegistrationResponse) {
	if !b.lifecycle.onRegistration(m) {
		return
	}
	b.env.Observe(&Registered{Broker: b.id, Epoch: b.lifecycle.epoch, Clean: b.lifecycle.prevEpoch >= 0})
	b.maybePublish(now)
	b.sendHeartbeat(now)
}

// maybePublish takes up the partitions once the broker is registered and its metadata replay
// has reached its own registration record (the broker epoch is that record's offset). Before
// that its image may still show a previous incarnation leading partitions — with a log a
// crash may have cut — while the controller has already moved them: KRaft's broker likewise
// waits for its initial metadata catch-up before the replica manager acts on it.
func (b *Broker) maybePublish(now time.Duration) {
	if b.published || !b.lifecycle.registered() || b.applied-1 < b.lifecycle.epoch {
		return
	}
	b.published = true
	// Fetches can now carry the broker epoch (KIP-903).
	for _, name := range b.image.TopicNames() {
		for _, p := range b.image.Topics[name].Partitions {
			if p != nil {
				b.applyPartition(now, p)
			}
		}
	}
	b.deleteStrayLogs() // logs of partitions moved away while the broker was down (stray.go)
}

func (b *Broker) handleHeartbeat(now time.Duration, m *protocol.BrokerHeartbeatResponse) {
	if b.lifecycle.onHeartbeat(m) {
		b.finishShutdown()
	} else if b.lifecycle.firstShutdownAnswer(m) {
		b.env.After(50*time.Millisecond, timer{kind: tickShutdownHeartbeat})
	}
}

// Stop begins a controlled shutdown: the broker asks the controller (through its heartbeat) to
// move its leaderships away, then flushes, writes the clean-shutdown marker and halts.
func (b *Broker) Stop(now time.Duration) {
	if b.halted || b.lifecycle.shuttingDown {
		return
	}
	if b.zk != nil {
		b.zkStop(now)
		return
	}
	if !b.cfg.ControlledShutdownEnable || !b.lifecycle.registered() {
		b.finishShutdown()
		return
	}
	b.lifecycle.shuttingDown = true
	b.sendHeartbeat(now)
	b.env.After(controlledShutdownTimeout, timer{kind: tickShutdownTimeout})
}

func (b *Broker) finishShutdown() {
	for _, p := range b.order {
		p.log.Flush()
	}
	b.checkpointHW()
	if b.lifecycle.registered() {
		b.disk.Write(fileCleanShutdown, []any{b.lifecycle.epoch})
		b.disk.Flush(fileCleanShutdown)
	}
	b.halted = true
	b.env.Halt()
}
