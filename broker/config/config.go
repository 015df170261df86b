// Package config holds every knob of the simulated cluster under Kafka's own names, with Kafka
// 4.x's defaults, and turns user text into typed values with errors that name the key.
//
// Durations given to *.ms keys accept Kafka's plain milliseconds ("30000") or a unit ("30s").
package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"kafkasim/broker/record"
)

// Truncation rules (protocol truncation=…).
const (
	TruncateLeaderEpoch   = "leader-epoch"   // KIP-101/279/320: truncate by diverging epoch (default)
	TruncateHighWatermark = "high-watermark" // before KIP-101: truncate to the local HW on becoming follower
)

// ISR expansion rules (protocol isr.expansion=…): what a follower outside the ISR must have
// fetched before the leader adds it (Partition.isFollowerInSync).
const (
	ExpandAtLeaderEpoch   = "leader-epoch"   // KAFKA-7128 (Kafka 2.1): the HW and the start of the leader's epoch (default)
	ExpandAtHighWatermark = "high-watermark" // before KAFKA-7128: the leader's HW only, which may lag committed data
)

// Broker is the broker- and controller-side configuration (server.properties).
type Broker struct {
	ReplicaLagTimeMax                      time.Duration // replica.lag.time.max.ms
	ReplicaFetchWaitMax                    time.Duration // replica.fetch.wait.max.ms
	ReplicaFetchBackoff                    time.Duration // replica.fetch.backoff.ms
	ReplicaFetchMaxBytes                   int           // replica.fetch.max.bytes (0: 1 MiB; throttle.go)
	ReplicaSocketTimeout                   time.Duration // replica.socket.timeout.ms
	ReplicaHighWatermarkCheckpointInterval time.Duration // replica.high.watermark.checkpoint.interval.ms
	BrokerSessionTimeout                   time.Duration // broker.session.timeout.ms
	BrokerHeartbeatInterval                time.Duration // broker.heartbeat.interval.ms
	ControllerQuorumElectionTimeout        time.Duration // controller.quorum.election.timeout.ms
	ControllerQuorumElectionBackoffMax     time.Duration // controller.quorum.election.backoff.max.ms
	ControllerQuorumFetchTimeout           time.Duration // controller.quorum.fetch.timeout.ms
	ControllerQuorumRequestTimeout         time.Duration // controller.quorum.request.timeout.ms
	MetadataMaxIdleInterval                time.Duration // metadata.max.idle.interval.ms (NoOp records)
	LogRetentionCheckInterval              time.Duration // log.retention.check.interval.ms
	LeaderImbalanceCheckInterval           time.Duration // leader.imbalance.check.interval.seconds
	AutoLeaderRebalanceEnable              bool          // auto.leader.rebalance.enable
	ControlledShutdownEnable               bool          // controlled.shutdown.enable
	ControllerSocketTimeout                time.Duration // controller.socket.timeout.ms (ZooKeeper mode: the controller's channel to brokers)
	NumPartitions                          int           // num.partitions
	DefaultReplicationFactor               int           // default.replication.factor

	// The group coordinator (GroupCoordinatorConfig).
	OffsetsTopicNumPartitions     int           // offsets.topic.num.partitions
	OffsetsTopicReplicationFactor int           // offsets.topic.replication.factor
	OffsetsCommitTimeout          time.Duration // offsets.commit.timeout.ms
	GroupMinSessionTimeout        time.Duration // group.min.session.timeout.ms
	GroupMaxSessionTimeout        time.Duration // group.max.session.timeout.ms
	GroupInitialRebalanceDelay    time.Duration // group.initial.rebalance.delay.ms
	OffsetsRetention              time.Duration // offsets.retention.minutes
	OffsetsRetentionCheckInterval time.Duration // offsets.retention.check.interval.ms
	OffsetsTopicSegmentBytes      int64         // offsets.topic.segment.bytes
	GroupConsumerMigrationPolicy  string        // group.consumer.migration.policy (KIP-848's online upgrade and downgrade)

	// The transaction coordinator (TransactionStateManagerConfig, TransactionLogConfig).
	TransactionStateLogNumPartitions     int           // transaction.state.log.num.partitions
	TransactionStateLogReplicationFactor int           // transaction.state.log.replication.factor
	TransactionStateLogMinISR            int           // transaction.state.log.min.isr
	TransactionMaxTimeout                time.Duration // transaction.max.timeout.ms
	TransactionAbortTimedOutInterval     time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms
	TransactionalIDExpiration            time.Duration // transactional.id.expiration.ms
	TransactionRemoveExpiredInterval     time.Duration // transaction.remove.expired.transaction.cleanup.interval.ms
	TransactionStateLogSegmentBytes      int64         // transaction.state.log.segment.bytes

	// Protocol switches that bring old rules back (protocol KEY=VALUE).
	Truncation             string // truncation: leader-epoch | high-watermark
	IsrExpansion           string // isr.expansion: leader-epoch | high-watermark (KAFKA-7128)
	StrictMinISR           bool   // strict.min.isr: HW advances only with |ISR| ≥ min.insync.replicas (KAFKA-15583, Kafka 3.7)
	EligibleLeaderReplicas bool   // eligible.leader.replicas: KIP-966 ELR
	PreVote                bool   // pre.vote: a KRaft voter asks for pre-votes before bumping the epoch (KIP-996, Kafka 4.0)

	// Topic holds the cluster-wide topic defaults (log.*, min.insync.replicas, …).
	Topic Topic

	// Bugs plants known-wrong behaviour. Each is switched on only by a checker test, to show
	// that the invariant it breaks is caught on a real run; no scenario or config key reaches
	// them.
	Bugs Bugs
}

