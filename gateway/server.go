package gateway

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"kafkasim/scenarios"
	"kafkasim/sim"
)

// Options configure a gateway.
type Options struct {
	Scenario  *scenarios.Scenario // the scenario to run (its set-up, then its script)
	Source    []byte              // its text, for the recording (nil: read again from its file)
	SetupOnly bool                // Scenario is a file's set-up alone (the live classroom)
	Seed      uint64              // 0: the scenario's, else 1
	Listen    string              // the first broker's address; the others count up from its port ("127.0.0.1:9092"); port 0: any free ports
	ListenAny bool                // allow an address that is not loopback
	Speed     float64             // virtual seconds per wall second (default 1)
	Record    io.Writer           // where to write the recording (nil: none)
	Log       io.Writer           // where to say what happens (nil: nowhere)
}

// FlagError is bad input that names the command-line flag at fault.
type FlagError struct {
	Flag string
	Err  error
}

func (e *FlagError) Error() string { return "--" + e.Flag + ": " + e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// Server is a running gateway: one listener per simulated broker, the world paced to the wall
// clock in a goroutine of its own.
type Server struct {
	o      Options
	ss     *session
	lns    []net.Listener // by broker, in broker order; nil while the broker is down
	ids    []int32
	addrs  map[int32]string
	inputs chan Input
	execs  chan execReq
	done   chan struct{}
	result *scenarios.Result

	mu     sync.Mutex
	socks  map[int]*sock
	nextID int
	remote map[int]string // connection → the client's address (watch.go)

	attached bool // Attach: the owner of the world pumps it (attach.go)
	closed   bool // Close has run (attached), or Run has returned
}

type execReq struct {
	text  string
	fn    func(ss *session)
	reply chan error
}

// sock is a client's socket as the gateway serves it: requests are read one at a time, each
// answered (or, acks=0, let through) before the next is read, as Kafka's SocketServer mutes a
// connection while its request is processed.
type sock struct {
	id     int
	broker int32
	nc     net.Conn
	out    chan []byte
	gone   chan struct{}
	once   sync.Once
}

func (k *sock) close() {
	k.once.Do(func() {
		close(k.gone)
		k.nc.Close()
	})
}

// Start validates the options, boots the scenario's cluster, opens one listener per broker
// and starts pacing the world. Stop it with Shutdown.
func Start(o Options) (*Server, error) {
	s, host, port, err := newServer(o)
	if err != nil {
		return nil, err
	}
	ss, err := newSession(o.Scenario, o.Seed, s.addrs, false)
	if err != nil {
		return nil, err
	}
	if err := s.open(ss, host, port); err != nil {
		return nil, err
	}
	if err := s.recording(ss.p.Seed(), false); err != nil {
		s.closeListeners()
		return nil, err
	}
	s.accepting()
	s.logf("serving %d brokers: %s (speed %gx)", len(s.ids), s.AddrList(), s.o.Speed)
	return s, nil
}

// newServer checks the options' address: HOST:PORT, loopback unless ListenAny.
func newServer(o Options) (*Server, string, int, error) {
	if o.Speed <= 0 {
		o.Speed = 1
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:9092"
	}
	host, portText, err := net.SplitHostPort(o.Listen)
	if err != nil {
		return nil, "", 0, &FlagError{"listen", fmt.Errorf("%q is not HOST:PORT", o.Listen)}
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, "", 0, &FlagError{"listen", fmt.Errorf("%q: the port is not a number from 0 to 65535", o.Listen)}
	}
	if !o.ListenAny && !loopback(host) {
		return nil, "", 0, &FlagError{"listen", fmt.Errorf("%s is not a loopback address; give --listen-any to serve beyond this machine", host)}
	}
	s := &Server{o: o, addrs: map[int32]string{}, inputs: make(chan Input, 1024), execs: make(chan execReq),
		done: make(chan struct{}), socks: map[int]*sock{}}
	return s, host, port, nil
}

// open opens one listener per broker of ss's cluster, on consecutive ports from port (0: any
// free ones), and makes ss the server's world.
func (s *Server) open(ss *session, host string, port int) error {
	ids := ss.c.BrokerIDs
	if port > 0 && port+len(ids)-1 > 65535 {
		return &FlagError{"listen", fmt.Errorf("ports %d..%d: past 65535", port, port+len(ids)-1)}
	}
	for i, id := range ids {
		addr := net.JoinHostPort(host, "0")
		if port > 0 {
			addr = net.JoinHostPort(host, strconv.Itoa(port+i))
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			s.closeListeners()
			return &FlagError{"listen", fmt.Errorf("broker %d: %v", id, err)}
		}
		s.lns = append(s.lns, ln)
		s.addrs[id] = ln.Addr().String()
	}
	ss.st.brokers = len(ids)
	s.ids = ids
	s.ss = ss
	ss.onResponse = s.deliver
	ss.onClosed = s.hangUp
	return nil
}

// accepting starts serving the listeners.
func (s *Server) accepting() {
	for i, ln := range s.lns {
		go s.accept(ln, s.ids[i])
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) logf(format string, args ...any) {
	if s.o.Log != nil {
		fmt.Fprintf(s.o.Log, "kafkasim serve: "+format+"\n", args...)
	}
}

// Addrs is each broker's listener address, by broker id.
func (s *Server) Addrs() map[int32]string { return s.addrs }

// AddrList is the listeners' addresses in broker order, comma-separated (a bootstrap list).
func (s *Server) AddrList() string {
	var out string
	for i, id := range brokerIDs(s.addrs) {
		if i > 0 {
			out += ","
		}
		out += s.addrs[id]
	}
	return out
}

// Seed is the seed the world runs on.
func (s *Server) Seed() uint64 { return s.ss.p.Seed() }

func (s *Server) closeListeners() {
	for _, ln := range s.lns {
		if ln != nil {
			ln.Close()
		}
	}
}

// syncListeners makes each broker's port follow its process, as a real broker's would: a
// broker that is down (killed, crashed, stopped) refuses connections, and listens again once
// it is restarted. Its open connections are closed by the world (a connection reset).
func (s *Server) syncListeners() {
	if s.closed {
		return
	}
	for i, id := range s.ids {
		up := s.ss.c.World.State(id) == sim.Running || s.ss.c.World.State(id) == sim.Paused || s.ss.c.World.State(id) == sim.Stopping
		switch {
		case !up && s.lns[i] != nil:
			s.lns[i].Close()
			s.lns[i] = nil
			s.mu.Lock()
			for _, k := range s.socks {
				if k.broker == id {
					k.close()
				}
			}
			s.mu.Unlock()
		case up && s.lns[i] == nil:
			ln, err := net.Listen("tcp", s.addrs[id])
			if err != nil {
				s.logf("broker %d restarted, but its port cannot be opened again: %v", id, err)
				continue
			}
			s.lns[i] = ln
			go s.accept(ln, id)
		}
	}
}

// Run paces the world until ctx ends, then ends the session (see Result).
func (s *Server) Run(ctx context.Context) *scenarios.Result {
	defer close(s.done)
	ss := s.ss
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	start, v0 := time.Now(), ss.c.Now()
	target := func() time.Duration {
		return v0 + time.Duration(float64(time.Since(start))*s.o.Speed)
	}
	for {
		select {
		case <-ctx.Done():
			s.closed = true
			s.closeListeners()
			s.mu.Lock()
			for _, k := range s.socks {
				k.close()
			}
			s.mu.Unlock()
			ss.advanceTo(target())
			s.result = ss.end()
			if f := ss.st.fetches; f != (FetchStats{}) {
				s.logf("the clients' fetches: %d opened a fetch session, %d incremental, %d without a session, %d refused (KIP-227)",
					f.Full, f.Incremental, f.Sessionless, f.Refused)
			}
			if ss.recErr != nil {
				s.logf("the recording could not be written: %v", ss.recErr)
			}
			return s.result
		case in := <-s.inputs:
			ss.advanceTo(target())
			s.apply(in)
			for more := true; more; {
				select {
				case in := <-s.inputs:
					s.apply(in)
				default:
					more = false
				}
			}
		case e := <-s.execs:
			ss.advanceTo(target())
			if e.fn != nil {
				e.fn(ss)
				e.reply <- nil
				continue
			}
			e.reply <- ss.apply(Input{Exec: e.text})
		case <-tick.C:
			ss.advanceTo(target())
		}
		s.syncListeners()
	}
}

func (s *Server) apply(in Input) {
	if err := s.ss.apply(in); err != nil {
		s.logf("connection %d: %v", in.Conn, err)
	}
}

// Exec runs a scenario statement (a fault, a heal, a send) in the world now, as a line typed
// into the terminal UI. It is part of the recording.
func (s *Server) Exec(text string) error {
	if s.attached {
		return errAttached
	}
	r := execReq{text: text, reply: make(chan error, 1)}
	select {
	case s.execs <- r:
		return <-r.reply
	case <-s.done:
		return errors.New("the session has ended")
	}
}

// accept serves one broker's listener.
func (s *Server) accept(ln net.Listener, broker int32) {
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nextID++
		k := &sock{id: s.nextID, broker: broker, nc: nc, out: make(chan []byte, 1), gone: make(chan struct{})}
		s.socks[k.id] = k
		if s.remote == nil {
			s.remote = map[int]string{}
		}
		s.remote[k.id] = nc.RemoteAddr().String()
		s.mu.Unlock()
		go s.serve(k)
	}
}

// serve reads a connection's requests. A frame that is not a request the gateway serves (an
// unknown key, a version outside the advertised range, bytes kmsg cannot read) closes the
// connection before anything reaches the world. ApiVersions is answered here. A reader of its
// own watches the socket while a request is in the world, so a client that gives up on it
// (its request timeout) and hangs up is noticed at once.
func (s *Server) serve(k *sock) {
	frames, eof := make(chan []byte), make(chan struct{})
	go func() {
		defer close(eof)
		var size [4]byte
		for {
			if _, err := io.ReadFull(k.nc, size[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(size[:])
			if n < 8 || n > maxFrame {
				s.logf("connection %d: a frame of %d bytes: closed", k.id, n)
				return
			}
			frame := make([]byte, n)
			if _, err := io.ReadFull(k.nc, frame); err != nil {
				return
			}
			select {
			case frames <- frame:
			case <-k.gone:
				return
			}
		}
	}()
	defer func() {
		k.close()
		s.mu.Lock()
		delete(s.socks, k.id)
		s.mu.Unlock()
		select {
		case s.inputs <- Input{Conn: k.id, Hangup: true}:
		case <-s.done:
		}
	}()
	for {
		var frame []byte
		select {
		case frame = <-frames:
		case <-eof:
			return
		case <-k.gone:
			return
		}
		p, err := parseRequest(frame)
		if err != nil {
			s.logf("connection %d: %v: closed", k.id, err)
			return
		}
		if p.key == 18 {
			if _, err := k.nc.Write(apiVersions(p)); err != nil {
				return
			}
			continue
		}
		select {
		case s.inputs <- Input{Conn: k.id, Broker: k.broker, Frame: frame}:
		case <-k.gone:
			return
		case <-s.done:
			return
		}
		select {
		case b := <-k.out:
			if b != nil {
				if _, err := k.nc.Write(b); err != nil {
					return
				}
			}
		case <-eof:
			return
		case <-k.gone:
			return
		}
	}
}

// deliver hands a connection's response to its socket (called as the world steps).
func (s *Server) deliver(conn int, b []byte) {
	s.mu.Lock()
	k := s.socks[conn]
	s.mu.Unlock()
	if k == nil {
		return
	}
	select {
	case k.out <- b:
	default:
	}
}

// hangUp closes a socket the world closed.
func (s *Server) hangUp(conn int) {
	s.mu.Lock()
	k := s.socks[conn]
	s.mu.Unlock()
	if k != nil {
		k.close()
	}
}

// Summary is one line on how a session ended.
func Summary(r *scenarios.Result) string {
	v := r.Verdict
	if v == "" {
		v = "not judged"
	}
	b, _ := json.Marshal(r.Anomalies)
	return fmt.Sprintf("seed %d  trace %016x  %.1fs simulated  %d events  %d ops  verdict %s  anomalies %s",
		r.Seed, r.TraceHash, r.SimSeconds, r.Events, r.Ops, v, b)
}

// do runs f in the pacing goroutine, between two steps of the world.
func (s *Server) do(f func(ss *session)) error {
	r := execReq{fn: f, reply: make(chan error, 1)}
	select {
	case s.execs <- r:
		return <-r.reply
	case <-s.done:
		return errors.New("the session has ended")
	}
}
