package group

import (
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// State is a classic group's state (ClassicGroupState).
type State uint8

// Classic group states.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
	// KIP-848 consumer group states (ConsumerGroupState): Empty and Stable above, and these.
	Assigning   // the group epoch is ahead of the target assignment's
	Reconciling // some member has not reached the target assignment yet
)

func (s State) String() string {
	switch s {
	case Empty:
		return "empty"
	case PreparingRebalance:
		return "preparing-rebalance"
	case CompletingRebalance:
		return "completing-rebalance"
	case Stable:
		return "stable"
	case Assigning:
		return "assigning"
	case Reconciling:
		return "reconciling"
	}
	return "dead"
}

// Group is a classic group (ClassicGroup).
type Group struct {
	ID           string
	state        State
	prevState    State
	Generation   int32
	ProtocolType string
	Protocol     string
	Leader       string
	members      []*Member         // in the order they were added (the members map's order)
	static       map[string]string // group.instance.id → member id
	pendingJoin  []string          // dynamic members given an id, not yet joined with it
	pendingSync  []string          // members that have not synced this generation
	newMember    bool              // newMemberAdded: a member joined during the initial delay
	modern       *consumerGroup    // KIP-848 state of a consumer group (consumer.go); nil for a classic group
}

// Member is a classic group member (ClassicGroupMember).
type Member struct {
	ID         string
	InstanceID string
	ClientID   string
	Session    time.Duration
	Rebalance  time.Duration
	Protocols  []protocol.GroupProtocol
	Assignment []protocol.TopicPartition
	node       int32 // the client node that answers go to
	join, sync *parked
	isNew      bool

	// KIP-848 members (ConsumerGroupMember): Assignment is the assigned partitions.
	Epoch     int32                     // the member epoch (-2: a static member that left for now)
	PrevEpoch int32                     // the previous member epoch
	Revoking  []protocol.TopicPartition // partitions pending revocation
	Topics    []string                  // the subscribed topic names, sorted
	Assignor  string                    // the server assignor the member asked for ("" none)
	mstate    memberState
	// classic: a member of a consumer group that speaks the classic protocol (JoinGroup,
	// SyncGroup, Heartbeat: ConsumerGroupMember.useClassicProtocol); Session and Protocols are
	// its ClassicMemberMetadata (migration.go).
	classic bool
}

type parked struct {
	node int32
	corr int64
}

// State is the group's state.
func (g *Group) State() State { return g.state }

// Members lists the members in the group's order.
func (g *Group) Members() []*Member { return g.members }

func (g *Group) member(id string) *Member {
	for _, m := range g.members {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func (g *Group) transition(to State) {
	g.prevState, g.state = g.state, to
}

// canRebalance: PreparingRebalance's valid previous states.
func (g *Group) canRebalance() bool {
	return g.state == Empty || g.state == Stable || g.state == CompletingRebalance
}

// hasAllMembersJoined: every member awaits its join answer and no pending member remains.
func (g *Group) hasAllMembersJoined() bool {
	for _, m := range g.members {
		if m.join == nil {
			return false
		}
	}
	return len(g.pendingJoin) == 0
}

// rebalanceTimeout is the largest rebalance timeout of the members (ClassicGroup.rebalanceTimeoutMs).
func (g *Group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.Rebalance)
	}
	return d
}

// supportsProtocols: the protocol type matches and some protocol of the member is supported
// by every member (ClassicGroup.supportsProtocols).
func (g *Group) supportsProtocols(typ string, ps []protocol.GroupProtocol) bool {
	if len(g.members) == 0 {
		return typ != "" && len(ps) > 0
	}
	if typ != g.ProtocolType {
		return false
	}
	for _, p := range ps {
		if g.allSupport(p.Name) {
			return true
		}
	}
	return false
}

func (g *Group) allSupport(name string) bool {
	for _, m := range g.members {
		if !slices.ContainsFunc(m.Protocols, func(p protocol.GroupProtocol) bool { return p.Name == name }) {
			return false
		}
	}
	return true
}

