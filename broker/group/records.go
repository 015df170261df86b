package group

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/protocol"
)

// Record keys: the record type (OffsetCommitKey is type 1, GroupMetadataKey type 2) and the key
// fields, separated by NUL; the value of an offset record is the committed offset, the value
// struct of a group record is JSON after the key.
const (
	offsetRecord = "1\x00"
	groupRecord  = "2\x00"
)

// groupValue is GroupMetadataValue.
type groupValue struct {
	ProtocolType string        `json:"protocolType"`
	Generation   int32         `json:"generation"`
	Protocol     string        `json:"protocol"`
	Leader       string        `json:"leader"`
	Members      []memberValue `json:"members"`
}

// memberValue is GroupMetadataValue.MemberMetadata.
type memberValue struct {
	MemberID         string                    `json:"memberId"`
	GroupInstanceID  string                    `json:"groupInstanceId,omitempty"`
	ClientID         string                    `json:"clientId"`
	RebalanceTimeout time.Duration             `json:"rebalanceTimeout"`
	SessionTimeout   time.Duration             `json:"sessionTimeout"`
	Subscription     []protocol.GroupProtocol  `json:"subscription"`
	Assignment       []protocol.TopicPartition `json:"assignment"`
	Node             int32                     `json:"node"`
}

// offsetCommitRecord is GroupCoordinatorRecordHelpers.newOffsetCommitRecord.
func offsetCommitRecord(group string, tp protocol.TopicPartition, o Offset) protocol.Record {
	key := offsetRecord + group + "\x00" + tp.Topic + "\x00" + itoa(int64(tp.Partition)) + "\x00" + itoa(int64(o.LeaderEpoch)) + "\x00" + itoa(int64(o.CommitTime))
	return protocol.Record{Key: key, Value: o.Offset}
}

// groupMetadataRecord is GroupCoordinatorRecordHelpers.newGroupMetadataRecord with the given
// assignment (member id → partitions).
// groupTombstone deletes a classic group's record (ClassicGroup.createGroupTombstoneRecords).
func groupTombstone(group string) protocol.Record {
	return protocol.Record{Key: groupRecord + group + "\x00"}
}

func groupMetadataRecord(g *Group, assignment map[string][]protocol.TopicPartition) protocol.Record {
	v := groupValue{ProtocolType: g.ProtocolType, Generation: g.Generation, Protocol: g.Protocol, Leader: g.Leader}
	for _, m := range g.members {
		v.Members = append(v.Members, memberValue{
			MemberID: m.ID, GroupInstanceID: m.InstanceID, ClientID: m.ClientID, RebalanceTimeout: m.Rebalance,
			SessionTimeout: m.Session, Subscription: m.Protocols, Assignment: assignment[m.ID], Node: m.node,
		})
	}
	b, _ := json.Marshal(v)
	return protocol.Record{Key: groupRecord + g.ID + "\x00" + string(b), Value: int64(g.Generation)}
}

// load replays the partition from its log start to its end (CoordinatorLoaderImpl.load): the
// last GroupMetadata record of a group wins; a group with members is Stable, else Empty
// (ClassicGroup.fromRecords). Every member's session starts now.
func (s *shard) load(now time.Duration) {
	for _, b := range s.c.host.Batches(s.part) {
		if s.replayTxnBatch(b) || b.Control { // transactional offsets (txnoffsets.go)
			s.written = b.NextOffset()
			continue
		}
		for _, r := range b.Records {
			if !s.replayModern(r) {
				s.replay(r)
			}
		}
		s.written = b.NextOffset()
	}
	s.loading = false
	for _, id := range s.order {
		g := s.groups[id]
		if g.modern != nil {
			s.afterLoadConsumer(g)
			continue
		}
		for _, m := range g.members {
			s.rescheduleHeartbeat(g, m, m.Session)
		}
	}
}

