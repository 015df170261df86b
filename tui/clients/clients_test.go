package clients

import (
	"kafkasim/tui/internal/viewtest"
	"testing"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The clients at 80, 120 and 200 columns.
func TestClientsPaneGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string { return Render(s.History(), theme.New(false), w, -1) })
}

// The classroom producer writes 1,000 records a second; its rate over the last second says so.
func TestProducerRate(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	if got := Rate(s.History(), 0); got < 900 || got > 1100 {
		t.Errorf("p1 rate %.0f/s; want about 1000/s", got)
	}
}
