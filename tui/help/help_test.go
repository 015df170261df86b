package help

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"kafkasim/tui/keys"
	"kafkasim/tui/theme"
)

// The overlay at 80×24 (two columns), 120×40 and 200×50.
func TestHelpOverlayGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 50}} {
		t.Run(fmt.Sprint(size[0]), func(t *testing.T) {
			out := ansi.Strip(Overlay(theme.New(false), keys.Default(), size[0], size[1]))
			if n := strings.Count(out, "\n") + 1; n != size[1] {
				t.Errorf("overlay is %d lines; want the screen's %d", n, size[1])
			}
			golden.RequireEqual(t, out)
		})
	}
}

// Every key the issue names has a line in the help, and the overlay shows every line.
func TestHelpListsEveryKey(t *testing.T) {
	km := keys.Default()
	out := ansi.Strip(Overlay(theme.New(false), km, 120, 40))
	for _, k := range []string{"space", "n", "→", "N", "←", "[", "]", "g", "G", "+", "-", "tab", "j", "k", "K", "c", "s", "r", "p", "i", "h", "l", ":", "w", "?", "q", "a", "x", "enter"} {
		found := false
		for _, b := range km.Lines() {
			for _, f := range strings.Fields(b.Help().Key) {
				found = found || f == k
			}
		}
		if !found {
			t.Errorf("help has no line for key %q", k)
		}
	}
	for _, b := range km.Lines() {
		if !strings.Contains(out, b.Help().Desc) {
			t.Errorf("overlay lacks %q:\n%s", b.Help().Desc, out)
		}
	}
}

// The bottom line, whole on a wide screen and cut to the width on a narrow one.
func TestHint(t *testing.T) {
	want := "? help · space play/pause · n step · ← back · j/k select · K kill · r restart · : command · w write · q quit"
	if got := strings.TrimRight(ansi.Strip(Hint(theme.New(false), keys.Default(), 200)), " "); got != want {
		t.Errorf("hint %q; want %q", got, want)
	}
	if got := ansi.Strip(Hint(theme.New(false), keys.Default(), 40)); ansi.StringWidth(got) > 40 || !strings.HasPrefix(got, "? help · space") {
		t.Errorf("hint at 40 cells: %q", got)
	}
}
