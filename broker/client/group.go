package client

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

// Behavior: the consumer's side of the classic group protocol (AbstractCoordinator and
// ConsumerCoordinator). The consumer finds its coordinator, joins (MEMBER_ID_REQUIRED, then
// JoinGroup again with the id), the leader assigns with partition.assignment.strategy, and
// every member syncs and fetches the committed offsets of what it was given (a committed
// leader epoch is validated first, KIP-320; no offset → auto.offset.reset). Heartbeats every
// heartbeat.interval.ms; REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID make
// it rejoin. Eager strategies revoke everything before rejoining; cooperative-sticky revokes
// only what the new assignment takes away and rejoins (KIP-429). Commits: auto-commit every
// auto.commit.interval.ms of what earlier polls returned (and before a rejoin); with commit=
// (or enable.auto.commit=false) the application commits every poll, before or after its
// processing. A poll's processing keeps the consumer from fetching; past max.poll.interval.ms
// a dynamic member leaves the group (AbstractCoordinator.maybeLeaveGroup). KIP-848's protocol
// (group.protocol=consumer) shares the commits, offsets and processing, with its own
// membership (membership.go). A consumer of several topics sends them all in its subscription
// (ConsumerProtocolSubscription); the leader asks metadata for every topic the members
// subscribe to before it assigns (ConsumerCoordinator.updateGroupSubscription). Not modelled:
// rebalance listeners, commitSync blocking the application, a rejoin when a subscribed
// topic's partition count changes.

// cpCommitted: a newly assigned partition waits for its committed offset (OffsetFetch).
const cpCommitted = cpFetchable + 1

// GroupAssigned is observed when a consumer takes up an assignment (after SyncGroup).
type GroupAssigned struct {
	Client     string
	Group      string
	Member     string
	Generation int32 // the generation, or the member epoch under group.protocol=consumer
	Partitions []protocol.TopicPartition
	Protocol   string // "consumer" under KIP-848 (epochs), "" for the classic protocol
}

// TraceArg puts the generation in the trace.
func (g *GroupAssigned) TraceArg() int64 { return int64(g.Generation) }

// GroupFailed is observed when a consumer gives up on its group for an error the Java
// consumer raises to the application (INVALID_SESSION_TIMEOUT, FENCED_INSTANCE_ID,
// INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED, INVALID_GROUP_ID).
type GroupFailed struct {
	Client string
	Group  string
	Error  protocol.ErrorCode
	Why    string // the consumer's settings that explain it, if any
}

// TraceArg puts the error code in the trace.
func (g *GroupFailed) TraceArg() int64 { return int64(g.Error) }

// Seek moves a consumer's position (Offset, or protocol.EarliestOffset / LatestOffset).
type Seek struct {
	TP     protocol.TopicPartition
	Offset int64
}

// CommitNow has a consumer commit now: its positions, or the offsets given.
type CommitNow struct {
	Offsets map[protocol.TopicPartition]int64
}

// LeaveGroup has a consumer close cleanly: commit (with auto-commit), then leave its group.
type LeaveGroup struct{}

// Group request kinds.
const (
	gFind uint8 = iota + 1
	gJoin
	gSync
	gHeartbeat
	gLeave
	gCommit
	gOffsetFetch
)

type greq struct {
	kind   uint8
	to     int32 // the broker asked
	sentAt time.Duration
	gen    int32
	parts  []protocol.OffsetCommitPartition
}

// groupMember is the consumer's group membership.
type groupMember struct {
	c          *Consumer
	coord      int32 // -1: unknown
	memberID   string
	generation int32 // -1: none
	protocol   string
	needJoin   bool
	joined     bool // has a generation and an assignment (Stable)
	fatal      protocol.ErrorCode
	left       bool
	closing    uint8 // a clean close in progress (closeCommit, closeLeave, closeDone)
	reqs       map[int64]*greq
	inFlight   [gOffsetFetch + 1]int64
	notBefore  time.Duration
	nextHB     time.Duration
	lastHBOK   time.Duration
	nextAuto   time.Duration
	busyUntil  time.Duration
	pollStart  time.Duration             // when the application last polled
	commitDue  bool                      // an after-processing commit waits for the processing to end
	owned      []bool                    // by index in the consumer's parts
	ahead      []protocol.TopicPartition // owned, not yet described by metadata
	// leaderJoin: the leader's JoinGroup answer, held while metadata is asked for topics other
	// members subscribe to (ConsumerCoordinator.onLeaderElected, updateGroupSubscription).
	leaderJoin *protocol.JoinGroupResponse
	handling   []handled // polls the application is processing
	seeks      int
	sessKey    sessionKey // session's last name and what it was made of
	sessName   string
	Assignment []protocol.TopicPartition
	// appCommits: a processor commits the offsets itself (processor.go); the consumer's own
	// commits (auto, per poll, before a rebalance, at close) are off.
	appCommits bool
	// onRevoke: the application's rebalance listener (ConsumerRebalanceListener.onPartitionsRevoked),
	// called by joinPrepare while the member still holds its generation; nil for none.
	onRevoke func(now time.Duration)

	// KIP-848 (membership.go): generation is the member epoch.
	modern                bool
	target                []protocol.TopicPartition // an assignment to reconcile to (nil: none)
	ackDue                bool                      // a heartbeat acknowledges a reconciliation
	committedBeforeRevoke bool
	revokeCommit          int64 // the commit a revocation waits for
	hbInterval            time.Duration
}