// Bugs are planted bugs, each breaking one invariant the checker watches.
type Bugs struct {
	HWPastLEO              bool // the leader's HW runs one past its LEO (hw-le-leo)
	LogStartPastHW         bool // retention deletes segments above the HW (logstart-le-lso-le-hw)
	HWRegress              bool // the leader's HW counts every replica and may go down (leader-hw-monotonic)
	LeaderOutsideISR       bool // the controller leaves a newly elected leader out of the ISR (leader-in-isr)
	StaleLeaderEpoch       bool // the controller keeps the leader epoch on a leader change (one-leader-per-epoch)
	LeaderEpochRegress     bool // the controller lowers the leader epoch on a leader change (leader-epochs-grow)
	IgnoreOffsetCommits    bool // the group coordinator acknowledges offset commits without storing them (group-duplicate)
	ReassignEarly          bool // the controller completes a reassignment before its target replicas join the ISR (reassignment-keeps-min-isr)
	CleanerDropsLatest     bool // the log cleaner also removes batches holding a key's latest record (compaction-lost-key)
	CleanerDropsTombstones bool // the log cleaner removes tombstones without keeping them delete.retention.ms (compaction-lost-key)
	DropTxnMarkers         bool // a leader answers an ABORT WriteTxnMarkers without writing the marker (hanging-transaction)
	AssignBeforeRevoke     bool // a KIP-848 coordinator gives a partition before its owner revoked it (one-owner-per-generation)
	VoteTwicePerEpoch      bool // a controller votes for two candidates in one epoch (one-quorum-leader-per-epoch)
	// ExposePendingTxnOffsets: the group coordinator commits a TxnOffsetCommit's offsets at
	// once, before the transaction's marker, and keeps them if it aborts (eos-loss).
	ExposePendingTxnOffsets bool
	// ReadCommittedToHW: a leader serves read_committed fetches up to the high watermark, as
	// read_uncommitted, open transactions included (G1b, G1a).
	ReadCommittedToHW bool
}

// Topic is a topic's configuration.
type Topic struct {
	// The flush policy comes first: a broker's periodic flush check reads it for every
	// partition, and it then shares the partition's first cache line (broker.Partition).
	FlushMessages               int64                   // flush.messages
	FlushInterval               time.Duration           // flush.ms
	MinInsyncReplicas           int                     // min.insync.replicas
	UncleanLeaderElectionEnable bool                    // unclean.leader.election.enable
	Retention                   time.Duration           // retention.ms (-1: forever)
	RetentionBytes              int64                   // retention.bytes (-1: no limit)
	SegmentBytes                int64                   // segment.bytes, or internal.segment.bytes when set
	InternalSegmentBytes        int64                   // internal.segment.bytes (0: unset; segment.go)
	SegmentRoll                 time.Duration           // segment.ms
	Compression                 record.TopicCompression // compression.type (producer: keep the batch's codec)
	Compact                     bool                    // cleanup.policy contains compact
	Delete                      bool                    // cleanup.policy contains delete (the default)
	MinCleanableDirtyRatio      float64                 // min.cleanable.dirty.ratio
	MinCompactionLag            time.Duration           // min.compaction.lag.ms
	DeleteRetention             time.Duration           // delete.retention.ms: how long the cleaner keeps a tombstone

	// Throttle: the *.replication.throttled.* keys (throttle.go).
	Throttle ReplicationThrottle
}

// Producer is a producer client's configuration.
type Producer struct {
	Acks              int16         // acks: 0, 1, all (-1)
	EnableIdempotence bool          // enable.idempotence
	IdempotenceSet    bool          // whether enable.idempotence was given explicitly
	Retries           int           // retries
	RequestTimeout    time.Duration // request.timeout.ms
	DeliveryTimeout   time.Duration // delivery.timeout.ms
	MaxInFlight       int           // max.in.flight.requests.per.connection
	Linger            time.Duration // linger.ms
	BatchSize         int           // batch.size (bytes)
	RetryBackoff      time.Duration // retry.backoff.ms
	RetryBackoffMax   time.Duration // retry.backoff.max.ms (KIP-580)
	MetadataMaxAge    time.Duration // metadata.max.age.ms
	ReconnectBackoff  time.Duration // reconnect.backoff.ms
	ReconnectMax      time.Duration // reconnect.backoff.max.ms
	Partitioner       string        // default | round-robin | key-hash | partition:N | map:K=P,… (ours; Kafka's is a class name)
	SendMode          string        // send.mode (ours): async (send with a callback) | sync (send(record).get())
	Compression       record.Codec  // compression.type
	ValueBytes        int           // value.bytes (ours): each value padded to this many bytes of text

	// Transactions (KIP-98). TransactionRecords and TransactionAbort are the simulator's
	// workload: records per transaction, and the probability of aborting one.
	TransactionalID    string        // transactional.id ("" = not transactional)
	TransactionTimeout time.Duration // transaction.timeout.ms
	TransactionRecords int           // transaction.records (ours)
	TransactionAbort   float64       // transaction.abort (ours)
	// TransactionVersion is the transaction.version feature the producer uses (KIP-890): 2
	// (Kafka 4.0's default) or 1 (before KIP-890).
	TransactionVersion int

	// ReportsAppendedAsFailed plants a client bug for the checker's tests (no config key
	// reaches it): every error is reported as a definite failure, even one after which the
	// records may be in the log (KAFKA-13574's ambiguity, resolved the wrong way).
	ReportsAppendedAsFailed bool
}

