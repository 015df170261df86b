package client

import (
	"math"
	"strconv"
	"time"

	"kafkasim/broker/node"
	"kafkasim/broker/protocol"
)

// workload is the application in front of the producer: it makes the records (values
// ValueBase+1, ValueBase+2, …; with Keys > 0 a key "k<n>", n drawn uniformly from env.Rand())
// and, at a continuous rate, decides when each is created. Record k of a rate started at
// `start` is created at start + k/rate exactly, so rounding never accumulates; the producer
// wakes at most once per linger.ms, since records made in between would wait in the same batch
// anyway.
type workload struct {
	env       node.Env
	linger    time.Duration
	valueBase int64
	nextVal   int64
	nkeys     int      // keys k0 … k<nkeys-1>, 0 = unkeyed records
	keys      []string // their names when there are few (keyTable); else each is made when drawn
	tomb      float64  // the fraction of records that are tombstones

	rate  float64 // records per second, 0 = none
	gen   uint64  // of the rate: older rateTicks are stale
	start time.Duration
	count int64 // records created since start
}

func newWorkload(env node.Env, o *ProducerOptions, linger time.Duration) workload {
	w := workload{env: env, linger: linger, valueBase: o.ValueBase, tomb: o.Tombstones}
	w.nkeys = o.Keys
	if o.Keys > 0 && o.Keys <= keyTable {
		w.keys = make([]string, o.Keys)
		for i := range w.keys {
			w.keys[i] = "k" + strconv.Itoa(i)
		}
	}
	return w
}

// keyTable is the most keys a producer names in advance: a fleet of a thousand producers with
// keys=100000 would hold a hundred million strings.
const keyTable = 4096

// record makes the next record.
func (w *workload) record() protocol.Record {
	w.nextVal++
	rec := protocol.Record{Value: w.valueBase + w.nextVal}
	if w.nkeys > 0 {
		n := w.env.Rand() % uint64(w.nkeys)
		if w.keys != nil {
			rec.Key = w.keys[n]
		} else {
			rec.Key = "k" + strconv.FormatUint(n, 10)
		}
		if w.tomb > 0 {
			rec.Tombstone = float64(w.env.Rand()>>11)/(1<<53) < w.tomb
		}
	}
	return rec
}

// nextDue returns the creation time of the next record due by now at the current rate, and
// counts it as created; ok is false when none is due.
func (w *workload) nextDue(now time.Duration) (at time.Duration, ok bool) {
	if w.rate <= 0 {
		return 0, false
	}
	at = w.rateAt(w.count + 1)
	if at > now {
		return 0, false
	}
	w.count++
	return at, true
}

// setRate starts a new rate at now (records due at the old one must be taken first); a rate
// that is not a positive number stops.
func (w *workload) setRate(now time.Duration, r float64) {
	w.gen++
	w.rate = r
	if r <= 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		w.rate = 0
		return
	}
	w.start, w.count = now, 0
	w.schedule(now)
}

// live reports whether a rateTick belongs to the running rate.
func (w *workload) live(t rateTick) bool { return t.gen == w.gen && w.rate > 0 }

// schedule sets the rateTick for record count+1.
func (w *workload) schedule(now time.Duration) {
	at := w.rateAt(w.count + 1)
	if at < now {
		at = now
	}
	if next := now + w.linger; at < next && w.count > 0 {
		at = next
	}
	w.env.After(at-now, rateTick{gen: w.gen})
}

// rateAt is the creation time of the k-th record at the current rate.
func (w *workload) rateAt(k int64) time.Duration {
	return w.start + time.Duration(float64(k)*float64(time.Second)/w.rate)
}