func newGroupMember(c *Consumer, now time.Duration) *groupMember {
	return &groupMember{c: c, coord: -1, generation: -1, needJoin: true, reqs: map[int64]*greq{}, nextAuto: now + c.cfg.AutoCommitInterval, pollStart: now,
		modern: c.cfg.GroupProtocol == "consumer", hbInterval: c.cfg.HeartbeatInterval}
}

// Topic is the topic the consumer reads (the first, by name, of several).
func (c *Consumer) Topic() string { return c.o.Topic }

// Topics lists the topics the consumer reads, sorted.
func (c *Consumer) Topics() []string { return slices.Clone(c.topics) }

// Group is the consumer's group id ("" without one).
func (c *Consumer) Group() string { return c.cfg.Group }

// Member describes the consumer's membership: member id, generation, and whether it holds
// an assignment of that generation.
func (c *Consumer) Member() (id string, generation int32, stable bool) {
	if c.grp == nil {
		return "", -1, false
	}
	return c.grp.memberID, c.grp.generation, c.grp.joined && c.grp.target == nil
}

// Assigned lists the partitions the consumer owns now (nil without a group: every partition).
func (c *Consumer) Assigned() []protocol.TopicPartition {
	if c.grp == nil {
		return nil
	}
	return slices.Clone(c.grp.Assignment)
}

// GroupError is the fatal error that stopped the consumer's membership (NONE if none).
func (c *Consumer) GroupError() protocol.ErrorCode {
	if c.grp == nil {
		return protocol.NONE
	}
	return c.grp.fatal
}

func (g *groupMember) owns(part int) bool { return part < len(g.owned) && g.owned[part] }

func (g *groupMember) busy(now time.Duration) bool { return now < g.busyUntil }

// session names the consumer's current reading session for the history; the name is built
// again only when the member, its generation or its seeks changed (every poll asks). A
// partition taken up again counts as a seek (takeUp): its position starts anew from the
// committed offset, even when the generation repeats.
func (g *groupMember) session() string {
	k := sessionKey{g.memberID, g.generation, g.seeks}
	if k != g.sessKey || g.sessName == "" {
		g.sessKey, g.sessName = k, fmt.Sprintf("%s/%d/%d", g.memberID, g.generation, g.seeks)
	}
	return g.sessName
}

// sessionKey is what a session's name is made of.
type sessionKey struct {
	memberID   string
	generation int32
	seeks      int
}

func (g *groupMember) send(kind uint8, now time.Duration, to int32, msg any, corr int64, timeout time.Duration, r *greq) {
	if r == nil {
		r = &greq{}
	}
	r.kind, r.to, r.sentAt = kind, to, now
	g.reqs[corr] = r
	g.inFlight[kind] = corr
	g.c.env.Send(to, msg)
	g.c.tmo.add(g.c.env, now, timeout, corr)
}

func (g *groupMember) nextCorr() int64 {
	g.c.corr++
	return g.c.corr
}

// coordinatorUnknown: AbstractCoordinator.markCoordinatorUnknown, which disconnects from the
// coordinator: every request in flight to it fails, so a late answer (a SyncGroup's, after a
// new JoinGroup went out) is never taken up; a commit's outcome is unknown.
func (g *groupMember) coordinatorUnknown(now time.Duration) {
	g.coord = -1
	g.leaderJoin = nil
	for _, corr := range slices.Sorted(maps.Keys(g.reqs)) {
		r := g.reqs[corr]
		if r.kind == gFind {
			continue
		}
		delete(g.reqs, corr)
		if r.kind == gCommit {
			g.recordCommit(now, r, protocol.REQUEST_TIMED_OUT, nil)
		}
	}
	g.revokeCommit = 0
	for k := range g.inFlight {
		if k != int(gFind) {
			g.inFlight[k] = 0
		}
	}
	g.notBefore = now + g.c.cfg.RetryBackoff
}

// resetGeneration: AbstractCoordinator.resetGenerationOnResponseError.
func (g *groupMember) resetGeneration(keepMember bool) {
	g.generation = -1
	g.leaderJoin = nil
	g.joined = false
	if !keepMember {
		g.memberID = ""
	}
	g.needJoin = true
}

// positions is what a commit sends: each owned partition's position and the epoch of its
// last consumed record (SubscriptionState.allConsumed).
func (g *groupMember) positions() []protocol.OffsetCommitPartition {
	var out []protocol.OffsetCommitPartition
	for i := range g.c.parts {
		p := &g.c.parts[i]
		if g.owns(i) && p.position >= 0 && (p.state == cpFetchable || p.state == cpNeedValidate || p.state == cpValidating) {
			off := p.position
			if g.c.cfg.Bugs.CommitAhead {
				off += 10 // planted bug
			}
			out = append(out, protocol.OffsetCommitPartition{TP: g.c.tp(int32(i)), Offset: off, LeaderEpoch: p.lastEpoch})
		}
	}
	return out
}