// Consumer is a consumer client's configuration.
type Consumer struct {
	FetchMaxWait     time.Duration // fetch.max.wait.ms
	FetchMinBytes    int           // fetch.min.bytes
	MaxPollRecords   int           // max.poll.records
	AutoOffsetReset  string        // auto.offset.reset: earliest | latest | none
	IsolationLevel   string        // isolation.level: read_uncommitted | read_committed
	RequestTimeout   time.Duration // request.timeout.ms
	RetryBackoff     time.Duration // retry.backoff.ms
	RetryBackoffMax  time.Duration // retry.backoff.max.ms (KIP-580)
	MetadataMaxAge   time.Duration // metadata.max.age.ms
	ReconnectBackoff time.Duration // reconnect.backoff.ms
	ReconnectMax     time.Duration // reconnect.backoff.max.ms

	// Consumer groups (the classic protocol).
	Group              string        // group.id ("" = no group: every partition assigned)
	GroupProtocol      string        // group.protocol: classic | consumer (KIP-848)
	RemoteAssignor     string        // group.remote.assignor: uniform | range ("" = the broker's default; consumer protocol)
	protocolKeys       []string      // the keys set that belong to one group protocol (Finish)
	AssignmentStrategy string        // partition.assignment.strategy: range | roundrobin | cooperative-sticky
	EnableAutoCommit   bool          // enable.auto.commit
	AutoCommitInterval time.Duration // auto.commit.interval.ms
	SessionTimeout     time.Duration // session.timeout.ms
	HeartbeatInterval  time.Duration // heartbeat.interval.ms
	MaxPollInterval    time.Duration // max.poll.interval.ms (the JoinGroup rebalance timeout)
	GroupInstanceID    string        // group.instance.id (KIP-345 static membership)
	CommitMode         string        // commit: after-processing | before-processing (the application's, not Kafka's)
	CommitModeSet      bool          // commit= was given: the application commits every poll
	Processing         time.Duration // processing: how long handling one poll takes (the application's)

	// Bugs plants known-wrong client behaviour, switched on only by checker tests.
	Bugs ConsumerBugs
}

// ConsumerBugs are planted consumer bugs, each breaking one group rule the checker watches.
type ConsumerBugs struct {
	AssignEverything bool // the group leader gives every member every partition (one-owner-per-generation)
	CommitAhead      bool // commits run 10 offsets past the position (group-skip)
}

// Forever stands for Kafka's Long.MAX_VALUE durations.
const Forever = time.Duration(math.MaxInt64)

// DefaultBroker is Kafka 4.x's broker configuration.
func DefaultBroker() Broker {
	return Broker{
		ReplicaLagTimeMax:                      30 * time.Second,
		ReplicaFetchWaitMax:                    500 * time.Millisecond,
		ReplicaFetchBackoff:                    1 * time.Second,
		ReplicaSocketTimeout:                   30 * time.Second,
		ReplicaHighWatermarkCheckpointInterval: 5 * time.Second,
		BrokerSessionTimeout:                   9 * time.Second,
		BrokerHeartbeatInterval:                2 * time.Second,
		ControllerQuorumElectionTimeout:        1 * time.Second,
		ControllerQuorumElectionBackoffMax:     1 * time.Second,
		ControllerQuorumFetchTimeout:           2 * time.Second,
		ControllerQuorumRequestTimeout:         2 * time.Second,
		MetadataMaxIdleInterval:                500 * time.Millisecond,
		LogRetentionCheckInterval:              5 * time.Minute,
		LeaderImbalanceCheckInterval:           300 * time.Second,
		AutoLeaderRebalanceEnable:              true,
		ControlledShutdownEnable:               true,
		ControllerSocketTimeout:                30 * time.Second,
		NumPartitions:                          1,
		DefaultReplicationFactor:               1,
		OffsetsTopicNumPartitions:              50,
		OffsetsTopicReplicationFactor:          3,
		OffsetsCommitTimeout:                   5 * time.Second,
		GroupMinSessionTimeout:                 6 * time.Second,
		GroupMaxSessionTimeout:                 30 * time.Minute,
		GroupInitialRebalanceDelay:             3 * time.Second,
		GroupConsumerMigrationPolicy:           "bidirectional",
		TransactionStateLogNumPartitions:       50,
		TransactionStateLogReplicationFactor:   3,
		TransactionStateLogMinISR:              2,
		TransactionMaxTimeout:                  15 * time.Minute,
		TransactionAbortTimedOutInterval:       10 * time.Second,
		TransactionalIDExpiration:              7 * 24 * time.Hour,
		TransactionRemoveExpiredInterval:       time.Hour,
		TransactionStateLogSegmentBytes:        100 << 20,
		OffsetsRetention:                       7 * 24 * time.Hour,
		OffsetsRetentionCheckInterval:          10 * time.Minute,
		OffsetsTopicSegmentBytes:               100 << 20,
		Truncation:                             TruncateLeaderEpoch,
		IsrExpansion:                           ExpandAtLeaderEpoch,
		StrictMinISR:                           true,
		EligibleLeaderReplicas:                 true,
		PreVote:                                true,
		Topic:                                  DefaultTopic(),
	}
}

