package quorum

import "time"

// Config configures a voter or an observer. Zero durations take Kafka's defaults.
type Config struct {
	ID                 int32
	Voters             []int32       // controller node ids, sorted
	ElectionTimeout    time.Duration // controller.quorum.election.timeout.ms (1s): randomized in [T, 2T) from env.Rand()
	ElectionBackoffMax time.Duration // controller.quorum.election.backoff.max.ms (1s)
	FetchTimeout       time.Duration // controller.quorum.fetch.timeout.ms (2s)
	RequestTimeout     time.Duration // controller.quorum.request.timeout.ms (2s)
	FetchMaxWait       time.Duration // long-poll wait of a fetch at the leader (500ms)

	// DisablePreVote is protocol pre.vote=false: a voter whose timer runs out stands at once in
	// a new epoch, as before KIP-996, instead of asking for pre-votes first (ProspectiveState).
	DisablePreVote bool

	// VoteTwice is a planted bug (config.Bugs.VoteTwicePerEpoch, checker tests only): a voter
	// grants a second candidate's vote in an epoch it already voted in, which Kafka's
	// QuorumState.transitionToUnattachedVotedState refuses with an IllegalStateException.
	VoteTwice bool
}

// Kafka's defaults for the durations of Config.
const (
	DefaultElectionTimeout    = 1 * time.Second
	DefaultElectionBackoffMax = 1 * time.Second
	DefaultFetchTimeout       = 2 * time.Second
	DefaultRequestTimeout     = 2 * time.Second
	DefaultFetchMaxWait       = 500 * time.Millisecond
)

// Files on a node's disk.
const (
	StateFile = "quorum-state" // one ElectionState entry, rewritten on every change
	LogFile   = "metadata-log" // one protocol.MetadataEntry per entry, entry i at offset i
)

// Roles as Role reports them.
const (
	RoleLeader      = "leader"
	RoleProspective = "prospective"
	RoleCandidate   = "candidate"
	RoleFollower    = "follower"
	RoleUnattached  = "unattached"
	RoleResigned    = "resigned"
	RoleObserver    = "observer"
)

const (
	// maxFetchEntries bounds the entries of one fetch response.
	maxFetchEntries = 256
	// retryBackoff is the wait before fetching again after an error (retry.backoff.ms).
	retryBackoff = 100 * time.Millisecond
)

// ElectionState is the content of the "quorum-state" file (Kafka's quorum-state JSON file).
type ElectionState struct {
	Epoch    int32
	VotedFor int32 // protocol.NoLeader when no vote was cast in Epoch
	LeaderID int32 // protocol.NoLeader when no leader is known in Epoch
}

// StateChange is what a voter or observer reports through env.Observe whenever its role, epoch or
// known leader changes.
type StateChange struct {
	ID       int32
	Role     string
	Epoch    int32
	LeaderID int32
}

func (c Config) withDefaults() Config {
	if c.ElectionTimeout <= 0 {
		c.ElectionTimeout = DefaultElectionTimeout
	}
	if c.ElectionBackoffMax <= 0 {
		c.ElectionBackoffMax = DefaultElectionBackoffMax
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.FetchMaxWait <= 0 {
		c.FetchMaxWait = DefaultFetchMaxWait
	}
	return c
}

// fetchRetry is how long a fetcher waits for an answer before it sends the fetch again.
func (c *Config) fetchRetry() time.Duration {
	return min(c.RequestTimeout, 2*c.FetchMaxWait)
}
