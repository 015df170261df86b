package checker

import (
	"fmt"

	"kafkasim/broker/protocol"
)

// checkPartition: the invariants across a partition's replicas. At most one broker leads
// in one leader epoch; StrongIsr for every replica that presumes leadership; the leader of
// the highest epoch keeps every committed record. A broker still presuming leadership in an
// epoch some other broker has since led in is a zombie (fenced by the controller, it has not
// heard: cut off from the metadata log): it cannot commit, its log is truncated once it
// learns, and it is not the one to hold the committed records, even when the leader of the
// newer epoch has died and the zombie is the only broker presuming leadership.
func (o *Online) checkPartition(tp protocol.TopicPartition) {
	var top replica
	var topB int32
	for _, b := range o.src.Brokers() {
		r := o.src.Replica(b, tp)
		if r == nil || !r.IsLeader() {
			continue
		}
		ep := r.LeaderEpoch()
		k := epochKey{tp, ep}
		if first, ok := o.leader[k]; !ok {
			o.leader[k] = b
		} else if first != b {
			o.violate(fmt.Sprintf("%s %d", tp, ep), OneLeaderPerEpoch, "brokers %d and %d both lead %s in leader epoch %d", first, b, tp, ep)
		}
		if !compacted(r) { // compacted replicas differ by design; compaction-lost-key judges them
			o.strongISR(tp, b, r)
		}
		if top == nil || ep > top.LeaderEpoch() {
			top, topB = r, b
		}
	}
	if top != nil {
		o.logStartMoved(tp, top) // retention.go
	}
	if top != nil {
		ps := o.part(tp)
		if top.LeaderEpoch() < ps.topEpoch {
			return // a zombie: see above
		}
		ps.topEpoch = top.LeaderEpoch()
	}
	if top != nil && compacted(top) {
		o.compactionKept(tp, topB, top)
	} else if top != nil {
		o.committedKept(tp, topB, top)
	}
}

// strongISR (StrongIsr, hachikuji/kafka-specification): every member of the committed ISR
// holds the records of a replica presuming leadership at every offset below that replica's
// HW. Members that are down, fenced or not yet re-registered after a restart are not judged
// (the controller has yet to act on them).
func (o *Online) strongISR(tp protocol.TopicPartition, lb int32, l replica) {
	mp := o.metaParts[tp]
	if mp == nil {
		return
	}
	ps := o.part(tp)
	hw := l.HW()
	for _, m := range mp.ISR {
		if m == lb || !o.src.Current(m, o.metaImage) {
			continue
		}
		mr := o.src.Replica(m, tp)
		if mr == nil {
			continue
		}
		v := ps.isr[m]
		if v.ref != l || v.member != mr {
			v = verified{ref: l, member: mr}
		}
		if leo := mr.LEO(); leo < hw {
			o.violate(fmt.Sprintf("%s %d %d %d", tp, m, lb, l.LeaderEpoch()), StrongISR, "ISR member %d of %s ends at offset %d, below the HW %d of leader %d (epoch %d): it lacks committed records",
				m, tp, leo, hw, lb, l.LeaderEpoch())
			ps.isr[m] = v
			continue
		}
		from := max(v.upTo, l.LogStart(), mr.LogStart())
		if off, ok := firstDiff(l, mr, from, hw); !ok {
			o.violate(fmt.Sprintf("%s %d %d %d", tp, m, lb, l.LeaderEpoch()), StrongISR, "ISR member %d of %s holds %s at offset %d where leader %d (epoch %d) holds %s, below its HW %d",
				m, tp, recordText(mr, off), off, lb, l.LeaderEpoch(), recordText(l, off), hw)
			v.upTo = min(v.upTo, off)
		} else {
			v.upTo = max(v.upTo, hw)
		}
		ps.isr[m] = v
	}
}