// DefaultTopic is Kafka 4.x's topic configuration.
func DefaultTopic() Topic {
	return Topic{
		MinInsyncReplicas:           1,
		UncleanLeaderElectionEnable: false,
		Retention:                   7 * 24 * time.Hour,
		RetentionBytes:              -1,
		SegmentBytes:                1 << 30,
		SegmentRoll:                 7 * 24 * time.Hour,
		FlushMessages:               math.MaxInt64,
		FlushInterval:               Forever,
		Compression:                 record.TopicCompression{Producer: true},
		Delete:                      true,
		MinCleanableDirtyRatio:      0.5,
		DeleteRetention:             24 * time.Hour,
	}
}

// DefaultProducer is the Java producer's configuration in Kafka 4.x.
func DefaultProducer() Producer {
	return Producer{
		Acks:               -1,
		EnableIdempotence:  true,
		Retries:            math.MaxInt32,
		TransactionTimeout: time.Minute,
		TransactionRecords: 10,
		TransactionVersion: 2,
		RequestTimeout:     30 * time.Second,
		DeliveryTimeout:    120 * time.Second,
		MaxInFlight:        5,
		Linger:             5 * time.Millisecond,
		BatchSize:          16384,
		RetryBackoff:       100 * time.Millisecond,
		RetryBackoffMax:    time.Second,
		MetadataMaxAge:     5 * time.Minute,
		ReconnectBackoff:   50 * time.Millisecond,
		ReconnectMax:       time.Second,
		Partitioner:        "default",
	}
}

// DefaultConsumer is the Java consumer's configuration in Kafka 4.x.
func DefaultConsumer() Consumer {
	return Consumer{
		FetchMaxWait:     500 * time.Millisecond,
		FetchMinBytes:    1,
		MaxPollRecords:   500,
		AutoOffsetReset:  "latest",
		IsolationLevel:   "read_uncommitted",
		RequestTimeout:   30 * time.Second,
		RetryBackoff:     100 * time.Millisecond,
		RetryBackoffMax:  time.Second,
		MetadataMaxAge:   5 * time.Minute,
		ReconnectBackoff: 50 * time.Millisecond,
		ReconnectMax:     time.Second,

		GroupProtocol:      "classic",
		AssignmentStrategy: "range",
		EnableAutoCommit:   true,
		AutoCommitInterval: 5 * time.Second,
		SessionTimeout:     45 * time.Second,
		HeartbeatInterval:  3 * time.Second,
		MaxPollInterval:    5 * time.Minute,
		CommitMode:         "after-processing",
	}
}

// Error is a configuration error naming the key.
type Error struct {
	Key     string
	Problem string
}

func (e *Error) Error() string { return e.Key + ": " + e.Problem }

func errf(key, format string, args ...any) error {
	return &Error{Key: key, Problem: fmt.Sprintf(format, args...)}
}

// ParseDuration reads a duration: a unit ("250ms", "5s", "2m", "1h", "7d") or, for keys in
// milliseconds, a plain number of milliseconds. "-1" means forever where Kafka allows it.
func ParseDuration(key, v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n == -1 || n == math.MaxInt64 {
			return Forever, nil
		}
		if n < 0 {
			return 0, errf(key, "%q is negative", v)
		}
		unit := time.Millisecond
		if strings.HasSuffix(key, ".seconds") {
			unit = time.Second
		} else if strings.HasSuffix(key, ".minutes") {
			unit = time.Minute
		}
		return time.Duration(n) * unit, nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.ParseInt(d, 10, 64); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, errf(key, "%q is not a duration (use 250ms, 5s, 2m or milliseconds)", v)
	}
	return d, nil
}

// ParseBool reads true|false.
func ParseBool(key, v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errf(key, "%q is not true or false", v)
}

// ParseInt reads an integer no smaller than min.
func ParseInt(key, v string, min int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errf(key, "%q is not an integer", v)
	}
	if n < min {
		return 0, errf(key, "%d is below the minimum %d", n, min)
	}
	return n, nil
}

