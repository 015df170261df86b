package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"kafkasim/tui/chart"
	"kafkasim/tui/clients"
	clusterview "kafkasim/tui/cluster"
	"kafkasim/tui/events"
	"kafkasim/tui/groups"
	"kafkasim/tui/help"
	"kafkasim/tui/keys"
	"kafkasim/tui/partition"
	"kafkasim/tui/reassign"
	"kafkasim/tui/session"
	"kafkasim/tui/story"
	"kafkasim/tui/theme"
	"kafkasim/tui/verdict"
	"kafkasim/tui/zookeeper"
)

// Speeds: virtual time per wall second, on a log scale; 0 is one event per frame, maxSpeed
// as fast as it goes.
var speeds = []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond,
	time.Second, 3 * time.Second, 10 * time.Second, 30 * time.Second, 100 * time.Second, -1}

const defaultSpeed = 5 // ×1

// Panes that take the selection.
const (
	focusPartitions = iota
	focusCluster
	focusClients
	focuses
)

// Lower panes on narrow screens.
const (
	lowerEvents = iota
	lowerClients
	lowerGroups // only when the scenario has consumer groups
	lowerChart
	lowerThroughput
	lowerReassign  // the moves in progress (tui/reassign)
	lowerZooKeeper // the ensemble and the znode tree, in ZooKeeper mode only (tui/zookeeper)
	lowers
)

// Model is the UI's bubbletea model.
type Model struct {
	s    *session.Session
	st   *theme.Styles
	keys *keys.KeyMap
	opts Options
	w, h int

	playing    bool
	speed      int
	focus      int
	selPart    int
	selNode    int
	selClient  int
	lower      int
	lowerSaved int // the lower pane before the clients took the selection
	help       bool
	cmdline    bool
	input      string
	confirm    string // a statement waiting for y (kill; every destructive one in present mode)
	msg        string
	wrote      string // the last file `w` wrote
	capSeen    int    // captions dismissed (present mode queues them)

	checks     bool // the checker pane is open
	selFinding int  // the selected finding in the checker pane
	syncJudge  bool // judge the history in Update instead of a tea.Cmd (tests: deterministic)

	gw *listener // real Kafka clients' listeners (--listen, listen.go), nil without
}

// judgedMsg brings back a history judgement run off the UI's thread.
type judgedMsg session.Judgement

// Session is the model's session (tests read it).
func (m *Model) Session() *session.Session { return m.s }

// Init starts the frame clock.
func (m *Model) Init() tea.Cmd { return tick() }

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tickMsg:
		m.pump()
		m.frame()
		m.end()
		return m, tea.Batch(tick(), m.judge(false))
	case tea.KeyPressMsg:
		cmd := m.key(msg)
		m.end()
		return m, tea.Batch(cmd, m.judge(false))
	case judgedMsg:
		m.s.Judged(session.Judgement(msg))
	}
	return m, nil
}

// judge starts the history judgement due (see session.JudgeWork): as a command, whose result
// comes back as a judgedMsg, or at once when syncJudge. force judges now whatever the time
// since the last. It reports through the message line when forced and nothing is due.
func (m *Model) judge(force bool) tea.Cmd {
	work := m.s.JudgeWork(force)
	if work == nil {
		if force {
			if m.s.Judging() {
				m.msg = "the checker is judging the history already"
			} else {
				m.msg = "no operation completed since the last judgement"
			}
		}
		return nil
	}
	if m.syncJudge {
		m.s.Judged(work())
		return nil
	}
	return func() tea.Msg { return judgedMsg(work()) }
}

// end runs the scenario's finish and verdict once its script has run to its end (at the head):
// the screen then shows the end and waits.
func (m *Model) end() {
	if !m.s.CanEnd() {
		return
	}
	m.playing = false
	if err := m.s.End(); err != nil {
		m.msg = "✗ the finish: " + err.Error()
		return
	}
	m.msg = "■ the end: the finish ran and the checker judged the run · ← [ g rewind · q quits"
}

