package record

import (
	"bytes"
	"math"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// appendPlainRecord writes the bytes kmsg.Record.AppendTo writes for the same record.
func TestAppendPlainRecordMatchesKmsg(t *testing.T) {
	for _, key := range []string{"", "k", string(make([]byte, 200))} {
		for _, od := range []int64{0, 1, 63, 64, 8191, 8192, 1 << 20} {
			for _, n := range []int{0, 50, 300} {
				value := AppendValue(nil, od*7919-3, n)
				r := kmsg.Record{OffsetDelta: int32(od), Value: value}
				if key != "" {
					r.Key = []byte(key)
				}
				r.Length = int32(bodySize(&r))
				want := r.AppendTo(nil)
				if got := appendPlainRecord(nil, od, key, value); !bytes.Equal(got, want) {
					t.Errorf("key %d bytes, offset delta %d, value %d bytes: got %x, want %x", len(key), od, len(value), got, want)
				}
			}
		}
	}
}

// appendDecimal writes what strconv.AppendInt writes.
func TestAppendDecimalMatchesStrconv(t *testing.T) {
	vs := []int64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 12345, -1, -10, -12345, math.MaxInt64, math.MinInt64}
	for p := int64(1); p > 0 && p < math.MaxInt64/10; p *= 10 {
		vs = append(vs, p-1, p, p+1, p*7+3)
	}
	for _, v := range vs {
		prefix := []byte("ab")
		got := appendDecimal(prefix, v)
		want := strconv.AppendInt([]byte("ab"), v, 10)
		if !bytes.Equal(got, want) {
			t.Errorf("appendDecimal(%d) = %q, want %q", v, got, want)
		}
	}
}