// commit sends an OffsetCommit for the current generation (ConsumerCoordinator.sendOffsetCommitRequest).
func (g *groupMember) commit(now time.Duration, parts []protocol.OffsetCommitPartition) {
	if g.appCommits {
		return
	}
	g.commitParts(now, parts)
}

// commitParts sends the OffsetCommit (commit; a processor's own commits, processor.go); false
// when it cannot now (no coordinator, or not a member of a stable generation: the
// RebalanceInProgressException of ConsumerCoordinator.sendOffsetCommitRequest).
func (g *groupMember) commitParts(now time.Duration, parts []protocol.OffsetCommitPartition) bool {
	if len(parts) == 0 || g.coord < 0 || g.generation < 0 || !g.joined {
		return false
	}
	corr := g.nextCorr()
	g.send(gCommit, now, g.coord, &protocol.OffsetCommitRequest{CorrelationID: corr, GroupID: g.c.cfg.Group, GenerationID: g.generation,
		MemberID: g.memberID, GroupInstanceID: g.c.cfg.GroupInstanceID, Partitions: parts}, corr, g.c.cfg.RequestTimeout,
		&greq{gen: g.generation, parts: parts})
	g.inFlight[gCommit] = 0 // commits may overlap
	return true
}

// revoke gives up partitions: their fetches in flight become stale.
func (g *groupMember) revoke(tps []protocol.TopicPartition) {
	for _, tp := range tps {
		i := g.c.indexOf(tp)
		if i < 0 {
			g.ahead = slices.DeleteFunc(g.ahead, func(x protocol.TopicPartition) bool { return x == tp })
			continue
		}
		if i < len(g.owned) {
			g.owned[i] = false
		}
		p := &g.c.parts[i]
		p.state, p.position, p.gen, p.fetchOK = cpNeedReset, -1, p.gen+1, false
	}
	g.Assignment = slices.DeleteFunc(g.Assignment, func(tp protocol.TopicPartition) bool {
		return slices.Contains(tps, tp)
	})
}

// ownedList lists the partitions the member owns.
func (g *groupMember) ownedList() []protocol.TopicPartition {
	var out []protocol.TopicPartition
	for i, o := range g.owned {
		if o {
			out = append(out, g.c.tp(int32(i)))
		}
	}
	return append(out, g.ahead...)
}

// described: metadata first describes tp, at index i of the consumer's parts; if the member
// owns it already, it reads it from auto.offset.reset.
func (g *groupMember) described(i int, tp protocol.TopicPartition) {
	k := slices.Index(g.ahead, tp)
	if k < 0 {
		return
	}
	g.ahead = slices.Delete(g.ahead, k, k+1)
	for i >= len(g.owned) {
		g.owned = append(g.owned, false)
	}
	g.owned[i] = true
}

// handled is a poll the application processes record by record over processing=D: record i
// of n is done at start + (i+1)·D/n, and counts as received then. A crash in the middle
// leaves the rest unhandled: with commit=before-processing their offsets are committed all the
// same (at-most-once: a group-skip); with commit=after-processing nothing is, and the records
// handled so far come again to the next owner (at-least-once: redelivered).
type handled struct {
	op    *history.Op
	start time.Duration
	done  int
}

func (h *handled) due(i int, d time.Duration) time.Duration {
	return h.start + time.Duration(int64(i+1)*int64(d)/int64(len(h.op.Values)))
}

func (g *groupMember) process(now time.Duration, op *history.Op) {
	g.handling = append(g.handling, handled{op: op, start: now})
}

// advanceProcessing records the records handled by now and wakes the consumer for the next.
func (g *groupMember) advanceProcessing(now time.Duration, all bool) {
	d := g.c.cfg.Processing
	kept := g.handling[:0]
	for _, h := range g.handling {
		k := h.done
		for k < len(h.op.Values) && (all || h.due(k, d) <= now) {
			k++
		}
		if k > h.done {
			op := *h.op
			op.Values, op.Offsets, op.Complete = h.op.Values[h.done:k], h.op.Offsets[h.done:k], now
			g.c.env.Observe(&op)
			h.done = k
		}
		if h.done < len(h.op.Values) {
			g.c.w.at(g.c.env, now, h.due(h.done, d))
			kept = append(kept, h)
		}
	}
	g.handling = kept
}

// finishProcessing: the application handles the rest of what it polled (before a clean close).
func (g *groupMember) finishProcessing(now time.Duration) { g.advanceProcessing(now, true) }

// polled: the application received records now; it processes them for processing=D, with
// the commit before or after.
func (g *groupMember) polled(now time.Duration) {
	cfg := &g.c.cfg
	g.busyUntil = max(g.busyUntil, now+cfg.Processing)
	perPoll := cfg.CommitModeSet || !cfg.EnableAutoCommit
	if perPoll && cfg.CommitMode == "before-processing" {
		g.commit(now, g.positions())
	} else if perPoll {
		g.commitDue = true
	}
}

