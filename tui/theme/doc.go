// Package theme is the one Styles struct every view of the terminal UI draws with, built in one
// place. Colour only ever doubles a glyph or a word: with NO_COLOR (honoured by the renderer)
// nothing is lost.
package theme
