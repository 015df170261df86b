package tui

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"kafkasim/gateway"
	"kafkasim/scenarios"
	"kafkasim/tui/session"
)

// listener is the gateway attached to the UI's world (--listen): real Kafka clients connect to
// one loopback port per broker, their requests enter the world each frame, and while it plays
// at a speed, virtual time follows the wall clock, as kafkasim serve paces it, so that the
// clients' own timeouts and the world's agree.
type listener struct {
	srv  *gateway.Server
	last time.Time // the wall time the world was last paced to
	rec  *os.File  // --record's file, nil without
	// Recorded is the session's end as the recording closed it (Close): kafkasim run --replay
	// of the file gives its trace hash.
	Recorded *scenarios.Result
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
	if m.opts.Listen == "" {
		return &gateway.FlagError{Flag: "record", Err: errors.New("records what real clients send: give --listen ADDR too")}
	}
	o := gateway.Options{Listen: m.opts.Listen, ListenAny: m.opts.ListenAny}
	if m.opts.Record != "" {
		f, err := os.Create(m.opts.Record)
		if err != nil {
			return &gateway.FlagError{Flag: "record", Err: err}
		}
		o.Record, o.Scenario, o.SetupOnly, o.Seed = f, m.s.Scenario(), m.opts.Scenario == nil, m.s.Seed()
		defer func() {
			if m.gw == nil {
				f.Close()
			} else {
				m.gw.rec = f
			}
		}()
	}
	srv, err := gateway.Attach(m.s.Cluster(), o)
	if err != nil {
		return err
	}
	if srv.Recording() {
		m.s.OnInput(srv.Note)
	}
	m.s.Live = true
	m.gw = &listener{srv: srv, last: time.Now()}
	m.s.WatchReal(func() []session.RealClient { return realClients(srv.Clients()) })
	first, _, _ := strings.Cut(srv.AddrList(), ",")
	m.msg = fmt.Sprintf("real Kafka clients welcome: kcat -b %s -L (brokers %s)", first, srv.AddrList())
	return nil
}

// Close closes the listeners and every client's connection (Run does once the UI quits).
// With --record, the session ends first as a served one does (its finish, the checker's
// verdict) and the recording closes with its trace hash.
func (m *Model) Close() {
	g := m.gw
	if g == nil {
		return
	}
	if g.rec != nil && g.Recorded == nil {
		g.srv.Pump()
		g.Recorded = g.srv.Finish(m.s.Player())
	}
	g.srv.Close()
	if g.rec != nil {
		g.rec.Close()
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
