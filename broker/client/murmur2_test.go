package client

import "testing"

// Reference: Kafka's UtilsTest.testMurmur2 (clients/src/test/.../common/utils/UtilsTest.java).
func TestMurmur2MatchesKafkaUtilsTest(t *testing.T) {
	cases := []struct {
		key  string
		want int32
	}{
		{"21", -973932308},
		{"foobar", -790332482},
		{"a-little-bit-long-string", -985981536},
		{"a-little-bit-longer-string", -1486304829},
		{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
		{"abc", 479470107},
		// Values other ports check against Kafka's implementation (akka Murmur2Spec).
		{"1", -1993445489},
		{"12", 126087238},
		{"123", -267702483},
		{"1234", -1614185708},
		{"12345", -1188365604},
	}
	for _, c := range cases {
		if got := Murmur2(c.key); got != c.want {
			t.Errorf("Murmur2(%q) = %d; want %d", c.key, got, c.want)
		}
	}
}

// Reference: KIP-794 keeps Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions.
func TestPartitionForKeyIsPositiveMurmur2ModPartitions(t *testing.T) {
	for _, key := range []string{"21", "foobar", "k0", "k17", ""} {
		for _, n := range []int{1, 3, 7, 12} {
			h := int64(Murmur2(key)) & 0x7fffffff
			want := int32(h % int64(n))
			if got := PartitionForKey(key, n); got != want {
				t.Errorf("PartitionForKey(%q, %d) = %d; want %d", key, n, got, want)
			}
		}
	}
	if got := PartitionForKey("x", 0); got != -1 {
		t.Errorf("PartitionForKey with 0 partitions = %d; want -1", got)
	}
}