// captionQueue is the say lines waiting to be dismissed (present mode, at the head).
func (m *Model) captionQueue() []session.Event {
	if !m.st.Present || m.s.Rewound() {
		return nil
	}
	caps := captions(m.s.Events())
	return caps[min(m.capSeen, len(caps)):]
}

// captions are the say lines among evs.
func captions(evs []session.Event) []session.Event {
	var out []session.Event
	for _, e := range evs {
		if e.Kind == session.Caption {
			out = append(out, e)
		}
	}
	return out
}

// frame advances the simulation by one frame's worth when playing (in present mode, not while
// a caption waits to be dismissed).
func (m *Model) frame() {
	if !m.playing || len(m.captionQueue()) > 0 {
		return
	}
	switch sp := speeds[m.speed]; {
	case sp == 0:
		m.s.StepEvent()
	case sp < 0:
		start := time.Now()
		for time.Since(start) < frame*3/4 && !m.s.Snapshot().Paused && !m.s.CanEnd() && !m.s.Ended() && len(m.captionQueue()) == 0 {
			m.s.Advance(session.SnapEvery)
			if m.s.Rewound() {
				m.s.Seek(m.s.Len() - 1)
			}
		}
	default:
		m.s.Advance(m.paced(sp))
	}
	if snap := m.s.Snapshot(); snap.Paused && !m.s.Rewound() {
		m.playing = false
		m.msg = "the script paused here: ask the class what happens next · space continues"
	}
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	km := m.keys
	if key.Matches(k, km.ForceQuit.Binding) {
		return tea.Quit
	}
	if m.help {
		m.help = false
		return nil
	}
	if m.cmdline {
		return m.cmdKey(k)
	}
	if m.checks {
		ck := &km.CheckerPane
		switch {
		case key.Matches(k, ck.Up.Binding):
			m.selFinding = max(0, m.selFinding-1)
			return nil
		case key.Matches(k, ck.Down.Binding):
			m.selFinding = min(max(0, len(m.s.HeadVerdict().Findings)-1), m.selFinding+1)
			return nil
		case key.Matches(k, ck.Show.Binding):
			m.jump()
			return nil
		case key.Matches(k, ck.Close.Binding):
			m.checks = false
			return nil
		}
	}
	if m.confirm != "" {
		if key.Matches(k, km.Confirm.Binding) {
			m.exec(m.confirm)
		} else {
			m.msg = "cancelled: " + m.confirm
		}
		m.confirm = ""
		return nil
	}
	m.msg = ""
	snap := m.s.Snapshot()
	switch {
	case key.Matches(k, km.Quit.Binding):
		return tea.Quit
	case key.Matches(k, km.Help.Binding):
		m.help = true
	case key.Matches(k, km.Caption.Binding):
		if q := m.captionQueue(); len(q) > 0 {
			m.capSeen = len(captions(m.s.Events())) - len(q) + 1
		} else {
			m.msg = "no caption waits"
		}
	case key.Matches(k, km.Play.Binding):
		if m.s.Ended() && !m.s.Rewound() {
			m.msg = "the scenario has ended · ← [ g rewind · q quits"
		} else if snap.Paused && !m.s.Rewound() {
			m.s.Continue()
			m.playing = true
		} else {
			m.playing = !m.playing
		}
	case key.Matches(k, km.Step.Binding):
		m.playing = false
		m.s.StepEvent()
	case key.Matches(k, km.ToMark.Binding), key.Matches(k, km.NextMark.Binding):
		m.playing = false
		m.s.ToMark()
	case key.Matches(k, km.Back.Binding):
		m.playing = false
		m.s.StepBack()
	case key.Matches(k, km.PrevMark.Binding):
		m.playing = false
		m.s.PrevMark()
	case key.Matches(k, km.Start.Binding):
		m.playing = false
		m.s.Seek(0)
	case key.Matches(k, km.Now.Binding):
		m.s.Seek(m.s.Len() - 1)
	case key.Matches(k, km.Faster.Binding):
		m.speed = min(len(speeds)-1, m.speed+1)
	case key.Matches(k, km.Slower.Binding):
		m.speed = max(0, m.speed-1)
	case key.Matches(k, km.Focus.Binding):
		m.nextFocus()
	case key.Matches(k, km.Up.Binding):
		m.move(-1)
	case key.Matches(k, km.Down.Binding):
		m.move(1)
	case key.Matches(k, km.Lower.Binding):
		m.lower = (m.lower + 1) % lowers
		if m.lower == lowerGroups && len(snap.Groups) == 0 {
			m.lower++
		}
		if m.lower == lowerZooKeeper && snap.ZooKeeper == nil {
			m.lower = (m.lower + 1) % lowers
		}
	case key.Matches(k, km.Timeline.Binding):
		if n := m.s.Timelines(); n > 1 {
			_ = m.s.SwitchTimeline(m.s.Timeline().ID%n + 1)
			m.msg = fmt.Sprintf("timeline %d of %d", m.s.Timeline().ID, n)
		} else {
			m.msg = "one timeline: inject a fault while rewound to fork another"
		}
	case key.Matches(k, km.Command.Binding):
		m.cmdline, m.input = true, ""
	case key.Matches(k, km.Write.Binding):
		m.write()
	case key.Matches(k, km.Checker.Binding):
		m.checks = !m.checks
	case key.Matches(k, km.Judge.Binding):
		return m.judge(true)
	case key.Matches(k, km.AddBroker.Binding):
		m.addBroker()
	case key.Matches(k, km.RemoveBroker.Binding):
		m.removeBroker()
	case key.Matches(k, km.Reassign.Binding):
		m.reassignPartition()
	default:
		for _, f := range km.Faults() {
			if key.Matches(k, f.Binding) {
				m.fault(f)
			}
		}
	}
	return nil
}

