package metadata

import (
	"maps"
	"slices"
)

// Image is the state the metadata log builds up to some offset. Every node holds its own
// image, but its brokers and partitions are immutable and shared: Apply replaces one rather
// than editing it, and the nodes that apply one record to one state share what it makes (the
// record keeps it), so 100 brokers of a 30,000-partition cluster hold one copy of each
// partition's state, not 100. Nothing may modify a *Partition or *Broker an image holds.
type Image struct {
	Offset         int64 // offset of the last applied entry, -1 for none
	Brokers        map[int32]*Broker
	Topics         map[string]*Topic
	Configs        map[string]string // cluster-wide defaults
	NextProducerID int64
	// ConfigVersion counts the config records applied: what was derived from the configs
	// stays valid while it does not move.
	ConfigVersion uint64

	// last is the topic of the last PartitionRecord applied: a topic's creation brings one per
	// partition. A name keeps its *Topic once the map holds it (nothing replaces or removes one).
	last *Topic
}

// Broker is a broker's registration.
type Broker struct {
	ID                   int32
	Epoch                int64
	Incarnation          uint64
	Fenced               bool
	InControlledShutdown bool
}

// Topic is a topic with its partitions.
type Topic struct {
	Name       string
	ID         uint64
	Partitions []*Partition // index = partition number
	Configs    map[string]string
}

// Partition is one partition's replicated state.
type Partition struct {
	Topic          string
	Index          int32
	Replicas       []int32
	ISR            []int32
	ELR            []int32
	LastKnownELR   []int32
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	// LeaderRecoveryState is RECOVERING from an unclean election until the leader reports
	// RECOVERED (KIP-704).
	LeaderRecoveryState LeaderRecoveryState
	// AddingReplicas and RemovingReplicas are a reassignment in progress (KIP-455): Replicas
	// then holds the target replicas followed by the ones being removed.
	AddingReplicas   []int32
	RemovingReplicas []int32
}

// Reassigning reports whether a reassignment is in progress
// (PartitionReassignmentReplicas.isReassignmentInProgress).
func (p *Partition) Reassigning() bool {
	return len(p.AddingReplicas) > 0 || len(p.RemovingReplicas) > 0
}

// Recovering reports whether the partition is RECOVERING from an unclean election (KIP-704).
func (p *Partition) Recovering() bool { return p.LeaderRecoveryState == LeaderRecovering }

// NewImage is an empty image.
func NewImage() *Image {
	return &Image{Offset: -1, Brokers: map[int32]*Broker{}, Topics: map[string]*Topic{}, Configs: map[string]string{}}
}

// ApplyIn applies recs[i], the i-th record of a batch, as Apply does. A topic's creation
// (CreateTopicsRequest) is one batch with a record per partition: the topic's partition slice
// is sized once for the rest of the batch, not grown record by record. It reports whether
// recs[i] is a PartitionRecord that created its partition (the image had no such partition).
func (im *Image) ApplyIn(recs []any, i int) (created bool) { return im.apply(recs[i], recs[i+1:]) }

// Apply applies one record. Records are applied in log order; Apply never fails, because the
// controller validated them before appending.
func (im *Image) Apply(rec any) { im.apply(rec, nil) }