func (s *shard) replay(r protocol.Record) {
	switch {
	case strings.HasPrefix(r.Key, offsetRecord):
		f := strings.Split(r.Key[len(offsetRecord):], "\x00")
		if len(f) != 5 {
			return
		}
		tp := protocol.TopicPartition{Topic: f[1], Partition: int32(atoi(f[2]))}
		s.storeOffset(f[0], tp, Offset{Offset: r.Value, LeaderEpoch: int32(atoi(f[3])), CommitTime: time.Duration(atoi(f[4]))})
	case strings.HasPrefix(r.Key, groupRecord):
		id, body, ok := strings.Cut(r.Key[len(groupRecord):], "\x00")
		if !ok {
			return
		}
		if body == "" {
			// A tombstone: the group became a consumer group (whose records follow).
			if g := s.groups[id]; g != nil && g.modern == nil {
				g.members, g.static, g.Generation, g.state = nil, map[string]string{}, 0, Empty
			}
			return
		}
		var v groupValue
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		g := s.group(id)
		g.modern = nil // a consumer group converted back (its tombstones came first)
		g.ProtocolType, g.Generation, g.Protocol, g.Leader = v.ProtocolType, v.Generation, v.Protocol, v.Leader
		g.members, g.static = nil, map[string]string{}
		for _, mv := range v.Members {
			m := &Member{ID: mv.MemberID, InstanceID: mv.GroupInstanceID, ClientID: mv.ClientID, Rebalance: mv.RebalanceTimeout,
				Session: mv.SessionTimeout, Protocols: mv.Subscription, Assignment: mv.Assignment, node: mv.Node}
			g.members = append(g.members, m)
			if m.InstanceID != "" {
				g.static[m.InstanceID] = m.ID
			}
		}
		g.state, g.prevState = Empty, Empty
		if len(g.members) > 0 {
			g.state = Stable
		}
	}
}

func (s *shard) storeOffset(group string, tp protocol.TopicPartition, o Offset) {
	m := s.offsets[group]
	if m == nil {
		m = map[protocol.TopicPartition]Offset{}
		s.offsets[group] = m
	}
	m[tp] = o
}

// KIP-848 record types (the key's type in GroupCoordinatorRecordSerde): the key is the type,
// the group id (and the member id), NUL-separated, then the JSON value after a last NUL; an
// empty value is a tombstone.
const (
	groupEpochType        = "3" // ConsumerGroupMetadataKey/Value
	partitionMetadataType = "4" // ConsumerGroupPartitionMetadataKey/Value
	memberMetadataType    = "5" // ConsumerGroupMemberMetadataKey/Value
	targetMetadataType    = "6" // ConsumerGroupTargetAssignmentMetadataKey/Value
	targetMemberType      = "7" // ConsumerGroupTargetAssignmentMemberKey/Value
	currentAssignmentType = "8" // ConsumerGroupCurrentMemberAssignmentKey/Value
)

// memberMetadataValue is ConsumerGroupMemberMetadataValue.
type memberMetadataValue struct {
	InstanceID       string        `json:"instanceId,omitempty"`
	ClientID         string        `json:"clientId"`
	RebalanceTimeout time.Duration `json:"rebalanceTimeout"`
	Topics           []string      `json:"subscribedTopicNames"`
	Assignor         string        `json:"serverAssignor,omitempty"`
	Node             int32         `json:"node"`
	// ClassicMemberMetadata: a member speaking the classic protocol (migration.go).
	Classic *classicMemberValue `json:"classicMemberMetadata,omitempty"`
}

type classicMemberValue struct {
	SessionTimeout time.Duration            `json:"sessionTimeoutMs"`
	Protocols      []protocol.GroupProtocol `json:"supportedProtocols"`
}

// currentAssignmentValue is ConsumerGroupCurrentMemberAssignmentValue.
type currentAssignmentValue struct {
	MemberEpoch         int32                     `json:"memberEpoch"`
	PreviousMemberEpoch int32                     `json:"previousMemberEpoch"`
	State               memberState               `json:"state"`
	Assigned            []protocol.TopicPartition `json:"assignedPartitions"`
	PendingRevocation   []protocol.TopicPartition `json:"partitionsPendingRevocation,omitempty"`
}

func modernRecord(typ, group, member string, v any) protocol.Record {
	key := typ + "\x00" + group
	if member != "" {
		key += "\x00" + member
	}
	body := ""
	if v != nil {
		b, _ := json.Marshal(v)
		body = string(b)
	}
	return protocol.Record{Key: key + "\x00" + body}
}

func tombstone(typ, group, member string) protocol.Record {
	return modernRecord(typ, group, member, nil)
}

func groupEpochRecord(group string, epoch int32) protocol.Record {
	r := modernRecord(groupEpochType, group, "", map[string]int32{"epoch": epoch})
	r.Value = int64(epoch)
	return r
}

func partitionMetadataRecord(group string, topics map[string]int32) protocol.Record {
	return modernRecord(partitionMetadataType, group, "", topics)
}

func memberMetadataRecord(group string, m *Member) protocol.Record {
	v := memberMetadataValue{InstanceID: m.InstanceID, ClientID: m.ClientID,
		RebalanceTimeout: m.Rebalance, Topics: m.Topics, Assignor: m.Assignor, Node: m.node}
	if m.classic {
		v.Classic = &classicMemberValue{SessionTimeout: m.Session, Protocols: m.Protocols}
	}
	return modernRecord(memberMetadataType, group, m.ID, v)
}

