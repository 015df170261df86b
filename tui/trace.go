package tui

import (
	"fmt"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"

	"kafkasim/sim"
	"kafkasim/tui/theme"
)

// traceModel browses a trace file written by `kafkasim run --trace`: its faults, halts,
// starts and observations (the deliveries, timers and drops are counted, not listed).
type traceModel struct {
	path  string
	lines []string
	other int
	top   int
	w, h  int
	st    *theme.Styles
}

func newTraceModel(path string, st *theme.Styles) (*traceModel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := &traceModel{path: path, st: st, w: 80, h: 24}
	r := sim.NewTraceFileReader(path, f)
	for l, ok := r.Next(); ok; l, ok = r.Next() {
		switch l.Kind {
		case "fault", "halt", "start", "observe":
			if l.Kind == "observe" && strings.Contains(l.Text, "history.") {
				m.other++
				continue
			}
			m.lines = append(m.lines, l.Text)
		default:
			m.other++
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *traceModel) Init() tea.Cmd { return nil }

func (m *traceModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
	case tea.KeyPressMsg:
		page := max(1, m.h-3)
		switch msg.String() {
		case "q", "ctrl+c":
			return m, tea.Quit
		case "down", "n", "right":
			m.top++
		case "up", "left":
			m.top--
		case "pgdown", "space":
			m.top += page
		case "pgup":
			m.top -= page
		case "g":
			m.top = 0
		case "G":
			m.top = len(m.lines)
		}
		m.top = max(0, min(m.top, len(m.lines)-page))
	}
	return m, nil
}

func (m *traceModel) View() tea.View {
	var b strings.Builder
	b.WriteString(m.st.Header.Render(theme.Fit(fmt.Sprintf(" kafkasim · trace %s · %d events shown, %d deliveries/timers/drops not listed", m.path, len(m.lines), m.other), m.w)) + "\n")
	end := min(len(m.lines), m.top+max(1, m.h-2))
	for _, l := range m.lines[m.top:end] {
		b.WriteString(theme.Fit(l, m.w) + "\n")
	}
	b.WriteString(m.st.Dim.Render("↑↓ scroll · space/pgdn page · g/G start/end · q quit"))
	v := tea.NewView(b.String())
	v.AltScreen = true
	return v
}
