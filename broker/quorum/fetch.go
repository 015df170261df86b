package quorum

import (
	"slices"
	"time"

	"kafkasim/broker/protocol"
)

// Behavior: the leader's end of the metadata log's pull replication (KIP-595 Fetch). The leader
// checks each fetch for divergence as a partition leader does (Partition.fetchRecords: the
// largest epoch ≤ LastFetchedEpoch and its end offset), records a voter's fetch offset as
// flushed there, advances the high watermark over a majority in its own epoch, and holds
// fetches with nothing new for up to MaxWait. Any voter that does not lead answers
// NOT_LEADER_OR_FOLLOWER naming the leader it knows (refuseFetch), which is how observers find
// the leader. The fetching end is fetcher.go.

// parkedFetch is a fetch the leader holds until entries arrive, the high watermark moves or
// MaxWait passes (Kafka's delayed fetch).
type parkedFetch struct {
	id   uint64
	from int32
	req  protocol.QuorumFetchRequest
}

func (r *Raft) onFetch(now time.Duration, from int32, req *protocol.QuorumFetchRequest) {
	if req.LeaderEpoch != r.epoch {
		r.answerFetch(from, req)
		return
	}
	i := slices.Index(r.cfg.Voters, from)
	if i >= 0 {
		r.heard[i] = true
	}
	if _, diverging := r.log.divergence(req.FetchOffset, req.LastFetchedEpoch); diverging {
		r.answerFetch(from, req)
		return
	}
	r.updateCheckQuorum(now, i) // only a valid fetch counts (KafkaRaftClient.tryCompleteFetchRequest)
	if i >= 0 && i != r.self {
		// The fetcher flushed everything below FetchOffset before asking (see fetcher.send).
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

// answerFetch answers a fetch as things stand now: an error when the fetcher's epoch is not this
// leader's, a DivergingEpoch, or the entries from FetchOffset.
func (r *Raft) answerFetch(from int32, req *protocol.QuorumFetchRequest) {
	resp := &protocol.QuorumFetchResponse{
		CorrelationID:  req.CorrelationID,
		LeaderID:       r.cfg.ID,
		LeaderEpoch:    r.epoch,
		HighWatermark:  protocol.UnknownOffset,
		DivergingEpoch: protocol.NoDivergence,
	}
	switch {
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

// onFetchWait answers the held fetch whose MaxWait passed.
func (r *Raft) onFetchWait(id uint64) {
	for i := range r.parked {
		if r.parked[i].id == id {
			p := r.parked[i]
			r.parked = slices.Delete(r.parked, i, i+1)
			r.answerFetch(p.from, &p.req)
			return
		}
	}
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
// but only past an entry of this leader's epoch (Raft's commitment rule; KIP-595). It reports a
// change.
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
