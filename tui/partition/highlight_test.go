package partition

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// What a caption names is marked ▸ where it shows, in the same width: the ISR column and the
// ISR in "AR = ISR + OSR", the HW column and the HW marker on the bars; nothing else moves.
func TestHighlightMarksWhatTheCaptionNames(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{80, 120} {
		plain := theme.New(false)
		lit := theme.New(false)
		lit.Lit = map[string]bool{"ISR": true, "HW": true}
		before := strings.Split(ansi.Strip(Render(s.Snapshot(), plain, w, 0, 0, true)+"\n"+Detail(s.Snapshot(), plain, w, 0)), "\n")
		after := strings.Split(ansi.Strip(Render(s.Snapshot(), lit, w, 0, 0, true)+"\n"+Detail(s.Snapshot(), lit, w, 0)), "\n")
		if len(before) != len(after) {
			t.Fatalf("%d columns: %d lines lit; want %d", w, len(after), len(before))
		}
		hdr := after[1]
		if !strings.Contains(hdr, "▸ISR") || !strings.Contains(hdr, "▸HW") || strings.Contains(hdr, "▸PARTITION") {
			t.Errorf("%d columns: header %q; want ▸ISR and ▸HW, nothing else marked", w, hdr)
		}
		if ansi.StringWidth(hdr) != ansi.StringWidth(before[1]) {
			t.Errorf("%d columns: header %q is %d wide; want %d (%q)", w, hdr, ansi.StringWidth(hdr), ansi.StringWidth(before[1]), before[1])
		}
		joined := strings.Join(after, "\n")
		if !strings.Contains(joined, "▸ISR {") || strings.Contains(joined, "▸OSR") || !strings.Contains(joined, "┃") {
			t.Errorf("%d columns: the detail lit for ISR and HW:\n%s\nwant ▸ISR in the membership line and the HW marker ┃", w, joined)
		}
		if strings.Contains(strings.Join(before, "\n"), "▸ISR") || strings.Contains(strings.Join(before, "\n"), "┃") {
			t.Errorf("%d columns: unlit views mark the ISR or the HW", w)
		}
	}
}
