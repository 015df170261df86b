package client

import (
	"slices"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// partMeta is what a client knows of one partition from metadata.
type partMeta struct {
	leader int32 // protocol.NoLeader when offline or unknown
	epoch  int32 // leader epoch, protocol.UnknownEpoch when unknown
}

// topicMeta is a client's metadata for its topic (Java's Metadata/ClientMetadata; a consumer of
// several topics asks for the others too, more):
// brokers to ask, partitions with leader and leader epoch, and the one MetadataRequest in
// flight; an unanswered request is retried on another broker. Refreshes back off as
// Metadata.timeToAllowUpdate does (KIP-580): retry.backoff.ms after the last answer, doubling up
// to retry.backoff.max.ms, with jitter, over the failed requests since the last answer and
// over the answers in a row that taught nothing new (no leader epoch moved: equivalent
// responses), so a leaderless partition is not asked about ten times a second.
type topicMeta struct {
	topic     string
	bootstrap []int32
	brokers   []int32 // live brokers from the last response
	parts     []partMeta
	known     bool // a response described the topic (and every topic of more)

	// more: a consumer of several topics asks for them in the same request (Metadata's topic
	// list); their partitions are in moreParts, in the order of more.
	more      []string
	moreParts [][]partMeta
	moreKnown []bool

	wanted  bool
	corr    int64 // in-flight request, 0 when none
	to      int32
	avoid   int32 // broker whose request timed out
	ageGen  uint64
	scratch []int32
	avail   []int32 // the partitions with a leader, all when none has one (available)
	availOK bool    // avail is up to date: parts has not changed since

	refreshBackoff exponentialBackoff
	attempts       int64         // failed requests since the last answer (failedUpdate)
	equivalent     int64         // answers in a row that moved no leader epoch (equivalentResponseCount)
	allowedAt      time.Duration // no request before this (timeToAllowUpdate)

	rc *reconnects // the client's reconnect back-offs, which pick skips; nil: none
}

func newTopicMeta(topic string, bootstrap []int32, backoff, backoffMax time.Duration) topicMeta {
	return topicMeta{
		topic: topic, bootstrap: bootstrap, wanted: true, avoid: -1,
		refreshBackoff: newExponentialBackoff(backoff, backoffMultiplier, backoffMax, backoffJitter),
	}
}

// refreshed notes an answer or a failure at now and sets when the next request may go:
// lastRefreshMs plus the back-off of the failed attempts or of the equivalent answers,
// whichever is longer.
func (m *topicMeta) refreshed(env node.Env, now time.Duration) {
	var exp int64
	if m.attempts > 0 {
		exp = m.attempts - 1
	}
	if m.equivalent > 0 {
		exp = max(exp, m.equivalent-1)
	}
	m.allowedAt = now + m.refreshBackoff.backoff(env, exp)
}

// pick chooses a broker to ask (env.Rand()), avoiding the one that just failed if it can, and
// the ones within their reconnect back-off unless every one is: NetworkClient.leastLoadedNode
// takes a node it may connect to (ClusterConnectionStates.canConnect) over one backing off, so
// a client whose broker died asks another for metadata or its coordinator, not the dead one
// again once its back-off ends.
func (m *topicMeta) pick(env node.Env, now time.Duration, avoid int32) int32 {
	cand := m.brokers
	if len(cand) == 0 {
		cand = m.bootstrap
	}
	if len(cand) == 0 {
		return -1
	}
	backingOff := m.rc != nil && len(m.rc.peers) > 0
	if len(cand) > 1 && (avoid >= 0 || backingOff) {
		s := m.scratch[:0]
		for _, b := range cand {
			if b == avoid {
				continue
			}
			if backingOff {
				if blocked, _ := m.rc.blocked(now, b); blocked {
					continue
				}
			}
			s = append(s, b)
		}
		if len(s) == 0 && backingOff && avoid >= 0 {
			// Every other broker backs off: avoid only the one that failed.
			for _, b := range cand {
				if b != avoid {
					s = append(s, b)
				}
			}
		}
		m.scratch = s
		if len(s) > 0 {
			cand = s
		}
	}
	return cand[env.Rand()%uint64(len(cand))]
}

// maybeSend sends a MetadataRequest if one is wanted, none is in flight and the back-off has
// passed; else it asks w for a wake when it may.
func (m *topicMeta) maybeSend(env node.Env, w *waker, tmo *timeouts, now time.Duration, corr *int64, reqTimeout time.Duration) {
	if !m.wanted || m.corr != 0 {
		return
	}
	if now < m.allowedAt {
		w.at(env, now, m.allowedAt)
		return
	}
	to := m.pick(env, now, m.avoid)
	if to < 0 {
		return
	}
	*corr++
	m.corr, m.to, m.wanted = *corr, to, false
	topics := []string{m.topic}
	if len(m.more) > 0 {
		topics = append(topics, m.more...)
	}
	env.Send(to, &protocol.MetadataRequest{CorrelationID: m.corr, Topics: topics})
	tmo.add(env, now, reqTimeout, m.corr)
}

// timedOut handles the failure of request corr (timeout or reset: failedUpdate); it reports
// whether corr was ours.
func (m *topicMeta) timedOut(env node.Env, now time.Duration, corr int64) bool {
	if corr == 0 || corr != m.corr {
		return false
	}
	m.corr, m.wanted, m.avoid = 0, true, m.to
	m.attempts++
	m.equivalent = 0
	m.refreshed(env, now)
	return true
}

// handle applies a MetadataResponse; it reports whether the response was ours. Partition
// metadata with an older leader epoch than known is ignored (KIP-320: clients reject stale
// metadata). A missing topic or a leaderless partition asks for another refresh.
func (m *topicMeta) handle(env node.Env, now, maxAge time.Duration, r *protocol.MetadataResponse) bool {
	if r.CorrelationID != m.corr {
		return false
	}
	m.corr, m.avoid, m.attempts = 0, -1, 0
	m.equivalent++ // until a leader epoch is seen to move (updateLatestMetadata)
	defer m.refreshed(env, now)
	if len(r.Brokers) > 0 {
		m.brokers = r.Brokers
	}
	missing := false
	for ti := -1; ti < len(m.more); ti++ {
		name, parts := m.topic, &m.parts
		if ti >= 0 {
			name, parts = m.more[ti], &m.moreParts[ti]
		}
		var t *protocol.TopicMetadata
		for i := range r.Topics {
			if r.Topics[i].Name == name {
				t = &r.Topics[i]
			}
		}
		if t == nil || t.Error != protocol.NONE || len(t.Partitions) == 0 {
			missing = true
			continue
		}
		if ti >= 0 {
			m.moreKnown[ti] = true
		}
		m.apply(t, parts)
	}
	if missing {
		m.wanted = true
		return true
	}
	m.known = true
	if maxAge > 0 && maxAge < maxTimer {
		m.ageGen++
		env.After(maxAge, metadataAge{gen: m.ageGen})
	}
	return true
}

// apply takes one topic's partitions from a response.
func (m *topicMeta) apply(t *protocol.TopicMetadata, parts *[]partMeta) {
	m.availOK = false // the partitions with a leader are listed again (available)
	for i := range t.Partitions {
		pm := &t.Partitions[i]
		if pm.Partition < 0 {
			continue
		}
		for int(pm.Partition) >= len(*parts) {
			*parts = append(*parts, partMeta{leader: protocol.NoLeader, epoch: protocol.UnknownEpoch})
		}
		p := &(*parts)[pm.Partition]
		if pm.LeaderEpoch < p.epoch {
			continue
		}
		if pm.LeaderEpoch > p.epoch || pm.LeaderEpoch < 0 {
			m.equivalent = 0
		}
		p.epoch = pm.LeaderEpoch
		p.leader = pm.Leader
		if pm.Error != protocol.NONE {
			p.leader = protocol.NoLeader
		}
	}
	for i := range *parts {
		if (*parts)[i].leader < 0 {
			m.wanted = true
		}
	}
}

// addTopic asks for one more topic from the next request on (a consumer of several topics, or
// a group leader that assigns topics it does not read: ConsumerCoordinator.updateGroupSubscription).
// It reports whether the topic is new.
func (m *topicMeta) addTopic(name string) bool {
	if name == m.topic || slices.Contains(m.more, name) {
		return false
	}
	m.more = append(m.more, name)
	m.moreParts = append(m.moreParts, nil)
	m.moreKnown = append(m.moreKnown, false)
	m.wanted = true
	return true
}

// hint applies a leader hint from a produce or fetch error (KIP-951) if it is newer.
func (m *topicMeta) hint(part int32, leader, epoch int32) {
	if part < 0 || int(part) >= len(m.parts) || leader < 0 || epoch <= m.parts[part].epoch {
		return
	}
	m.parts[part] = partMeta{leader: leader, epoch: epoch}
	m.availOK = false
}

// aged handles a metadata.max.age.ms timer.
// The periodic refresh resets the equivalent answers' back-off.
func (m *topicMeta) aged(gen uint64) {
	if gen == m.ageGen {
		m.wanted = true
		m.equivalent = 0
	}
}

// available lists the partitions with a leader (all partitions when none has one). It is
// asked for every record a partitioner places without a key, so it is computed once per
// change of the metadata, not per record over every partition.
func (m *topicMeta) available() []int32 {
	if m.availOK {
		return m.avail
	}
	a := m.avail[:0]
	for i := range m.parts {
		if m.parts[i].leader >= 0 {
			a = append(a, int32(i))
		}
	}
	if len(a) == 0 {
		for i := range m.parts {
			a = append(a, int32(i))
		}
	}
	m.avail, m.availOK = a, true
	return a
}
