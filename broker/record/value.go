package record

import (
	"errors"
	"math/bits"
	"slices"
	"strconv"
)

// A kafkasim value is an int64 the checker follows (protocol.Record.Value). Its bytes are the
// decimal text of the number; with value.bytes=N the text is padded to N bytes with words, so
// codecs see text that compresses about as well as real payloads (JSON, logs) do: random bytes
// would not compress at all, a constant filler absurdly well.

// words is the padding vocabulary: common English and event-log words, so a padded value
// reads like a log line and compresses like one.
var words = [64]string{
	"the", "order", "user", "event", "created", "updated", "status", "payment", "shipped",
	"account", "session", "region", "eu-west", "us-east", "price", "amount", "currency", "EUR",
	"USD", "item", "quantity", "customer", "id", "timestamp", "true", "false", "null", "name",
	"email", "address", "city", "Berlin", "Paris", "Lisbon", "Oslo", "warehouse", "delivery",
	"pending", "confirmed", "cancelled", "refund", "invoice", "total", "tax", "discount",
	"product", "category", "books", "garden", "kitchen", "and", "of", "to", "in", "for", "with",
	"on", "at", "from", "by", "is", "was", "a", "new",
}

// AppendValue appends the bytes of value v padded to n bytes (value.bytes=n): the decimal text,
// then, if room is left, a space and words chosen by a generator seeded with v, cut to exactly
// n bytes. A value never shrinks below its number. The same v and n always give the same bytes.
func AppendValue(dst []byte, v int64, n int) []byte {
	start := len(dst)
	dst = appendDecimal(dst, v)
	if n <= len(dst)-start {
		return dst
	}
	end := start + n
	s := uint64(v) ^ 0x9e3779b97f4a7c15
	for len(dst) < end {
		// splitmix64 (Steele, Lea, Flood): cheap, seeded by v, no shared state. One draw
		// picks ten words, six bits each.
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for k := 0; k < 10 && len(dst) < end; k++ {
			dst = append(dst, ' ')
			dst = append(dst, words[z&63]...)
			z >>= 6
		}
	}
	return dst[:end]
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// pow10[i] is 10^i.
var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19}

// appendDecimal appends v in decimal, as strconv.AppendInt(dst, v, 10) does, two digits a step
// and straight into dst: a value is formatted for every record encoded.
func appendDecimal(dst []byte, v int64) []byte {
	if v < 0 {
		return strconv.AppendInt(dst, v, 10)
	}
	return appendDigits(dst, uint64(v), digits(uint64(v)))
}

// digits is the number of decimal digits of u.
func digits(u uint64) int {
	// log10 from the bit length (1233/4096 ≈ log10 2), corrected by one.
	n := bits.Len64(u) * 1233 >> 12
	if u >= pow10[n] {
		n++
	}
	return max(n, 1)
}

// appendDigits appends u's n decimal digits (n = digits(u)).
func appendDigits(dst []byte, u uint64, n int) []byte {
	dst = slices.Grow(dst, n)
	end := len(dst) + n
	dst = dst[:end]
	i := end
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		dst[i], dst[i+1] = digitPairs[r], digitPairs[r+1]
		u = q
	}
	if u >= 10 {
		r := u * 2
		dst[i-2], dst[i-1] = digitPairs[r], digitPairs[r+1]
	} else {
		dst[i-1] = byte('0' + u)
	}
	return dst
}

// MaxValueBytes bounds value.bytes: one record's value may not exceed Kafka's default
// max.message.bytes (1 MiB plus the batch overhead, LogConfig.DEFAULT_MAX_MESSAGE_BYTES).
const MaxValueBytes = 1 << 20

var errValue = errors.New("not a kafkasim value (a decimal int64, optionally followed by a space and padding)")

// ParseValue reads the int64 back from bytes AppendValue wrote, ignoring the padding.
func ParseValue(b []byte) (int64, error) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i < len(b) && b[i] != ' ' {
		return 0, errValue
	}
	v, err := strconv.ParseInt(string(b[:i]), 10, 64)
	if err != nil {
		return 0, errValue
	}
	return v, nil
}
