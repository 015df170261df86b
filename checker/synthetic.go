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