// run does what is due: find the coordinator, join, sync, heartbeat, commit, fetch offsets.
func (g *groupMember) run(now time.Duration) {
	c := g.c
	if len(g.handling) > 0 {
		g.advanceProcessing(now, false)
	}
	if g.closing != 0 {
		g.closeStep(now)
		return
	}
	if g.left || g.fatal != protocol.NONE {
		return
	}
	if len(g.owned) < len(c.parts) {
		g.owned = append(g.owned, make([]bool, len(c.parts)-len(g.owned))...)
	}
	if g.busy(now) {
		c.w.at(c.env, now, g.busyUntil)
		// ConsumerCoordinator's heartbeat thread: the poll timer expired.
		if now-g.pollStart > c.cfg.MaxPollInterval && g.generation >= 0 {
			if g.modern {
				g.modernPollTimeout(now)
			} else {
				g.pollTimeout(now)
			}
		}
	} else {
		g.pollStart = now
		if g.commitDue {
			g.commitDue = false
			g.commit(now, g.positions())
		}
	}
	if now < g.notBefore {
		c.w.at(c.env, now, g.notBefore)
		return
	}
	if g.coord < 0 {
		if g.inFlight[gFind] == 0 {
			to := c.meta.pick(c.env, now, -1)
			if to >= 0 {
				corr := g.nextCorr()
				g.send(gFind, now, to, &protocol.FindCoordinatorRequest{CorrelationID: corr, Key: c.cfg.Group}, corr, c.cfg.RequestTimeout, nil)
			}
		}
		return
	}
	if g.modern {
		g.runModern(now)
		g.autoCommit(now)
		return
	}
	if g.leaderJoin != nil {
		g.onJoin(now, g.leaderJoin)
	}
	if g.needJoin && !g.busy(now) && g.inFlight[gJoin] == 0 && g.inFlight[gSync] == 0 && g.leaderJoin == nil {
		g.joinPrepare(now)
		g.sendJoin(now)
	}
	if g.joined {
		g.heartbeat(now)
	}
	g.autoCommit(now)
}

// autoCommit commits every auto.commit.interval.ms, and asks for the committed offsets of
// newly assigned partitions.
func (g *groupMember) autoCommit(now time.Duration) {
	c := g.c
	if !g.joined {
		return
	}
	if c.cfg.EnableAutoCommit && !g.busy(now) {
		if now >= g.nextAuto {
			g.nextAuto = now + c.cfg.AutoCommitInterval
			g.commit(now, g.positions())
		}
		c.w.at(c.env, now, g.nextAuto)
	}
	g.fetchCommitted(now)
}

// joinPrepare: ConsumerCoordinator.onJoinPrepare: auto-commit, then (eager) revoke everything.
func (g *groupMember) joinPrepare(now time.Duration) {
	c := g.c
	if g.onRevoke != nil && g.generation >= 0 {
		g.onRevoke(now)
	}
	if c.cfg.EnableAutoCommit && g.generation >= 0 {
		g.commit(now, g.positions())
		g.nextAuto = now + c.cfg.AutoCommitInterval
	}
	if c.cfg.AssignmentStrategy != AssignCooperativeSticky || g.generation < 0 {
		g.revoke(g.ownedList())
	}
	g.joined = false
}

func (g *groupMember) subscription() protocol.GroupProtocol {
	p := protocol.GroupProtocol{Name: g.c.cfg.AssignmentStrategy, Topics: slices.Clone(g.c.topics)}
	if g.c.cfg.AssignmentStrategy == AssignCooperativeSticky {
		p.Owned = slices.Clone(g.Assignment)
	}
	return p
}

func (g *groupMember) sendJoin(now time.Duration) {
	c := g.c
	corr := g.nextCorr()
	timeout := max(c.cfg.RequestTimeout, c.cfg.MaxPollInterval+5*time.Second) // JOIN_GROUP_TIMEOUT_LAPSE
	g.send(gJoin, now, g.coord, &protocol.JoinGroupRequest{
		CorrelationID: corr, GroupID: c.cfg.Group, SessionTimeoutMs: int32(c.cfg.SessionTimeout / time.Millisecond),
		RebalanceTimeoutMs: int32(c.cfg.MaxPollInterval / time.Millisecond), MemberID: g.memberID, GroupInstanceID: c.cfg.GroupInstanceID,
		ClientID: c.name, ProtocolType: "consumer", Protocols: []protocol.GroupProtocol{g.subscription()},
	}, corr, timeout, nil)
}

func (g *groupMember) heartbeat(now time.Duration) {
	c := g.c
	if now-g.lastHBOK > c.cfg.SessionTimeout {
		// No answer within the session: the coordinator is marked unknown (HeartbeatThread).
		g.lastHBOK = now
		g.coordinatorUnknown(now)
		return
	}
	if g.inFlight[gHeartbeat] == 0 && now >= g.nextHB {
		corr := g.nextCorr()
		g.send(gHeartbeat, now, g.coord, &protocol.HeartbeatRequest{CorrelationID: corr, GroupID: c.cfg.Group, GenerationID: g.generation,
			MemberID: g.memberID, GroupInstanceID: c.cfg.GroupInstanceID}, corr, c.cfg.RequestTimeout, nil)
		g.nextHB = now + c.cfg.HeartbeatInterval
	}
	if g.inFlight[gHeartbeat] == 0 {
		c.w.at(c.env, now, g.nextHB)
	} else {
		// Its answer wakes the consumer; without one, the session check does.
		c.w.at(c.env, now, g.lastHBOK+c.cfg.SessionTimeout+time.Millisecond)
	}
}

