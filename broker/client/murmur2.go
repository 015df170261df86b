package client

// Murmur2 is Kafka's Utils.murmur2 (seed 0x9747b28c) over the bytes of key, as the Java
// producer's built-in partitioner hashes keys (KIP-794 kept the legacy hash).
func Murmur2(key string) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	length := len(key)
	h := seed ^ uint32(length)
	for i := 0; i+4 <= length; i += 4 {
		k := uint32(key[i]) | uint32(key[i+1])<<8 | uint32(key[i+2])<<16 | uint32(key[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := length &^ 3
	switch length % 4 {
	case 3:
		h ^= uint32(key[tail+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(key[tail+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(key[tail])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// PartitionForKey is the partition Kafka's built-in partitioner picks for a keyed record:
// toPositive(murmur2(key)) % numPartitions, over all partitions (available or not).
func PartitionForKey(key string, numPartitions int) int32 {
	if numPartitions <= 0 {
		return -1
	}
	return int32((Murmur2(key) & 0x7fffffff) % int32(numPartitions))
}