// selectProtocol: each member votes for its first protocol that every member supports; the
// most votes wins (ties: the first voted, where Kafka takes HashMap order).
func (g *Group) selectProtocol() string {
	var names []string
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.Protocols {
			if g.allSupport(p.Name) {
				if votes[p.Name] == 0 {
					names = append(names, p.Name)
				}
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	for _, n := range names {
		if best == "" || votes[n] > votes[best] {
			best = n
		}
	}
	return best
}

// validateMember: ClassicGroup.validateMember.
func (g *Group) validateMember(memberID, instanceID string) protocol.ErrorCode {
	if instanceID != "" {
		existing, ok := g.static[instanceID]
		if !ok {
			return protocol.UNKNOWN_MEMBER_ID
		}
		if existing != memberID {
			return protocol.FENCED_INSTANCE_ID
		}
	}
	if g.member(memberID) == nil {
		return protocol.UNKNOWN_MEMBER_ID
	}
	return protocol.NONE
}

func (g *Group) add(m *Member) {
	if m.InstanceID != "" {
		g.static[m.InstanceID] = m.ID
	}
	if len(g.members) == 0 {
		g.ProtocolType = "consumer"
	}
	if g.Leader == "" {
		g.Leader = m.ID
	}
	g.members = append(g.members, m)
	g.pendingJoin = slices.DeleteFunc(g.pendingJoin, func(id string) bool { return id == m.ID })
}

// remove: ClassicGroup.remove; a removed leader is replaced by the first remaining member.
func (g *Group) remove(id string) {
	if i := slices.IndexFunc(g.members, func(m *Member) bool { return m.ID == id }); i >= 0 {
		m := g.members[i]
		g.members = slices.Delete(g.members, i, i+1)
		if m.InstanceID != "" {
			delete(g.static, m.InstanceID)
		}
	}
	if g.Leader == id {
		g.Leader = ""
		if len(g.members) > 0 {
			g.Leader = g.members[0].ID
		}
	}
	g.pendingJoin = slices.DeleteFunc(g.pendingJoin, func(x string) bool { return x == id })
	g.pendingSync = slices.DeleteFunc(g.pendingSync, func(x string) bool { return x == id })
}

// maybeElectNewJoinedLeader keeps a leader that rejoined, else picks the first member that did.
func (g *Group) maybeElectNewJoinedLeader() bool {
	if g.Leader == "" {
		return false
	}
	if l := g.member(g.Leader); l != nil && l.join != nil {
		return true
	}
	for _, m := range g.members {
		if m.join != nil {
			g.Leader = m.ID
			return true
		}
	}
	return false
}

// initNextGeneration: ClassicGroup.initNextGeneration.
func (g *Group) initNextGeneration() {
	g.Generation++
	if len(g.members) > 0 {
		g.Protocol = g.selectProtocol()
		g.transition(CompletingRebalance)
	} else {
		g.Protocol = ""
		g.transition(Empty)
	}
	g.pendingSync = nil
}

func (g *Group) memberList() []protocol.JoinGroupMember {
	out := make([]protocol.JoinGroupMember, 0, len(g.members))
	for _, m := range g.members {
		var meta protocol.GroupProtocol
		for _, p := range m.Protocols {
			if p.Name == g.Protocol {
				meta = p
			}
		}
		out = append(out, protocol.JoinGroupMember{MemberID: m.ID, GroupInstanceID: m.InstanceID, Metadata: meta})
	}
	return out
}

func (s *shard) group(id string) *Group {
	g := s.groups[id]
	if g == nil {
		g = &Group{ID: id, static: map[string]string{}}
		s.groups[id] = g
		s.order = append(s.order, id)
	}
	return g
}

func joinKey(g string) string              { return "join\x00" + g }
func syncKey(g string) string              { return "sync\x00" + g }
func heartbeatKey(g, member string) string { return "hb\x00" + g + "\x00" + member }

func (s *shard) newMemberID(clientID, instanceID string) string {
	prefix := clientID
	if instanceID != "" {
		prefix = instanceID
	}
	return fmt.Sprintf("%s-%016x", prefix, s.c.host.Rand())
}

// handleJoin: GroupCoordinatorService.joinGroup and GroupMetadataManager.classicGroupJoin.
func (s *shard) handleJoin(now time.Duration, from int32, r *protocol.JoinGroupRequest) {
	fail := func(err protocol.ErrorCode, member string) {
		s.c.host.Send(from, &protocol.JoinGroupResponse{CorrelationID: r.CorrelationID, Error: err, MemberID: member, GenerationID: -1})
	}
	session := time.Duration(r.SessionTimeoutMs) * time.Millisecond
	if session < s.c.cfg.MinSessionTimeout || session > s.c.cfg.MaxSessionTimeout {
		fail(protocol.INVALID_SESSION_TIMEOUT, r.MemberID)
		return
	}
	g := s.groups[r.GroupID]
	if g != nil && g.modern != nil {
		if len(g.members) > 0 {
			s.classicJoinToConsumerGroup(now, from, g, r)
			return
		}
		s.convertEmptyConsumerGroup(now, g)
	}
	if g == nil || g.state == Dead {
		if r.MemberID != "" {
			fail(protocol.UNKNOWN_MEMBER_ID, r.MemberID)
			return
		}
		g = s.group(r.GroupID)
		g.state = Empty
	}
	if !g.supportsProtocols(r.ProtocolType, r.Protocols) {
		fail(protocol.INCONSISTENT_GROUP_PROTOCOL, r.MemberID)
		return
	}
	p := &parked{node: from, corr: r.CorrelationID}
	rebalance := time.Duration(r.RebalanceTimeoutMs) * time.Millisecond
	if r.MemberID == "" {
		id := s.newMemberID(r.ClientID, r.GroupInstanceID)
		if r.GroupInstanceID != "" { // classicGroupJoinNewStaticMember
			if old, ok := g.static[r.GroupInstanceID]; ok {
				s.updateStaticMemberThenRebalanceOrCompleteJoin(now, g, old, id, r, p)
				return
			}
			s.addMemberThenRebalanceOrCompleteJoin(now, g, id, r, p)
			return
		}
		// classicGroupJoinNewDynamicMember (JoinGroup v4+ requires a known member id).
		g.pendingJoin = append(g.pendingJoin, id)
		s.schedule(timerHeartbeat, heartbeatKey(g.ID, id), session, 0)
		fail(protocol.MEMBER_ID_REQUIRED, id)
		return
	}
	if slices.Contains(g.pendingJoin, r.MemberID) {
		s.addMemberThenRebalanceOrCompleteJoin(now, g, r.MemberID, r, p)
		return
	}
	// classicGroupJoinExistingMember
	if err := g.validateMember(r.MemberID, r.GroupInstanceID); err != protocol.NONE {
		fail(err, r.MemberID)
		return
	}
	m := g.member(r.MemberID)
	switch g.state {
	case PreparingRebalance:
		s.updateMemberThenRebalanceOrCompleteJoin(now, g, m, r, rebalance, session, p)
	case CompletingRebalance:
		if matches(m.Protocols, r.Protocols) {
			resp := s.joinResponse(g, m.ID, g.Leader == m.ID)
			resp.CorrelationID = r.CorrelationID
			s.c.host.Send(from, resp)
			return
		}
		s.updateMemberThenRebalanceOrCompleteJoin(now, g, m, r, rebalance, session, p)
	case Stable:
		if g.Leader == m.ID || !matches(m.Protocols, r.Protocols) {
			s.updateMemberThenRebalanceOrCompleteJoin(now, g, m, r, rebalance, session, p)
			return
		}
		resp := s.joinResponse(g, m.ID, false)
		resp.CorrelationID = r.CorrelationID
		s.c.host.Send(from, resp)
	default:
		fail(protocol.UNKNOWN_MEMBER_ID, r.MemberID)
	}
}

func matches(a, b []protocol.GroupProtocol) bool {
	return slices.EqualFunc(a, b, func(x, y protocol.GroupProtocol) bool {
		return x.Name == y.Name && slices.Equal(x.Topics, y.Topics) && slices.Equal(x.Owned, y.Owned)
	})
}

func (s *shard) joinResponse(g *Group, member string, leader bool) *protocol.JoinGroupResponse {
	r := &protocol.JoinGroupResponse{GenerationID: g.Generation, ProtocolName: g.Protocol, Leader: g.Leader, MemberID: member}
	if leader {
		r.Members = g.memberList()
	}
	return r
}

func (s *shard) addMemberThenRebalanceOrCompleteJoin(now time.Duration, g *Group, id string, r *protocol.JoinGroupRequest, p *parked) {
	m := &Member{ID: id, InstanceID: r.GroupInstanceID, ClientID: r.ClientID, Protocols: r.Protocols, node: p.node, join: p, isNew: true,
		Session: time.Duration(r.SessionTimeoutMs) * time.Millisecond, Rebalance: time.Duration(r.RebalanceTimeoutMs) * time.Millisecond}
	if g.state == PreparingRebalance && g.prevState == Empty {
		g.newMember = true
	}
	g.add(m)
	// New members cannot heartbeat while their JoinGroup is parked: they time out after the
	// new-member join timeout instead.
	s.rescheduleHeartbeat(g, m, s.c.cfg.NewMemberJoinTimeout)
	s.maybePrepareRebalanceOrCompleteJoin(now, g)
}

func (s *shard) updateMemberThenRebalanceOrCompleteJoin(now time.Duration, g *Group, m *Member, r *protocol.JoinGroupRequest, rebalance, session time.Duration, p *parked) {
	m.Protocols, m.Rebalance, m.Session, m.join, m.node = r.Protocols, rebalance, session, p, p.node
	s.maybePrepareRebalanceOrCompleteJoin(now, g)
}

// updateStaticMemberThenRebalanceOrCompleteJoin: a static member rejoins with an unknown
// member id (a restart): the new id replaces the old one, whose parked requests are fenced.
// In a Stable group whose protocol would not change, no rebalance: the group is stored with
// the new member id and the member keeps its assignment (KIP-345).
func (s *shard) updateStaticMemberThenRebalanceOrCompleteJoin(now time.Duration, g *Group, oldID, newID string, r *protocol.JoinGroupRequest, p *parked) {
	m := g.member(oldID)
	if m.join != nil {
		s.c.host.Send(m.join.node, &protocol.JoinGroupResponse{CorrelationID: m.join.corr, Error: protocol.FENCED_INSTANCE_ID, MemberID: oldID})
		m.join = nil
	}
	if m.sync != nil {
		s.c.host.Send(m.sync.node, &protocol.SyncGroupResponse{CorrelationID: m.sync.corr, Error: protocol.FENCED_INSTANCE_ID})
		m.sync = nil
	}
	s.cancel(heartbeatKey(g.ID, oldID))
	// replaceStaticMember
	m.ID = newID
	g.static[m.InstanceID] = newID
	if g.Leader == oldID {
		g.Leader = newID
	}
	for i, id := range g.pendingSync {
		if id == oldID {
			g.pendingSync[i] = newID
		}
	}
	s.rescheduleHeartbeat(g, m, m.Session)
	oldProtocols, oldRebalance, oldSession, oldNode := m.Protocols, m.Rebalance, m.Session, m.node
	m.Protocols, m.Rebalance, m.Session, m.node = r.Protocols, time.Duration(r.RebalanceTimeoutMs)*time.Millisecond, time.Duration(r.SessionTimeoutMs)*time.Millisecond, p.node
	switch g.state {
	case Stable:
		if g.Protocol != g.selectProtocol() {
			m.join = p
			s.maybePrepareRebalanceOrCompleteJoin(now, g)
			return
		}
		assignment := map[string][]protocol.TopicPartition{}
		for _, x := range g.members {
			assignment[x.ID] = x.Assignment
		}
		leader := g.Leader
		s.append(now, []protocol.Record{groupMetadataRecord(g, assignment)}, func(now time.Duration, err protocol.ErrorCode) {
			if err != protocol.NONE {
				// Revert the replacement.
				m.Protocols, m.Rebalance, m.Session, m.node = oldProtocols, oldRebalance, oldSession, oldNode
				m.ID = oldID
				g.static[m.InstanceID] = oldID
				if g.Leader == newID {
					g.Leader = oldID
				}
				s.rescheduleHeartbeat(g, m, m.Session)
				s.c.host.Send(p.node, &protocol.JoinGroupResponse{CorrelationID: p.corr, Error: err, GenerationID: g.Generation, Leader: leader})
				return
			}
			isLeader := g.Leader == newID
			resp := s.joinResponse(g, newID, isLeader)
			resp.CorrelationID, resp.SkipAssignment = p.corr, isLeader
			s.c.host.Send(p.node, resp)
		})
	case CompletingRebalance:
		m.join = p
		s.prepareRebalance(now, g)
	default:
		m.join = p
		s.maybePrepareRebalanceOrCompleteJoin(now, g)
	}
}

func (s *shard) maybePrepareRebalanceOrCompleteJoin(now time.Duration, g *Group) {
	if g.canRebalance() {
		s.prepareRebalance(now, g)
		return
	}
	s.maybeCompleteJoinPhase(now, g)
}

// maybeCompleteJoinPhase: never early in an initial rebalance (from Empty).
func (s *shard) maybeCompleteJoinPhase(now time.Duration, g *Group) {
	if g.state == PreparingRebalance && g.hasAllMembersJoined() && g.prevState != Empty {
		s.completeJoin(now, g)
	}
}

// prepareRebalance: GroupMetadataManager.prepareRebalance.
func (s *shard) prepareRebalance(now time.Duration, g *Group) {
	if g.state == CompletingRebalance {
		s.propagateAssignment(g, nil, protocol.REBALANCE_IN_PROGRESS)
	}
	s.cancel(syncKey(g.ID))
	g.pendingSync = nil
	initial := g.state == Empty
	if initial {
		delay := s.c.cfg.InitialRebalanceDelay
		remaining := max(g.rebalanceTimeout()-delay, 0)
		s.scheduleInitial(g, delay, remaining)
	}
	g.transition(PreparingRebalance)
	if !initial {
		s.maybeCompleteJoinElseSchedule(now, g)
	}
}

// scheduleInitial arms the join timer of an initial rebalance (same key as the join timer).
func (s *shard) scheduleInitial(g *Group, delay, remaining time.Duration) {
	s.schedule(timerInitialRebalance, joinKey(g.ID), delay, int64(remaining))
}

// tryCompleteInitialRebalanceElseSchedule: while members keep arriving, the initial
// rebalance waits another group.initial.rebalance.delay.ms, up to the rebalance timeout.
func (s *shard) tryCompleteInitialRebalanceElseSchedule(now time.Duration, g *Group, remaining time.Duration) {
	if g.state != PreparingRebalance {
		return
	}
	if g.newMember && remaining != 0 {
		g.newMember = false
		delay := min(s.c.cfg.InitialRebalanceDelay, remaining)
		s.scheduleInitial(g, delay, max(remaining-delay, 0))
		return
	}
	s.completeJoin(now, g)
}

func (s *shard) maybeCompleteJoinElseSchedule(now time.Duration, g *Group) {
	if g.hasAllMembersJoined() {
		s.completeJoin(now, g)
		return
	}
	s.schedule(timerJoin, joinKey(g.ID), g.rebalanceTimeout(), 0)
}

// completeJoin: GroupMetadataManager.completeClassicGroupJoin.
func (s *shard) completeJoin(now time.Duration, g *Group) {
	s.cancel(joinKey(g.ID))
	var gone []string
	for _, m := range g.members {
		if m.join == nil && m.InstanceID == "" {
			gone = append(gone, m.ID)
		}
	}
	for _, id := range gone {
		g.remove(id)
		s.cancel(heartbeatKey(g.ID, id))
	}
	if g.state == Dead {
		return
	}
	if !g.maybeElectNewJoinedLeader() && len(g.members) > 0 {
		s.schedule(timerJoin, joinKey(g.ID), g.rebalanceTimeout(), 0)
		return
	}
	g.initNextGeneration()
	if g.state == Empty {
		s.append(now, []protocol.Record{groupMetadataRecord(g, nil)}, func(time.Duration, protocol.ErrorCode) {})
		return
	}
	for _, m := range g.members {
		resp := s.joinResponse(g, m.ID, g.Leader == m.ID)
		if m.join != nil {
			resp.CorrelationID = m.join.corr
			s.c.host.Send(m.join.node, resp)
			m.join = nil
		}
		s.rescheduleHeartbeat(g, m, m.Session)
		m.isNew = false
		g.pendingSync = append(g.pendingSync, m.ID)
	}
	s.schedule(timerSync, syncKey(g.ID), g.rebalanceTimeout(), int64(g.Generation))
}

// expirePendingSync: members that did not sync within the rebalance timeout are removed.
func (s *shard) expirePendingSync(now time.Duration, g *Group, gen int32) {
	if gen != g.Generation || (g.state != CompletingRebalance && g.state != Stable) || len(g.pendingSync) == 0 {
		return
	}
	for _, id := range slices.Clone(g.pendingSync) {
		g.remove(id)
		s.cancel(heartbeatKey(g.ID, id))
	}
	s.maybePrepareRebalanceOrCompleteJoin(now, g)
}

func (s *shard) rescheduleHeartbeat(g *Group, m *Member, d time.Duration) {
	s.schedule(timerHeartbeat, heartbeatKey(g.ID, m.ID), d, 0)
}

// expireHeartbeat: GroupMetadataManager.expireClassicGroupMemberHeartbeat.
func (s *shard) expireHeartbeat(now time.Duration, g *Group, id string) {
	if g.state == Dead {
		return
	}
	if slices.Contains(g.pendingJoin, id) {
		g.remove(id)
		if g.state == PreparingRebalance && g.hasAllMembersJoined() {
			s.completeJoin(now, g)
		}
		return
	}
	m := g.member(id)
	if m == nil {
		return
	}
	// hasSatisfiedHeartbeat: members awaiting a join or sync answer are not expired, unless new.
	if !m.isNew && (m.join != nil || m.sync != nil) {
		return
	}
	s.removeMemberAndUpdateGroup(now, g, m)
}

func (s *shard) removeMemberAndUpdateGroup(now time.Duration, g *Group, m *Member) {
	if m.join != nil {
		s.c.host.Send(m.join.node, &protocol.JoinGroupResponse{CorrelationID: m.join.corr, Error: protocol.UNKNOWN_MEMBER_ID, GenerationID: -1})
		m.join = nil
	}
	g.remove(m.ID)
	s.cancel(heartbeatKey(g.ID, m.ID))
	switch {
	case g.state == Stable || g.state == CompletingRebalance:
		s.maybePrepareRebalanceOrCompleteJoin(now, g)
	case g.state == PreparingRebalance && g.hasAllMembersJoined():
		s.completeJoin(now, g)
	}
}

// propagateAssignment answers every parked SyncGroup with the member's assignment (and sets
// it), or with err and no assignment.
func (s *shard) propagateAssignment(g *Group, assignment map[string][]protocol.TopicPartition, err protocol.ErrorCode) {
	for _, m := range g.members {
		m.Assignment = assignment[m.ID]
		if m.sync == nil {
			continue
		}
		resp := &protocol.SyncGroupResponse{CorrelationID: m.sync.corr, Error: err}
		if err == protocol.NONE {
			resp.ProtocolName, resp.Assignment = g.Protocol, m.Assignment
		}
		s.c.host.Send(m.sync.node, resp)
		m.sync = nil
		s.rescheduleHeartbeat(g, m, m.Session)
	}
}

// handleSync: GroupMetadataManager.classicGroupSyncToClassicGroup.
func (s *shard) handleSync(now time.Duration, from int32, r *protocol.SyncGroupRequest) {
	answer := func(err protocol.ErrorCode, a []protocol.TopicPartition, name string) {
		s.c.host.Send(from, &protocol.SyncGroupResponse{CorrelationID: r.CorrelationID, Error: err, Assignment: a, ProtocolName: name})
	}
	g := s.groups[r.GroupID]
	if g != nil && g.modern != nil {
		s.classicSyncToConsumerGroup(now, from, g, r)
		return
	}
	if g == nil || g.state == Dead {
		answer(protocol.UNKNOWN_MEMBER_ID, nil, "")
		return
	}
	if err := g.validateMember(r.MemberID, r.GroupInstanceID); err != protocol.NONE {
		answer(err, nil, "")
		return
	}
	if r.GenerationID != g.Generation {
		answer(protocol.ILLEGAL_GENERATION, nil, "")
		return
	}
	if r.ProtocolName != "" && r.ProtocolName != g.Protocol {
		answer(protocol.INCONSISTENT_GROUP_PROTOCOL, nil, "")
		return
	}
	m := g.member(r.MemberID)
	switch g.state {
	case PreparingRebalance:
		answer(protocol.REBALANCE_IN_PROGRESS, nil, "")
	case CompletingRebalance:
		m.sync = &parked{node: from, corr: r.CorrelationID}
		g.pendingSync = slices.DeleteFunc(g.pendingSync, func(x string) bool { return x == m.ID })
		if g.Leader != m.ID {
			return
		}
		assignment := map[string][]protocol.TopicPartition{}
		for _, a := range r.Assignments {
			assignment[a.MemberID] = a.Partitions
		}
		gen := g.Generation
		s.append(now, []protocol.Record{groupMetadataRecord(g, assignment)}, func(now time.Duration, err protocol.ErrorCode) {
			if g.state != CompletingRebalance || g.Generation != gen {
				return
			}
			if err != protocol.NONE {
				s.propagateAssignment(g, nil, err)
				s.maybePrepareRebalanceOrCompleteJoin(now, g)
				return
			}
			s.propagateAssignment(g, assignment, protocol.NONE)
			g.transition(Stable)
		})
	case Stable:
		g.pendingSync = slices.DeleteFunc(g.pendingSync, func(x string) bool { return x == m.ID })
		answer(protocol.NONE, m.Assignment, g.Protocol)
	}
}

// handleHeartbeat: GroupMetadataManager.classicGroupHeartbeatToClassicGroup.
func (s *shard) handleHeartbeat(now time.Duration, from int32, r *protocol.HeartbeatRequest) {
	answer := func(err protocol.ErrorCode) {
		s.c.host.Send(from, &protocol.HeartbeatResponse{CorrelationID: r.CorrelationID, Error: err})
	}
	g := s.groups[r.GroupID]
	if g != nil && g.modern != nil {
		s.classicHeartbeatToConsumerGroup(from, g, r)
		return
	}
	if g == nil {
		answer(protocol.UNKNOWN_MEMBER_ID)
		return
	}
	if g.state == Dead {
		answer(protocol.COORDINATOR_NOT_AVAILABLE)
		return
	}
	if err := g.validateMember(r.MemberID, r.GroupInstanceID); err != protocol.NONE {
		answer(err)
		return
	}
	if r.GenerationID != g.Generation {
		answer(protocol.ILLEGAL_GENERATION)
		return
	}
	m := g.member(r.MemberID)
	switch g.state {
	case Empty:
		answer(protocol.UNKNOWN_MEMBER_ID)
	case PreparingRebalance:
		s.rescheduleHeartbeat(g, m, m.Session)
		answer(protocol.REBALANCE_IN_PROGRESS)
	default:
		s.rescheduleHeartbeat(g, m, m.Session)
		answer(protocol.NONE)
	}
}

// handleLeave: GroupMetadataManager.classicGroupLeaveToClassicGroup, one member.
func (s *shard) handleLeave(now time.Duration, from int32, r *protocol.LeaveGroupRequest) {
	answer := func(err protocol.ErrorCode) {
		s.c.host.Send(from, &protocol.LeaveGroupResponse{CorrelationID: r.CorrelationID, Error: err})
	}
	g := s.groups[r.GroupID]
	if g != nil && g.modern != nil {
		s.classicLeaveToConsumerGroup(now, from, g, r)
		return
	}
	if g == nil {
		answer(protocol.UNKNOWN_MEMBER_ID)
		return
	}
	if g.state == Dead {
		answer(protocol.COORDINATOR_NOT_AVAILABLE)
		return
	}
	id := r.MemberID
	switch {
	case id == "" && r.GroupInstanceID != "":
		sid, ok := g.static[r.GroupInstanceID]
		if !ok {
			answer(protocol.UNKNOWN_MEMBER_ID)
			return
		}
		id = sid
	case slices.Contains(g.pendingJoin, id):
		g.remove(id)
		s.cancel(heartbeatKey(g.ID, id))
		answer(protocol.NONE)
		return
	default:
		if err := g.validateMember(id, r.GroupInstanceID); err != protocol.NONE {
			answer(err)
			return
		}
	}
	m := g.member(id)
	if m.join != nil {
		s.c.host.Send(m.join.node, &protocol.JoinGroupResponse{CorrelationID: m.join.corr, Error: protocol.UNKNOWN_MEMBER_ID, GenerationID: -1})
		m.join = nil
	}
	g.remove(id)
	s.cancel(heartbeatKey(g.ID, id))
	answer(protocol.NONE)
	switch g.state {
	case Stable, CompletingRebalance:
		s.maybePrepareRebalanceOrCompleteJoin(now, g)
	case PreparingRebalance:
		s.maybeCompleteJoinPhase(now, g)
	}
}
