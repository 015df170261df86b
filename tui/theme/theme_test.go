package theme

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// Fit pads short lines and cuts long ones with an ellipsis, counting cells, not bytes.
func TestFitCountsCells(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want string
	}{
		{"ab", 4, "ab  "},
		{"★ leader", 5, "★ le…"},
		{"abc", 3, "abc"},
	} {
		if got := Fit(tc.in, tc.w); got != tc.want || ansi.StringWidth(got) != tc.w {
			t.Errorf("Fit(%q, %d) = %q; want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

// Wrap breaks at spaces within the width.
func TestWrapBreaksAtSpaces(t *testing.T) {
	got := Wrap("Kill broker 1: the leader of orders/0 is gone.", 16)
	for _, l := range got {
		if ansi.StringWidth(l) > 16 {
			t.Errorf("line %q is wider than 16", l)
		}
	}
	if strings.Join(got, " ") != "Kill broker 1: the leader of orders/0 is gone." {
		t.Errorf("got %q; want the words kept in order", got)
	}
}