// jump shows the virtual time of the selected finding's first operation (or of the event an
// invariant failed after) and selects the partition it concerns.
func (m *Model) jump() {
	v := m.s.HeadVerdict()
	if len(v.Findings) == 0 {
		m.msg = "nothing found to show"
		return
	}
	f := v.Findings[max(0, min(m.selFinding, len(v.Findings)-1))]
	m.playing = false
	what := fmt.Sprintf("the first instant it shows: event %d failed it", f.Event)
	if f.Invariant {
		m.s.SeekEvent(f.Event)
	} else {
		m.s.SeekTime(f.Began)
	}
	if len(f.Ops) > 0 {
		op := f.Ops[0]
		for _, o := range f.Ops {
			if o.Invoke < op.Invoke {
				op = o
			}
		}
		what = fmt.Sprintf("op #%d: %s %s %s/%d", op.Index, op.Client, op.Type, op.Topic, op.Partition)
		for i, p := range m.s.Snapshot().Partitions {
			if p.Topic == op.Topic && p.Index == op.Partition {
				m.selPart, m.focus = i, focusPartitions
			}
		}
	}
	m.msg = fmt.Sprintf("⏪ %.3fs: %s, %s (G: now)", m.s.Snapshot().At.Seconds(), f.Name, what)
}

func (m *Model) move(d int) {
	snap := m.s.Snapshot()
	switch m.focus {
	case focusPartitions:
		m.selPart = max(0, min(len(snap.Partitions)-1, m.selPart+d))
	case focusCluster:
		m.selNode = max(0, min(len(snap.Nodes)-1, m.selNode+d))
	case focusClients:
		m.selClient = max(0, min(len(snap.Clients)-1, m.selClient+d))
	}
}

// nextFocus moves the selection to the next list: partitions, nodes, clients (when there are
// some). On a narrow screen the lower pane shows the clients while they have it, then what it
// showed before.
func (m *Model) nextFocus() {
	if m.focus == focusClients {
		m.lower = m.lowerSaved
	}
	m.focus = (m.focus + 1) % focuses
	if m.focus == focusClients && len(m.s.Snapshot().Clients) == 0 {
		m.focus = focusPartitions
	}
	if m.focus == focusClients {
		m.lowerSaved, m.lower = m.lower, lowerClients
	}
}