// ParseSize reads a byte count: an integer, optionally followed by KB, MB or GB (powers of
// 1024, as Kafka's docs count them).
func ParseSize(key, v string, min int64) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}} {
		if strings.HasSuffix(v, u.suffix) {
			v, mult = strings.TrimSuffix(v, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errf(key, "%q is not an integer", v)
	}
	n *= mult
	if n < min {
		return 0, errf(key, "%d is below the minimum %d", n, min)
	}
	return n, nil
}

func oneOf(key, v string, allowed ...string) (string, error) {
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", errf(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

type setter[T any] func(c *T, key, v string) error

func dur[T any](f func(*T) *time.Duration) setter[T] {
	return func(c *T, key, v string) error {
		d, err := ParseDuration(key, v)
		if err == nil {
			*f(c) = d
		}
		return err
	}
}

func boolean[T any](f func(*T) *bool) setter[T] {
	return func(c *T, key, v string) error {
		b, err := ParseBool(key, v)
		if err == nil {
			*f(c) = b
		}
		return err
	}
}

func integer[T any](min int64, f func(*T) *int) setter[T] {
	return func(c *T, key, v string) error {
		n, err := ParseInt(key, v, min)
		if err == nil {
			*f(c) = int(n)
		}
		return err
	}
}

func bytesAtLeast[T any](min int64, f func(*T) *int64) setter[T] {
	return func(c *T, key, v string) error {
		n, err := ParseSize(key, v, min)
		if err == nil {
			*f(c) = n
		}
		return err
	}
}

func bytes64[T any](f func(*T) *int64) setter[T] {
	return func(c *T, key, v string) error {
		n, err := ParseSize(key, v, -1)
		if err == nil {
			*f(c) = n
		}
		return err
	}
}

var topicKeys = map[string]setter[Topic]{
	"min.insync.replicas":            integer(1, func(t *Topic) *int { return &t.MinInsyncReplicas }),
	"unclean.leader.election.enable": boolean(func(t *Topic) *bool { return &t.UncleanLeaderElectionEnable }),
	"retention.ms":                   dur(func(t *Topic) *time.Duration { return &t.Retention }),
	"retention.bytes":                bytes64(func(t *Topic) *int64 { return &t.RetentionBytes }),
	"cleanup.policy": func(t *Topic, key, v string) error {
		s, err := oneOf(key, v, "delete", "compact", "compact,delete", "delete,compact")
		if err == nil {
			t.Compact, t.Delete = strings.Contains(s, "compact"), strings.Contains(s, "delete")
		}
		return err
	},
	"min.cleanable.dirty.ratio": func(t *Topic, key, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
			return errf(key, "%q is not a ratio between 0 and 1", v)
		}
		t.MinCleanableDirtyRatio = f
		return nil
	},
	"min.compaction.lag.ms": dur(func(t *Topic) *time.Duration { return &t.MinCompactionLag }),
	"delete.retention.ms":   dur(func(t *Topic) *time.Duration { return &t.DeleteRetention }),
	"compression.type": func(t *Topic, key, v string) error {
		c, err := record.ParseTopicCompression(v) // its error names the key
		if err != nil {
			return err
		}
		t.Compression = c
		return nil
	},
	// segment.bytes and internal.segment.bytes: segment.go
	"segment.ms": dur(func(t *Topic) *time.Duration { return &t.SegmentRoll }),
	"flush.messages": func(t *Topic, key, v string) error {
		n, err := ParseInt(key, v, 1)
		if err == nil {
			t.FlushMessages = n
		}
		return err
	},
	"flush.ms": dur(func(t *Topic) *time.Duration { return &t.FlushInterval }),
}

// brokerTopicAliases maps the broker-level names of topic defaults to the topic keys.
var brokerTopicAliases = map[string]string{
	"log.retention.ms":            "retention.ms",
	"log.retention.bytes":         "retention.bytes",
	"log.segment.bytes":           "segment.bytes",
	"log.roll.ms":                 "segment.ms",
	"log.flush.interval.messages": "flush.messages",
	"log.flush.interval.ms":       "flush.ms",
}

var brokerKeys = map[string]setter[Broker]{
	"replica.lag.time.max.ms":                                     dur(func(b *Broker) *time.Duration { return &b.ReplicaLagTimeMax }),
	"replica.fetch.wait.max.ms":                                   dur(func(b *Broker) *time.Duration { return &b.ReplicaFetchWaitMax }),
	"replica.fetch.backoff.ms":                                    dur(func(b *Broker) *time.Duration { return &b.ReplicaFetchBackoff }),
	"replica.socket.timeout.ms":                                   dur(func(b *Broker) *time.Duration { return &b.ReplicaSocketTimeout }),
	"replica.high.watermark.checkpoint.interval.ms":               dur(func(b *Broker) *time.Duration { return &b.ReplicaHighWatermarkCheckpointInterval }),
	"broker.session.timeout.ms":                                   dur(func(b *Broker) *time.Duration { return &b.BrokerSessionTimeout }),
	"broker.heartbeat.interval.ms":                                dur(func(b *Broker) *time.Duration { return &b.BrokerHeartbeatInterval }),
	"controller.quorum.election.timeout.ms":                       dur(func(b *Broker) *time.Duration { return &b.ControllerQuorumElectionTimeout }),
	"controller.quorum.election.backoff.max.ms":                   dur(func(b *Broker) *time.Duration { return &b.ControllerQuorumElectionBackoffMax }),
	"controller.quorum.fetch.timeout.ms":                          dur(func(b *Broker) *time.Duration { return &b.ControllerQuorumFetchTimeout }),
	"controller.quorum.request.timeout.ms":                        dur(func(b *Broker) *time.Duration { return &b.ControllerQuorumRequestTimeout }),
	"metadata.max.idle.interval.ms":                               dur(func(b *Broker) *time.Duration { return &b.MetadataMaxIdleInterval }),
	"log.retention.check.interval.ms":                             dur(func(b *Broker) *time.Duration { return &b.LogRetentionCheckInterval }),
	"leader.imbalance.check.interval.seconds":                     dur(func(b *Broker) *time.Duration { return &b.LeaderImbalanceCheckInterval }),
	"auto.leader.rebalance.enable":                                boolean(func(b *Broker) *bool { return &b.AutoLeaderRebalanceEnable }),
	"controlled.shutdown.enable":                                  boolean(func(b *Broker) *bool { return &b.ControlledShutdownEnable }),
	"controller.socket.timeout.ms":                                dur(func(b *Broker) *time.Duration { return &b.ControllerSocketTimeout }),
	"num.partitions":                                              integer(1, func(b *Broker) *int { return &b.NumPartitions }),
	"default.replication.factor":                                  integer(1, func(b *Broker) *int { return &b.DefaultReplicationFactor }),
	"offsets.topic.num.partitions":                                integer(1, func(b *Broker) *int { return &b.OffsetsTopicNumPartitions }),
	"offsets.topic.replication.factor":                            integer(1, func(b *Broker) *int { return &b.OffsetsTopicReplicationFactor }),
	"transaction.state.log.num.partitions":                        integer(1, func(b *Broker) *int { return &b.TransactionStateLogNumPartitions }),
	"transaction.state.log.replication.factor":                    integer(1, func(b *Broker) *int { return &b.TransactionStateLogReplicationFactor }),
	"transaction.state.log.min.isr":                               integer(1, func(b *Broker) *int { return &b.TransactionStateLogMinISR }),
	"transaction.max.timeout.ms":                                  dur(func(b *Broker) *time.Duration { return &b.TransactionMaxTimeout }),
	"transaction.abort.timed.out.transaction.cleanup.interval.ms": dur(func(b *Broker) *time.Duration { return &b.TransactionAbortTimedOutInterval }),
	"offsets.commit.timeout.ms":                                   dur(func(b *Broker) *time.Duration { return &b.OffsetsCommitTimeout }),
	"group.min.session.timeout.ms":                                dur(func(b *Broker) *time.Duration { return &b.GroupMinSessionTimeout }),
	"group.max.session.timeout.ms":                                dur(func(b *Broker) *time.Duration { return &b.GroupMaxSessionTimeout }),
	"group.initial.rebalance.delay.ms":                            dur(func(b *Broker) *time.Duration { return &b.GroupInitialRebalanceDelay }),
	"offsets.retention.minutes":                                   dur(func(b *Broker) *time.Duration { return &b.OffsetsRetention }),
	"offsets.retention.check.interval.ms":                         dur(func(b *Broker) *time.Duration { return &b.OffsetsRetentionCheckInterval }),
	"offsets.topic.segment.bytes":                                 bytesAtLeast(1, func(b *Broker) *int64 { return &b.OffsetsTopicSegmentBytes }),
	"transactional.id.expiration.ms":                              dur(func(b *Broker) *time.Duration { return &b.TransactionalIDExpiration }),
	"transaction.remove.expired.transaction.cleanup.interval.ms":  dur(func(b *Broker) *time.Duration { return &b.TransactionRemoveExpiredInterval }),
	"transaction.state.log.segment.bytes":                         bytesAtLeast(1, func(b *Broker) *int64 { return &b.TransactionStateLogSegmentBytes }),
	"group.consumer.migration.policy": func(b *Broker, key, v string) error {
		s, err := oneOf(key, v, "bidirectional", "upgrade", "downgrade", "disabled")
		if err == nil {
			b.GroupConsumerMigrationPolicy = s
		}
		return err
	},
}

var protocolKeys = map[string]setter[Broker]{
	"truncation": func(b *Broker, key, v string) error {
		s, err := oneOf(key, v, TruncateLeaderEpoch, TruncateHighWatermark)
		b.Truncation = s
		if err != nil {
			b.Truncation = TruncateLeaderEpoch
		}
		return err
	},
	"isr.expansion": func(b *Broker, key, v string) error {
		s, err := oneOf(key, v, ExpandAtLeaderEpoch, ExpandAtHighWatermark)
		b.IsrExpansion = s
		if err != nil {
			b.IsrExpansion = ExpandAtLeaderEpoch
		}
		return err
	},
	"strict.min.isr":           boolean(func(b *Broker) *bool { return &b.StrictMinISR }),
	"eligible.leader.replicas": boolean(func(b *Broker) *bool { return &b.EligibleLeaderReplicas }),
	"pre.vote":                 boolean(func(b *Broker) *bool { return &b.PreVote }),
}

// Set sets a broker key, or a topic default by its topic or broker-level name.
func (b *Broker) Set(key, value string) error {
	if f, ok := brokerKeys[key]; ok {
		return f(b, key, value)
	}
	if alias, ok := brokerTopicAliases[key]; ok {
		return b.Topic.set(alias, key, value)
	}
	if _, ok := topicKeys[key]; ok {
		return b.Topic.Set(key, value)
	}
	return errf(key, "unknown config key")
}

// SetProtocol sets a protocol switch.
func (b *Broker) SetProtocol(key, value string) error {
	if f, ok := protocolKeys[key]; ok {
		return f(b, key, value)
	}
	return errf(key, "unknown protocol switch (known: %s)", strings.Join(sortedKeys(protocolKeys), ", "))
}

// Validate checks the broker configuration on its own.
func (b *Broker) Validate() error {
	if b.BrokerHeartbeatInterval >= b.BrokerSessionTimeout {
		return errf("broker.heartbeat.interval.ms", "%v must be below broker.session.timeout.ms (%v)", b.BrokerHeartbeatInterval, b.BrokerSessionTimeout)
	}
	if b.ReplicaFetchWaitMax >= b.ReplicaLagTimeMax {
		return errf("replica.fetch.wait.max.ms", "%v must be below replica.lag.time.max.ms (%v)", b.ReplicaFetchWaitMax, b.ReplicaLagTimeMax)
	}
	if b.GroupMinSessionTimeout > b.GroupMaxSessionTimeout {
		return errf("group.min.session.timeout.ms", "%v must not be above group.max.session.timeout.ms (%v)", b.GroupMinSessionTimeout, b.GroupMaxSessionTimeout)
	}
	if b.ControllerSocketTimeout < time.Millisecond {
		return errf("controller.socket.timeout.ms", "%v must be at least 1ms", b.ControllerSocketTimeout)
	}
	if b.ReplicaFetchWaitMax >= b.ReplicaSocketTimeout {
		return errf("replica.fetch.wait.max.ms", "%v must be below replica.socket.timeout.ms (%v)", b.ReplicaFetchWaitMax, b.ReplicaSocketTimeout)
	}
	return nil
}

// Set sets a topic key.
func (t *Topic) Set(key, value string) error { return t.set(key, key, value) }

func (t *Topic) set(key, shown, value string) error {
	f, ok := topicKeys[key]
	if !ok {
		return errf(shown, "unknown topic config key")
	}
	return f(t, shown, value)
}

// IsTopicKey reports whether key is a topic config.
func IsTopicKey(key string) bool { _, ok := topicKeys[key]; return ok }

// TopicFrom builds a topic's configuration from the cluster defaults and the topic's own keys.
func TopicFrom(defaults Topic, keys map[string]string) (Topic, error) {
	t := defaults
	for _, k := range sortedKeys(keys) {
		if err := t.Set(k, keys[k]); err != nil {
			return defaults, err
		}
	}
	return t, nil
}

var producerKeys = map[string]setter[Producer]{
	"acks": func(p *Producer, key, v string) error {
		switch v {
		case "0":
			p.Acks = 0
		case "1":
			p.Acks = 1
		case "all", "-1":
			p.Acks = -1
		default:
			return errf(key, "%q is not 0, 1 or all", v)
		}
		return nil
	},
	"enable.idempotence": func(p *Producer, key, v string) error {
		b, err := ParseBool(key, v)
		if err == nil {
			p.EnableIdempotence, p.IdempotenceSet = b, true
		}
		return err
	},
	"retries":                               integer(0, func(p *Producer) *int { return &p.Retries }),
	"request.timeout.ms":                    dur(func(p *Producer) *time.Duration { return &p.RequestTimeout }),
	"delivery.timeout.ms":                   dur(func(p *Producer) *time.Duration { return &p.DeliveryTimeout }),
	"max.in.flight.requests.per.connection": integer(1, func(p *Producer) *int { return &p.MaxInFlight }),
	"linger.ms":                             dur(func(p *Producer) *time.Duration { return &p.Linger }),
	"batch.size": func(p *Producer, key, v string) error {
		n, err := ParseSize(key, v, 1)
		if err == nil {
			p.BatchSize = int(min(n, math.MaxInt32))
		}
		return err
	},
	"compression.type": func(p *Producer, key, v string) error {
		c, err := record.ParseCodec(v) // its error names the key
		if err != nil {
			return err
		}
		p.Compression = c
		return nil
	},
	"value.bytes": func(p *Producer, key, v string) error {
		n, err := ParseSize(key, v, 0)
		if err == nil && n > record.MaxValueBytes {
			err = errf(key, "%d is above the maximum %d", n, record.MaxValueBytes)
		}
		if err == nil {
			p.ValueBytes = int(n)
		}
		return err
	},
	"retry.backoff.ms":         dur(func(p *Producer) *time.Duration { return &p.RetryBackoff }),
	"retry.backoff.max.ms":     dur(func(p *Producer) *time.Duration { return &p.RetryBackoffMax }),
	"metadata.max.age.ms":      dur(func(p *Producer) *time.Duration { return &p.MetadataMaxAge }),
	"reconnect.backoff.ms":     dur(func(p *Producer) *time.Duration { return &p.ReconnectBackoff }),
	"reconnect.backoff.max.ms": dur(func(p *Producer) *time.Duration { return &p.ReconnectMax }),
	"transactional.id": func(p *Producer, key, v string) error {
		if v == "" {
			return errf(key, "must not be empty")
		}
		p.TransactionalID = v
		return nil
	},
	"transaction.timeout.ms": dur(func(p *Producer) *time.Duration { return &p.TransactionTimeout }),
	"transaction.records":    integer(1, func(p *Producer) *int { return &p.TransactionRecords }),
	"transaction.version": func(p *Producer, key, v string) error {
		s, err := oneOf(key, v, "1", "2")
		if err == nil {
			p.TransactionVersion = int(s[0] - '0')
		}
		return err
	},
	"transaction.abort": func(p *Producer, key, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
			return errf(key, "%q is not a probability between 0 and 1", v)
		}
		p.TransactionAbort = f
		return nil
	},
	"partitioner": func(p *Producer, key, v string) error {
		s, err := oneOf(key, v, "default", "round-robin", "key-hash")
		if err == nil {
			p.Partitioner = s
		}
		return err
	},
}

