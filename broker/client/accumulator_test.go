package client

import (
	"math/rand/v2"
	"testing"
	"time"

	"kafkasim/broker/config"
	"kafkasim/broker/protocol"
)

// The accumulator's busy bits, which let a drain skip idle partitions, follow its queues
// through every way a queue changes: appends, drains, retries put back, removals.
func TestAccumulatorBusyFollowsQueues(t *testing.T) {
	cfg := config.DefaultProducer()
	cfg.BatchSize = 200
	a := newAccumulator(fakeEnv{w: &world{}}, &cfg)
	const parts = 150 // three words, the last one partly used
	a.grow(parts)
	r := rand.New(rand.NewPCG(3, 4))
	var taken []*pbatch
	for step := 0; step < 20000; step++ {
		part := int32(r.IntN(parts))
		switch k := r.IntN(10); {
		case k < 5:
			a.append(time.Duration(step), part, protocol.Record{Value: int64(step)}, time.Duration(step))
		case k < 8:
			if b := a.head(part); b != nil {
				a.pop(part)
				taken = append(taken, b)
			}
		case k < 9 && len(taken) > 0:
			i := r.IntN(len(taken))
			a.reenqueue(taken[i], time.Duration(step))
			taken = append(taken[:i], taken[i+1:]...)
		default:
			if b := a.head(part); b != nil && r.IntN(2) == 0 {
				a.remove(b)
			}
		}
		for p := 0; p < parts; p++ {
			want := len(a.queues[p]) > 0
			if got := a.busy[p>>6]&(1<<(p&63)) != 0; got != want {
				t.Fatalf("step %d: partition %d busy %v; want %v (%d batches)", step, p, got, want, len(a.queues[p]))
			}
		}
		for p, want := 0, 0; p < parts; p = want + 1 {
			want = p
			for want < parts && len(a.queues[want]) == 0 {
				want++
			}
			if want == parts {
				want = -1
			}
			if got := a.nextBusy(p); got != want {
				t.Fatalf("step %d: nextBusy(%d) = %d; want %d", step, p, got, want)
			}
			if want < 0 {
				break
			}
		}
	}
}

// RecordAccumulator.reenqueue: batches failed together (a broken connection fails its requests
// oldest first) go back in sequence order for an idempotent producer, and each at the head for
// any other, so the newest is sent again first and the partition's order is lost.
func TestReenqueueOrderFollowsIdempotence(t *testing.T) {
	for _, idem := range []bool{true, false} {
		cfg := config.DefaultProducer()
		cfg.BatchSize = 100
		cfg.EnableIdempotence = idem
		a := newAccumulator(fakeEnv{w: &world{}}, &cfg)
		a.grow(1)
		var taken []*pbatch
		for i := range 3 {
			for a.head(0) == nil || len(taken) < i {
				a.append(0, 0, protocol.Record{Value: int64(i)}, 0)
				if b := a.head(0); b != nil && len(a.queues[0]) > 1 {
					b.sent = true
					a.pop(0)
					taken = append(taken, b)
				}
			}
		}
		if len(taken) < 2 {
			t.Fatalf("idempotence %v: %d batches taken; want 2 or more", idem, len(taken))
		}
		for _, b := range taken {
			a.reenqueue(b, time.Second)
		}
		want := taken[0]
		if !idem {
			want = taken[len(taken)-1]
		}
		if got := a.head(0); got != want {
			t.Errorf("idempotence %v: batch %d at the head; want %d", idem, got.id, want.id)
		}
	}
}