// fault types a fault key's statement about the selection: the selected broker, else the
// selected partition's leader (restart: its first replica that is down). In present mode the
// destructive ones wait for y.
func (m *Model) fault(f *keys.Binding) {
	if !f.Acts() {
		m.exec(f.Statement("", false))
		return
	}
	restart := f == &m.keys.Restart
	snap := m.s.Snapshot()
	var node string // the node the key acts on
	var paused bool
	if m.focus == focusClients && m.selClient < len(snap.Clients) {
		c := snap.Clients[m.selClient]
		node, paused = c.Name, c.Paused
	} else if m.focus == focusCluster && m.selNode < len(snap.Nodes) {
		n := snap.Nodes[m.selNode]
		node, paused = n.Name, n.State == "paused"
	} else if m.selPart < len(snap.Partitions) {
		p := snap.Partitions[m.selPart]
		if restart {
			for _, r := range p.Replicas {
				if !r.Up {
					node = fmt.Sprint(r.Broker)
					break
				}
			}
			if node == "" {
				m.msg = p.Name() + ": every replica is up (select a broker with tab to restart it)"
				return
			}
		} else {
			node = "leader " + p.Name()
			for _, n := range snap.Nodes {
				if !n.Controller && n.ID == p.Leader {
					paused = n.State == "paused"
				}
			}
		}
	}
	if node == "" {
		m.msg = "nothing selected"
		return
	}
	stmt := f.Statement(node, paused)
	if m.opts.Present && !restart || f == &m.keys.Kill {
		m.confirm = stmt
		return
	}
	m.exec(stmt)
}

func (m *Model) exec(stmt string) {
	fork := m.s.Rewound()
	if fork && m.gw != nil {
		m.msg = forkRefused
		return
	}
	if err := m.s.Exec(stmt); err != nil {
		var failed *session.FailedError
		if errors.As(err, &failed) {
			m.msg = "✗ " + failed.Why // it ran and failed: "stop 2 — broker 2 is crashed"
		} else {
			m.msg = "✗ " + stmt + ": " + err.Error()
		}
		return
	}
	m.msg = "✓ " + stmt
	if fork {
		m.msg += fmt.Sprintf(" — a new timeline (%d) from %.3fs; t switches", m.s.Timeline().ID, m.s.Timeline().ForkAt.Seconds())
	}
}

func (m *Model) cmdKey(k tea.KeyPressMsg) tea.Cmd {
	ck := &m.keys.CommandLine
	switch {
	case key.Matches(k, ck.Cancel.Binding):
		m.cmdline = false
	case key.Matches(k, ck.Run.Binding):
		m.cmdline = false
		if strings.TrimSpace(m.input) != "" {
			m.exec(strings.TrimSpace(m.input))
		}
	case key.Matches(k, ck.Erase.Binding):
		if r := []rune(m.input); len(r) > 0 {
			m.input = string(r[:len(r)-1])
		}
	case key.Matches(k, ck.Space.Binding):
		m.input += " "
	default:
		m.input += k.Text
	}
	return nil
}

func (m *Model) write() {
	text, err := m.s.Export()
	if err != nil {
		m.msg = "✗ write: " + err.Error()
		return
	}
	dir := m.opts.ExportDir
	if dir == "" {
		dir = "."
	}
	path := exportPath(dir, m.s.Seed())
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		m.msg = "✗ write: " + err.Error()
		return
	}
	m.wrote = path
	m.msg = "wrote " + path + " — kafkasim run " + path + " replays it"
}

// View draws the screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "kafkasim"
	return v
}