// Set sets a producer key.
func (p *Producer) Set(key, value string) error {
	f, ok := producerKeys[key]
	if !ok {
		return errf(key, "unknown producer config key")
	}
	return f(p, key, value)
}

// Finish applies Kafka's rules that tie producer settings together (KIP-679): idempotence is
// on by default, silently off when not set explicitly and acks≠all, retries=0 or more than 5
// requests in flight; set explicitly with such settings it is a configuration error.
func (p *Producer) Finish() error {
	conflict := ""
	switch {
	case p.Acks != -1:
		conflict = "acks must be all"
	case p.Retries == 0:
		conflict = "retries must be above 0"
	case p.MaxInFlight > 5:
		conflict = "max.in.flight.requests.per.connection must be at most 5"
	}
	if conflict != "" {
		if p.IdempotenceSet && p.EnableIdempotence {
			return errf("enable.idempotence", "true requires that %s", conflict)
		}
		p.EnableIdempotence = false
	}
	if p.TransactionalID != "" && !p.EnableIdempotence {
		// KafkaProducer.configureTransactionState: "Cannot set a transactional.id without
		// also enabling idempotence."
		if conflict == "" {
			conflict = "enable.idempotence must be true"
		}
		return errf("transactional.id", "requires idempotence (%s)", conflict)
	}
	if p.DeliveryTimeout < p.Linger+p.RequestTimeout {
		return errf("delivery.timeout.ms", "%v must be at least linger.ms + request.timeout.ms (%v)", p.DeliveryTimeout, p.Linger+p.RequestTimeout)
	}
	return nil
}

