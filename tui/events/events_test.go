package events

import (
	"kafkasim/tui/internal/viewtest"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The log's last lines at 80, 120 and 200 columns.
func TestEventsPaneGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.Events(), theme.New(false), w, 12, false) })
}

// The kill, the fencing and the election are in plain words with virtual time.
func TestElectionInPlainWords(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	out := ansi.Strip(Render(s.Events(), theme.New(false), 200, 40, false))
	for _, want := range []string{"⚡ kill 1", "controller fences broker 1", "orders/0: broker 2 elected leader, epoch 1, ISR {2,3}"} {
		if !strings.Contains(out, want) {
			t.Errorf("got\n%s\nwant %q", out, want)
		}
	}
}
