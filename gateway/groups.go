package gateway

import (
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/client"
	"kafkasim/broker/history"
	"kafkasim/broker/protocol"
)

// The classic group protocol (JoinGroup 11, SyncGroup 14, Heartbeat 12, LeaveGroup 13,
// OffsetCommit 8, OffsetFetch 9). Real clients assign partitions themselves: the leader's
// SyncGroup carries the assignment. The model's coordinator reads subscriptions and
// assignments as structures, so the gateway decodes the consumer protocol's bytes
// (ConsumerProtocolSubscription, ConsumerProtocolAssignment) on the way in and hands each
// member back the very bytes it or its leader sent (user data included, which sticky
// assignors rely on), encoding afresh only for members that did not come through the gateway.

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func ptr(s string) *string { return &s }

// group starts a group request; false if pd is not one.
func (c *conn) group(pd *pending) bool {
	switch r := pd.p.req.(type) {
	case *kmsg.JoinGroupRequest:
		m := &protocol.JoinGroupRequest{CorrelationID: pd.id, GroupID: r.Group, SessionTimeoutMs: r.SessionTimeoutMillis,
			RebalanceTimeoutMs: r.RebalanceTimeoutMillis, MemberID: r.MemberID, GroupInstanceID: str(r.InstanceID),
			ClientID: pd.p.clientID, ProtocolType: r.ProtocolType}
		if pd.p.version == 0 {
			m.RebalanceTimeoutMs = r.SessionTimeoutMillis
		}
		pd.join = map[string][]byte{}
		for _, p := range r.Protocols {
			gp := protocol.GroupProtocol{Name: p.Name}
			var meta kmsg.ConsumerMemberMetadata
			if r.ProtocolType == "consumer" && meta.ReadFrom(p.Metadata) == nil {
				gp.Topics = meta.Topics
				for _, o := range meta.OwnedPartitions {
					for _, part := range o.Partitions {
						gp.Owned = append(gp.Owned, protocol.TopicPartition{Topic: o.Topic, Partition: part})
					}
				}
			}
			pd.join[p.Name] = p.Metadata
			if r.MemberID != "" {
				c.st.joins[memberKey{r.Group, r.MemberID, p.Name}] = p.Metadata
			}
			m.Protocols = append(m.Protocols, gp)
		}
		c.send(c.broker, pd, m)
	case *kmsg.SyncGroupRequest:
		m := &protocol.SyncGroupRequest{CorrelationID: pd.id, GroupID: r.Group, GenerationID: r.Generation, MemberID: r.MemberID,
			GroupInstanceID: str(r.InstanceID), ProtocolName: str(r.Protocol)}
		for _, a := range r.GroupAssignment {
			sa := protocol.SyncGroupAssignment{MemberID: a.MemberID}
			var as kmsg.ConsumerMemberAssignment
			if as.ReadFrom(a.MemberAssignment) == nil {
				for _, t := range as.Topics {
					for _, part := range t.Partitions {
						sa.Partitions = append(sa.Partitions, protocol.TopicPartition{Topic: t.Topic, Partition: part})
					}
				}
			}
			c.st.assigned[assignKey{r.Group, r.Generation, a.MemberID}] = a.MemberAssignment
			m.Assignments = append(m.Assignments, sa)
		}
		c.send(c.broker, pd, m)
	case *kmsg.HeartbeatRequest:
		c.send(c.broker, pd, &protocol.HeartbeatRequest{CorrelationID: pd.id, GroupID: r.Group, GenerationID: r.Generation,
			MemberID: r.MemberID, GroupInstanceID: str(r.InstanceID)})
	case *kmsg.LeaveGroupRequest:
		m := &protocol.LeaveGroupRequest{CorrelationID: pd.id, GroupID: r.Group, MemberID: r.MemberID}
		if pd.p.version >= 3 && len(r.Members) > 0 {
			m.MemberID, m.GroupInstanceID = r.Members[0].MemberID, str(r.Members[0].InstanceID)
		}
		c.st.unassign(r.Group, m.MemberID)
		c.send(c.broker, pd, m)
	case *kmsg.OffsetCommitRequest:
		m := &protocol.OffsetCommitRequest{CorrelationID: pd.id, GroupID: r.Group, GenerationID: r.Generation, MemberID: r.MemberID,
			GroupInstanceID: str(r.InstanceID)}
		if pd.p.version == 0 {
			m.GenerationID = -1
		}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				ep := p.LeaderEpoch
				if pd.p.version < 6 {
					ep = protocol.UnknownEpoch
				}
				m.Partitions = append(m.Partitions, protocol.OffsetCommitPartition{TP: protocol.TopicPartition{Topic: t.Topic, Partition: p.Partition},
					Offset: p.Offset, LeaderEpoch: ep})
			}
		}
		c.send(c.broker, pd, m)
	case *kmsg.OffsetFetchRequest:
		m := &protocol.OffsetFetchRequest{CorrelationID: pd.id, GroupID: r.Group}
		if pd.p.version >= 8 && len(r.Groups) > 0 {
			m.GroupID = r.Groups[0].Group
			for _, t := range r.Groups[0].Topics {
				for _, p := range t.Partitions {
					m.Partitions = append(m.Partitions, protocol.TopicPartition{Topic: t.Topic, Partition: p})
				}
			}
		}
		for _, t := range r.Topics {
			for _, p := range t.Partitions {
				m.Partitions = append(m.Partitions, protocol.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
		c.send(c.broker, pd, m)
	default:
		return false
	}
	return true
}

// groupResponse answers a group request from the coordinator's answer.
func (c *conn) groupResponse(now time.Duration, pd *pending, msg any) {
	switch m := msg.(type) {
	case *protocol.JoinGroupResponse:
		if m.CorrelationID != pd.id {
			return
		}
		r := pd.p.req.(*kmsg.JoinGroupRequest)
		if m.Error == protocol.MEMBER_ID_REQUIRED && pd.p.version < 4 {
			// Before v4 the broker gives a new member its id and joins it at once (KIP-394:
			// GroupCoordinator requires a known member id only from JoinGroup v4): join again
			// with the id the coordinator handed out.
			req := *pd.model.(*protocol.JoinGroupRequest)
			for name, b := range pd.join {
				c.st.joins[memberKey{r.Group, m.MemberID, name}] = b
			}
			pd.id = c.nextCorr()
			req.CorrelationID, req.MemberID = pd.id, m.MemberID
			c.send(c.broker, pd, &req)
			return
		}
		resp := kmsg.NewPtrJoinGroupResponse()
		resp.ErrorCode, resp.Generation, resp.LeaderID, resp.MemberID = int16(m.Error), m.GenerationID, m.Leader, m.MemberID
		resp.ProtocolType, resp.SkipAssignment = ptr(r.ProtocolType), m.SkipAssignment
		if m.ProtocolName != "" {
			resp.Protocol = ptr(m.ProtocolName)
		}
		if m.MemberID != "" {
			for name, b := range pd.join {
				c.st.joins[memberKey{r.Group, m.MemberID, name}] = b
			}
		}
		for _, mb := range m.Members {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID = mb.MemberID
			if mb.GroupInstanceID != "" {
				rm.InstanceID = ptr(mb.GroupInstanceID)
			}
			if b, ok := c.st.joins[memberKey{r.Group, mb.MemberID, m.ProtocolName}]; ok {
				rm.ProtocolMetadata = b
			} else {
				meta := kmsg.NewConsumerMemberMetadata()
				meta.Topics = mb.Metadata.Topics
				if len(mb.Metadata.Owned) > 0 {
					meta.Version, meta.OwnedPartitions = 1, owned(mb.Metadata.Owned)
				}
				rm.ProtocolMetadata = meta.AppendTo(nil)
			}
			resp.Members = append(resp.Members, rm)
		}
		c.respond(pd.p, resp)
	case *protocol.SyncGroupResponse:
		if m.CorrelationID != pd.id {
			return
		}
		r := pd.p.req.(*kmsg.SyncGroupRequest)
		resp := kmsg.NewPtrSyncGroupResponse()
		resp.ErrorCode, resp.ProtocolType = int16(m.Error), r.ProtocolType
		if m.ProtocolName != "" {
			resp.Protocol = ptr(m.ProtocolName)
		}
		if m.Error == protocol.NONE {
			if b, ok := c.st.assigned[assignKey{r.Group, r.Generation, r.MemberID}]; ok {
				resp.MemberAssignment = b
			} else {
				as := kmsg.NewConsumerMemberAssignment()
				for _, o := range owned(m.Assignment) {
					as.Topics = append(as.Topics, kmsg.ConsumerMemberAssignmentTopic(o))
				}
				resp.MemberAssignment = as.AppendTo(nil)
			}
			c.st.assign(pd.p.clientID, r.Group, r.MemberID, r.Generation, resp.MemberAssignment)
		}
		c.respond(pd.p, resp)
	case *protocol.HeartbeatResponse:
		if m.CorrelationID == pd.id {
			resp := kmsg.NewPtrHeartbeatResponse()
			resp.ErrorCode = int16(m.Error)
			c.respond(pd.p, resp)
		}
	case *protocol.LeaveGroupResponse:
		if m.CorrelationID != pd.id {
			return
		}
		r := pd.p.req.(*kmsg.LeaveGroupRequest)
		resp := kmsg.NewPtrLeaveGroupResponse()
		resp.ErrorCode = int16(m.Error)
		for _, mb := range r.Members {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ErrorCode = mb.MemberID, mb.InstanceID, int16(m.Error)
			resp.Members = append(resp.Members, rm)
		}
		c.respond(pd.p, resp)
	case *protocol.OffsetCommitResponse:
		if m.CorrelationID != pd.id {
			return
		}
		c.recordCommits(now, pd, m)
		resp := kmsg.NewPtrOffsetCommitResponse()
		for _, pr := range m.Partitions {
			i := slices.IndexFunc(resp.Topics, func(t kmsg.OffsetCommitResponseTopic) bool { return t.Topic == pr.TP.Topic })
			if i < 0 {
				i = len(resp.Topics)
				t := kmsg.NewOffsetCommitResponseTopic()
				t.Topic = pr.TP.Topic
				resp.Topics = append(resp.Topics, t)
			}
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = pr.TP.Partition, int16(pr.Error)
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
		}
		c.respond(pd.p, resp)
	case *protocol.OffsetFetchResponse:
		if m.CorrelationID != pd.id {
			return
		}
		c.respond(pd.p, offsetFetchResponse(pd, m))
	}
}

func offsetFetchResponse(pd *pending, m *protocol.OffsetFetchResponse) kmsg.Response {
	resp := kmsg.NewPtrOffsetFetchResponse()
	if pd.p.version >= 8 {
		g := kmsg.NewOffsetFetchResponseGroup()
		r := pd.p.req.(*kmsg.OffsetFetchRequest)
		if len(r.Groups) > 0 {
			g.Group = r.Groups[0].Group
		}
		g.ErrorCode = int16(m.Error)
		for _, p := range m.Partitions {
			i := slices.IndexFunc(g.Topics, func(t kmsg.OffsetFetchResponseGroupTopic) bool { return t.Topic == p.TP.Topic })
			if i < 0 {
				i = len(g.Topics)
				t := kmsg.NewOffsetFetchResponseGroupTopic()
				t.Topic = p.TP.Topic
				g.Topics = append(g.Topics, t)
			}
			rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch = p.TP.Partition, p.Offset, p.LeaderEpoch
			g.Topics[i].Partitions = append(g.Topics[i].Partitions, rp)
		}
		resp.Groups = append(resp.Groups, g)
		return resp
	}
	resp.ErrorCode = int16(m.Error)
	for _, p := range m.Partitions {
		i := slices.IndexFunc(resp.Topics, func(t kmsg.OffsetFetchResponseTopic) bool { return t.Topic == p.TP.Topic })
		if i < 0 {
			i = len(resp.Topics)
			t := kmsg.NewOffsetFetchResponseTopic()
			t.Topic = p.TP.Topic
			resp.Topics = append(resp.Topics, t)
		}
		rp := kmsg.NewOffsetFetchResponseTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = p.TP.Partition, p.Offset, p.LeaderEpoch
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, rp)
	}
	return resp
}

