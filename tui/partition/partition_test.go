package partition

import (
	"kafkasim/tui/internal/viewtest"
	"strings"
	"testing"

	"kafkasim/tui/session"
	"kafkasim/tui/theme"
)

// The table and the replica bars of orders/0 at 80, 120 and 200 columns.
func TestPartitionPaneGolden(t *testing.T) {
	s, err := session.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	viewtest.Golden(t, func(w int) string {
		return Render(s.Snapshot(), theme.New(false), w, 0, 0, true) + "\n" + Detail(s.Snapshot(), theme.New(false), w, 0)
	})
}

// A bar marks the HW with | and the LEO with ▏, committed cells before the HW.
func TestBarMarksHWAndLEO(t *testing.T) {
	st := theme.New(false)
	got := Bar(st, session.Replica{HW: 50, LEO: 75}, 0, 100, 12)
	if want := "[█████|▒▏··]"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// Out of sync and down replicas are said in words, not only in colour.
func TestReplicaStatusInWords(t *testing.T) {
	p := session.Partition{Leader: 1, ISR: []int32{1}}
	for _, tc := range []struct {
		r    session.Replica
		want string
	}{
		{session.Replica{Broker: 1, Up: true, InISR: true}, "★ leader"},
		{session.Replica{Broker: 2, Up: true}, "○ OUT OF SYNC"},
		{session.Replica{Broker: 3, Stale: true}, "✖ down, (last seen)"},
		{session.Replica{Broker: 2, Up: true, InISR: true, Truncated: true}, "● in sync, ✂ TRUNCATED"},
	} {
		if got := ReplicaStatus(p, tc.r); !strings.Contains(got, tc.want) {
			t.Errorf("ReplicaStatus(%+v) = %q; want %q", tc.r, got, tc.want)
		}
	}
}

// The seed documents' vocabulary: AR (assigned replicas) = ISR + OSR (out of sync).
func TestMembershipNamesARISROSR(t *testing.T) {
	p := session.Partition{ISR: []int32{2, 3}, Replicas: []session.Replica{{Broker: 1}, {Broker: 2}, {Broker: 3}}}
	if got, want := Membership(p), "AR {1,2,3} = ISR {2,3} + OSR {1}"; got != want {
		t.Errorf("Membership = %q; want %q", got, want)
	}
}
