// Package help draws every key of the terminal UI from its key map (tui/keys): the overlay `?`
// opens, and the one-line hint at the bottom of the screen.
package help
