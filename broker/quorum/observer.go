package quorum

import (
	"slices"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// Observer is a broker following the metadata log without a vote. It finds the leader by
// fetching from the voters in turn (a voter that does not lead answers NOT_LEADER_OR_FOLLOWER
// naming the leader it knows), long-polls the leader, truncates on DivergingEpoch, and keeps
// the log in LogFile on its own disk, recovered on restart. Its fetches never count toward the
// high watermark.
type Observer struct {
	cfg     Config
	env     node.Env
	log     metaLog
	hw      int64
	leader  int32
	epoch   int32
	next    int // voter to ask next while no leader is known
	fetcher fetcher
}

// NewObserver recovers the log from disk and starts looking for the leader.
func NewObserver(cfg Config, env node.Env, disk node.Disk, now time.Duration) *Observer {
	cfg = cfg.withDefaults()
	voters := slices.Clone(cfg.Voters)
	slices.Sort(voters)
	cfg.Voters = slices.Compact(voters)
	o := &Observer{
		cfg:    cfg,
		env:    env,
		log:    recoverLog(disk),
		leader: protocol.NoLeader,
	}
	o.fetcher = newFetcher(env, &o.cfg, &o.log, true)
	if len(cfg.Voters) > 0 {
		// Start the search at a voter of our own choosing so brokers spread their first asks.
		o.next = int(env.Rand() % uint64(len(cfg.Voters)))
	}
	o.sendFetch(now)
	return o
}

// Leader is the quorum leader this observer follows, NoLeader while it looks for one.
func (o *Observer) Leader() (id int32, epoch int32) { return o.leader, o.epoch }

// HighWatermark: entries with Offset < HighWatermark are committed.
func (o *Observer) HighWatermark() int64 { return o.hw }

// EndOffset is the log end offset (LEO).
func (o *Observer) EndOffset() int64 { return o.log.end() }

// Entries returns entries [from, to) clipped to the log. The slice is a read-only view.
func (o *Observer) Entries(from, to int64) []protocol.MetadataEntry { return o.log.view(from, to) }

// Handle takes one input that belongs to the quorum and returns true; anything else returns
// false. Requests meant for voters are answered as a non-voter would.
func (o *Observer) Handle(now time.Duration, from int32, msg any) bool {
	switch m := msg.(type) {
	case observerTimer:
		if from == o.env.ID() && m.kind == timerFetch && o.fetcher.fired(now, m.gen) {
			if o.fetcher.outstanding {
				o.forgetLeader() // no answer: the target is down or cut off; try the next voter
			}
			o.sendFetch(now)
		}
	case *protocol.QuorumFetchResponse:
		o.onFetchResponse(now, from, m)
	case *protocol.QuorumFetchRequest:
		refuseFetch(o.env, from, m, o.leader, o.epoch)
	case *protocol.VoteRequest:
		o.env.Send(from, &protocol.VoteResponse{Error: protocol.INCONSISTENT_VOTER_SET, LeaderID: o.leader, LeaderEpoch: o.epoch})
	case *protocol.VoteResponse, *protocol.BeginQuorumEpochRequest, *protocol.BeginQuorumEpochResponse,
		*protocol.EndQuorumEpochRequest, *protocol.EndQuorumEpochResponse:
		// Not addressed to an observer: ignored.
	default:
		return false
	}
	return true
}

func (o *Observer) observe() {
	o.env.Observe(StateChange{ID: o.cfg.ID, Role: RoleObserver, Epoch: o.epoch, LeaderID: o.leader})
}

func (o *Observer) forgetLeader() {
	if len(o.cfg.Voters) > 0 {
		if i := slices.Index(o.cfg.Voters, o.fetcher.target); i >= 0 {
			o.next = (i + 1) % len(o.cfg.Voters)
		}
	}
	if o.leader != protocol.NoLeader {
		o.leader = protocol.NoLeader
		o.observe()
	}
}

func (o *Observer) follow(leaderID, epoch int32) {
	if leaderID != o.leader || epoch != o.epoch {
		o.leader, o.epoch = leaderID, epoch
		o.observe()
	}
}

func (o *Observer) sendFetch(now time.Duration) {
	if len(o.cfg.Voters) == 0 {
		return
	}
	to := o.leader
	if to == protocol.NoLeader {
		to = o.cfg.Voters[o.next%len(o.cfg.Voters)]
	}
	o.fetcher.send(now, to, o.epoch)
}

func (o *Observer) onFetchResponse(now time.Duration, from int32, resp *protocol.QuorumFetchResponse) {
	if !o.fetcher.take(from, resp) {
		return
	}
	if resp.Error == protocol.NONE {
		if resp.LeaderEpoch < o.epoch || resp.LeaderID != from {
			o.forgetLeader()
			o.fetcher.backoff(now, retryBackoff)
			return
		}
		o.follow(from, resp.LeaderEpoch)
		o.hw = o.fetcher.apply(resp, o.hw)
		o.sendFetch(now)
		return
	}
	// Only a (leader, epoch) pair counts: an epoch without a leader may belong to an election
	// that fails, and following it would leave the observer stranded.
	if resp.LeaderID != protocol.NoLeader && resp.LeaderID != from && resp.LeaderEpoch >= o.epoch {
		o.follow(resp.LeaderID, resp.LeaderEpoch)
		o.sendFetch(now)
		return
	}
	if resp.Error == protocol.FENCED_LEADER_EPOCH && resp.LeaderID == from && resp.LeaderEpoch > o.epoch {
		o.follow(from, resp.LeaderEpoch)
		o.sendFetch(now)
		return
	}
	o.forgetLeader()
	o.fetcher.backoff(now, retryBackoff)
}