// fetchCommitted asks for the committed offsets of newly assigned partitions.
func (g *groupMember) fetchCommitted(now time.Duration) {
	c := g.c
	if g.inFlight[gOffsetFetch] != 0 {
		return
	}
	var tps []protocol.TopicPartition
	for i := range c.parts {
		if g.owns(i) && c.parts[i].state == cpCommitted {
			tps = append(tps, c.tp(int32(i)))
		}
	}
	if len(tps) == 0 {
		return
	}
	corr := g.nextCorr()
	g.send(gOffsetFetch, now, g.coord, &protocol.OffsetFetchRequest{CorrelationID: corr, GroupID: c.cfg.Group, Partitions: tps, RequireStable: true}, corr, c.cfg.RequestTimeout, &greq{gen: g.generation})
}

// pollTimeout: AbstractCoordinator.handlePollTimeoutExpiry: a dynamic member leaves; the
// member id and generation are reset and it rejoins at its next poll.
func (g *groupMember) pollTimeout(now time.Duration) {
	if g.c.cfg.GroupInstanceID == "" && g.coord >= 0 {
		corr := g.nextCorr()
		g.send(gLeave, now, g.coord, &protocol.LeaveGroupRequest{CorrelationID: corr, GroupID: g.c.cfg.Group, MemberID: g.memberID}, corr, g.c.cfg.RequestTimeout, nil)
	}
	g.revoke(g.ownedList())
	g.resetGeneration(false)
}

// leave closes the consumer cleanly: a commit with auto-commit on, then LeaveGroup (dynamic
// members only: a static member's departure is seen at session timeout).
func (g *groupMember) leave(now time.Duration) {
	g.finishProcessing(now)
	if g.c.cfg.EnableAutoCommit {
		g.commit(now, g.positions())
	}
	g.sendLeave(now)
	g.revoke(g.ownedList())
	g.resetGeneration(false)
	g.left = true
	if g.modern {
		g.releaseAll()
		g.announce()
	}
}

// sendLeave: LeaveGroup (a dynamic member of a classic group), or a heartbeat with epoch -1 or
// -2 under KIP-848.
func (g *groupMember) sendLeave(now time.Duration) {
	if g.coord < 0 || g.memberID == "" {
		return
	}
	if g.modern {
		if g.generation >= 0 {
			g.modernHeartbeat(now, gLeave, g.leaveEpoch())
		}
		return
	}
	if g.c.cfg.GroupInstanceID == "" {
		corr := g.nextCorr()
		g.send(gLeave, now, g.coord, &protocol.LeaveGroupRequest{CorrelationID: corr, GroupID: g.c.cfg.Group, MemberID: g.memberID}, corr, g.c.cfg.RequestTimeout, nil)
	}
}

// Stages of a clean close.
const (
	closeCommit uint8 = iota + 1 // the last auto-commit, awaited
	closeLeave                   // LeaveGroup, awaited
	closeDone
)

// close begins a clean close (KafkaConsumer.close): ConsumerCoordinator.close commits the
// positions synchronously with auto-commit on, then AbstractCoordinator.close leaves the
// group (a dynamic member that has a member id and a known coordinator) and awaits the
// answer. The world bounds it (its stop timeout; Kafka's close timeout is 30 s).
func (g *groupMember) close(now time.Duration) {
	g.closing = closeCommit
	if g.left || g.fatal != protocol.NONE || !g.c.cfg.EnableAutoCommit || !g.joined || g.coord < 0 {
		g.closing = closeLeave
	} else {
		g.commit(now, g.positions())
	}
	// The application polls no more: what a fetch in flight brings is dropped, not returned.
	for _, tp := range g.ownedList() {
		if i := g.c.indexOf(tp); i >= 0 {
			g.c.parts[i].gen++
		}
	}
	g.closeStep(now)
}

func (g *groupMember) pending(kind uint8) bool {
	for _, r := range g.reqs {
		if r.kind == kind {
			return true
		}
	}
	return false
}

// closeStep moves a clean close on once what it waits for is answered; done reports the end.
func (g *groupMember) closeStep(now time.Duration) {
	if g.closing == closeCommit && !g.pending(gCommit) {
		g.closing = closeLeave
		if !g.left && g.fatal == protocol.NONE {
			g.sendLeave(now)
		}
	}
	if g.closing == closeLeave && !g.pending(gLeave) {
		g.closing = closeDone
		g.revoke(g.ownedList())
		g.resetGeneration(false)
		g.left = true
		if g.modern {
			g.releaseAll()
			g.announce()
		}
	}
}

// timedOut handles a group request without an answer; it reports whether corr was one.
func (g *groupMember) timedOut(now time.Duration, corr int64) bool {
	r := g.reqs[corr]
	if r == nil {
		return false
	}
	delete(g.reqs, corr)
	if g.inFlight[r.kind] == corr {
		g.inFlight[r.kind] = 0
	}
	if corr == g.revokeCommit {
		g.revokeCommit = 0
	}
	if r.kind == gCommit {
		g.recordCommit(now, r, protocol.REQUEST_TIMED_OUT, nil)
	}
	if r.kind != gFind && r.kind != gCommit {
		g.coordinatorUnknown(now)
	}
	return true
}

