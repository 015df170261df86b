package group

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"kafkasim/broker/protocol"
)

// Record keys, as Kafka keys them so that compaction keeps the latest record of each
// (GroupCoordinatorRecordSerde): the record type (OffsetCommitKey is type 1, GroupMetadataKey
// type 2) and the key fields, NUL-separated: an offset's key is its group, topic and partition,
// a group's key its id. The value struct is JSON in the record's Data (OffsetCommitValue,
// GroupMetadataValue); a tombstone (a null value) deletes the key.
const (
	offsetRecord = "1\x00"
	groupRecord  = "2\x00"
)

// offsetValue is OffsetCommitValue without the offset itself (the record's Value).
type offsetValue struct {
	LeaderEpoch int32         `json:"leaderEpoch"`
	CommitTime  time.Duration `json:"commitTimestamp"`
}

func offsetKey(group string, tp protocol.TopicPartition) string {
	return offsetRecord + group + "\x00" + tp.Topic + "\x00" + itoa(int64(tp.Partition))
}

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
	b, _ := json.Marshal(offsetValue{LeaderEpoch: o.LeaderEpoch, CommitTime: o.CommitTime})
	return protocol.Record{Key: offsetKey(group, tp), Value: o.Offset, Data: string(b)}
}

// offsetCommitTombstone is GroupCoordinatorRecordHelpers.newOffsetCommitTombstoneRecord: the
// offset expired (offsets.retention.minutes) or its group was deleted.
func offsetCommitTombstone(group string, tp protocol.TopicPartition) protocol.Record {
	return protocol.Record{Key: offsetKey(group, tp), Value: -1, Tombstone: true}
}

// groupMetadataTombstone is GroupCoordinatorRecordHelpers.newGroupMetadataTombstoneRecord.
func groupMetadataTombstone(group string) protocol.Record {
	return protocol.Record{Key: groupRecord + group, Value: -1, Tombstone: true}
}

// groupMetadataRecord is GroupCoordinatorRecordHelpers.newGroupMetadataRecord with the given
// assignment (member id → partitions).
func groupMetadataRecord(g *Group, assignment map[string][]protocol.TopicPartition) protocol.Record {
	v := groupValue{ProtocolType: g.ProtocolType, Generation: g.Generation, Protocol: g.Protocol, Leader: g.Leader}
	for _, m := range g.members {
		v.Members = append(v.Members, memberValue{
			MemberID: m.ID, GroupInstanceID: m.InstanceID, ClientID: m.ClientID, RebalanceTimeout: m.Rebalance,
			SessionTimeout: m.Session, Subscription: m.Protocols, Assignment: assignment[m.ID], Node: m.node,
		})
	}
	b, _ := json.Marshal(v)
	return protocol.Record{Key: groupRecord + g.ID, Value: int64(g.Generation), Data: string(b)}
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
		for i := range b.Len() {
			if r := b.Record(i); !s.replayModern(r) {
				s.replay(r)
			}
		}
		s.written = b.NextOffset()
	}
	s.loading = false
	s.cleaned = now
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
		group, tp, o, ok := parseOffsetRecord(r)
		switch {
		case !ok:
		case r.Tombstone:
			s.deleteOffset(group, tp)
		default:
			// OffsetMetadataManager.replay: the offsets of a group with no record of its own are a
			// simple group's (getOrMaybeCreateClassicGroup), Empty.
			if s.groups[group] == nil {
				s.group(group).state = Empty
			}
			s.storeOffset(group, tp, o)
		}
	case strings.HasPrefix(r.Key, groupRecord):
		id := r.Key[len(groupRecord):]
		if r.Tombstone { // GroupMetadataManager.replay: a tombstone removes the group
			if g := s.groups[id]; g != nil && g.modern == nil {
				s.removeGroup(id)
			}
			return
		}
		var v groupValue
		if json.Unmarshal([]byte(r.Data), &v) != nil {
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

// parseOffsetRecord reads an offset commit record (offsetCommitRecord) or its tombstone.
func parseOffsetRecord(r protocol.Record) (string, protocol.TopicPartition, Offset, bool) {
	rest, ok := strings.CutPrefix(r.Key, offsetRecord)
	if !ok {
		return "", protocol.TopicPartition{}, Offset{}, false
	}
	f := strings.Split(rest, "\x00")
	if len(f) != 3 {
		return "", protocol.TopicPartition{}, Offset{}, false
	}
	tp := protocol.TopicPartition{Topic: f[1], Partition: int32(atoi(f[2]))}
	var v offsetValue
	if !r.Tombstone && json.Unmarshal([]byte(r.Data), &v) != nil {
		return "", protocol.TopicPartition{}, Offset{}, false
	}
	return f[0], tp, Offset{Offset: r.Value, LeaderEpoch: v.LeaderEpoch, CommitTime: v.CommitTime}, true
}

func (s *shard) deleteOffset(group string, tp protocol.TopicPartition) {
	if m := s.offsets[group]; m != nil {
		delete(m, tp)
		if len(m) == 0 {
			delete(s.offsets, group)
		}
	}
}

// removeGroup forgets a deleted group (GroupMetadataManager.removeGroup).
func (s *shard) removeGroup(id string) {
	delete(s.groups, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
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

func modernKey(typ, group, member string) string {
	key := typ + "\x00" + group
	if member != "" {
		key += "\x00" + member
	}
	return key
}

func modernRecord(typ, group, member string, v any) protocol.Record {
	b, _ := json.Marshal(v)
	return protocol.Record{Key: modernKey(typ, group, member), Data: string(b)}
}

func tombstone(typ, group, member string) protocol.Record {
	return protocol.Record{Key: modernKey(typ, group, member), Value: -1, Tombstone: true}
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
	body := r.Data // "" for a tombstone
	if r.Tombstone {
		body = ""
	}
	gid, mid, _ := strings.Cut(rest, "\x00")
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
		if body == "" { // ConsumerGroup.createGroupTombstoneRecords: the group was deleted
			s.removeGroup(gid)
			return true
		}
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