// Render draws the screen as a string (the golden tests compare it without colours): the
// header, the story strip, the captions, the panes, the bottom line. Every part shows the
// world as of one event index: the snapshot shown, taken right after the last line of the
// event log it shows.
func (m *Model) Render() string {
	w, h := max(m.w, 40), max(m.h, 12)
	if m.help {
		return help.Overlay(m.st, m.keys, w, h)
	}
	snap := m.s.Snapshot()
	hist := m.s.History()
	short := h < 30
	header := m.st.Header.Render(theme.Fit(m.header(snap), w))
	strip := story.Render(story.Marks(m.s.AllEvents(), m.s.HeadVerdict().Findings), m.s.Head().At, snap.At, m.st, w, !short)
	caption := m.captionBlock(snap, w)
	footer := m.footer(w)
	parts := []string{header}
	if strip != "" {
		parts = append(parts, strip)
	}
	if caption != "" {
		parts = append(parts, caption)
	}
	bodyH := h - lipgloss.Height(strings.Join(parts, "\n")) - 1
	selNode, selPart, selClient := -1, m.selPart, -1
	switch m.focus {
	case focusCluster:
		selNode = m.selNode
	case focusClients:
		selClient = m.selClient
	}
	partsFocused := m.focus == focusPartitions
	var ending string
	if m.s.Ended() && !m.s.Rewound() && !m.checks {
		ending = verdict.End(m.s.Result(), m.st, min(w, 120))
	}
	var body string
	if w >= 120 {
		lw := w * 45 / 100
		rw := w - lw - 1
		cl := clusterview.Render(snap, m.st, lw, selNode)
		cs := clients.Render(hist, m.st, lw, selClient)
		ck := m.checkerLine(lw)
		evH := bodyH - lipgloss.Height(cl) - lipgloss.Height(cs) - lipgloss.Height(ck) - 3
		left := cl + "\n\n" + cs + "\n\n" + ck + "\n" + events.Render(m.s.Events(), m.st, lw, evH, false)
		var right string
		switch {
		case m.checks:
			right = m.checkerPane(rw, bodyH)
		case ending != "":
			end := verdict.End(m.s.Result(), m.st, rw)
			pt := partition.Render(snap, m.st, rw, max(2, bodyH-lipgloss.Height(end)-4), selPart, partsFocused)
			right = end + "\n\n" + pt
		default:
			dt := partition.Detail(snap, m.st, rw, selPart)
			// With consumer groups, the Groups view goes under the partition's detail, whole
			// if it fits in half the height, and the charts get what is left.
			var gr string
			grH := 0
			if len(snap.Groups) > 0 {
				grH = min(groups.Height(snap), max(6, bodyH/2))
			}
			pt := partition.Render(snap, m.st, rw, max(3, bodyH-lipgloss.Height(dt)-4-8-grH), selPart, partsFocused)
			if grH > 0 {
				grH = min(grH, max(3, bodyH-lipgloss.Height(pt)-lipgloss.Height(dt)-3))
				gr = groups.Render(snap, m.st, rw, grH)
			}
			chH := bodyH - lipgloss.Height(pt) - lipgloss.Height(dt) - 2
			right = pt + "\n\n" + dt
			if reassigning(snap) { // the moves in progress, under the detail (tui/reassign)
				ra := reassign.Render(snap, m.st, rw, max(3, min(reassign.Height(snap), chH/2)))
				right += "\n\n" + ra
				chH -= lipgloss.Height(ra) + 2
			}
			if gr != "" {
				right += "\n\n" + gr
				chH -= lipgloss.Height(gr) + 2
			}
			if snap.ZooKeeper != nil { // the ensemble and the znodes (tui/zookeeper)
				zv := zookeeper.Render(snap.ZooKeeper, m.st, rw, max(3, min(zookeeper.Height(snap.ZooKeeper), chH/2)))
				right += "\n\n" + zv
				chH -= lipgloss.Height(zv) + 2
			}
			switch {
			case chH >= 20: // room for both charts: HW and LEO, then throughput
				tpH := chH / 3
				right += "\n\n" + chart.Render(hist, m.st, rw, chH-tpH-1, selPart) + "\n\n" + chart.Throughput(hist, m.st, rw, tpH-1)
			case chH >= 6:
				right += "\n\n" + chart.Render(hist, m.st, rw, chH, selPart)
			}
		}
		body = lipgloss.JoinHorizontal(lipgloss.Top, theme.Block(left, lw, bodyH), " ", theme.Block(right, rw, bodyH))
	} else if m.checks {
		body = m.checkerPane(w, bodyH)
	} else {
		cl := clusterview.Render(snap, m.st, w, selNode)
		if short {
			cl = clusterview.Compact(snap, m.st, w, selNode)
		}
		if ending != "" {
			body = theme.Block(ending+"\n"+partition.Render(snap, m.st, w, max(2, bodyH-lipgloss.Height(ending)-3), selPart, partsFocused), w, bodyH)
		} else {
			dt := partition.Detail(snap, m.st, w, selPart)
			minLow := 3 // the lower pane's title and two lines at least
			if m.lower == lowerGroups {
				// The Groups view takes the detail's room, and as much as it needs.
				dt = ""
				minLow = max(minLow, min(groups.Height(snap), bodyH/2))
			}
			dtH := 0
			if dt != "" {
				dtH = lipgloss.Height(dt)
			}
			fixed := lipgloss.Height(cl) + dtH + 2
			rows := max(2, min(len(snap.Partitions), bodyH-fixed-minLow))
			pt := partition.Render(snap, m.st, w, rows, selPart, partsFocused)
			lowH := bodyH - lipgloss.Height(cl) - dtH - lipgloss.Height(pt)
			var low string
			switch m.lower {
			case lowerClients:
				low = clients.Render(hist, m.st, w, selClient)
			case lowerGroups:
				low = groups.Render(snap, m.st, w, lowH)
			case lowerChart:
				low = chart.Render(hist, m.st, w, lowH, selPart)
				if low == "" {
					low = events.Render(m.s.Events(), m.st, w, lowH, false)
				}
			case lowerReassign:
				low = reassign.Render(snap, m.st, w, lowH)
			case lowerZooKeeper:
				low = zookeeper.Render(snap.ZooKeeper, m.st, w, lowH)
			case lowerThroughput:
				low = chart.Throughput(hist, m.st, w, lowH)
				if low == "" {
					low = clients.Render(hist, m.st, w, selClient)
				}
			default:
				low = events.Render(m.s.Events(), m.st, w, lowH, false)
			}
			if dt != "" {
				pt += "\n" + dt
			}
			body = theme.Block(cl+"\n"+pt+"\n"+low, w, bodyH)
		}
	}
	return strings.Join(append(parts, body, footer), "\n")
}

