package quorum

import (
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// fetcher is the fetching side of the metadata log's pull replication, shared by a follower
// (Raft) and an observer: one QuorumFetchRequest in flight from the LEO, sent again when it is
// not answered within fetchRetry, its answer matched by correlation id and sender and applied
// to the log (KafkaRaftClient.buildFetchRequest and handleFetchResponse). Everything below the
// LEO is flushed (the log flushes after each append and truncation), so the fetch offset the
// leader counts is durable here.
type fetcher struct {
	env         node.Env
	cfg         *Config
	log         *metaLog
	timer       deadline // fetch retry and backoff
	outstanding bool
	target      int32 // the node the fetch in flight went to
	corr        int64
	offset      int64 // FetchOffset of the fetch in flight
}

// newFetcher draws the first correlation id from env.Rand(): a random starting point, so that
// an answer meant for an earlier incarnation of this node is not taken for one of ours.
func newFetcher(env node.Env, cfg *Config, log *metaLog, observer bool) fetcher {
	return fetcher{
		env:   env,
		cfg:   cfg,
		log:   log,
		timer: deadline{kind: timerFetch, observer: observer},
		corr:  int64(env.Rand() >> 2),
	}
}

// send asks to for entries from the LEO, believing epoch current.
func (f *fetcher) send(now time.Duration, to, epoch int32) {
	f.corr++
	f.outstanding = true
	f.target = to
	f.offset = f.log.end()
	f.env.Send(to, &protocol.QuorumFetchRequest{
		CorrelationID:    f.corr,
		ReplicaID:        f.cfg.ID,
		LeaderEpoch:      epoch,
		FetchOffset:      f.offset,
		LastFetchedEpoch: f.log.lastEpoch(),
		MaxWait:          f.cfg.FetchMaxWait,
	})
	f.timer.set(f.env, now, f.cfg.fetchRetry())
}

// take reports whether resp from `from` answers the fetch in flight, which it then no longer is.
func (f *fetcher) take(from int32, resp *protocol.QuorumFetchResponse) bool {
	if !f.outstanding || resp.CorrelationID != f.corr || from != f.target {
		return false
	}
	f.outstanding = false
	return true
}

// apply applies a successful answer to the log (truncation on DivergingEpoch, or the entries)
// unless the log moved since the fetch left, and returns the high watermark given the old one.
func (f *fetcher) apply(resp *protocol.QuorumFetchResponse, hw int64) int64 {
	if f.log.end() == f.offset {
		if h, ok := f.log.applyFetch(resp, hw); ok {
			return h
		}
	}
	return hw
}

// backoff fetches again after d (an error answer) instead of at once.
func (f *fetcher) backoff(now, d time.Duration) { f.timer.set(f.env, now, d) }

// fired reports whether a fetch timer means it is time to fetch (again).
func (f *fetcher) fired(now time.Duration, gen uint64) bool { return f.timer.fired(f.env, now, gen) }

// stop forgets the fetch in flight and the retry.
func (f *fetcher) stop() {
	f.outstanding = false
	f.timer.stop()
}

// refuseFetch answers a fetch sent to a node that does not lead: NOT_LEADER_OR_FOLLOWER naming
// the leader it knows, which is how observers find the leader.
func refuseFetch(env node.Env, to int32, req *protocol.QuorumFetchRequest, leaderID, epoch int32) {
	env.Send(to, &protocol.QuorumFetchResponse{
		CorrelationID:  req.CorrelationID,
		Error:          protocol.NOT_LEADER_OR_FOLLOWER,
		LeaderID:       leaderID,
		LeaderEpoch:    epoch,
		HighWatermark:  protocol.UnknownOffset,
		DivergingEpoch: protocol.NoDivergence,
	})
}

// sendFetch asks the leader for entries from the LEO.
func (r *Raft) sendFetch(now time.Duration) { r.fetcher.send(now, r.leader, r.epoch) }

// onFetchResponse applies the leader's answer to the fetch in flight and fetches again; an
// error answer (the leader resigned or is confused) is retried after a backoff until the fetch
// timeout elects anew.
func (r *Raft) onFetchResponse(now time.Duration, from int32, resp *protocol.QuorumFetchResponse) {
	if !r.fetcher.take(from, resp) {
		return
	}
	if resp.Error != protocol.NONE || resp.LeaderEpoch != r.epoch {
		r.fetcher.backoff(now, retryBackoff)
		return
	}
	r.election.set(r.env, now, r.cfg.FetchTimeout) // heard from the leader
	r.fetchedLeader = true                         // FollowerState.resetFetchTimeoutForSuccessfulFetch
	r.hw = r.fetcher.apply(resp, r.hw)
	r.sendFetch(now)
}
