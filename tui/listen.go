package tui

import (
	"fmt"
	"strings"
	"time"

	"kafkasim/gateway"
	"kafkasim/tui/session"
)

// listener is the gateway attached to the UI's world (--listen): real Kafka clients connect to
// one loopback port per broker, their requests enter the world each frame, and while it plays
// at a speed, virtual time follows the wall clock, as kafkasim serve paces it, so that the
// clients' own timeouts and the world's agree.
type listener struct {
	srv  *gateway.Server
	last time.Time // the wall time the world was last paced to
}

// maxCatchUp bounds the wall time one frame makes up for: a world slower than the wall clock
// falls behind it rather than taking ever longer frames.
const maxCatchUp = 250 * time.Millisecond

// forkRefused: a statement while rewound would fork a timeline re-simulated from the seed,
// which cannot replay what the real clients sent.
const forkRefused = "✗ the real clients' requests cannot be re-simulated: G returns to now, where faults apply"

// attach opens the listeners on the session's cluster. The cluster then runs on past the
// script's end, as serve's does, until the user quits.
func (m *Model) attach() error {
	srv, err := gateway.Attach(m.s.Cluster(), gateway.Options{Listen: m.opts.Listen, ListenAny: m.opts.ListenAny})
	if err != nil {
		return err
	}
	m.s.Live = true
	m.gw = &listener{srv: srv, last: time.Now()}
	m.s.WatchReal(func() []session.RealClient { return realClients(srv.Clients()) })
	first, _, _ := strings.Cut(srv.AddrList(), ",")
	m.msg = fmt.Sprintf("real Kafka clients welcome: kcat -b %s -L (brokers %s)", first, srv.AddrList())
	return nil
}

// Close closes the listeners and every client's connection (Run does once the UI quits).
func (m *Model) Close() {
	if m.gw != nil {
		m.gw.srv.Close()
	}
}

// Listener is the gateway attached to the UI (nil without --listen).
func (m *Model) Listener() *gateway.Server {
	if m.gw == nil {
		return nil
	}
	return m.gw.srv
}

// pump runs every frame, before the world moves: the clients' requests waiting enter the world
// at its head instant, and the brokers' ports follow their processes. While the UI does not
// play, the world stands still and so do the requests (the clients' own timeouts run on): the
// pacing clock skips that time.
func (m *Model) pump() {
	g := m.gw
	if g == nil {
		return
	}
	g.srv.Pump()
	if !m.playing || len(m.captionQueue()) > 0 {
		g.last = time.Now()
		if n := g.srv.Conns(); n > 0 && m.msg == "" {
			m.msg = fmt.Sprintf("‖ %d client connections wait while time stands still; their own timeouts run on · space plays", n)
		}
	}
}

// paced is the virtual time one frame advances at speed sp (virtual time per wall second): a
// frame's worth, or while listening the wall time since the last frame at that speed.
func (m *Model) paced(sp time.Duration) time.Duration {
	if m.gw == nil {
		return sp * frame / time.Second
	}
	now := time.Now()
	wall := min(now.Sub(m.gw.last), maxCatchUp)
	m.gw.last = now
	return time.Duration(float64(wall) * sp.Seconds())
}

// realClients is the gateway's clients as the clients pane shows them.
func realClients(cs []gateway.Client) []session.RealClient {
	out := make([]session.RealClient, 0, len(cs))
	for _, c := range cs {
		out = append(out, session.RealClient{ID: c.ID, Addr: c.Addr, Brokers: c.Brokers, Open: c.Open, Cut: c.Cut, CutFrom: c.CutFrom, Stalled: c.Stalled,
			Produces: c.Produces, Consumes: c.Consumes, Groups: c.Groups, Sent: c.Sent, Acked: c.Acked, Errors: c.Errors, Polled: c.Polled})
	}
	return out
}

// note is the header's word on the listeners: where, and how many clients are connected.
func (g *listener) note() string {
	if g == nil {
		return ""
	}
	first, _, _ := strings.Cut(g.srv.AddrList(), ",")
	return fmt.Sprintf(" · clients at %s (%d conn)", first, g.srv.Conns())
}