var consumerKeys = map[string]setter[Consumer]{
	"fetch.max.wait.ms": dur(func(c *Consumer) *time.Duration { return &c.FetchMaxWait }),
	"fetch.min.bytes":   integer(0, func(c *Consumer) *int { return &c.FetchMinBytes }),
	"max.poll.records":  integer(1, func(c *Consumer) *int { return &c.MaxPollRecords }),
	"auto.offset.reset": func(c *Consumer, key, v string) error {
		s, err := oneOf(key, v, "earliest", "latest", "none")
		if err == nil {
			c.AutoOffsetReset = s
		}
		return err
	},
	"isolation.level": func(c *Consumer, key, v string) error {
		s, err := oneOf(key, v, "read_uncommitted", "read_committed")
		if err == nil {
			c.IsolationLevel = s
		}
		return err
	},
	"request.timeout.ms":       dur(func(c *Consumer) *time.Duration { return &c.RequestTimeout }),
	"retry.backoff.ms":         dur(func(c *Consumer) *time.Duration { return &c.RetryBackoff }),
	"retry.backoff.max.ms":     dur(func(c *Consumer) *time.Duration { return &c.RetryBackoffMax }),
	"metadata.max.age.ms":      dur(func(c *Consumer) *time.Duration { return &c.MetadataMaxAge }),
	"reconnect.backoff.ms":     dur(func(c *Consumer) *time.Duration { return &c.ReconnectBackoff }),
	"reconnect.backoff.max.ms": dur(func(c *Consumer) *time.Duration { return &c.ReconnectMax }),
	"group": func(c *Consumer, key, v string) error {
		if v == "" {
			return errf(key, "a group id is required")
		}
		c.Group = v
		return nil
	},
	"group.protocol": func(c *Consumer, key, v string) error {
		s, err := oneOf(key, v, "classic", "consumer")
		if err == nil {
			c.GroupProtocol = s
		}
		return err
	},
	"group.remote.assignor": func(c *Consumer, key, v string) error {
		s, err := oneOf(key, v, "uniform", "range")
		if err == nil {
			c.RemoteAssignor = s
			c.protocolKeys = append(c.protocolKeys, key)
		}
		return err
	},
	"partition.assignment.strategy": func(c *Consumer, key, v string) error {
		s, err := oneOf(key, v, "range", "roundrobin", "cooperative-sticky")
		if err == nil {
			c.AssignmentStrategy = s
			c.protocolKeys = append(c.protocolKeys, key)
		}
		return err
	},
	"enable.auto.commit":      boolean(func(c *Consumer) *bool { return &c.EnableAutoCommit }),
	"auto.commit.interval.ms": dur(func(c *Consumer) *time.Duration { return &c.AutoCommitInterval }),
	"session.timeout.ms":      classicKey(dur(func(c *Consumer) *time.Duration { return &c.SessionTimeout })),
	"heartbeat.interval.ms":   classicKey(dur(func(c *Consumer) *time.Duration { return &c.HeartbeatInterval })),
	"max.poll.interval.ms":    dur(func(c *Consumer) *time.Duration { return &c.MaxPollInterval }),
	"group.instance.id": func(c *Consumer, key, v string) error {
		if v == "" {
			return errf(key, "an instance id is required")
		}
		c.GroupInstanceID = v
		return nil
	},
	"commit": func(c *Consumer, key, v string) error {
		s, err := oneOf(key, v, "after-processing", "before-processing")
		if err == nil {
			c.CommitMode, c.CommitModeSet = s, true
		}
		return err
	},
	"processing": dur(func(c *Consumer) *time.Duration { return &c.Processing }),
}

