package quorum

import (
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the pull replication of the metadata log (KIP-595 Fetch). The leader checks each
// fetch for divergence (§2.1 step 4), records a voter's fetch offset as flushed there, advances
// the high watermark over a majority in its own epoch, and holds fetches with nothing new for
// up to MaxWait. Any voter that does not lead answers NOT_LEADER_OR_FOLLOWER naming the leader it
// knows, which is how observers find the leader.

// --- leader side ----------------------------------------------------------------------------

func (r *Raft) onFetch(now time.Duration, from int32, req *protocol.QuorumFetchRequest) {
	if r.role != leader || req.LeaderEpoch != r.epoch {
		r.answerFetch(from, req)
		return
	}
	i := slices.Index(r.cfg.Voters, from)
	if i >= 0 {
		r.lastFetch[i] = now
		r.heard[i] = true
	}
	if _, diverging := r.log.divergence(req.FetchOffset, req.LastFetchedEpoch); diverging {
		r.answerFetch(from, req)
		return
	}
	if i >= 0 && i != r.self {
		// The fetcher flushed everything below FetchOffset before asking (see sendFetch).
		r.match[i] = req.FetchOffset
		if r.updateHW() {
			r.completeParked()
		}
	}
	if req.FetchOffset >= r.log.end() && req.MaxWait > 0 {
		if hw, ok := r.sentHW[from]; ok && hw >= r.hw {
			r.parkSeq++
			r.parked = append(r.parked, parkedFetch{id: r.parkSeq, from: from, req: *req})
			r.env.After(req.MaxWait, raftTimer{kind: timerFetchWait, gen: r.parkSeq})
			return
		}
	}
	r.answerFetch(from, req)
}

// answerFetch answers a fetch as things stand now: an error when this node does not lead the
// fetcher's epoch, a DivergingEpoch, or the entries from FetchOffset.
func (r *Raft) answerFetch(from int32, req *protocol.QuorumFetchRequest) {
	resp := &protocol.QuorumFetchResponse{
		CorrelationID:  req.CorrelationID,
		HighWatermark:  protocol.UnknownOffset,
		DivergingEpoch: protocol.NoDivergence,
	}
	resp.LeaderID, resp.LeaderEpoch = r.Leader()
	switch {
	case r.role != leader:
		resp.Error = protocol.NOT_LEADER_OR_FOLLOWER
	case req.LeaderEpoch < r.epoch:
		resp.Error = protocol.FENCED_LEADER_EPOCH
	case req.LeaderEpoch > r.epoch:
		// As KafkaRaftClient: the fetcher knows a newer epoch; the leader does not step down for
		// a fetch (an observer may have heard of an epoch whose election failed).
		resp.Error = protocol.UNKNOWN_LEADER_EPOCH
	default:
		resp.HighWatermark = r.hw
		if d, diverging := r.log.divergence(req.FetchOffset, req.LastFetchedEpoch); diverging {
			resp.DivergingEpoch = d
		} else {
			resp.Entries = r.log.view(req.FetchOffset, req.FetchOffset+maxFetchEntries)
		}
		r.sentHW[from] = r.hw
	}
	r.env.Send(from, resp)
}

// completeParked answers every held fetch (new entries, or the high watermark moved).
func (r *Raft) completeParked() {
	if len(r.parked) == 0 {
		return
	}
	parked := r.parked
	r.parked = r.parked[:0:0]
	for i := range parked {
		r.answerFetch(parked[i].from, &parked[i].req)
	}
	if cap(r.parked) == 0 {
		r.parked = parked[:0]
	}
}

// updateHW advances the high watermark to the largest offset flushed on a majority of voters,
// but only past an entry of this leader's epoch (Raft §5.4.2; KIP-595). It reports a change.
func (r *Raft) updateHW() bool {
	s := r.scratch[:0]
	for i := range r.cfg.Voters {
		if i == r.self {
			s = append(s, r.log.end())
		} else {
			s = append(s, r.match[i])
		}
	}
	// Insertion sort, descending: a handful of voters, no allocation.
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] > s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	r.scratch = s
	m := s[r.majority-1]
	if m > r.epochStart && m > r.hw {
		r.hw = m
		return true
	}
	return false
}

// checkQuorum resigns when a majority of voters (itself included) has not fetched within
// FetchTimeout: a partitioned leader must not believe in itself forever (KIP-595 check quorum).
func (r *Raft) checkQuorum(now time.Duration) {
	alive := 0
	for i := range r.cfg.Voters {
		if i == r.self || now-r.lastFetch[i] < r.cfg.FetchTimeout {
			alive++
		}
	}
	if alive < r.majority {
		r.resign(now)
		return
	}
	r.env.After(r.checkInterval(), raftTimer{kind: timerCheckQuorum, gen: r.checkGen})
}

func (r *Raft) checkInterval() time.Duration { return max(r.cfg.FetchTimeout/4, time.Millisecond) }

// --- follower side --------------------------------------------------------------------------

// sendFetch asks the leader for entries from the LEO. Everything below the LEO is flushed (the
// log flushes after each append and truncation), so the fetch offset is durable here.
func (r *Raft) sendFetch(now time.Duration) {
	r.fetchCorr++
	r.fetchOutstanding = true
	r.fetchOffset = r.log.end()
	r.env.Send(r.leader, &protocol.QuorumFetchRequest{
		CorrelationID:    r.fetchCorr,
		ReplicaID:        r.cfg.ID,
		LeaderEpoch:      r.epoch,
		FetchOffset:      r.fetchOffset,
		LastFetchedEpoch: r.log.lastEpoch(),
		MaxWait:          r.cfg.FetchMaxWait,
	})
	r.fetch.set(r.env, false, now, r.cfg.fetchRetry())
}

func (r *Raft) onFetchResponse(now time.Duration, from int32, resp *protocol.QuorumFetchResponse) {
	if r.seeEpoch(now, resp.LeaderEpoch, resp.LeaderID) {
		return
	}
	if r.role != follower || !r.fetchOutstanding || resp.CorrelationID != r.fetchCorr || from != r.leader {
		return
	}
	r.fetchOutstanding = false
	if resp.Error != protocol.NONE || resp.LeaderEpoch != r.epoch {
		// The leader resigned or is confused: keep trying until the fetch timeout elects anew.
		r.fetch.set(r.env, false, now, retryBackoff)
		return
	}
	r.election.set(r.env, false, now, r.cfg.FetchTimeout) // heard from the leader
	if r.log.end() == r.fetchOffset {
		if hw, ok := r.log.applyFetch(resp, r.hw); ok {
			r.hw = hw
		}
	}
	r.sendFetch(now)
}
