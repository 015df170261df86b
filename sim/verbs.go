package sim

import (
	"fmt"
	"time"
)

// The fault verbs of the node lifecycle and of the network. faults.go holds the table that
// names them and records them in the trace.

func (w *World) target(code int64, id int32) (*nodeSlot, error) {
	s := w.lookup(id)
	if s == nil {
		return nil, fmt.Errorf("%s %d: no such node", faultKinds[code].Name, id)
	}
	return s, nil
}

func stateErr(code int64, s *nodeSlot) error {
	st := s.state
	if s.paused {
		st = Paused
	}
	return fmt.Errorf("%s %d: node is %v", faultKinds[code].Name, s.id, st)
}

// Kill is process death: the node object, its pending timers and held messages are gone; the
// disk keeps its page cache (the OS still writes it back). Valid for a running, paused or
// stopping node.
func (w *World) Kill(id int32) error {
	s, err := w.target(FaultKill, id)
	if err != nil {
		return err
	}
	if !s.alive() {
		return stateErr(FaultKill, s)
	}
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultKill, 0)
	w.die(s, Killed)
	return nil
}

// Crash is power loss: as Kill, and the disk loses every unflushed change. Valid for any node
// not already crashed (a stopped or killed node's machine can still lose power).
func (w *World) Crash(id int32) error {
	s, err := w.target(FaultCrash, id)
	if err != nil {
		return err
	}
	if s.state == Crashed {
		return stateErr(FaultCrash, s)
	}
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultCrash, 0)
	if s.alive() {
		w.die(s, Crashed)
	}
	s.state = Crashed
	s.disk.Crash()
	return nil
}

// Stop is a graceful shutdown of a running node. A Stopper becomes Stopping and gets Stop(now);
// when it calls Halt, or StopTimeout passes, the disk is flushed and it is Stopped. Any other
// node is flushed and Stopped at once.
func (w *World) Stop(id int32) error {
	s, err := w.target(FaultStop, id)
	if err != nil {
		return err
	}
	if s.state != Running || s.paused {
		return stateErr(FaultStop, s)
	}
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultStop, 0)
	st, ok := s.node.(Stopper)
	if !ok {
		s.disk.FlushAll()
		w.record(Halt, id, 0, 0, HaltStopped)
		w.die(s, Stopped)
		return nil
	}
	s.state = Stopping
	if w.opt.StopTimeout > 0 {
		w.push(item{at: w.now + w.opt.StopTimeout, to: s.idx, from: s.idx, inc: s.inc, kind: kStopTimeout})
	}
	st.Stop(w.now)
	return nil
}

// Restart starts a killed, crashed or stopped node again: a new incarnation built by its
// factory from the same disk.
func (w *World) Restart(id int32) error {
	s, err := w.target(FaultRestart, id)
	if err != nil {
		return err
	}
	if s.state != Killed && s.state != Crashed && s.state != Stopped {
		return stateErr(FaultRestart, s)
	}
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultRestart, 0)
	if s.rebooting {
		// The rebooted operating system resets the connections the lost process had
		// (and those peers opened to it while it was down): their requests will never be
		// answered.
		w.disconnect(s, true)
		s.rebooting = false
	}
	w.start(s)
	return nil
}

// Pause freezes a running or stopping node: deliveries and timers for it are held, in order,
// until Resume.
func (w *World) Pause(id int32) error {
	s, err := w.target(FaultPause, id)
	if err != nil {
		return err
	}
	if !s.alive() || s.paused {
		return stateErr(FaultPause, s)
	}
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultPause, 0)
	s.paused = true
	return nil
}

// Resume unfreezes a paused node: what was held is delivered in order right away, ahead of
// anything else due at Now().
func (w *World) Resume(id int32) error {
	s, err := w.target(FaultResume, id)
	if err != nil {
		return err
	}
	if !s.paused {
		return stateErr(FaultResume, s)
	}
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultResume, 0)
	s.paused = false
	for _, it := range s.held {
		it.at = w.now
		it.seq = w.holdSeq
		w.holdSeq++
		w.q.push(it, -1)
	}
	clear(s.held)
	s.held = s.held[:0]
	return nil
}

// Partition cuts every link between nodes of different groups, both ways. Nodes not named keep
// their links; existing cuts stay.
func (w *World) Partition(groups ...[]int32) {
	w.hold()
	defer w.release()
	for gi, g := range groups {
		for _, id := range g {
			w.faultEvent(id, 0, FaultPartition, int64(gi))
		}
	}
	for gi, g := range groups {
		for _, a := range g {
			sa := w.slot(a)
			for gj, h := range groups {
				if gj == gi {
					continue
				}
				for _, b := range h {
					sb := w.slot(b)
					if sa == sb {
						continue
					}
					if l := &w.links[sa.idx][sb.idx]; l.cut == 0 {
						l.cut = DropPartitioned
					}
				}
			}
		}
	}
}

// Isolate cuts id off from every other node (clients included, and nodes added later), both
// ways.
func (w *World) Isolate(id int32) {
	w.hold()
	defer w.release()
	w.faultEvent(id, 0, FaultIsolate, 0)
	w.slot(id).isolate = true
}

// Cut loses every message from `from` to `to` (one way).
func (w *World) Cut(from, to int32) {
	w.hold()
	defer w.release()
	w.faultEvent(from, to, FaultCut, 0)
	a, b := w.slot(from), w.slot(to)
	if a != b {
		w.links[a.idx][b.idx].cut = DropCut
	}
}

// Slow makes every message to and from id take `extra` longer (it replaces an earlier Slow of
// the same node).
func (w *World) Slow(id int32, extra time.Duration) {
	w.hold()
	defer w.release()
	if extra < 0 {
		extra = 0
	}
	w.faultEvent(id, 0, FaultSlow, int64(extra))
	w.slot(id).slow = extra
}

// Loss loses each message from `from` to `to` with probability p (clamped to [0, 1]).
func (w *World) Loss(from, to int32, p float64) {
	w.hold()
	defer w.release()
	if !(p > 0) { // also NaN
		p = 0
	}
	if p > 1 {
		p = 1
	}
	w.faultEvent(from, to, FaultLoss, lossParam(p))
	a, b := w.slot(from), w.slot(to)
	w.links[a.idx][b.idx].loss = p
}

// Heal undoes every network fault: cuts, partitions, isolation, slowness and loss.
func (w *World) Heal() {
	w.hold()
	defer w.release()
	w.faultEvent(0, 0, FaultHeal, 0)
	for _, row := range w.links {
		for j := range row {
			row[j].cut = 0
			row[j].loss = 0
		}
	}
	for _, s := range w.slots {
		s.slow = 0
		s.isolate = false
	}
}
