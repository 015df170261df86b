package client

import (
	"math"
	"time"

	"kafkasim/broker/node"
)

// exponentialBackoff is Kafka's ExponentialBackoff (KIP-580): the wait before attempt k+1 is
// initial × multiplier^k, at most max, times a random factor in [1-jitter, 1+jitter) drawn from
// the client's own seeded stream (env.Rand(), where Java uses ThreadLocalRandom). The jitter
// never takes it above max. A max at or below initial gives a constant max.
type exponentialBackoff struct {
	initial    time.Duration
	multiplier float64
	max        time.Duration
	jitter     float64
	expMax     float64
}

// Kafka's constants: CommonClientConfigs.RETRY_BACKOFF_EXP_BASE and RETRY_BACKOFF_JITTER, and
// ClusterConnectionStates.RECONNECT_BACKOFF_EXP_BASE and RECONNECT_BACKOFF_JITTER, all 2 and 0.2.
const (
	backoffMultiplier = 2
	backoffJitter     = 0.2
)

func newExponentialBackoff(initial time.Duration, multiplier int, maxInterval time.Duration, jitter float64) exponentialBackoff {
	e := exponentialBackoff{initial: min(initial, maxInterval), multiplier: float64(multiplier), max: maxInterval, jitter: jitter}
	if maxInterval > initial {
		e.expMax = math.Log(float64(maxInterval)/float64(max(initial, 1))) / math.Log(float64(multiplier))
	}
	return e
}

// backoff is ExponentialBackoff.backoff(attempts).
func (e *exponentialBackoff) backoff(env node.Env, attempts int64) time.Duration {
	if e.expMax == 0 {
		return e.initial
	}
	exp := math.Min(float64(attempts), e.expMax)
	term := float64(e.initial) * math.Pow(e.multiplier, exp)
	factor := 1.0
	if e.jitter > 0 {
		u := float64(env.Rand()>>11) / (1 << 53) // uniform in [0, 1)
		factor = 1 - e.jitter + u*2*e.jitter
	}
	return min(time.Duration(factor*term), e.max)
}
