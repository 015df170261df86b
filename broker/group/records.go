package group

import (
	"encoding/json"
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
		if b.Control {
			continue
		}
		for _, r := range b.Records {
			s.replay(r)
		}
		s.written = b.NextOffset()
	}
	s.loading = false
	for _, id := range s.order {
		g := s.groups[id]
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
		var v groupValue
		if json.Unmarshal([]byte(body), &v) != nil {
			return
		}
		g := s.group(id)
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
