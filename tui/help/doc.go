// Package help lists every key of the terminal UI: the overlay `?` opens, and the one-line
// hint at the bottom of the screen.
package help