// captionBlock is the captions shown and what the script waits for. In present mode, at the
// head, the oldest caption not dismissed (enter), with how many wait behind it; else the say
// lines of the last instant that had some (two at one instant both show).
func (m *Model) captionBlock(snap *session.Snapshot, w int) string {
	maxLines := 3
	switch {
	case m.st.Present:
		maxLines = 4
	case m.h < 30:
		maxLines = 2
	}
	var text []string
	if q := m.captionQueue(); len(q) > 0 {
		t := "» " + q[0].Text
		if len(q) > 1 {
			t += fmt.Sprintf("  (1 of %d waiting · enter: next)", len(q))
		} else {
			t += "  (enter: dismiss)"
		}
		text = append(text, t)
	} else if !m.st.Present || m.s.Rewound() {
		caps := captions(m.s.Events())
		if m.s.Live && len(caps) == 0 && snap.Caption != "" {
			text = append(text, "» "+snap.Caption)
		}
		for i := len(caps) - 1; i >= 0 && caps[i].At == caps[len(caps)-1].At; i-- {
			text = append([]string{"» " + caps[i].Text}, text...)
		}
	}
	if m.opts.Highlight {
		m.st.Lit = story.Terms(strings.Join(text, " "))
	}
	var lines []string
	for _, t := range text {
		lines = append(lines, theme.Wrap(t, w-4)...)
	}
	if len(lines) > maxLines { // the newest say line matters most: keep the end
		lines = lines[len(lines)-maxLines:]
		lines[0] = "… " + lines[0]
	}
	out := ""
	if len(lines) > 0 {
		out = m.st.Caption.Render(strings.Join(lines, "\n"))
	}
	if snap.Waiting != "" && !snap.Ended {
		left := snap.Deadline - snap.At
		what := "left"
		if strings.HasPrefix(snap.Waiting, "await ") {
			what = "before it gives up"
		}
		wl := m.st.Warn.Render(theme.Fit(fmt.Sprintf("⧗ line %d: %s — %.1fs %s", snap.Line, snap.Waiting, left.Seconds(), what), w))
		if out != "" {
			out += "\n"
		}
		out += wl
	}
	return out
}