// classicKey marks a key of the classic protocol only (Finish).
func classicKey(f setter[Consumer]) setter[Consumer] {
	return func(c *Consumer, key, v string) error {
		if err := f(c, key, v); err != nil {
			return err
		}
		c.protocolKeys = append(c.protocolKeys, key)
		return nil
	}
}

// Finish applies the rules that tie consumer settings together, as ConsumerConfig does
// (checkUnsupportedConfigs): with group.protocol=consumer (KIP-848) the broker decides
// sessions, heartbeats and the assignment, so session.timeout.ms, heartbeat.interval.ms and
// partition.assignment.strategy cannot be set; group.remote.assignor needs
// group.protocol=consumer.
func (c *Consumer) Finish() error {
	for _, k := range c.protocolKeys {
		switch {
		case k == "group.remote.assignor" && c.GroupProtocol != "consumer":
			return errf(k, "needs group.protocol=consumer (classic members assign with partition.assignment.strategy)")
		case k != "group.remote.assignor" && c.GroupProtocol == "consumer":
			return errf(k, "cannot be set with group.protocol=consumer (KIP-848: the broker's group.consumer.* settings decide)")
		}
	}
	return nil
}

// Set sets a consumer key.
func (c *Consumer) Set(key, value string) error {
	f, ok := consumerKeys[key]
	if !ok {
		return errf(key, "unknown consumer config key")
	}
	return f(c, key, value)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// BrokerKeys lists every broker-level key (for help texts and completion).
func BrokerKeys() []string {
	ks := sortedKeys(brokerKeys)
	ks = append(ks, sortedKeys(brokerTopicAliases)...)
	ks = append(ks, sortedKeys(topicKeys)...)
	slices.Sort(ks)
	return ks
}