// onReset fails the group requests in flight to a peer that went away.
// A FindCoordinator in flight to that peer fails as well and is sent again after
// retry.backoff.ms (AbstractCoordinator.ensureCoordinatorReady on the DisconnectException
// ConsumerNetworkClient raises), instead of waiting out request.timeout.ms.
func (g *groupMember) onReset(now time.Duration, peer int32) {
	if peer == g.coord {
		for _, corr := range slices.Sorted(maps.Keys(g.reqs)) {
			g.timedOut(now, corr)
		}
		g.coordinatorUnknown(now)
	}
	if corr := g.inFlight[gFind]; corr != 0 {
		if r := g.reqs[corr]; r != nil && r.to == peer {
			g.timedOut(now, corr)
			g.notBefore = max(g.notBefore, now+g.c.cfg.RetryBackoff)
		}
	}
}

func (g *groupMember) take(corr int64, kind uint8) *greq {
	r := g.reqs[corr]
	if r == nil || r.kind != kind {
		return nil
	}
	delete(g.reqs, corr)
	if g.inFlight[kind] == corr {
		g.inFlight[kind] = 0
	}
	return r
}

// coordinatorError: NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE send the member back to
// FindCoordinator; COORDINATOR_LOAD_IN_PROGRESS retries after a backoff.
func (g *groupMember) coordinatorError(now time.Duration, err protocol.ErrorCode) bool {
	switch err {
	case protocol.NOT_COORDINATOR, protocol.COORDINATOR_NOT_AVAILABLE, protocol.REQUEST_TIMED_OUT:
		g.coordinatorUnknown(now)
		return true
	case protocol.COORDINATOR_LOAD_IN_PROGRESS, protocol.UNSTABLE_OFFSET_COMMIT:
		// UNSTABLE_OFFSET_COMMIT (KIP-447): a transaction's offsets are pending; the
		// OffsetFetch is retried.
		g.notBefore = now + g.c.cfg.RetryBackoff
		return true
	}
	return false
}

func (g *groupMember) fail(err protocol.ErrorCode) {
	g.fatal = err
	g.revoke(g.ownedList())
	g.joined = false
	if g.modern {
		g.releaseAll()
		g.generation = -1
		g.announce()
	}
	ev := &GroupFailed{Client: g.c.name, Group: g.c.cfg.Group, Error: err}
	switch err {
	case protocol.INVALID_SESSION_TIMEOUT:
		ev.Why = fmt.Sprintf("session.timeout.ms=%v is outside the broker's group.min.session.timeout.ms..group.max.session.timeout.ms", g.c.cfg.SessionTimeout)
	case protocol.FENCED_INSTANCE_ID:
		ev.Why = fmt.Sprintf("another consumer took group.instance.id=%s", g.c.cfg.GroupInstanceID)
	case protocol.GROUP_ID_NOT_FOUND:
		ev.Why = fmt.Sprintf("group %s is a classic group with members, and the broker's group.consumer.migration.policy does not allow its online upgrade", g.c.cfg.Group)
	case protocol.UNRELEASED_INSTANCE_ID:
		ev.Why = fmt.Sprintf("the member that held group.instance.id=%s has not left the group (it left no epoch -2 behind, and its session has not expired)", g.c.cfg.GroupInstanceID)
	}
	g.c.env.Observe(ev)
}