// committedKept: a record below the HW of a leader is committed; the leader of the highest
// epoch must hold every committed record at its offset (retention aside). An unclean
// election forgives what came before it: tracking starts again from the new leader's log.
func (o *Online) committedKept(tp protocol.TopicPartition, lb int32, l replica) {
	ps := o.part(tp)
	if ue, ok := o.unclean[tp]; ok && ue > ps.minEpoch {
		ps.minEpoch, ps.kept = ue, verified{}
		ps.recs.reset(0)
	}
	ep := l.LeaderEpoch()
	if ep < ps.minEpoch {
		return
	}
	v := ps.kept
	if v.member != l {
		v = verified{member: l}
	}
	cEnd := ps.recs.end
	if from := max(v.upTo, ps.recs.start, l.LogStart()); from < cEnd {
		if leo := l.LEO(); leo < cEnd {
			o.violate(fmt.Sprintf("%s %d %d", tp, lb, ep), CommittedKept, "leader %d of %s (epoch %d) ends at offset %d, but records up to offset %d were committed: %d committed records are gone",
				lb, tp, ep, leo, cEnd-1, cEnd-max(leo, ps.recs.start))
			// From here on, judge against what this leader holds.
			ps.recs.reset(0)
			cEnd, v = 0, verified{member: l}
		} else if off, ok := o.matchCommitted(ps, l, from, cEnd); !ok {
			c := ps.recs.at(off)
			o.violate(fmt.Sprintf("%s %d %d", tp, lb, ep), CommittedKept, "leader %d of %s (epoch %d) holds %s at offset %d, where the committed record was %d (epoch %d)",
				lb, tp, ep, recordText(l, off), off, c.value, c.epoch)
			ps.recs.reset(0)
			cEnd, v = 0, verified{member: l}
		} else {
			v.upTo = cEnd
		}
	}
	// Extend the committed records to the leader's HW.
	if start := l.LogStart(); start > cEnd {
		ps.recs.reset(start)
		cEnd = start
	} else if start-ps.recs.start >= 4096 {
		ps.recs.dropBefore(start)
	}
	hw := l.HW()
	if hw > cEnd && v.upTo >= cEnd {
		for off := cEnd; off < hw; {
			b := l.BatchAt(off)
			if b == nil {
				break
			}
			for ; off < min(b.NextOffset(), hw); off++ {
				ps.recs.add(recID{valueAt(b, off), b.PartitionLeaderEpoch})
			}
		}
		v.upTo = ps.recs.end
	}
	ps.kept = v
}

func (o *Online) matchCommitted(ps *partState, l replica, from, to int64) (int64, bool) {
	for off := from; off < to; {
		b := l.BatchAt(off)
		if b == nil {
			return off, false
		}
		for ; off < min(b.NextOffset(), to); off++ {
			if c := ps.recs.at(off); c.value != valueAt(b, off) || c.epoch != b.PartitionLeaderEpoch {
				return off, false
			}
		}
	}
	return to, true
}

// firstDiff compares two replicas' records in [from, to): it returns the first offset where
// they differ (or one lacks a record), or to and true.
func firstDiff(a, b replica, from, to int64) (int64, bool) {
	for off := from; off < to; {
		ba, bb := a.BatchAt(off), b.BatchAt(off)
		if ba == nil || bb == nil {
			return off, false
		}
		end := min(ba.NextOffset(), bb.NextOffset(), to)
		if ba == bb {
			off = end
			continue
		}
		if ba.PartitionLeaderEpoch != bb.PartitionLeaderEpoch {
			return off, false
		}
		for ; off < end; off++ {
			if valueAt(ba, off) != valueAt(bb, off) {
				return off, false
			}
		}
	}
	return to, true
}

// recordText describes a replica's record at an offset: "1843 (epoch 2)" or "no record".
func recordText(r replica, off int64) string {
	b := r.BatchAt(off)
	if b == nil || off < b.BaseOffset || off >= b.NextOffset() {
		return "no record"
	}
	return fmt.Sprintf("%d (epoch %d)", valueAt(b, off), b.PartitionLeaderEpoch)
}
