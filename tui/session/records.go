package session

import (
	"kafkasim/broker/log"
	"kafkasim/broker/record"
)

// logSize is a log's bytes, its segment count and the base offsets of its segments after the
// first (the last one is the active segment's).
func logSize(l *log.Log) (int64, int, []int64) {
	segs := l.Segments()
	var bases []int64
	if len(segs) > 1 {
		rolled := segs[max(1, len(segs)-maxRolls):]
		bases = make([]int64, len(rolled))
		for i, s := range rolled {
			bases[i] = s.BaseOffset
		}
	}
	return l.SizeBytes(), len(segs), bases
}

// maxRolls bounds the segment boundaries a snapshot keeps (the latest): a bar is narrower.
const maxRolls = 64

// ratioBatches is how many of the leader's latest batches the compression ratio reads.
const ratioBatches = 8

// compression is the codec of the leader's latest batch and the ratio of its latest batches'
// uncompressed size to their size on disk ("", 0 for an empty log).
func compression(l *log.Log) (string, float64) {
	bs := l.Batches()
	var codec string
	var stored, plain int
	for i := len(bs) - 1; i >= 0 && i >= len(bs)-ratioBatches; i-- {
		b := bs[i]
		if b.Control || len(b.Bytes) == 0 {
			continue
		}
		n, err := record.UncompressedSize(b.Bytes)
		if err != nil {
			continue
		}
		if codec == "" {
			codec = record.CodecOf(b.Bytes).String()
		}
		stored += len(b.Bytes)
		plain += n
	}
	if stored == 0 {
		return "", 0
	}
	return codec, float64(plain) / float64(stored)
}
