package scenarios

import (
	"sync/atomic"
	"testing"
)

// finishWatch answers Player.allOnline and Player.caughtUp exactly: after every event of the
// finish of these scenarios (groups classic and KIP-848, of one topic and of two, members killed and restarted by the
// finish, processors, consumers of no group, a late client) both give the same answer.
func TestFinishWatchAnswersAsCaughtUp(t *testing.T) {
	names := []string{"classroom", "eos-processor", "group-coordinator-dies", "group-member-dies",
		"group-kip848-rebalance", "group-static-member", "kafka-is-not-a-queue", "processor-at-least-once", "group-two-topics"}
	if testing.Short() {
		names = names[:3]
	}
	var asked atomic.Int64
	t.Cleanup(func() {
		if n := asked.Load(); n < 1000 {
			t.Errorf("asked %d times in all; want finishes long enough to compare", n)
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			asked.Add(finishCompared(t, Named(name)))
		})
	}
	t.Run("late", func(t *testing.T) {
		t.Parallel()
		asked.Add(finishCompared(t, mustParseSrc(t, `cluster brokers=3
topic orders partitions=3 replication=3
producer p1 topic=orders acks=all rate=50/s
consumer solo topic=orders
wait 2s
consumer r1 topic=orders group=g
consumer r2 topic=orders group=g count=2
wait 5s
kill r1
crash 2
wait 1s
`)))
	})
}

// finishCompared plays s to the end of its script, then runs the finish as Player.finish does,
// asking both the finishWatch and the Player after every event. It returns how many times it
// asked.
func finishCompared(t *testing.T, s *Scenario) int64 {
	t.Helper()
	p := newPlayer(s, Options{NoCheck: true})
	p.toEnd = true
	for p.next < len(s.stmts) && s.stmts[p.next].line <= s.setupEnd {
		p.instant(s.stmts[p.next], false)
		p.next++
	}
	if err := p.boot(); err != nil {
		t.Fatal(err)
	}
	for !p.Done() && !p.stopped() {
		p.Advance(budgetStep, nil)
	}
	c := p.c
	c.Recover()
	for _, pd := range s.producers {
		_ = c.SetRate(pd.name, 0)
	}
	f := newFinishWatch(p)
	asked, trues := 0, 0
	same := func(what string, a, b bool) bool {
		asked++
		if a {
			trues++
		}
		if a != b {
			t.Fatalf("%s at %v (event %d): finishWatch says %v, Player %v", what, c.Now(), c.World.Trace().Len(), a, b)
		}
		return a
	}
	timeout := s.finishWindow()
	start := c.Now()
	if c.RunUntil(func() bool { return same("allOnline", f.allOnline(), p.allOnline()) }, timeout) {
		// as the finish, whether or not they catch up within the window
		c.RunUntil(func() bool { return same("caughtUp", f.caughtUp(), p.caughtUp()) }, timeout-(c.Now()-start))
	}
	c.Close()
	t.Logf("%s: asked %d times, %d true", s.File, asked, trues)
	return int64(asked)
}
