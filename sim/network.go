package sim

import "time"

// network is the simulated network between the world's nodes: a directed link for every
// ordered pair of slots, each delivering in order like one TCP connection, with latency drawn
// from the "network" stream; loss and cuts per link; slowness and isolation per node (its
// port). It decides when a message arrives or why it is lost; the world queues and traces it.
type network struct {
	links      [][]link // by sender slot index, then receiver slot index
	rng        *Rand    // the "network" stream: loss draws, then latency draws
	latencyMin time.Duration
	latencyMax time.Duration
}

// link is one direction of the connection between two nodes.
type link struct {
	last time.Duration // latest delivery time scheduled on this directed link (FIFO)
	loss float64
	cut  int64 // 0, DropPartitioned or DropCut
	// resetting: a connection reset is on its way over this link. A dead port resets a
	// connection once; the messages that follow it before the sender reacts get no reset of
	// their own.
	resetting bool
}

// port is a node's attachment to the network: the faults that touch every link of the node
// (Slow, Isolate) and the connections open in this incarnation.
type port struct {
	slow    time.Duration
	isolate bool
	peers   []bool // by slot index: exchanged messages in this incarnation (open connections)
}

func newNetwork(rng *Rand, latencyMin, latencyMax time.Duration) network {
	return network{rng: rng, latencyMin: latencyMin, latencyMax: latencyMax}
}

// addSlot adds the links to and from a new slot (the next index).
func (n *network) addSlot() {
	for i := range n.links {
		n.links[i] = append(n.links[i], link{})
	}
	n.links = append(n.links, make([]link, len(n.links)+1))
}

// cutReason is why nothing passes from `from` to `to` (DropPartitioned, DropCut), or 0.
func (n *network) cutReason(from, to *nodeSlot) int64 {
	if from.isolate || to.isolate {
		return DropPartitioned
	}
	return n.links[from.idx][to.idx].cut
}

// route decides the fate of what src sends to another node dst at now: a message, or (reset)
// a connection reset. It returns the arrival time, or why nothing arrives: the link is cut, a
// loss draw hit the message, or (resetPending) a reset is already on its way over the link.
// The latency is drawn from the network stream and both nodes' slowness added; the link keeps
// its order, so nothing arrives before what was sent on it earlier. A message that gets through
// opens the connection both ways.
func (n *network) route(now time.Duration, src, dst *nodeSlot, reset bool) (time.Duration, int64) {
	if r := n.cutReason(src, dst); r != 0 {
		return 0, r
	}
	l := &n.links[src.idx][dst.idx]
	if reset {
		if l.resetting {
			return 0, resetPending
		}
		l.resetting = true
	} else if l.loss > 0 && n.rng.Float64() < l.loss {
		return 0, DropLost
	}
	at := now + n.rng.Duration(n.latencyMin, n.latencyMax) + src.slow + dst.slow
	if at < l.last {
		at = l.last
	}
	l.last = at
	if !reset && (int(dst.idx) >= len(src.peers) || !src.peers[dst.idx]) {
		connect(src, dst)
	}
	return at, 0
}

// resetPending is route's answer when a connection reset is already on its way over the link:
// a dead port resets a connection once. It is not a drop reason.
const resetPending int64 = -1

// resetArrived notes that the connection reset on its way from slot from to slot to has
// arrived (or been dropped): a later one may follow.
func (n *network) resetArrived(from, to int32) { n.links[from][to].resetting = false }

// connect notes that a and b exchange messages (an open connection both ways).
func connect(a, b *nodeSlot) {
	for int(b.idx) >= len(a.peers) {
		a.peers = append(a.peers, false)
	}
	for int(a.idx) >= len(b.peers) {
		b.peers = append(b.peers, false)
	}
	a.peers[b.idx] = true
	b.peers[a.idx] = true
}

// send carries msg from src to node `to`: at once to itself, else over the link.
func (w *World) send(src *nodeSlot, to int32, msg any) {
	var dst *nodeSlot
	if i, ok := w.slotIndex(to); ok {
		dst = w.slots[i]
	}
	if dst == nil || !dst.added {
		w.dropMsg(to, src.id, msg, DropDown)
		return
	}
	if dst == src {
		w.push(item{at: w.now, msg: msg, to: dst.idx, from: src.idx, inc: dst.inc, kind: kDeliver})
		return
	}
	at, r := w.network.route(w.now, src, dst, false)
	if r != 0 {
		w.dropMsg(to, src.id, msg, r)
		return
	}
	w.push(item{at: at, msg: msg, to: dst.idx, from: src.idx, inc: dst.inc, kind: kDeliver})
}

// disconnect closes the connections of a process that dies. Unless its machine lost power
// (reset false), its peers are told (resetConnections).
func (w *World) disconnect(s *nodeSlot, reset bool) {
	if reset {
		w.resetConnections(s)
	}
	clear(s.peers)
}

// resetConnections tells the peers of a dying process that their connections to it are gone
// (Options.ConnectionReset). The reset travels like a message on the link, behind what is
// already in flight.
func (w *World) resetConnections(s *nodeSlot) {
	if w.opt.ConnectionReset == nil {
		return
	}
	for i, open := range s.peers {
		if !open {
			continue
		}
		dst := w.slots[i]
		if int(s.idx) < len(dst.peers) {
			dst.peers[s.idx] = false
		}
		if dst == s || !dst.alive() {
			continue
		}
		if at, r := w.network.route(w.now, s, dst, true); r == 0 {
			w.push(item{at: at, msg: w.opt.ConnectionReset(s.id), to: dst.idx, from: s.idx, inc: dst.inc, kind: kReset})
		}
	}
}

// refuse answers a message that reached a machine whose process is gone (killed, stopped, or
// restarted since the message was sent) with a connection reset to the sender, as the
// receiver's operating system does. A powered-off machine (crashed) answers nothing.
func (w *World) refuse(it *item) {
	if w.opt.ConnectionReset == nil || it.from < 0 || it.from == it.to {
		return
	}
	s, src := w.slots[it.to], w.slots[it.from]
	if !s.added || s.state == Crashed || !src.alive() {
		return
	}
	if at, r := w.network.route(w.now, s, src, true); r == 0 {
		w.push(item{at: at, msg: w.opt.ConnectionReset(s.id), to: src.idx, from: s.idx, inc: src.inc, kind: kReset})
	}
}

// CloseConnection closes this node's connections to peer, as a server closes a client's socket
// (Kafka's broker after an acks=0 produce it cannot take: the request has no response to carry
// the error). Peer receives a connection reset (Options.ConnectionReset) after the messages
// already in flight on the link; a cut link or a dead peer gets nothing.
func (h *Host) CloseConnection(peer int32) {
	w := h.w
	i, ok := w.slotIndex(peer)
	if !h.live() || !ok || w.opt.ConnectionReset == nil {
		return
	}
	s, dst := h.s, w.slots[i]
	if dst == s || !dst.alive() || w.cutReason(s, dst) != 0 {
		return
	}
	if int(dst.idx) < len(s.peers) {
		s.peers[dst.idx] = false
	}
	if int(s.idx) < len(dst.peers) {
		dst.peers[s.idx] = false
	}
	if at, r := w.network.route(w.now, s, dst, true); r == 0 {
		w.push(item{at: at, msg: w.opt.ConnectionReset(s.id), to: dst.idx, from: s.idx, inc: dst.inc, kind: kReset})
	}
}
