package record

import (
	"bytes"
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