func (m *Model) header(snap *session.Snapshot) string {
	name := "classroom (live)"
	if m.opts.Scenario != nil {
		name = strings.TrimSuffix(filepath.Base(m.s.Scenario().File), ".scenario")
	}
	state := "▶ playing"
	switch {
	case snap.Ended:
		state = "■ the end"
	case len(m.captionQueue()) > 0:
		state = "‖ caption: enter"
	case snap.Paused && !m.s.Rewound():
		state = "‖ script pause"
	case !m.playing:
		state = "‖ paused"
	}
	sp := speeds[m.speed]
	speed := "1 event/frame"
	switch {
	case sp < 0:
		speed = "max"
	case sp > 0:
		speed = fmt.Sprintf("×%g", sp.Seconds())
	}
	// The instant and the event index first: every pane shows the world as of them.
	where := fmt.Sprintf("event %d", snap.Log)
	if m.s.Rewound() {
		where = fmt.Sprintf("event %d of %d ⏪", snap.Log, m.s.Head().Log)
	}
	s := fmt.Sprintf(" kafkasim · %s · seed %d · %.3fs · %s", name, m.s.Seed(), snap.At.Seconds(), where)
	if v := m.s.Verdict(); v.Verdict != "" {
		s += " · " + verdict.Word(v)
		if n := v.Total(); n > 0 {
			s += fmt.Sprintf(" (%d found)", n)
		}
	}
	s += fmt.Sprintf(" · %s %s", state, speed) + m.gw.note()
	if n := m.s.Timelines(); n > 1 {
		s += fmt.Sprintf(" · timeline %d/%d", m.s.Timeline().ID, n)
	}
	if snap.Line > 0 {
		s += fmt.Sprintf(" · line %d", snap.Line)
	}
	if snap.Failures > 0 {
		s += fmt.Sprintf(" · ✗ %d failed", snap.Failures)
	}
	return s
}

// checkerLine is the checker's verdict in one line, under the clients (wide screens).
func (m *Model) checkerLine(width int) string {
	v := m.s.Verdict()
	line := m.st.Title.Render("Checker") + "  " + verdict.Word(v)
	if n := v.Total(); n > 0 {
		line += fmt.Sprintf(" · %d found", n)
	}
	if !m.checks {
		line += m.st.Dim.Render(" · a lists")
	}
	if v.Provisional > 0 {
		line += fmt.Sprintf(" · %d unseen so far", v.Provisional)
	}
	if j := v.Judged; j != nil {
		line += m.st.Dim.Render(fmt.Sprintf(" · judged %.3fs, %d ops", j.At.Seconds(), j.Ops))
	}
	if v.Pending {
		line += m.st.Dim.Render(" · judging…")
	}
	return theme.Fit(line, width)
}

// checkerPane is the checker's findings so far (at the head, also while rewound).
func (m *Model) checkerPane(width, height int) string {
	v := m.s.HeadVerdict()
	m.selFinding = max(0, min(m.selFinding, len(v.Findings)-1))
	note := ""
	if m.s.Rewound() {
		note = fmt.Sprintf("found up to now (%.3fs); the screen shows %.3fs · G: now", m.s.Head().At.Seconds(), m.s.Snapshot().At.Seconds())
	}
	return verdict.Render(v, m.st, width, height, m.selFinding, note)
}

func (m *Model) footer(w int) string {
	switch {
	case m.cmdline:
		return theme.Fit(":"+m.input+"█", w)
	case m.confirm != "":
		return m.st.Warn.Render(theme.Fit(m.confirm+"? y confirms, any other key cancels", w))
	case m.msg != "":
		return theme.Fit(m.msg, w)
	}
	return help.Hint(m.st, m.keys, w)
}
