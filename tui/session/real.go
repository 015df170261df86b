package session

import "kafkasim/broker/protocol"

// RealClient is a real Kafka client connected through the gateway (kafkasim --listen): its
// connections grouped by client.id, as the world has them at the snapshot's instant.
type RealClient struct {
	ID       string  // client.id
	Addr     string  // the remote address of its first connection
	Brokers  []int32 // the brokers it has connections open to
	Open     int     // connections open
	Cut      bool    // none open, and the world closed the last (its broker died)
	CutFrom  []int32 // brokers whose connection the world closed, not reopened since
	Stalled  int32   // a broker a request of its waits on past the request's own wait, -1 none
	Produces []protocol.TopicPartition
	Consumes []protocol.TopicPartition
	Groups   []string
	Sent     int64
	Acked    int64
	Errors   int64
	Polled   int64
}

// WatchReal has every snapshot taken from now on list the real clients f reports (f is
// called between two steps of the world).
func (s *Session) WatchReal(f func() []RealClient) {
	s.tl().real = f
	s.tl().snaps[len(s.tl().snaps)-1].Real = f()
}

// OnInput has f hear of every statement run (exec) and every pause left (cont) on the current
// timeline from now on, just before it happens: the gateway's recording (tui --listen --record).
func (s *Session) OnInput(f func(exec string, cont bool)) { s.tl().onInput = f }

func (tl *Timeline) noteInput(a action) {
	switch {
	case tl.onInput == nil:
	case a.kind == actExec:
		tl.onInput(a.text, false)
	case a.kind == actContinue:
		tl.onInput("", true)
	}
}
