package zookeeper

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kafkasim/broker"
	zk "kafkasim/broker/zookeeper"
	"kafkasim/sim/cluster"
	"kafkasim/tui/theme"
)

// State is the ensemble and the znode tree at one instant.
type State struct {
	Servers         []Server
	Leader          string // the established leader ("z2"), "" without a quorum
	Zxid            int64  // the last zxid of the tree shown
	Controller      int32  // the broker holding /controller, -1 if none
	ControllerEpoch int32  // /controller_epoch
	FromFollower    bool   // no leader: the tree is the most recent a running server holds
	Znodes          []Znode
	Internal        int // internal topics' partition states left out
}

// Server is one ZooKeeper server.
type Server struct {
	Name     string // z1
	State    string // the process: running, paused, killed…
	Role     string // looking, following, leading (running only)
	Epoch    int64
	Zxid     int64
	Sessions int // client sessions connected to it
	Leader   bool
}

// Znode is one line of the tree.
type Znode struct {
	Path      string
	Data      string // the data in words
	Version   int32
	Ephemeral bool
	Owner     int64 // the owning session of an ephemeral znode
}

// Capture reads the cluster's ensemble and tree; nil in KRaft mode.
func Capture(c *cluster.Cluster) *State {
	if !c.ZooKeeperMode() {
		return nil
	}
	s := &State{Controller: -1}
	leader := c.ZkLeader()
	for _, id := range c.ZooKeeper {
		sv := Server{Name: c.World.Name(id), State: c.World.State(id).String(), Leader: id == leader}
		if srv := c.ZooKeeperServer(id); srv != nil {
			sv.Role, sv.Epoch, sv.Zxid, sv.Sessions = srv.State().String(), srv.Epoch(), srv.Zxid(), srv.Connections()
		}
		if id == leader {
			s.Leader = sv.Name
		}
		s.Servers = append(s.Servers, sv)
	}
	t := c.ZkTree()
	if t == nil {
		return s
	}
	s.Zxid, s.FromFollower = t.Zxid, leader < 0
	add := func(path string) {
		n := t.Nodes[path]
		if n == nil {
			return
		}
		s.Znodes = append(s.Znodes, Znode{Path: path, Data: data(n), Version: n.Version, Ephemeral: n.EphemeralOwner != 0, Owner: n.EphemeralOwner})
	}
	if n := t.Nodes["/controller"]; n != nil {
		s.Controller, _ = n.Data.(int32)
	}
	if n := t.Nodes["/controller_epoch"]; n != nil {
		s.ControllerEpoch, _ = n.Data.(int32)
	}
	add("/controller")
	add("/controller_epoch")
	ids := t.Children("/brokers/ids")
	slices.SortFunc(ids, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	for _, id := range ids {
		add("/brokers/ids/" + id)
	}
	topics := t.Children("/brokers/topics")
	slices.Sort(topics)
	for _, name := range topics {
		parts := t.Children("/brokers/topics/" + name + "/partitions")
		if strings.HasPrefix(name, "__") {
			s.Internal += len(parts)
			continue
		}
		slices.SortFunc(parts, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
		for _, i := range parts {
			add("/brokers/topics/" + name + "/partitions/" + i + "/state")
		}
	}
	return s
}

// data is a znode's data in words.
func data(n *zk.Znode) string {
	switch d := n.Data.(type) {
	case int32:
		if strings.HasPrefix(n.Path, "/brokers/ids/") {
			return fmt.Sprintf("broker epoch (czxid) %s", Zxid(n.Czxid))
		}
		if n.Path == "/controller" {
			return fmt.Sprintf("broker %d", d)
		}
		return strconv.Itoa(int(d))
	case broker.ZkStateData:
		return fmt.Sprintf("leader %s  epoch %d  isr %s  ctl.epoch %d", leaderName(d.Leader), d.LeaderEpoch, set(d.ISR), d.ControllerEpoch)
	}
	return ""
}

func leaderName(id int32) string {
	if id < 0 {
		return "none"
	}
	return strconv.Itoa(int(id))
}

func set(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Zxid is a zxid as ZooKeeper prints it: 0x, the epoch, then the counter in eight hex digits.
func Zxid(z int64) string {
	if z <= 0 {
		return "0x0"
	}
	return fmt.Sprintf("0x%x%08x", z>>32, z&0xffffffff)
}

// Render draws the view in width columns and at most height lines (title included; height ≤
// 0: no limit); "…" says what was left out. A nil State (KRaft mode) draws nothing.
func Render(z *State, st *theme.Styles, width, height int) string {
	if z == nil {
		return ""
	}
	title := st.Title.Render("ZooKeeper")
	if z.Leader != "" {
		title += fmt.Sprintf("  leader %s  zxid %s", z.Leader, Zxid(z.Zxid))
	} else {
		title += st.Bad.Render("  no quorum: no leader, no writes, no session expiries")
	}
	lines := []string{theme.Fit(title, width)}
	for _, s := range z.Servers {
		lines = append(lines, server(s, st, width))
	}
	head := "  znodes"
	if z.FromFollower {
		head += " (the last committed tree a running server holds)"
	}
	lines = append(lines, st.Dim.Render(theme.Fit(head, width)))
	pathW := 0
	for _, n := range z.Znodes {
		pathW = max(pathW, len(n.Path))
	}
	pathW = min(pathW, max(20, width/2))
	for _, n := range z.Znodes {
		lines = append(lines, znode(n, z, st, width, pathW))
	}
	if z.Internal > 0 {
		lines = append(lines, st.Dim.Render(theme.Fit(fmt.Sprintf("    + %d partition states of internal topics", z.Internal), width)))
	}
	if height > 0 && len(lines) > height {
		cut := len(lines) - height + 1
		lines = append(lines[:height-1], st.Dim.Render(theme.Fit(fmt.Sprintf("  … %d more lines", cut), width)))
	}
	return strings.Join(lines, "\n")
}

// Height is the lines Render draws with no limit.
func Height(z *State) int {
	if z == nil {
		return 0
	}
	n := 2 + len(z.Servers) + len(z.Znodes)
	if z.Internal > 0 {
		n++
	}
	return n
}

func server(s Server, st *theme.Styles, width int) string {
	if s.State != "running" {
		return st.Bad.Render(theme.Fit(fmt.Sprintf("  %-3s ✖ %s", s.Name, s.State), width))
	}
	glyph, sty := "●", st.Good.Render
	switch {
	case s.Leader:
		glyph, sty = "★", st.Leader.Render
	case s.Role == "looking":
		glyph, sty = "?", st.Warn.Render
	}
	line := fmt.Sprintf("  %-3s %s %-9s epoch %d  zxid %s  sessions %d", s.Name, glyph, s.Role, s.Epoch, Zxid(s.Zxid), s.Sessions)
	return sty(theme.Fit(line, width))
}

func znode(n Znode, z *State, st *theme.Styles, width, pathW int) string {
	path := n.Path
	if len(path) > pathW {
		path = "…" + path[len(path)-pathW+1:]
	}
	line := fmt.Sprintf("    %-*s  %s", pathW, path, n.Data)
	if n.Ephemeral {
		line += fmt.Sprintf("  ephemeral, session 0x%x", n.Owner)
	} else {
		line += fmt.Sprintf("  v%d", n.Version)
	}
	line = theme.Fit(line, width)
	if n.Path == "/controller" {
		return st.Leader.Render(line)
	}
	return line
}
