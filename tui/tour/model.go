package tour

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"kafkasim/scenarios/tour"
	"kafkasim/tui"
	"kafkasim/tui/theme"
)

// Options say how the tour plays.
type Options struct {
	Lang    string // "en" or "zh"
	Step    int    // the first step, 1-based
	Seed    uint64 // 0: each step's own
	Present bool   // classroom mode, as tui --present
}

// Model is the tour's bubbletea model: the UI of the step playing (a tui.Model) under one line
// naming the step.
type Model struct {
	o     Options
	steps []tour.Step
	i     int // the step playing, 0-based
	gen   int // bumped by every step change: messages of an earlier step's UI are dropped
	cur   *tui.Model
	st    *theme.Styles
	w, h  int
	msg   string
}

// tagged is a message that a step's UI asked for (a frame tick, a judgement), tagged with the
// step change it belongs to, so that it never reaches the UI of another step.
type tagged struct {
	gen int
	msg tea.Msg
}

// New builds the tour's model on step o.Step.
func New(o Options) (*Model, error) {
	m := &Model{o: o, steps: tour.Steps(), st: theme.New(o.Present), w: 80, h: 24}
	if o.Step < 1 || o.Step > len(m.steps) {
		return nil, fmt.Errorf("--step %d: the tour has steps 1..%d", o.Step, len(m.steps))
	}
	if err := tour.CheckLang(o.Lang); err != nil {
		return nil, err
	}
	if err := m.load(o.Step - 1); err != nil {
		return nil, err
	}
	return m, nil
}

// Step is the step playing, 1-based.
func (m *Model) Step() int { return m.i + 1 }

// UI is the step's UI (tests read it).
func (m *Model) UI() *tui.Model { return m.cur }

// load opens step i's UI.
func (m *Model) load(i int) error {
	s, err := m.steps[i].Scenario(m.o.Lang)
	if err != nil {
		return err
	}
	ui, err := tui.New(tui.Options{Scenario: s, Seed: m.o.Seed, Present: m.o.Present, Highlight: true})
	if err != nil {
		return err
	}
	if m.cur != nil {
		m.cur.Close()
	}
	m.cur, m.i = ui, i
	m.gen++
	m.cur.Update(tea.WindowSizeMsg{Width: m.w, Height: max(1, m.h-1)})
	return nil
}

// Init starts the first step's frame clock.
func (m *Model) Init() tea.Cmd { return m.wrap(m.cur.Init()) }

// wrap tags what cmd brings back with the current step change.
func (m *Model) wrap(cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	gen := m.gen
	return func() tea.Msg { return tagged{gen, cmd()} }
}

// Update handles one message: the tour's keys, else the step's UI's.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tagged:
		if msg.gen != m.gen {
			return m, nil // an earlier step's tick or judgement
		}
		switch inner := msg.msg.(type) {
		case nil:
			return m, nil
		case tea.QuitMsg:
			return m, tea.Quit
		case tea.BatchMsg:
			cmds := make([]tea.Cmd, len(inner))
			for i, c := range inner {
				cmds[i] = m.wrap(c)
			}
			return m, tea.Batch(cmds...)
		default:
			return m.forward(inner)
		}
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		return m.forward(tea.WindowSizeMsg{Width: msg.Width, Height: max(1, msg.Height-1)})
	case tea.KeyPressMsg:
		m.msg = ""
		s := m.cur.Session()
		switch k := msg.String(); {
		case k == ">", k == "enter" && s.Ended() && !s.Rewound():
			return m.goTo(m.i + 1)
		case k == "<":
			return m.goTo(m.i - 1)
		}
	}
	return m.forward(msg)
}

// forward hands msg to the step's UI.
func (m *Model) forward(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.cur.Update(msg)
	return m, m.wrap(cmd)
}

// goTo starts step i (0-based), with its own frame clock.
func (m *Model) goTo(i int) (tea.Model, tea.Cmd) {
	switch {
	case i >= len(m.steps):
		m.msg = "the tour is over: < goes back a step · q quits"
		return m, nil
	case i < 0:
		m.msg = "this is the first step"
		return m, nil
	}
	if err := m.load(i); err != nil {
		m.msg = "✗ " + err.Error()
		return m, nil
	}
	return m, m.wrap(m.cur.Init())
}

// Close releases the step's UI.
func (m *Model) Close() { m.cur.Close() }

// View draws the tour's line over the step's UI.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = "kafkasim tour"
	return v
}

// Render draws the screen as a string: the tour's line, then the step's UI.
func (m *Model) Render() string {
	return m.line() + "\n" + m.cur.Render()
}

// line names the step, its title and the seed sections it shows, and the tour's keys.
func (m *Model) line() string {
	st := m.steps[m.i]
	word := map[string]string{"en": "tour", "zh": "导览"}[m.o.Lang]
	s := fmt.Sprintf(" %s %d/%d · %s · %s", word, m.i+1, len(m.steps), st.TitleIn(m.o.Lang), strings.Join(st.Sections, "; "))
	keys := " · > next step · < previous"
	if m.msg != "" {
		keys = " · " + m.msg
	} else if m.cur.Session().Ended() && m.i+1 < len(m.steps) {
		keys = " · enter: the next step · < previous"
	}
	w := max(m.w, 40)
	return m.st.Title.Render(theme.Fit(s, max(10, w-ansi.StringWidth(keys)))) + m.st.Dim.Render(theme.Fit(keys, min(w-10, ansi.StringWidth(keys))))
}
