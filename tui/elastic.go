package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"kafkasim/tui/session"
)

// The elastic-cluster keys (tui/keys/elastic.go): b adds a broker, D decommissions the selected
// one (y confirms), R opens the command line with a reassignment of the selected partition to
// edit. Each types a scenario statement, so a session that used them is written out and
// replayed like any other.

// addBroker types `add broker N` for the next broker id.
func (m *Model) addBroker() {
	next := int32(0)
	for _, n := range m.s.Snapshot().Nodes {
		if !n.Controller {
			next = max(next, n.ID)
		}
	}
	m.exec(fmt.Sprintf(m.keys.AddBroker.Stmt, strconv.Itoa(int(next+1))))
}

// removeBroker asks to confirm `remove broker N` for the selected broker.
func (m *Model) removeBroker() {
	snap := m.s.Snapshot()
	if m.focus != focusCluster || m.selNode >= len(snap.Nodes) || snap.Nodes[m.selNode].Controller {
		m.msg = "select a broker first (tab to the brokers, j/k), then D"
		return
	}
	m.confirm = m.keys.RemoveBroker.Statement(snap.Nodes[m.selNode].Name, false)
}

// reassignPartition opens the command line with a move of the selected partition to edit.
func (m *Model) reassignPartition() {
	snap := m.s.Snapshot()
	if m.selPart >= len(snap.Partitions) {
		m.msg = "no partition selected"
		return
	}
	p := snap.Partitions[m.selPart]
	m.cmdline = true
	m.input = fmt.Sprintf(m.keys.Reassign.Stmt, p.Name(), joinIDs(suggestMove(snap, &p)))
	m.msg = ""
}

// suggestMove is the partition's target replicas with the last one moved to the highest
// running broker that holds no replica of it (unchanged when every running broker does).
func suggestMove(snap *session.Snapshot, p *session.Partition) []int32 {
	var target []int32
	for _, r := range p.Replicas {
		if !slices.Contains(p.Removing, r.Broker) {
			target = append(target, r.Broker)
		}
	}
	spare := int32(-1)
	for _, n := range snap.Nodes {
		if !n.Controller && !n.Down() && !n.Fenced && !slices.ContainsFunc(p.Replicas, func(r session.Replica) bool { return r.Broker == n.ID }) {
			spare = max(spare, n.ID)
		}
	}
	if spare >= 0 && len(target) > 0 {
		target[len(target)-1] = spare
	}
	return target
}

func joinIDs(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return strings.Join(parts, ",")
}

// reassigning reports whether a move is in progress in snap.
func reassigning(snap *session.Snapshot) bool {
	return slices.ContainsFunc(snap.Partitions, func(p session.Partition) bool { return p.Reassigning() })
}
