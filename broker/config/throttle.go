package config

import (
	"strconv"
	"strings"
)

// ReplicationThrottle holds Kafka's replication quota settings (KIP-73), which
// kafka-reassign-partitions.sh --throttle sets for a move:
//
//   - leader.replication.throttled.rate, follower.replication.throttled.rate: bytes per second
//     a broker may send (as leader) or fetch (as follower) for throttled replicas. They are
//     broker configs in Kafka; kafkasim keeps them with the topic defaults, so that set
//     cluster-wide (kafka-configs --entity-type brokers --entity-default) they bound every
//     broker. 0 (unset) is Kafka's default, Long.MAX_VALUE: no bound.
//   - leader.replication.throttled.replicas, follower.replication.throttled.replicas: topic
//     configs listing the throttled replicas as PARTITION:BROKER pairs, or * for all
//     (ThrottledReplicaListValidator).
type ReplicationThrottle struct {
	LeaderRate       int64  // leader.replication.throttled.rate (bytes/s, 0: no bound)
	FollowerRate     int64  // follower.replication.throttled.rate (bytes/s, 0: no bound)
	LeaderReplicas   string // leader.replication.throttled.replicas
	FollowerReplicas string // follower.replication.throttled.replicas
}

// Throttled reports whether the list (a *.replication.throttled.replicas value) names
// partition on broker (ReplicationQuotaManager.isThrottled after markThrottled).
func Throttled(list string, partition, broker int32) bool {
	if list == "" {
		return false
	}
	if list == "*" {
		return true
	}
	for _, e := range strings.Split(list, ",") {
		p, b, _ := strings.Cut(strings.TrimSpace(e), ":")
		if pn, err := strconv.Atoi(p); err == nil && int32(pn) == partition {
			if bn, err := strconv.Atoi(b); err == nil && int32(bn) == broker {
				return true
			}
		}
	}
	return false
}

// throttledReplicas validates a throttled-replicas list as ThrottledReplicaListValidator does:
// empty, *, or PARTITION:BROKER pairs separated by commas.
func throttledReplicas(f func(*Topic) *string) setter[Topic] {
	return func(t *Topic, key, v string) error {
		v = strings.TrimSpace(v)
		if v != "" && v != "*" {
			for _, e := range strings.Split(v, ",") {
				p, b, ok := strings.Cut(strings.TrimSpace(e), ":")
				if _, err := strconv.ParseUint(p, 10, 31); !ok || err != nil {
					return errf(key, "%q must be a list of PARTITION:BROKER pairs (0:1,0:2) or *", v)
				}
				if _, err := strconv.ParseUint(b, 10, 31); err != nil {
					return errf(key, "%q must be a list of PARTITION:BROKER pairs (0:1,0:2) or *", v)
				}
			}
		}
		*f(t) = v
		return nil
	}
}

func throttleRate(f func(*Topic) *int64) setter[Topic] {
	return func(t *Topic, key, v string) error {
		n, err := ParseInt(key, v, 1)
		if err == nil {
			*f(t) = n
		}
		return err
	}
}

func init() {
	// replica.fetch.max.bytes bounds what a follower fetches of one partition at a time (at
	// least one batch, KIP-74); a small value with a small throttle lets a move's catch-up be
	// watched on the small logs of a simulation.
	brokerKeys["replica.fetch.max.bytes"] = integer(1, func(b *Broker) *int { return &b.ReplicaFetchMaxBytes })
	topicKeys["leader.replication.throttled.rate"] = throttleRate(func(t *Topic) *int64 { return &t.Throttle.LeaderRate })
	topicKeys["follower.replication.throttled.rate"] = throttleRate(func(t *Topic) *int64 { return &t.Throttle.FollowerRate })
	topicKeys["leader.replication.throttled.replicas"] = throttledReplicas(func(t *Topic) *string { return &t.Throttle.LeaderReplicas })
	topicKeys["follower.replication.throttled.replicas"] = throttledReplicas(func(t *Topic) *string { return &t.Throttle.FollowerReplicas })
}