func targetMetadataRecord(group string, epoch int32) protocol.Record {
	r := modernRecord(targetMetadataType, group, "", map[string]int32{"assignmentEpoch": epoch})
	r.Value = int64(epoch)
	return r
}

func targetMemberRecord(group, member string, tps []protocol.TopicPartition) protocol.Record {
	if tps == nil {
		tps = []protocol.TopicPartition{}
	}
	return modernRecord(targetMemberType, group, member, tps)
}

func currentAssignmentRecord(group string, m *Member) protocol.Record {
	r := modernRecord(currentAssignmentType, group, m.ID, currentAssignmentValue{MemberEpoch: m.Epoch, PreviousMemberEpoch: m.PrevEpoch,
		State: m.mstate, Assigned: m.Assignment, PendingRevocation: m.Revoking})
	r.Value = int64(m.Epoch)
	return r
}

// replayModern applies a KIP-848 record (GroupMetadataManager.replay for the consumer group
// record types); it reports whether r was one.
func (s *shard) replayModern(r protocol.Record) bool {
	typ, rest, ok := strings.Cut(r.Key, "\x00")
	if !ok || len(typ) != 1 || typ < groupEpochType || typ > currentAssignmentType {
		return false
	}
	i := strings.LastIndexByte(rest, 0)
	if i < 0 {
		return true
	}
	ids, body := rest[:i], rest[i+1:]
	gid, mid, _ := strings.Cut(ids, "\x00")
	g := s.groups[gid]
	if g == nil || g.modern == nil {
		if body == "" {
			return true
		}
		g = s.group(gid)
		g.modern = &consumerGroup{target: map[string][]protocol.TopicPartition{}, topics: map[string]int32{}}
		g.ProtocolType, g.Protocol, g.Leader, g.Generation, g.state, g.members = "consumer", "", "", 0, Empty, nil
		g.static = map[string]string{}
	}
	member := func() *Member {
		m := g.member(mid)
		if m == nil {
			m = &Member{ID: mid}
			g.members = append(g.members, m)
		}
		return m
	}
	switch typ {
	case groupEpochType:
		var v map[string]int32
		if json.Unmarshal([]byte(body), &v) == nil {
			g.Generation = v["epoch"]
		}
	case partitionMetadataType:
		var v map[string]int32
		if json.Unmarshal([]byte(body), &v) == nil {
			g.modern.topics = v
		}
	case targetMetadataType:
		var v map[string]int32
		if json.Unmarshal([]byte(body), &v) == nil {
			g.modern.assignmentEpoch = v["assignmentEpoch"]
			g.Protocol = g.assignorOf()
		}
	case memberMetadataType:
		if body == "" {
			if m := g.member(mid); m != nil {
				g.members = slices.DeleteFunc(g.members, func(x *Member) bool { return x == m })
				if m.InstanceID != "" && g.static[m.InstanceID] == m.ID {
					delete(g.static, m.InstanceID)
				}
			}
			return true
		}
		var v memberMetadataValue
		if json.Unmarshal([]byte(body), &v) == nil {
			m := member()
			m.InstanceID, m.ClientID, m.Rebalance, m.Topics, m.Assignor, m.node = v.InstanceID, v.ClientID, v.RebalanceTimeout, v.Topics, v.Assignor, v.Node
			m.Protocols = []protocol.GroupProtocol{{Name: v.Assignor, Topics: v.Topics}}
			m.classic = v.Classic != nil
			if m.classic {
				m.Session, m.Protocols = v.Classic.SessionTimeout, v.Classic.Protocols
			}
			if m.InstanceID != "" {
				g.static[m.InstanceID] = m.ID
			}
		}
	case targetMemberType:
		if body == "" {
			delete(g.modern.target, mid)
			return true
		}
		var v []protocol.TopicPartition
		if json.Unmarshal([]byte(body), &v) == nil {
			g.modern.target[mid] = v
		}
	case currentAssignmentType:
		if body == "" {
			return true
		}
		var v currentAssignmentValue
		if json.Unmarshal([]byte(body), &v) == nil {
			m := member()
			m.Epoch, m.PrevEpoch, m.mstate, m.Assignment, m.Revoking = v.MemberEpoch, v.PreviousMemberEpoch, v.State, v.Assigned, v.PendingRevocation
		}
	}
	return true
}
