package client

import (
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// partMeta is what a client knows of one partition from metadata.
type partMeta struct {
	leader int32 // protocol.NoLeader when offline or unknown
	epoch  int32 // leader epoch, protocol.UnknownEpoch when unknown
}

// topicMeta is a client's metadata for its topic (Java's Metadata/ClientMetadata, one topic):
// brokers to ask, partitions with leader and leader epoch, and the one MetadataRequest in
// flight. Refreshes are spaced by retry.backoff.ms; an unanswered request is retried on
// another broker.
type topicMeta struct {
	topic     string
	bootstrap []int32
	brokers   []int32 // live brokers from the last response
	parts     []partMeta
	known     bool // a response described the topic

	wanted   bool
	corr     int64 // in-flight request, 0 when none
	to       int32
	avoid    int32 // broker whose request timed out
	lastSent time.Duration
	sentOnce bool
	ageGen   uint64
	scratch  []int32
}

func newTopicMeta(topic string, bootstrap []int32) topicMeta {
	return topicMeta{topic: topic, bootstrap: bootstrap, wanted: true, avoid: -1}
}

// pick chooses a broker to ask (env.Rand()), avoiding the one that just failed if it can.
func (m *topicMeta) pick(env node.Env, avoid int32) int32 {
	cand := m.brokers
	if len(cand) == 0 {
		cand = m.bootstrap
	}
	if len(cand) == 0 {
		return -1
	}
	if len(cand) > 1 && avoid >= 0 {
		s := m.scratch[:0]
		for _, b := range cand {
			if b != avoid {
				s = append(s, b)
			}
		}
		m.scratch = s
		if len(s) > 0 {
			cand = s
		}
	}
	return cand[env.Rand()%uint64(len(cand))]
}

// maybeSend sends a MetadataRequest if one is wanted, none is in flight and the backoff since
// the last one has passed; else it asks w for a wake when it may.
func (m *topicMeta) maybeSend(env node.Env, w *waker, tmo *timeouts, now time.Duration, corr *int64, reqTimeout, backoff time.Duration) {
	if !m.wanted || m.corr != 0 {
		return
	}
	if m.sentOnce && now < m.lastSent+backoff {
		w.at(env, now, m.lastSent+backoff)
		return
	}
	to := m.pick(env, m.avoid)
	if to < 0 {
		return
	}
	*corr++
	m.corr, m.to, m.wanted, m.lastSent, m.sentOnce = *corr, to, false, now, true
	env.Send(to, &protocol.MetadataRequest{CorrelationID: m.corr, Topics: []string{m.topic}})
	tmo.add(env, now, reqTimeout, m.corr)
}

// timedOut handles the timeout of request corr; it reports whether corr was ours.
func (m *topicMeta) timedOut(corr int64) bool {
	if corr == 0 || corr != m.corr {
		return false
	}
	m.corr, m.wanted, m.avoid = 0, true, m.to
	return true
}

// handle applies a MetadataResponse; it reports whether the response was ours. Partition
// metadata with an older leader epoch than known is ignored (KIP-320: clients reject stale
// metadata). A missing topic or a leaderless partition asks for another refresh.
func (m *topicMeta) handle(env node.Env, now, maxAge time.Duration, r *protocol.MetadataResponse) bool {
	if r.CorrelationID != m.corr {
		return false
	}
	m.corr, m.avoid = 0, -1
	if len(r.Brokers) > 0 {
		m.brokers = r.Brokers
	}
	var t *protocol.TopicMetadata
	for i := range r.Topics {
		if r.Topics[i].Name == m.topic {
			t = &r.Topics[i]
		}
	}
	if t == nil || t.Error != protocol.NONE || len(t.Partitions) == 0 {
		m.wanted = true
		return true
	}
	m.known = true
	for i := range t.Partitions {
		pm := &t.Partitions[i]
		if pm.Partition < 0 {
			continue
		}
		for int(pm.Partition) >= len(m.parts) {
			m.parts = append(m.parts, partMeta{leader: protocol.NoLeader, epoch: protocol.UnknownEpoch})
		}
		p := &m.parts[pm.Partition]
		if pm.LeaderEpoch < p.epoch {
			continue
		}
		p.epoch = pm.LeaderEpoch
		p.leader = pm.Leader
		if pm.Error != protocol.NONE {
			p.leader = protocol.NoLeader
		}
	}
	for i := range m.parts {
		if m.parts[i].leader < 0 {
			m.wanted = true
		}
	}
	if maxAge > 0 && maxAge < maxTimer {
		m.ageGen++
		env.After(maxAge, metadataAge{gen: m.ageGen})
	}
	return true
}

// hint applies a leader hint from a produce or fetch error (KIP-951) if it is newer.
func (m *topicMeta) hint(part int32, leader, epoch int32) {
	if part < 0 || int(part) >= len(m.parts) || leader < 0 || epoch <= m.parts[part].epoch {
		return
	}
	m.parts[part] = partMeta{leader: leader, epoch: epoch}
}

// aged handles a metadata.max.age.ms timer.
func (m *topicMeta) aged(gen uint64) {
	if gen == m.ageGen {
		m.wanted = true
	}
}
