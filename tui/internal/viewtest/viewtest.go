// Package viewtest holds what the views' golden tests share: render a view at the widths the
// conventions name (80, 120 and 200 columns) and compare it, stripped of colour, with the
// golden file of each width (go test -update rewrites them).
package viewtest

import (
	"fmt"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// Widths are the terminal widths every view is tested at.
var Widths = []int{80, 120, 200}

// Golden renders the view at each of Widths and compares it with its golden file.
func Golden(t *testing.T, render func(width int) string) {
	t.Helper()
	for _, w := range Widths {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			golden.RequireEqual(t, ansi.Strip(render(w)))
		})
	}
}
