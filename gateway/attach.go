package gateway

import (
	"errors"

	"kafkasim/scenarios"
	"kafkasim/sim/cluster"
)

// Attach lets real Kafka clients into a cluster whose world another goroutine steps: the
// terminal UI's (kafkasim tui --listen). It opens one listener per broker as Start does, but
// paces nothing itself: the goroutine that steps the world calls Pump between two steps (the
// UI does each frame) and Close when it is done. Requests enter the world as Start's do, at
// the virtual time Pump drains them. With o.Record, the session's inputs are written as Start
// writes them (o.Scenario, o.Source, o.SetupOnly and o.Seed, the seed the world runs on, then
// name what replays it), the owner's own statements and continues too (Note), and Finish ends
// the recording; o.Speed is the caller's business.
func Attach(c *cluster.Cluster, o Options) (*Server, error) {
	s, host, port, err := newServer(o)
	if err != nil {
		return nil, err
	}
	s.attached = true
	if err := s.open(attachSession(c, s.addrs), host, port); err != nil {
		return nil, err
	}
	if err := s.recording(o.Seed, true); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.accepting()
	return s, nil
}

// recording opens the recording, if the options ask for one, with its header.
func (s *Server) recording(seed uint64, attached bool) error {
	o := s.o
	if o.Record == nil {
		return nil
	}
	src := o.Source
	if src == nil {
		var err error
		if src, err = scenarios.Source(o.Scenario); err != nil {
			return err
		}
	}
	s.ss.rec = o.Record
	s.ss.record(header{Session: 1, Scenario: o.Scenario.File, Source: string(src), Seed: seed, Addrs: s.addrs,
		SetupOnly: o.SetupOnly, Attached: attached})
	return nil
}

// Note records what the owner of an attached gateway did to the world now, before doing it: a
// statement it runs (exec), or leaving a pause of the script (cont). Without a recording it
// does nothing.
func (s *Server) Note(exec string, cont bool) {
	if s.ss.rec != nil {
		s.ss.record(Input{T: s.ss.c.Now(), Exec: exec, Continue: cont})
	}
}

// Recording reports whether the attached gateway writes a recording.
func (s *Server) Recording() bool { return s.ss.rec != nil }

// Finish ends an attached gateway's recording as a served session ends: at the current instant
// every connection still open hangs up, the scenario's finish runs on p (the player that drives
// the world) and the checker judges the history; the trace hash closes the recording, so that
// kafkasim run --replay checks it. Call it as Pump, then Close.
func (s *Server) Finish(p *scenarios.Player) *scenarios.Result {
	if s.closed {
		return nil
	}
	s.ss.p = p
	return s.ss.end()
}

// Pump brings the requests and hang-ups waiting into the world at its current instant, and
// makes each broker's port follow its process (refused while it is down). Call it from the
// goroutine that steps the world, between two steps, while no other goroutine steps it.
func (s *Server) Pump() {
	if s.closed {
		return
	}
	for {
		select {
		case in := <-s.inputs:
			s.apply(in)
		default:
			s.syncListeners()
			return
		}
	}
}

// Close ends an attached gateway: the listeners and the sockets close, and every connection
// still open hangs up in the world (a send in flight is an unknown outcome in the history, once
// the world has stepped on). Call it as Pump. It may be called more than once.
func (s *Server) Close() {
	if s.closed {
		return
	}
	s.closed = true
	close(s.done)
	s.closeListeners()
	s.mu.Lock()
	for _, k := range s.socks {
		k.close()
	}
	s.mu.Unlock()
	s.ss.hangUpAll()
}

// Conns is the number of client connections open.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.socks)
}

var errAttached = errors.New("an attached gateway runs no statements: its owner steps the world")
