package tour

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"kafkasim/scenarios/tour"
)

func press(s string) tea.KeyPressMsg {
	if s == "enter" {
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	}
	return tea.KeyPressMsg{Code: []rune(s)[0], Text: s}
}

// playUntil advances the step's world, past its pauses, until the screen shows want; it
// returns the screen without colours.
func playUntil(t *testing.T, m *Model, want string) string {
	t.Helper()
	var screen string
	for range 400 {
		screen = ansi.Strip(m.Render())
		if strings.Contains(screen, want) {
			return screen
		}
		s := m.UI().Session()
		if s.Snapshot().Paused {
			s.Continue()
		}
		s.Advance(250 * time.Millisecond)
	}
	t.Fatalf("the screen never showed %q; the last:\n%s", want, screen)
	return ""
}

// The HW and LEO step lights the HW column and the HW marker when its caption speaks of the HW,
// and its line names the step and its seed sections.
func TestStepLightsWhatItsCaptionNames(t *testing.T) {
	m, err := New(Options{Lang: "en", Step: 12})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	screen := playUntil(t, m, "Can c1 read them?")
	first := strings.Split(screen, "\n")[0]
	if !strings.Contains(first, "tour 12/15") || !strings.Contains(first, "1.2 HW; 1.2 LEO") {
		t.Errorf("the tour's line %q; want step 12/15 and its sections", first)
	}
	for _, want := range []string{"▸HW", "┃", "▸LDR"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the caption speaks of the HW and the Leader, the screen has no %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, "▸ISR") {
		t.Errorf("the caption does not name the ISR, the screen lights it:\n%s", screen)
	}
}

// In Chinese, the captions are the seeds' words, and the terms they keep (ISR, OSR) light
// the same columns.
func TestChineseCaptionsLightTheSameTerms(t *testing.T) {
	m, err := New(Options{Lang: "zh", Step: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	screen := playUntil(t, m, "ISR 为 {1,2}")
	for _, want := range []string{"导览 11/15", "▸ISR {1,2}", "▸OSR {3}"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen has no %q:\n%s", want, screen)
		}
	}
}

// > and < move between steps; what an earlier step's UI asked for (a frame tick, a
// judgement) never reaches the next step's; past the last step the line says the tour is over.
func TestKeysMoveBetweenSteps(t *testing.T) {
	n := len(tour.Steps())
	m, err := New(Options{Lang: "en", Step: n - 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	old := m.gen
	if _, cmd := m.Update(press(">")); m.Step() != n || cmd == nil {
		t.Fatalf("> on step %d: step %d, cmd %v; want step %d and its frame clock", n-1, m.Step(), cmd, n)
	}
	if _, cmd := m.Update(tagged{old, tea.QuitMsg{}}); cmd != nil {
		t.Errorf("a message of the earlier step's UI got through: %v", cmd)
	}
	m.Update(press(">"))
	if m.Step() != n || !strings.Contains(ansi.Strip(m.Render()), "the tour is over") {
		t.Errorf("> on the last step: step %d, line %q; want to stay and say the tour is over", m.Step(), strings.Split(ansi.Strip(m.Render()), "\n")[0])
	}
	m.Update(press("<"))
	if m.Step() != n-1 {
		t.Errorf("< on step %d: step %d; want %d", n, m.Step(), n-1)
	}
	if _, cmd := m.Update(tagged{m.gen, tea.QuitMsg{}}); cmd == nil {
		t.Errorf("the step's own quit did not quit the tour")
	}
}

// Bad input names its flag and is exit status 2 (the exit function sees an error); --list
// prints every step.
func TestCommandFlags(t *testing.T) {
	var got error
	exit := func(ok bool, err error) error {
		got = err
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("failed")
		}
		return nil
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lang", "fr"}, "--lang"},
		{[]string{"--step", "0"}, "--step 0"},
		{[]string{"--step", "99", "--run"}, "--step 99"},
	} {
		got = nil
		cmd := Command("seed", exit)
		cmd.SetArgs(tc.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		if err := cmd.Execute(); err == nil || got == nil || !strings.Contains(got.Error(), tc.want) {
			t.Errorf("tour %v: error %v; want one naming %s", tc.args, got, tc.want)
		}
	}
	var out bytes.Buffer
	cmd := Command("seed", exit)
	cmd.SetArgs([]string{"--list", "--lang", "zh"})
	cmd.SetOut(&out)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != len(tour.Steps()) || !strings.Contains(out.String(), "高水位") {
		t.Errorf("tour --list --lang zh:\n%s\nwant %d lines in Chinese", out.String(), len(tour.Steps()))
	}
}
