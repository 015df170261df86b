package gateway

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"kafkasim/broker/protocol"
)

// Client is one real client as a watcher of the world sees it (the terminal UI's clients
// pane): its connections grouped by client.id, what it does through them and how they stand.
type Client struct {
	ID      string // client.id ("" when it sends none)
	Addr    string // the remote address of its first connection
	Brokers []int32
	Open    int  // connections open
	Cut     bool // none open, and the world closed the last (its broker died or reset it)
	// CutFrom is the brokers the world closed a connection to (the broker died) that the
	// client has not connected to again since.
	CutFrom []int32
	// Stalled is the broker a request of its waits on past the request's own wait (a
	// network fault holds it), -1 none.
	Stalled  int32
	Produces []protocol.TopicPartition // partitions it sent records to
	Consumes []protocol.TopicPartition // partitions it polled records from
	Groups   []string                  // the groups it is a member of
	Sent     int64                     // records sent (a retry of a batch counts once)
	Acked    int64                     // records acknowledged
	Errors   int64                     // partition answers to its produces with an error
	Polled   int64                     // records polled
}

// Connected reports whether the client has a connection open.
func (c Client) Connected() bool { return c.Open > 0 }

// watched is what the store keeps of one client.id for watchers.
type watched struct {
	first    int // its first connection
	conns    []*conn
	produces map[protocol.TopicPartition]bool
	consumes map[protocol.TopicPartition]bool
	sent     map[int64]bool // first value id of a batch → counted in Sent
	acked    map[int64]bool // → counted in Acked
	cut      bool           // the last connection to close was closed by the world
	cutFrom  map[int32]bool // brokers a connection to was closed by the world, not yet reopened
	counts   Client
}

// watch registers a connection under its client.id.
func (s *store) watch(c *conn) *watched {
	w := s.watched[c.clientID]
	if w == nil {
		w = &watched{first: c.idx, produces: map[protocol.TopicPartition]bool{}, consumes: map[protocol.TopicPartition]bool{},
			sent: map[int64]bool{}, acked: map[int64]bool{}, cutFrom: map[int32]bool{}}
		if s.watched == nil {
			s.watched = map[string]*watched{}
		}
		s.watched[c.clientID] = w
		s.watchOrder = append(s.watchOrder, c.clientID)
	}
	w.conns = append(w.conns, c)
	delete(w.cutFrom, c.broker)
	return w
}

// closed notes a connection closing, by the world (its broker died) or by its client.
func (w *watched) closed(c *conn, byWorld bool) {
	w.cut = byWorld
	if byWorld {
		w.cutFrom[c.broker] = true
	}
}

// sending counts a produce request's batches.
func (w *watched) sending(pd *pending) {
	for _, pp := range pd.produce {
		w.produces[pp.TP] = true
		if first := pp.Batch.Value(0); !w.sent[first] {
			w.sent[first] = true
			w.counts.Sent += int64(pp.Batch.Len())
		}
	}
}

// answered counts a produce request's answers (nil: none came).
func (w *watched) answered(pd *pending, m *protocol.ProduceResponse) {
	if m == nil {
		return
	}
	for _, pr := range m.Partitions {
		for _, pp := range pd.produce {
			if pp.TP != pr.TP {
				continue
			}
			first := pp.Batch.Value(0)
			switch {
			case pr.Error != protocol.NONE:
				w.counts.Errors++
			case !w.acked[first]:
				w.acked[first] = true
				w.counts.Acked += int64(pp.Batch.Len())
			}
		}
	}
	w.counts.Errors += int64(len(pd.refused))
}

// polled counts a poll's records.
func (w *watched) polled(tp protocol.TopicPartition, n int) {
	w.consumes[tp] = true
	w.counts.Polled += int64(n)
}

// stallSlack is how long past its own wait a request must go unanswered to count as stalled.
const stallSlack = 2 * time.Second

// stalled reports the broker the connection's request waits on past its own wait, or -1.
func (c *conn) stalled(now time.Duration) int32 {
	pd := c.cur
	if c.closed || pd == nil {
		return -1
	}
	var wait time.Duration
	switch r := pd.p.req.(type) {
	case *kmsg.ProduceRequest:
		wait = time.Duration(r.TimeoutMillis) * time.Millisecond
	case *kmsg.FetchRequest:
		wait = time.Duration(r.MaxWaitMillis) * time.Millisecond
	case *kmsg.MetadataRequest, *kmsg.ListOffsetsRequest, *kmsg.FindCoordinatorRequest:
	default:
		return -1 // a group's or a transaction's request may wait on others by design
	}
	if now-pd.at <= wait+stallSlack {
		return -1
	}
	return c.broker
}

// clients is every client.id seen, in the order they first sent a request; addr gives a
// connection's remote address.
func (s *store) clients(now time.Duration, addr func(conn int) string) []Client {
	var out []Client
	for _, id := range s.watchOrder {
		w := s.watched[id]
		c := w.counts
		c.ID, c.Addr, c.Stalled = id, addr(w.first), -1
		for _, cn := range w.conns {
			if cn.closed {
				continue
			}
			c.Open++
			if !slices.Contains(c.Brokers, cn.broker) {
				c.Brokers = append(c.Brokers, cn.broker)
			}
			if b := cn.stalled(now); b >= 0 && c.Stalled < 0 {
				c.Stalled = b
			}
		}
		slices.Sort(c.Brokers)
		c.Cut = c.Open == 0 && w.cut
		c.CutFrom = slices.Sorted(maps.Keys(w.cutFrom))
		c.Produces, c.Consumes = sortedTPs(w.produces), sortedTPs(w.consumes)
		for _, o := range s.owners[id] {
			if !slices.Contains(c.Groups, o.group) {
				c.Groups = append(c.Groups, o.group)
			}
		}
		out = append(out, c)
	}
	return out
}

func sortedTPs(m map[protocol.TopicPartition]bool) []protocol.TopicPartition {
	return slices.SortedFunc(maps.Keys(m), func(a, b protocol.TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}

// Clients is every real client that has sent a request, as the world has them now, for a
// watcher: call it from the goroutine that steps the world (the UI's, between two steps).
func (s *Server) Clients() []Client {
	return s.ss.st.clients(s.ss.c.Now(), func(conn int) string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.remote[conn]
	})
}
