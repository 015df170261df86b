package theme

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles are the UI's styles and glyphs.
type Styles struct {
	Present bool // classroom mode: larger bars, captions prominent

	Title    lipgloss.Style // pane titles
	Header   lipgloss.Style // the status bar
	Caption  lipgloss.Style // say lines
	Dim      lipgloss.Style
	Bold     lipgloss.Style
	Good     lipgloss.Style // running, in sync
	Warn     lipgloss.Style // out of sync, paused, fenced
	Bad      lipgloss.Style // down, offline, truncated, failures
	Leader   lipgloss.Style
	Selected lipgloss.Style // the selected row
	Key      lipgloss.Style // key names in help
	Shade    lipgloss.Style // fault periods on charts
	Box      lipgloss.Style // the help overlay

	// Glyphs.
	Committed, Uncommitted, Empty string // log bar cells: ≤ HW, HW..LEO, past LEO
	Cursor                        string // the selected row's marker

	// Lit is the terms the caption shown names (story.Terms; tui.Options.Highlight, which the
	// tour sets): each view marks the column, marker or pane title a term stands for, with
	// Highlight and a ▸ (a glyph, so that it shows without colour). nil: nothing is lit.
	Lit       map[string]bool
	Highlight lipgloss.Style
}

// IsLit reports whether the caption shown names any of terms.
func (s *Styles) IsLit(terms ...string) bool {
	for _, t := range terms {
		if s.Lit[t] {
			return true
		}
	}
	return false
}

// PaneTitle renders a pane's title, marked ▸ and highlighted when the caption shown names one of
// terms.
func (s *Styles) PaneTitle(title string, terms ...string) string {
	if s.IsLit(terms...) {
		return s.Highlight.Render("▸ " + title)
	}
	return s.Title.Render(title)
}

// New builds the styles; present enlarges what the classroom needs to see from afar.
func New(present bool) *Styles {
	s := &Styles{
		Present:     present,
		Title:       lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("12")),
		Header:      lipgloss.NewStyle().Bold(true).Reverse(true),
		Caption:     lipgloss.NewStyle().Italic(true).Foreground(lipgloss.Color("11")),
		Dim:         lipgloss.NewStyle().Faint(true),
		Bold:        lipgloss.NewStyle().Bold(true),
		Good:        lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
		Warn:        lipgloss.NewStyle().Foreground(lipgloss.Color("11")),
		Bad:         lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9")),
		Leader:      lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("14")),
		Selected:    lipgloss.NewStyle().Bold(true),
		Key:         lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("13")),
		Shade:       lipgloss.NewStyle().Background(lipgloss.Color("237")),
		Box:         lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		Committed:   "█",
		Uncommitted: "▒",
		Empty:       "·",
		Cursor:      "▸",
		Highlight:   lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(lipgloss.Color("13")),
	}
	if present {
		s.Caption = s.Caption.Bold(true).Border(lipgloss.ThickBorder()).Padding(0, 1)
	}
	return s
}

// Fit cuts or pads one line to exactly width cells.
func Fit(line string, width int) string {
	if width <= 0 {
		return ""
	}
	if w := ansi.StringWidth(line); w > width {
		return ansi.Truncate(line, width, "…")
	} else if w < width {
		return line + strings.Repeat(" ", width-w)
	}
	return line
}

// Block fits text to width × height: each line fitted, missing lines blank, extra lines cut.
func Block(text string, width, height int) string {
	lines := strings.Split(text, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = Fit(l, width)
	}
	return strings.Join(lines, "\n")
}

// Wrap breaks text into lines of at most width cells at spaces.
func Wrap(text string, width int) []string {
	if width < 8 {
		width = 8
	}
	var out []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case ansi.StringWidth(line)+1+ansi.StringWidth(w) <= width:
			line += " " + w
		default:
			out = append(out, line)
			line = w
		}
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}
