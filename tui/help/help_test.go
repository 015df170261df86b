package help

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"kafkasim/tui/theme"
)

// The overlay at 80, 120 and 200 columns.
func TestHelpOverlayGolden(t *testing.T) {
	for _, w := range []int{80, 120, 200} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			golden.RequireEqual(t, ansi.Strip(Overlay(theme.New(false), w, 30)))
		})
	}
}

// Every key the issue names has a line in the help, and the overlay shows every line.
func TestHelpListsEveryKey(t *testing.T) {
	out := ansi.Strip(Overlay(theme.New(false), 120, 40))
	for _, k := range []string{"space", "n", "→", "N", "←", "[", "]", "g", "G", "+", "-", "tab", "k", "c", "s", "r", "p", "i", "h", "l", ":", "w", "?", "q"} {
		found := false
		for _, b := range Keys {
			for _, f := range strings.Fields(b.Keys) {
				found = found || f == k
			}
		}
		if !found {
			t.Errorf("help has no line for key %q", k)
		}
	}
	for _, b := range Keys {
		if !strings.Contains(out, b.What) {
			t.Errorf("overlay lacks %q:\n%s", b.What, out)
		}
	}
}