// owned groups partitions by topic, in order of first appearance.
func owned(tps []protocol.TopicPartition) []kmsg.ConsumerMemberMetadataOwnedPartition {
	var out []kmsg.ConsumerMemberMetadataOwnedPartition
	for _, tp := range tps {
		i := slices.IndexFunc(out, func(o kmsg.ConsumerMemberMetadataOwnedPartition) bool { return o.Topic == tp.Topic })
		if i < 0 {
			i = len(out)
			out = append(out, kmsg.ConsumerMemberMetadataOwnedPartition{Topic: tp.Topic})
		}
		out[i].Partitions = append(out[i].Partitions, tp.Partition)
	}
	return out
}

// A real consumer's fetches go to the partitions' leaders on connections of their own, which
// name no group: a poll belongs to the group of a member whose client.id is the fetching
// connection's and that owns the partition, as its last SyncGroup answer assigned it. Two
// members of one client.id owning one partition in two groups is ambiguous: the first to join
// takes the poll.

// owner is a member's partitions, as the coordinator's SyncGroup answer assigned them.
type owner struct {
	group, member string
	generation    int32
	tps           []protocol.TopicPartition
}

// assign records the partitions the member's SyncGroup answer gave it.
func (s *store) assign(clientID, group, member string, generation int32, assignment []byte) {
	o := &owner{group: group, member: member, generation: generation}
	var as kmsg.ConsumerMemberAssignment
	if as.ReadFrom(assignment) == nil {
		for _, t := range as.Topics {
			for _, p := range t.Partitions {
				o.tps = append(o.tps, protocol.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
	}
	s.unassign(group, member)
	s.owners[clientID] = append(s.owners[clientID], o)
}

// unassign forgets a member's partitions (it left the group).
func (s *store) unassign(group, member string) {
	// Deletions only, each within its own list: the order of the walk does not matter.
	for id, os := range s.owners {
		s.owners[id] = slices.DeleteFunc(os, func(o *owner) bool { return o.group == group && o.member == member })
	}
}

// ownerOf is the member of clientID's that owns tp, or nil.
func (s *store) ownerOf(clientID string, tp protocol.TopicPartition) *owner {
	for _, o := range s.owners[clientID] {
		if slices.Contains(o.tps, tp) {
			return o
		}
	}
	return nil
}

// recordCommits records an OffsetCommit's partitions as the group's commits, graded as the
// simulated consumer grades them (client.CommitOutcome); no answer (m nil: the connection
// closed) counts as a timeout, so unknown.
func (c *conn) recordCommits(now time.Duration, pd *pending, m *protocol.OffsetCommitResponse) {
	req, ok := pd.model.(*protocol.OffsetCommitRequest)
	if !ok {
		return
	}
	ops := make(history.Ops, 0, len(req.Partitions))
	for i, p := range req.Partitions {
		e := protocol.REQUEST_TIMED_OUT
		if m != nil && i < len(m.Partitions) {
			e = m.Partitions[i].Error
		}
		op := history.Op{Client: c.name, Type: history.Commit, Topic: p.TP.Topic, Partition: p.TP.Partition, Offsets: []int64{p.Offset},
			Invoke: pd.at, Complete: now, Outcome: client.CommitOutcome(e), Group: req.GroupID, Generation: req.GenerationID}
		if e != protocol.NONE {
			op.Error = e.String()
		}
		ops = append(ops, op)
	}
	if len(ops) > 0 {
		c.env.Observe(ops)
	}
}
