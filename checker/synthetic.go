package checker

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"kafkasim/broker/history"
)

// Synthetic is a made-up valid history for benchmarks and tests: per partition of topic,
// sends acknowledged sends from three producers, each in flight for 5ms with a new one every
// 1ms (five concurrent), and a consumer that polls every ten records 3ms after they are
// acknowledged — 10,010 operations for 10 partitions of 910 sends. A record for which lost
// (if given) is true is never polled, which makes it a lost write.
func Synthetic(topic string, parts, sends int, lost func(partition, offset int) bool) history.History {
	var ops []history.Op
	for p := 0; p < parts; p++ {
		base := time.Duration(p) * 100 * time.Microsecond
		for i := 0; i < sends; i++ {
			inv := base + time.Duration(i)*time.Millisecond
			ops = append(ops, history.Op{Client: fmt.Sprintf("p%d", i%3), Type: history.Send, Topic: topic, Partition: int32(p),
				Values: []int64{int64(p)*1_000_000 + int64(i)}, Offsets: []int64{int64(i)}, Invoke: inv, Complete: inv + 5*time.Millisecond, Outcome: history.OK})
			if (i+1)%10 == 0 {
				op := history.Op{Client: "c1", Type: history.Poll, Topic: topic, Partition: int32(p),
					Invoke: inv + 6*time.Millisecond, Complete: inv + 8*time.Millisecond, Outcome: history.OK}
				for j := i - 9; j <= i; j++ {
					if lost != nil && lost(p, j) {
						continue
					}
					op.Offsets = append(op.Offsets, int64(j))
					op.Values = append(op.Values, int64(p)*1_000_000+int64(j))
				}
				ops = append(ops, op)
			}
		}
	}
	slices.SortStableFunc(ops, func(a, b history.Op) int { return cmp.Compare(a.Complete, b.Complete) })
	var h history.History
	for _, op := range ops {
		h.Add(op)
	}
	return h
}

// SyntheticLog is a made-up valid history of about ops operations over parts partitions of
// topic "bench", computed on demand rather than stored (a history.Reader): a benchmark of
// millions of operations measures the checker, not the memory of a history. Each round of
// 10 ms, each partition takes ten sends, one a millisecond, from three producers in turn,
// each in flight for 5 ms (five concurrent), and one poll of those ten records once they are
// acknowledged. A record's offset is its send's place in its partition, its value the offset
// plus one.
func SyntheticLog(parts, ops int) history.Reader {
	rounds := max((ops+11*parts-1)/(11*parts), 1)
	sl := &syntheticLog{parts: parts, n: rounds * 11 * parts, iota: make([]int64, rounds*10+1)}
	for i := range sl.iota {
		sl.iota[i] = int64(i)
	}
	return sl
}

type syntheticLog struct {
	parts, n int
	iota     []int64 // 0, 1, 2, …: every op's offsets and values are a slice of it
}

func (sl *syntheticLog) Len() int { return sl.n }

// Load computes operation i: in round r, first the ten sends of each partition (send k of
// every partition, then send k+1), then each partition's poll.
func (sl *syntheticLog) Load(i int, buf *history.Op) *history.Op {
	round, at := i/(11*sl.parts), i%(11*sl.parts)
	*buf = history.Op{Index: i, Topic: "bench", Outcome: history.OK}
	if at < 10*sl.parts {
		p, k := at%sl.parts, at/sl.parts
		j := round*10 + k
		inv := time.Duration(j)*time.Millisecond + time.Duration(p)*time.Microsecond
		buf.Client, buf.Type, buf.Partition = syntheticProducers[j%3], history.Send, int32(p)
		buf.Offsets, buf.Values = sl.iota[j:j+1:j+1], sl.iota[j+1:j+2:j+2]
		buf.Invoke, buf.Complete = inv, inv+5*time.Millisecond
		return buf
	}
	p := at - 10*sl.parts
	j := round * 10
	inv := time.Duration(j+14)*time.Millisecond + time.Duration(100+p)*time.Microsecond
	buf.Client, buf.Type, buf.Partition = "c1", history.Poll, int32(p)
	buf.Offsets, buf.Values = sl.iota[j:j+10:j+10], sl.iota[j+1:j+11:j+11]
	buf.Invoke, buf.Complete = inv, inv+400*time.Microsecond
	return buf
}

var syntheticProducers = [3]string{"p0", "p1", "p2"}
