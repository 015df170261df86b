package compare

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"kafkasim/tui/keys"
)

// Speeds: virtual time per wall second.
var speeds = []time.Duration{10 * time.Millisecond, 30 * time.Millisecond, 100 * time.Millisecond,
	300 * time.Millisecond, time.Second, 3 * time.Second, 10 * time.Second, 30 * time.Second}

const defaultSpeed = 4 // ×1

// frame is the time between two frames.
const frame = time.Second / 30

type tickMsg struct{}

func tick() tea.Cmd { return tea.Tick(frame, func(time.Time) tea.Msg { return tickMsg{} }) }

// km is the single-world UI's key map: the comparison answers the same keys.
var km = keys.Default()

// Init starts the frame clock.
func (m *Model) Init() tea.Cmd { return tick() }

// Update handles one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tickMsg:
		m.frame()
		return m, tea.Batch(tick(), m.judge())
	case tea.KeyPressMsg:
		cmd := m.key(msg)
		return m, tea.Batch(cmd, m.judge())
	case judgedMsg:
		m.sides[msg.i].S.Judged(msg.j)
	}
	return m, nil
}

// frame moves both worlds by one frame's worth of virtual time while playing.
func (m *Model) frame() {
	if !m.playing {
		return
	}
	if m.Advance(speeds[m.speed]*frame/time.Second, nil) {
		m.playing = false
		m.msg = m.pauseNote()
	}
	m.ending()
}

// pauseNote says which script paused, and where.
func (m *Model) pauseNote() string {
	var who []string
	for _, sd := range m.sides {
		if h := sd.S.Head(); h.Paused && !h.Ended {
			who = append(who, fmt.Sprintf("%s at line %d", sd.Setting, h.Line))
		}
	}
	return "‖ the script paused (" + strings.Join(who, ", ") + "): ask the class what happens in each world · space continues"
}

// ending stops playing once both worlds have ended.
func (m *Model) ending() {
	if m.Ended() && m.playing {
		m.playing = false
		m.msg = "■ the end: both worlds ran their finish and the checker judged them · q quits"
	}
}

func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, km.ForceQuit.Binding) {
		return tea.Quit
	}
	if m.cmdline {
		m.cmdKey(k)
		return nil
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
	switch {
	case key.Matches(k, km.Quit.Binding):
		return tea.Quit
	case key.Matches(k, km.Play.Binding):
		switch {
		case m.Ended():
			m.msg = "both worlds have ended · q quits"
		case m.paused():
			m.Continue()
			m.playing = true
		default:
			m.playing = !m.playing
		}
	case key.Matches(k, km.Step.Binding):
		m.playing = false
		if m.paused() {
			m.Continue()
		}
		if m.Step() {
			m.msg = m.pauseNote()
		}
		m.ending()
	case key.Matches(k, km.Faster.Binding):
		m.speed = min(len(speeds)-1, m.speed+1)
	case key.Matches(k, km.Slower.Binding):
		m.speed = max(0, m.speed-1)
	case key.Matches(k, km.Up.Binding):
		m.selPart = max(0, m.selPart-1)
	case key.Matches(k, km.Down.Binding):
		m.selPart = min(max(0, len(m.sides[0].S.Head().Partitions)-1), m.selPart+1)
	case key.Matches(k, km.Command.Binding):
		m.cmdline, m.input = true, ""
	default:
		for _, f := range km.Faults() {
			if key.Matches(k, f.Binding) {
				m.fault(f)
			}
		}
	}
	return nil
}

// fault types a fault key's statement about the selected partition's leader, in each world its
// own (restart needs a broker: type it, :restart 1). Kill, and every fault in present mode,
// waits for y.
func (m *Model) fault(f *keys.Binding) {
	if f == &km.Restart {
		m.msg = "type which broker to restart in both worlds: :restart 1"
		return
	}
	stmt := f.Statement("", false)
	if f.Acts() {
		parts := m.sides[0].S.Head().Partitions
		if m.selPart >= len(parts) {
			m.msg = "no partition selected"
			return
		}
		stmt = f.Statement("leader "+parts[m.selPart].Name(), false)
	}
	if m.st.Present || f == &km.Kill {
		m.confirm = stmt
		return
	}
	m.exec(stmt)
}

func (m *Model) exec(stmt string) {
	if err := m.Exec(stmt); err != nil {
		m.msg = "✗ " + stmt + ": " + err.Error()
		return
	}
	m.msg = "✓ " + stmt + " (both worlds)"
}

func (m *Model) cmdKey(k tea.KeyPressMsg) {
	ck := &km.CommandLine
	switch {
	case key.Matches(k, ck.Cancel.Binding):
		m.cmdline = false
	case key.Matches(k, ck.Run.Binding):
		m.cmdline = false
		if s := strings.TrimSpace(m.input); s != "" {
			m.exec(s)
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
}

// View draws the screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "kafkasim compare"
	return v
}
