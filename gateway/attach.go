package gateway

import (
	"errors"

	"kafkasim/sim/cluster"
)

// Attach lets real Kafka clients into a cluster whose world another goroutine steps: the
// terminal UI's (kafkasim tui --listen). It opens one listener per broker as Start does, but
// paces nothing itself: the goroutine that steps the world calls Pump between two steps (the
// UI does each frame) and Close when it is done. Requests enter the world as Start's do, at
// the virtual time Pump drains them; nothing is recorded (o.Record is ignored), and o.Scenario,
// o.Seed and o.Speed are the caller's business.
func Attach(c *cluster.Cluster, o Options) (*Server, error) {
	s, host, port, err := newServer(o)
	if err != nil {
		return nil, err
	}
	s.attached = true
	if err := s.open(attachSession(c, s.addrs), host, port); err != nil {
		return nil, err
	}
	s.accepting()
	return s, nil
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
