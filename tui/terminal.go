package tui

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Interactive reports whether the UI can own the terminal: both stdin and out are one.
func Interactive(out io.Writer) bool { return IsTerminal(out) && IsTerminal(os.Stdin) }
