package gateway

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"kafkasim/broker/node"
	"kafkasim/scenarios"
	"kafkasim/sim"
	"kafkasim/sim/cluster"
)

// connBase is the node id of the first client connection: above every id the cluster gives
// its own clients.
const connBase = node.ClientBase + 50_000

// Input is one thing from outside that entered the world, as a recording holds it: at
// virtual time T, a request frame from a connection, a connection hanging up, a statement
// typed into the session, or the end of the session.
type Input struct {
	T      time.Duration `json:"t"`
	Conn   int           `json:"conn,omitempty"`
	Broker int32         `json:"broker,omitempty"`
	Frame  []byte        `json:"frame,omitempty"`
	Hangup bool          `json:"hangup,omitempty"`
	Exec   string        `json:"exec,omitempty"`
	// Continue: the terminal UI's user left a pause of the script (an attached session's).
	Continue bool `json:"continue,omitempty"`
	End      bool `json:"end,omitempty"`
}

// header opens a recording: what replays it without the file the session ran.
type header struct {
	Session  int              `json:"kafkasim_session"`
	Scenario string           `json:"scenario"`
	Source   string           `json:"source"`
	Seed     uint64           `json:"seed"`
	Addrs    map[int32]string `json:"addrs"`
	// SetupOnly: the session served the file's set-up alone, as serve does the classroom.
	SetupOnly bool `json:"setup_only,omitempty"`
	// Attached: the terminal UI drove the session (kafkasim tui --listen --record): it served
	// from the boot, and a pause of the script lasted until a recorded Continue.
	Attached bool `json:"attached,omitempty"`
}

// trailer closes a recording: the trace hash the session ended with.
type trailer struct {
	TraceHash string `json:"trace_hash"`
}

// session is the world side of a gateway, the same live and in a replay: a scenario player
// whose cluster gets one node per client connection, and the inputs applied to it at the
// virtual times they were drained.
type session struct {
	p      *scenarios.Player
	c      *cluster.Cluster
	st     *store
	nodes  map[int]int32 // connection → its node
	order  []int         // connections in the order their nodes were made
	closed map[int]bool  // connections the world closed
	rec    io.Writer     // the recording, nil when none
	recErr error
	// observers of what the connections answer (the live server's sockets).
	onResponse func(conn int, b []byte)
	onClosed   func(conn int)
	frames     int
	ui         bool // the terminal UI drove it (header.Attached)
}

func newSession(s *scenarios.Scenario, seed uint64, addrs map[int32]string, ui bool) (*session, error) {
	p, err := scenarios.NewPlayer(s, scenarios.Options{Seed: seed})
	if err != nil {
		return nil, err
	}
	c := p.Cluster()
	if !ui {
		// The player has booted the cluster as the controller sees it; the clients ask
		// brokers, which learn from the metadata log a moment later. Serve once they all
		// know it. (The terminal UI serves from the boot.)
		c.RunUntil(func() bool { return brokersCaughtUp(c) }, 30*time.Second)
	}
	ss := attachSession(c, addrs)
	ss.p, ss.ui = p, ui
	return ss, nil
}

// attachSession is the world side of a gateway on a cluster someone else drives (the terminal
// UI's): no player, so neither advanceTo, Exec nor end.
func attachSession(c *cluster.Cluster, addrs map[int32]string) *session {
	ss := &session{c: c, st: newStore(addrs, c.Controllers), nodes: map[int]int32{}, closed: map[int]bool{}}
	c.World.OnObserve(ss.observe)
	return ss
}

// hangUpAll has every connection still open hang up now (in the order the connections began):
// their sends in flight become unknown outcomes in the history.
func (ss *session) hangUpAll() {
	for _, conn := range ss.order {
		if !ss.closed[conn] {
			ss.closed[conn] = true
			ss.c.World.Inject(ss.nodes[conn], &Hangup{})
		}
	}
}

func (ss *session) observe(_ time.Duration, _ int32, ev any) {
	switch e := ev.(type) {
	case *Response:
		if ss.onResponse != nil {
			ss.onResponse(e.Conn, e.Bytes)
		}
	case *Closed:
		ss.closed[e.Conn] = true
		if ss.onClosed != nil {
			ss.onClosed(e.Conn)
		}
	}
}

// advanceTo runs the scenario and the cluster to virtual time t; a pause in the script is
// continued at once (a session has nobody to press a key).
func (ss *session) advanceTo(t time.Duration) {
	for stuck := 0; ss.c.Now() < t && stuck < 3; {
		before := ss.c.Now()
		ss.p.Advance(t-before, nil)
		if ss.p.Paused() {
			if ss.ui {
				return // the UI's world stood still at the pause until a recorded Continue
			}
			ss.p.Continue()
		}
		if ss.c.Now() == before {
			stuck++
		} else {
			stuck = 0
		}
	}
	if ss.c.Now() < t {
		ss.c.RunFor(t - ss.c.Now())
	}
}

