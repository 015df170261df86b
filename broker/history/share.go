package history

import (
	"slices"
	"unsafe"
)

// Share makes l hold, in place of each chunk of operation records, of producer batches and of
// its value arena that it will not write again, the same chunk of p where the two hold the
// same numbers, and returns how many bytes l no longer holds on its own. A timeline forked in
// the terminal UI re-simulates its course from the seed up to the fork, so its log repeats the
// parent's up to there, chunk for chunk; sharing those chunks keeps one copy of the common
// past.
//
// It is exact: a chunk is shared only when its contents are equal, compared value by value, so
// what l reads does not change. It is safe while both logs grow: a Log writes only into its
// last chunk of each kind, and only past what that chunk holds; l's last chunks are never
// shared, and a chunk of p is shared cut to the length l holds (p may still be appending past
// it: l never reads there).
func (l *Log) Share(p *Log) (saved int64) {
	if l == p || p == nil {
		return 0
	}
	for i := 0; i+1 < len(l.chunks) && i < len(p.chunks); i++ {
		if c, ok := sharedChunk(l.chunks[i], p.chunks[i]); ok {
			saved += int64(cap(l.chunks[i])) * recBytes
			l.chunks[i] = c
		}
	}
	for i := 0; i+1 < len(l.batches) && i < len(p.batches); i++ {
		if c, ok := sharedChunk(l.batches[i], p.batches[i]); ok {
			saved += int64(cap(l.batches[i])) * batchBytes
			l.batches[i] = c
		}
	}
	for i := 0; i+1 < len(l.nums.chunks) && i < len(p.nums.chunks); i++ {
		if c, ok := sharedChunk(l.nums.chunks[i], p.nums.chunks[i]); ok {
			saved += int64(cap(l.nums.chunks[i])) * 8
			l.nums.chunks[i] = c
		}
	}
	return saved
}

// SharedBytes is how many bytes of l's chunks of records, batches and values are p's own
// (after Share): what a fork does not hold twice.
func (l *Log) SharedBytes(p *Log) (n int64) {
	for i := 0; i < len(l.chunks) && i < len(p.chunks); i++ {
		if sameArray(l.chunks[i], p.chunks[i]) {
			n += int64(len(l.chunks[i])) * recBytes
		}
	}
	for i := 0; i < len(l.batches) && i < len(p.batches); i++ {
		if sameArray(l.batches[i], p.batches[i]) {
			n += int64(len(l.batches[i])) * batchBytes
		}
	}
	for i := 0; i < len(l.nums.chunks) && i < len(p.nums.chunks); i++ {
		if sameArray(l.nums.chunks[i], p.nums.chunks[i]) {
			n += int64(len(l.nums.chunks[i])) * 8
		}
	}
	return n
}

// recBytes is the size of one operation record, batchBytes of one producer batch's.
const (
	recBytes   = int64(unsafe.Sizeof(rec{}))
	batchBytes = int64(unsafe.Sizeof(sendBatch{}))
)

// heldBytes is how many bytes l's operations take (records, batches, arena runs and the
// index of runs, by length, not capacity): the history's memory for a run's operations,
// counted in the numbers it stores.
func (l *Log) heldBytes() int64 {
	n := int64(l.singles)*recBytes + int64(l.nBatches)*batchBytes +
		int64(len(l.ents))*int64(unsafe.Sizeof(entry{})) + int64(len(l.blocks))*4
	for _, c := range l.nums.chunks {
		n += int64(len(c)) * 8
	}
	return n
}

// sharedChunk returns p's chunk cut to mine's length if it holds what mine holds, and
// reports whether it does and is not already the same array.
func sharedChunk[E comparable](mine, p []E) ([]E, bool) {
	n := len(mine)
	if n == 0 || len(p) < n || sameArray(mine, p) || !slices.Equal(mine, p[:n]) {
		return nil, false
	}
	return p[:n:n], true
}

// sameArray reports whether a and b start at the same element of one array.
func sameArray[E any](a, b []E) bool {
	return len(a) > 0 && len(b) > 0 && &a[0] == &b[0]
}