// apply applies rec; rest is the rest of its batch, if known.
func (im *Image) apply(rec any, rest []any) (created bool) {
	switch r := rec.(type) {
	case *RegisterBrokerRecord:
		im.Brokers[r.BrokerID] = &Broker{ID: r.BrokerID, Epoch: r.BrokerEpoch, Incarnation: r.IncarnationID, Fenced: r.Fenced}
	case *BrokerRegistrationChangeRecord:
		if b := im.Brokers[r.BrokerID]; b != nil && b.Epoch == r.BrokerEpoch {
			c := *b
			c.Fenced, c.InControlledShutdown = r.Fenced, r.InControlledShutdown
			im.Brokers[r.BrokerID] = &c
		}
	case *UnregisterBrokerRecord:
		if b := im.Brokers[r.BrokerID]; b != nil && b.Epoch == r.BrokerEpoch {
			delete(im.Brokers, r.BrokerID)
		}
	case *TopicRecord:
		if im.Topics[r.Name] == nil {
			im.Topics[r.Name] = &Topic{Name: r.Name, ID: r.TopicID, Configs: map[string]string{}}
		}
	case *PartitionRecord:
		t := im.last
		if t == nil || t.Name != r.Topic {
			if t = im.Topics[r.Topic]; t == nil {
				return
			}
			im.last = t
		}
		if !r.built {
			r.made = Partition{Topic: r.Topic, Index: r.Partition, Replicas: r.Replicas, ISR: r.ISR, ELR: r.ELR,
				LastKnownELR: r.LastKnownELR, Leader: r.Leader, LeaderEpoch: r.LeaderEpoch, PartitionEpoch: r.PartitionEpoch,
				LeaderRecoveryState: r.LeaderRecoveryState}
			r.built = true
		}
		p := &r.made
		if int(r.Partition) >= cap(t.Partitions) && len(rest) > 0 {
			n := int(r.Partition)
			for _, later := range rest {
				if l, ok := later.(*PartitionRecord); ok && l.Topic == r.Topic {
					n = max(n, int(l.Partition))
				}
			}
			t.Partitions = slices.Grow(t.Partitions, n+1-len(t.Partitions))
		}
		for int32(len(t.Partitions)) <= r.Partition {
			t.Partitions = append(t.Partitions, nil)
		}
		created = t.Partitions[r.Partition] == nil
		t.Partitions[r.Partition] = p
	case *PartitionChangeRecord:
		old := im.Partition(r.Topic, r.Partition)
		if old == nil {
			return
		}
		// The new state is old's but for what the record carries: only the assignment, when
		// the record leaves it as it was, can differ between the images applying it.
		if !r.built || r.Replicas == nil && !slices.Equal(r.made.Replicas, old.Replicas) {
			p := *old
			p.ISR, p.ELR, p.LastKnownELR = r.ISR, r.ELR, r.LastKnownELR
			p.Leader, p.LeaderEpoch, p.PartitionEpoch = r.Leader, r.LeaderEpoch, r.PartitionEpoch
			p.LeaderRecoveryState = r.LeaderRecoveryState
			if r.Replicas != nil {
				p.Replicas = r.Replicas
			}
			p.AddingReplicas, p.RemovingReplicas = r.AddingReplicas, r.RemovingReplicas
			if r.built { // another assignment than the shared state's: this image's own
				im.Topics[r.Topic].Partitions[r.Partition] = &p
				return
			}
			r.made, r.built = p, true
		}
		im.Topics[r.Topic].Partitions[r.Partition] = &r.made
	case *ConfigRecord:
		im.ConfigVersion++
		m := im.Configs
		if r.Topic != "" {
			t := im.Topics[r.Topic]
			if t == nil {
				return
			}
			m = t.Configs
		}
		if r.Value == "" {
			delete(m, r.Name)
		} else {
			m[r.Name] = r.Value
		}
	case *ProducerIdsRecord:
		im.NextProducerID = r.NextProducerID
	}
	return created
}

// Partition returns a partition's state, or nil.
func (im *Image) Partition(topic string, index int32) *Partition {
	t := im.Topics[topic]
	if t == nil || index < 0 || int(index) >= len(t.Partitions) {
		return nil
	}
	return t.Partitions[index]
}

// TopicNames lists topics in name order (for deterministic iteration).
func (im *Image) TopicNames() []string {
	return slices.Sorted(maps.Keys(im.Topics))
}

// BrokerIDs lists registered brokers in id order.
func (im *Image) BrokerIDs() []int32 {
	return slices.Sorted(maps.Keys(im.Brokers))
}

// Config returns a topic's config value: the topic's own, else the cluster default, else def.
func (im *Image) Config(topic, name, def string) string {
	if t := im.Topics[topic]; t != nil {
		if v, ok := t.Configs[name]; ok {
			return v
		}
	}
	if v, ok := im.Configs[name]; ok {
		return v
	}
	return def
}

// Contains reports whether id is in set.
func Contains(set []int32, id int32) bool { return slices.Contains(set, id) }