// handle takes a group response; it reports whether msg was one.
func (g *groupMember) handle(now time.Duration, from int32, msg any) bool {
	c := g.c
	switch r := msg.(type) {
	case *protocol.FindCoordinatorResponse:
		if g.take(r.CorrelationID, gFind) == nil {
			return true
		}
		if r.Error != protocol.NONE {
			g.notBefore = now + c.cfg.RetryBackoff
			return true
		}
		g.coord, g.lastHBOK = r.NodeID, now
	case *protocol.JoinGroupResponse:
		if g.take(r.CorrelationID, gJoin) == nil {
			return true
		}
		g.onJoin(now, r)
	case *protocol.SyncGroupResponse:
		if g.take(r.CorrelationID, gSync) == nil {
			return true
		}
		g.onSync(now, r)
	case *protocol.HeartbeatResponse:
		if g.take(r.CorrelationID, gHeartbeat) == nil || !g.joined {
			return true
		}
		switch r.Error {
		case protocol.NONE:
			g.lastHBOK = now
		case protocol.REBALANCE_IN_PROGRESS:
			g.lastHBOK = now
			g.needJoin = true
		case protocol.ILLEGAL_GENERATION:
			g.resetGeneration(true)
		case protocol.UNKNOWN_MEMBER_ID:
			g.resetGeneration(false)
		case protocol.FENCED_INSTANCE_ID:
			g.fail(r.Error)
		default:
			g.coordinatorError(now, r.Error)
		}
	case *protocol.LeaveGroupResponse:
		g.take(r.CorrelationID, gLeave)
	case *protocol.ConsumerGroupHeartbeatResponse:
		g.onModernHeartbeat(now, r)
	case *protocol.OffsetCommitResponse:
		req := g.take(r.CorrelationID, gCommit)
		if req == nil {
			return true
		}
		g.recordCommit(now, req, protocol.NONE, r)
		if r.CorrelationID == g.revokeCommit {
			g.revokeCommit = 0
		}
		for _, p := range r.Partitions {
			switch p.Error {
			case protocol.NONE:
			case protocol.STALE_MEMBER_EPOCH, protocol.UNKNOWN_MEMBER_ID, protocol.ILLEGAL_GENERATION, protocol.REBALANCE_IN_PROGRESS:
				if g.modern {
					break // KIP-848: the commit fails; the heartbeat tells the member what to do
				}
				if p.Error == protocol.REBALANCE_IN_PROGRESS {
					g.needJoin = true
				} else if req.gen == g.generation {
					// CommitFailedException; the member rejoins (ConsumerCoordinator.OffsetCommitResponseHandler).
					g.resetGeneration(p.Error == protocol.ILLEGAL_GENERATION)
				}
			default:
				g.coordinatorError(now, p.Error)
			}
			if p.Error != protocol.NONE {
				break
			}
		}
	case *protocol.OffsetFetchResponse:
		req := g.take(r.CorrelationID, gOffsetFetch)
		if req == nil {
			return true
		}
		if r.Error != protocol.NONE {
			g.coordinatorError(now, r.Error)
			return true
		}
		for _, p := range r.Partitions {
			i := c.indexOf(p.TP)
			if i < 0 || !g.owns(i) || c.parts[i].state != cpCommitted || req.gen != g.generation {
				continue
			}
			cp := &c.parts[i]
			cp.gen++
			switch {
			case p.Offset < 0:
				cp.state = cpNeedReset // auto.offset.reset
			case p.LeaderEpoch >= 0:
				// KIP-320: the committed offset's epoch is validated against the leader first.
				cp.position, cp.lastEpoch, cp.state = p.Offset, p.LeaderEpoch, cpNeedValidate
			default:
				cp.position, cp.lastEpoch, cp.state = p.Offset, protocol.UnknownEpoch, cpFetchable
			}
		}
	default:
		return false
	}
	return true
}

// CommitOutcome grades a partition's OffsetCommit answer for the history, as the consumer's
// commit callback learns it: ok when the coordinator answered NONE; unknown when the request
// timed out or the coordinator moved or is unreachable (the commit may have been written);
// else failed.
func CommitOutcome(e protocol.ErrorCode) history.Outcome {
	switch e {
	case protocol.NONE:
		return history.OK
	case protocol.REQUEST_TIMED_OUT, protocol.COORDINATOR_NOT_AVAILABLE, protocol.NOT_COORDINATOR:
		return history.Unknown
	}
	return history.Fail
}

// recordCommit puts the commit's outcome in the history: acknowledged offsets as ok commits;
// an answer that came too late or not at all as unknown (the coordinator may have stored it).
func (g *groupMember) recordCommit(now time.Duration, req *greq, err protocol.ErrorCode, r *protocol.OffsetCommitResponse) {
	c := g.c
	ops := make(history.Ops, 0, len(req.parts))
	for i, p := range req.parts {
		e := err
		if r != nil && i < len(r.Partitions) {
			e = r.Partitions[i].Error
		}
		op := history.Op{Client: c.name, Type: history.Commit, Topic: p.TP.Topic, Partition: p.TP.Partition, Offsets: []int64{p.Offset},
			Invoke: req.sentAt, Complete: now, Outcome: CommitOutcome(e), Group: c.cfg.Group, Generation: req.gen}
		if e != protocol.NONE {
			op.Error = e.String()
		}
		ops = append(ops, op)
	}
	if len(ops) > 0 {
		c.env.Observe(ops)
	}
}

