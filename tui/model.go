package tui

import (
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"kafkasim/tui/chart"
	"kafkasim/tui/clients"
	clusterview "kafkasim/tui/cluster"
	"kafkasim/tui/events"
	"kafkasim/tui/help"
	"kafkasim/tui/keys"
	"kafkasim/tui/partition"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
	"kafkasim/tui/verdict"
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
)

// Lower panes on narrow screens.
const (
	lowerEvents = iota
	lowerClients
	lowerChart
	lowerThroughput
	lowers
)

// Model is the UI's bubbletea model.
type Model struct {
	s    *session.Session
	st   *theme.Styles
	keys *keys.KeyMap
	opts Options
	w, h int

	playing bool
	speed   int
	focus   int
	selPart int
	selNode int
	lower   int
	help    bool
	cmdline bool
	input   string
	confirm string // a destructive statement waiting for y (present mode)
	msg     string
	wrote   string // the last file `w` wrote

	checks     bool // the checker pane is open
	selFinding int  // the selected finding in the checker pane
	syncJudge  bool // judge the history in Update instead of a tea.Cmd (tests: deterministic)
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
		m.frame()
		return m, tea.Batch(tick(), m.judge(false))
	case tea.KeyPressMsg:
		cmd := m.key(msg)
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

// frame advances the simulation by one frame's worth when playing.
func (m *Model) frame() {
	if !m.playing {
		return
	}
	switch sp := speeds[m.speed]; {
	case sp == 0:
		m.s.StepEvent()
	case sp < 0:
		start := time.Now()
		for time.Since(start) < frame*3/4 && !m.s.Snapshot().Paused {
			m.s.Advance(session.SnapEvery)
			if m.s.Rewound() {
				m.s.Seek(m.s.Len() - 1)
			}
		}
	default:
		m.s.Advance(sp * frame / time.Second)
	}
	if snap := m.s.Snapshot(); snap.Paused && !m.s.Rewound() {
		m.playing = false
		m.msg = "the script paused here: space continues"
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
	case key.Matches(k, km.Play.Binding):
		if snap.Paused && !m.s.Rewound() {
			m.s.Continue()
			m.playing = true
		} else {
			m.playing = !m.playing
		}
	case key.Matches(k, km.Step.Binding):
		m.playing = false
		m.s.StepEvent()
	case key.Matches(k, km.ToMark.Binding):
		m.playing = false
		m.s.ToMark()
	case key.Matches(k, km.Back.Binding):
		m.playing = false
		m.s.StepBack()
	case key.Matches(k, km.PrevMark.Binding):
		m.playing = false
		m.s.PrevMark()
	case key.Matches(k, km.NextMark.Binding):
		m.playing = false
		m.s.NextMark()
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
		m.focus = 1 - m.focus
	case key.Matches(k, km.Up.Binding):
		m.move(-1)
	case key.Matches(k, km.Down.Binding):
		m.move(1)
	case key.Matches(k, km.Lower.Binding):
		m.lower = (m.lower + 1) % lowers
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
		m.s.SeekTime(f.At)
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
	if m.focus == focusPartitions {
		m.selPart = max(0, min(len(snap.Partitions)-1, m.selPart+d))
	} else {
		m.selNode = max(0, min(len(snap.Nodes)-1, m.selNode+d))
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
	if m.focus == focusCluster && m.selNode < len(snap.Nodes) {
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
	if m.opts.Present && !restart {
		m.confirm = stmt
		return
	}
	m.exec(stmt)
}

func (m *Model) exec(stmt string) {
	fork := m.s.Rewound()
	if err := m.s.Exec(stmt); err != nil {
		m.msg = "✗ " + err.Error()
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

// Render draws the screen as a string (the golden tests compare it without colours).
func (m *Model) Render() string {
	w, h := max(m.w, 40), max(m.h, 12)
	if m.help {
		return help.Overlay(m.st, m.keys, w, h)
	}
	snap := m.s.Snapshot()
	hist := m.s.History()
	header := m.st.Header.Render(theme.Fit(m.header(snap), w))
	var capLines []string
	if snap.Caption != "" {
		maxLines := 2
		if m.st.Present {
			maxLines = 3
		}
		capLines = theme.Wrap("» "+snap.Caption, w-4)
		if len(capLines) > maxLines {
			capLines = capLines[:maxLines]
		}
	}
	caption := ""
	if len(capLines) > 0 {
		caption = m.st.Caption.Render(strings.Join(capLines, "\n"))
	}
	footer := m.footer(w)
	bodyH := h - 1 - 1 - lipgloss.Height(caption)
	if caption == "" {
		bodyH = h - 2
	}
	selNode, selPart := -1, m.selPart
	if m.focus == focusCluster {
		selNode, selPart = m.selNode, m.selPart
	}
	var body string
	if w >= 120 {
		lw := w * 45 / 100
		rw := w - lw - 1
		cl := clusterview.Render(snap, m.st, lw, selNode)
		cs := clients.Render(hist, m.st, lw)
		ck := m.checkerLine(lw)
		evH := bodyH - lipgloss.Height(cl) - lipgloss.Height(cs) - lipgloss.Height(ck) - 3
		left := cl + "\n\n" + cs + "\n\n" + ck + "\n" + events.Render(m.s.Events(), m.st, lw, evH, false)
		var right string
		if m.checks {
			right = m.checkerPane(rw, bodyH)
		} else {
			pt := partition.Render(snap, m.st, rw, 0, selPart)
			dt := partition.Detail(snap, m.st, rw, selPart)
			chH := bodyH - lipgloss.Height(pt) - lipgloss.Height(dt) - 2
			right = pt + "\n\n" + dt
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
		dt := partition.Detail(snap, m.st, w, selPart)
		fixed := lipgloss.Height(cl) + lipgloss.Height(dt) + 2
		rows := max(2, min(len(snap.Partitions), bodyH-fixed-2-5))
		pt := partition.Render(snap, m.st, w, rows, selPart)
		lowH := bodyH - fixed - lipgloss.Height(pt)
		var low string
		switch m.lower {
		case lowerClients:
			low = clients.Render(hist, m.st, w)
		case lowerChart:
			low = chart.Render(hist, m.st, w, lowH, selPart)
			if low == "" {
				low = events.Render(m.s.Events(), m.st, w, lowH, false)
			}
		case lowerThroughput:
			low = chart.Throughput(hist, m.st, w, lowH)
			if low == "" {
				low = clients.Render(hist, m.st, w)
			}
		default:
			low = events.Render(m.s.Events(), m.st, w, lowH, false)
		}
		body = theme.Block(cl+"\n"+pt+"\n"+dt+"\n"+low, w, bodyH)
	}
	parts := []string{header}
	if caption != "" {
		parts = append(parts, caption)
	}
	parts = append(parts, body, footer)
	return strings.Join(parts, "\n")
}

func (m *Model) header(snap *session.Snapshot) string {
	name := "classroom (live)"
	if !m.s.Live {
		name = m.s.Scenario().File
	}
	state := "▶ playing"
	if !m.playing {
		state = "‖ paused"
	}
	if snap.Paused && !m.s.Rewound() {
		state = "‖ script pause"
	}
	sp := speeds[m.speed]
	speed := "1 event/frame"
	switch {
	case sp < 0:
		speed = "max"
	case sp > 0:
		speed = fmt.Sprintf("×%g", sp.Seconds())
	}
	where := "now"
	if m.s.Rewound() {
		where = fmt.Sprintf("⏪ rewound %d/%d", m.s.Cursor()+1, m.s.Len())
	}
	s := fmt.Sprintf(" kafkasim · %s · seed %d · %.3fs", name, m.s.Seed(), snap.At.Seconds())
	if v := m.s.Verdict(); v.Verdict != "" {
		s += " · " + verdict.Word(v)
		if n := v.Total(); n > 0 {
			s += fmt.Sprintf(" (%d found)", n)
		}
	}
	s += fmt.Sprintf(" · %s %s · %s", state, speed, where)
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
