package sim

import (
	"math/bits"
	"time"
)

// Rand is a seeded pseudo-random stream: xoshiro256** seeded through splitmix64. It is not
// safe for concurrent use (nothing in the world is).
type Rand struct {
	s0, s1, s2, s3 uint64
	seed           uint64 // the seed this stream was built from; Fork derives from it
}

// NewRand returns a stream seeded with seed.
func NewRand(seed uint64) *Rand {
	r := &Rand{seed: seed}
	sm := seed
	r.s0 = splitmix64(&sm)
	r.s1 = splitmix64(&sm)
	r.s2 = splitmix64(&sm)
	r.s3 = splitmix64(&sm)
	return r
}

func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Fork derives an independent stream from this stream's seed and name. The result does not
// depend on how many numbers were drawn from r: the same seed and name give the same stream.
func (r *Rand) Fork(name string) *Rand {
	h := uint64(14695981039346656037) ^ r.seed
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	sm := h
	return NewRand(splitmix64(&sm))
}

// Seed is the seed this stream was built from.
func (r *Rand) Seed() uint64 { return r.seed }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	result := bits.RotateLeft64(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return result
}

// Int63n returns a uniform number in [0, n). It returns 0 when n <= 0.
func (r *Rand) Int63n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	// Lemire's multiply-shift with rejection: exactly uniform.
	un := uint64(n)
	hi, lo := bits.Mul64(r.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), un)
		}
	}
	return int64(hi)
}

// Intn returns a uniform number in [0, n). It returns 0 when n <= 0.
func (r *Rand) Intn(n int) int { return int(r.Int63n(int64(n))) }

// Float64 returns a uniform number in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Duration returns a uniform duration in [min, max]; min when max <= min.
func (r *Rand) Duration(min, max time.Duration) time.Duration {
	if max <= min {
		return min
	}
	return min + time.Duration(r.Int63n(int64(max-min)+1))
}
