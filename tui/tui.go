package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	tea "charm.land/bubbletea/v2"

	"kafkasim/scenarios"
	"kafkasim/tui/keys"
	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// Options say what the UI plays.
type Options struct {
	Scenario  *scenarios.Scenario // nil: the classroom cluster, live
	Seed      uint64              // 0: the scenario's, else 1
	Present   bool                // classroom: larger bars, prominent captions, destructive keys confirm
	TracePath string              // a trace written by `kafkasim run --trace`: browse it instead
	ExportDir string              // where `w` writes (default: the working directory)
	Listen    string              // let real Kafka clients in: the first broker's HOST:PORT (listen.go)
	ListenAny bool                // allow a Listen address beyond loopback
	Record    string              // with Listen: write the session's inputs to this file, as serve --record does (listen.go)
	Highlight bool                // light what the caption shown names (story.Terms): the ISR column, the HW marker (the tour)
}

// Run opens the UI on the terminal and returns when the user quits.
func Run(opts Options) error {
	var m tea.Model
	if opts.TracePath != "" {
		tm, err := newTraceModel(opts.TracePath, theme.New(opts.Present))
		if err != nil {
			return err
		}
		m = tm
	} else {
		mm, err := New(opts)
		if err != nil {
			return err
		}
		defer mm.Close()
		m = mm
	}
	_, err := tea.NewProgram(m).Run()
	return err
}

// New builds the UI's model (tests drive it with Update and View, or teatest).
func New(opts Options) (*Model, error) {
	s, err := session.New(session.Options{Scenario: opts.Scenario, Seed: opts.Seed})
	if err != nil {
		return nil, err
	}
	m := &Model{s: s, st: theme.New(opts.Present), keys: keys.Default(), opts: opts, w: 80, h: 24, speed: defaultSpeed, playing: true}
	if opts.Listen != "" || opts.Record != "" {
		if err := m.attach(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// exportPath picks a file name that does not exist yet.
func exportPath(dir string, seed uint64) string {
	for i := 1; ; i++ {
		name := fmt.Sprintf("kafkasim-session-seed%d.scenario", seed)
		if i > 1 {
			name = fmt.Sprintf("kafkasim-session-seed%d-%d.scenario", seed, i)
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); os.IsNotExist(err) {
			return p
		}
	}
}

// frame is the time between two frames.
const frame = time.Second / 30

type tickMsg struct{}

func tick() tea.Cmd { return tea.Tick(frame, func(time.Time) tea.Msg { return tickMsg{} }) }