// onJoin: AbstractCoordinator.JoinGroupResponseHandler.
func (g *groupMember) onJoin(now time.Duration, r *protocol.JoinGroupResponse) {
	c := g.c
	switch r.Error {
	case protocol.NONE:
	case protocol.MEMBER_ID_REQUIRED:
		g.memberID = r.MemberID
		return
	case protocol.UNKNOWN_MEMBER_ID:
		g.resetGeneration(false)
		return
	case protocol.ILLEGAL_GENERATION:
		g.resetGeneration(true)
		return
	case protocol.REBALANCE_IN_PROGRESS:
		return
	case protocol.FENCED_INSTANCE_ID, protocol.INVALID_SESSION_TIMEOUT, protocol.INCONSISTENT_GROUP_PROTOCOL, protocol.INVALID_GROUP_ID, protocol.GROUP_MAX_SIZE_REACHED:
		g.fail(r.Error)
		return
	default:
		g.coordinatorError(now, r.Error)
		return
	}
	g.memberID, g.generation, g.protocol = r.MemberID, r.GenerationID, r.ProtocolName
	g.leaderJoin = nil
	var assignments []protocol.SyncGroupAssignment
	if r.Leader == r.MemberID && !r.SkipAssignment {
		var ms []assignMember
		for _, m := range r.Members {
			ms = append(ms, assignMember{id: m.MemberID, instance: m.GroupInstanceID, topics: m.Metadata.Topics, owned: m.Metadata.Owned})
		}
		counts, ready := g.groupSubscription(ms)
		if !ready {
			g.leaderJoin = r // assign once metadata describes every subscribed topic
			return
		}
		plan := assign(r.ProtocolName, ms, counts)
		for _, m := range ms {
			assignments = append(assignments, protocol.SyncGroupAssignment{MemberID: m.id, Partitions: plan[m.id]})
		}
		if c.cfg.Bugs.AssignEverything {
			// Planted bug: every member is given every partition.
			for i := range assignments {
				assignments[i].Partitions = nil
				for _, t := range slices.Sorted(maps.Keys(counts)) {
					for p := range counts[t] {
						assignments[i].Partitions = append(assignments[i].Partitions, protocol.TopicPartition{Topic: t, Partition: p})
					}
				}
			}
		}
	}
	corr := g.nextCorr()
	g.send(gSync, now, g.coord, &protocol.SyncGroupRequest{CorrelationID: corr, GroupID: c.cfg.Group, GenerationID: g.generation,
		MemberID: g.memberID, GroupInstanceID: c.cfg.GroupInstanceID, ProtocolName: r.ProtocolName, Assignments: assignments}, corr, c.cfg.RequestTimeout, nil)
}

// groupSubscription: ConsumerCoordinator.updateGroupSubscription: the leader watches every topic
// its members subscribe to; it assigns once metadata describes them all (ready), with their
// partition counts.
func (g *groupMember) groupSubscription(ms []assignMember) (counts map[string]int32, ready bool) {
	c := g.c
	counts = map[string]int32{}
	ready = true
	for _, m := range ms {
		for _, t := range m.topics {
			if _, ok := counts[t]; ok {
				continue
			}
			c.meta.addTopic(t)
			ti := 0
			if t != c.meta.topic {
				ti = slices.Index(c.meta.more, t) + 1
				if !c.meta.moreKnown[ti-1] {
					ready = false
					continue
				}
			}
			if ti >= len(c.index) {
				ready = false // metadata answered; the consumer has not read it yet
				continue
			}
			counts[t] = int32(len(c.index[ti]))
		}
	}
	return counts, ready
}

// onSync: AbstractCoordinator.SyncGroupResponseHandler, then ConsumerCoordinator.onJoinComplete.
func (g *groupMember) onSync(now time.Duration, r *protocol.SyncGroupResponse) {
	c := g.c
	switch r.Error {
	case protocol.NONE:
	case protocol.REBALANCE_IN_PROGRESS:
		return // needJoin is still set: rejoin
	case protocol.UNKNOWN_MEMBER_ID:
		g.resetGeneration(false)
		return
	case protocol.ILLEGAL_GENERATION:
		g.resetGeneration(true)
		return
	case protocol.FENCED_INSTANCE_ID:
		g.fail(r.Error)
		return
	default:
		g.coordinatorError(now, r.Error)
		return
	}
	var revoked []protocol.TopicPartition
	for _, tp := range g.ownedList() {
		if !slices.Contains(r.Assignment, tp) {
			revoked = append(revoked, tp)
		}
	}
	g.revoke(revoked)
	g.takeUp(r.Assignment)
	g.joined = true
	// Cooperative: revoked partitions are released; a follow-up rebalance hands them over.
	g.needJoin = len(revoked) > 0 && c.cfg.AssignmentStrategy == AssignCooperativeSticky
	g.lastHBOK, g.nextHB = now, now+c.cfg.HeartbeatInterval
	c.env.Observe(&GroupAssigned{Client: c.name, Group: c.cfg.Group, Member: g.memberID, Generation: g.generation, Partitions: slices.Clone(g.Assignment)})
}

// seek moves a position (KafkaConsumer.seek): a new reading session begins.
func (c *Consumer) seek(s *Seek) {
	i := c.indexOf(s.TP)
	if i < 0 || (c.grp != nil && !c.grp.owns(i)) {
		return
	}
	p := &c.parts[i]
	p.gen++
	p.fetchOK = false
	if c.grp != nil {
		c.grp.seeks++
	}
	if s.Offset < 0 {
		// seekToBeginning / seekToEnd: a ListOffsets with that timestamp.
		p.state, p.position, p.seekTo = cpNeedReset, -1, s.Offset
		return
	}
	p.position, p.lastEpoch, p.state = s.Offset, protocol.UnknownEpoch, cpFetchable
}

// commitNow: KafkaConsumer.commitSync, of the positions or of the offsets given.
func (c *Consumer) commitNow(now time.Duration, m *CommitNow) {
	if c.grp == nil {
		return
	}
	parts := c.grp.positions()
	if len(m.Offsets) > 0 {
		parts = parts[:0]
		for _, tp := range slices.SortedFunc(maps.Keys(m.Offsets), compareTPs) {
			parts = append(parts, protocol.OffsetCommitPartition{TP: tp, Offset: m.Offsets[tp], LeaderEpoch: protocol.UnknownEpoch})
		}
	}
	c.grp.commit(now, parts)
}