// apply brings one input into the world now, and records it.
func (ss *session) apply(in Input) error {
	in.T = ss.c.Now()
	var err error
	switch {
	case in.Exec != "":
		err = ss.p.Exec(in.Exec)
	case in.Continue:
		ss.p.Continue()
	case in.Hangup:
		id, ok := ss.nodes[in.Conn]
		if !ok || ss.closed[in.Conn] {
			return nil // nothing of it ever reached the world
		}
		ss.closed[in.Conn] = true
		ss.c.World.Inject(id, &Hangup{})
	case in.Frame != nil:
		id, ok := ss.nodes[in.Conn]
		if !ok {
			id = connBase + int32(len(ss.order))
			ss.nodes[in.Conn] = id
			ss.order = append(ss.order, in.Conn)
			st, conn, broker, started := ss.st, in.Conn, in.Broker, false
			if err := ss.c.World.Add(id, "conn"+strconv.Itoa(conn), func(h *sim.Host) sim.Node {
				if started {
					return nil // a connection does not come back: its client opens a new one
				}
				started = true
				return newConn(st, h, conn, broker)
			}); err != nil {
				return err
			}
		}
		ss.frames++
		ss.c.World.Inject(id, &Frame{Bytes: in.Frame})
	case in.End:
	default:
		return nil
	}
	ss.record(in)
	return err
}

func (ss *session) record(v any) {
	if ss.rec == nil || ss.recErr != nil {
		return
	}
	b, err := json.Marshal(v)
	if err == nil {
		_, err = ss.rec.Write(append(b, '\n'))
	}
	ss.recErr = err
}

// end closes the session at the current instant: every connection still open hangs up (in
// the order the connections began), then the scenario's finish runs and the checker judges the
// history, the real clients' operations included.
func (ss *session) end() *scenarios.Result {
	ss.apply(Input{End: true})
	ss.hangUpAll()
	ss.c.RunFor(time.Millisecond)
	res := ss.p.Finish()
	ss.record(trailer{TraceHash: fmt.Sprintf("%016x", res.TraceHash)})
	return res
}

// Replayed is what replaying a recording found.
type Replayed struct {
	Result   *scenarios.Result
	Recorded uint64 // the trace hash the live session recorded (0 if the recording has none)
	Frames   int
}

// Replay re-runs a recorded session headless, without sockets: the recording's scenario and
// seed, each input at its virtual time. The same binary gives the same trace hash.
func Replay(path string) (*Replayed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxFrame*2)
	if !sc.Scan() {
		return nil, fmt.Errorf("%s: empty, not a recorded session", path)
	}
	var h header
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Session != 1 {
		return nil, fmt.Errorf("%s:1: not a session recorded by kafkasim serve --record", path)
	}
	s, err := scenarios.Parse(h.Scenario, []byte(h.Source))
	if err != nil {
		return nil, err
	}
	if h.SetupOnly {
		s = s.SetupOnly()
	}
	ss, err := newSession(s, h.Seed, h.Addrs, h.Attached)
	if err != nil {
		return nil, err
	}
	out := &Replayed{}
	line := 1
	for sc.Scan() {
		line++
		var t trailer
		if json.Unmarshal(sc.Bytes(), &t) == nil && t.TraceHash != "" {
			out.Recorded, _ = strconv.ParseUint(t.TraceHash, 16, 64)
			continue
		}
		var in Input
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if in.T < ss.c.Now() {
			return nil, fmt.Errorf("%s:%d: time %v goes back", path, line, in.T)
		}
		ss.advanceTo(in.T)
		if in.End {
			break
		}
		if err := ss.apply(in); err != nil && in.Exec == "" {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
	}
	for sc.Scan() {
		var t trailer
		if json.Unmarshal(sc.Bytes(), &t) == nil && t.TraceHash != "" {
			out.Recorded, _ = strconv.ParseUint(t.TraceHash, 16, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out.Result = ss.end()
	out.Frames = ss.frames
	return out, nil
}

// brokerIDs lists the addresses' brokers in order.
func brokerIDs(addrs map[int32]string) []int32 { return slices.Sorted(maps.Keys(addrs)) }

// brokersCaughtUp reports whether every running broker's metadata image holds every broker
// and topic of the controller's committed image.
func brokersCaughtUp(c *cluster.Cluster) bool {
	want := c.Committed()
	if want == nil {
		return false
	}
	for _, id := range c.BrokerIDs {
		b := c.Broker(id)
		if b == nil {
			continue
		}
		im := b.Image()
		if len(im.BrokerIDs()) != len(want.BrokerIDs()) || len(im.TopicNames()) != len(want.TopicNames()) {
			return false
		}
		for _, bid := range im.BrokerIDs() {
			if r := im.Brokers[bid]; r == nil || r.Fenced != want.Brokers[bid].Fenced {
				return false
			}
		}
	}
	return true
}
