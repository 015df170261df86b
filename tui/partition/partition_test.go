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

// Each running replica's log on disk (bytes, segments, log start) and the leader's
// compression ratio are said in the detail.
func TestLogsSayBytesSegmentsAndCompression(t *testing.T) {
	p := session.Partition{Codec: "lz4", Ratio: 3.14, Replicas: []session.Replica{
		{Broker: 1, Up: true, Bytes: 12_600, Segments: 3, LogStart: 1701},
		{Broker: 2, Up: true, Bytes: 800, Segments: 1},
		{Broker: 3},
	}}
	if got, want := Logs(p, 100), "on disk: 1 12.3 KB in 3 segments from 1701 · 2 800 B in 1 segment from 0 · lz4 3.1:1"; got != want {
		t.Errorf("Logs = %q; want %q", got, want)
	}
	if got, want := Logs(p, 60), "disk 1: 12.3 KB/3 seg/1701 · 2: 800 B/1 seg/0 · lz4 3.1:1"; got != want {
		t.Errorf("Logs in 60 columns = %q; want %q", got, want)
	}
	if got := Logs(session.Partition{Replicas: []session.Replica{{Broker: 1}}}, 100); got != "" {
		t.Errorf("Logs with every replica down = %q; want empty", got)
	}
}

// Transactions: the table counts each partition's open transactions; the detail marks the LSO
// on the bars (¦) and in words beside HW and LEO, and names the open transactions.
func TestPartitionPaneTransactionsGolden(t *testing.T) {
	s, err := session.TxnFixture()
	if err != nil {
		t.Fatal(err)
	}
	snap := s.Snapshot()
	if len(snap.Partitions) == 0 || len(snap.Partitions[0].OpenTxns) == 0 {
		t.Fatalf("payments/0 has no open transaction in the fixture; want hand's")
	}
	viewtest.Golden(t, func(w int) string {
		return Render(snap, theme.New(false), w, 4, 0, true) + "\n" + Detail(snap, theme.New(false), w, 0)
	})
}

// The LSO below the HW is marked ¦ on the bar.
func TestBarMarksLSO(t *testing.T) {
	got := Bar(theme.New(false), session.Replica{HW: 50, LEO: 75, LSO: 25}, 0, 100, 12)
	if want := "[██¦██|▒▏··]"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// A bar shows where the log rolled (╎) and where the active segment begins (┇); boundaries too
// close to tell apart leave only the active one.
func TestBarMarksSegments(t *testing.T) {
	st := theme.New(false)
	got := Bar(st, session.Replica{HW: 80, LEO: 100, Rolls: []int64{30, 60}}, 0, 100, 12)
	if want := "[███╎██┇█|▏]"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	var many []int64
	for off := int64(5); off <= 90; off += 5 {
		many = append(many, off)
	}
	got = Bar(st, session.Replica{HW: 100, LEO: 100, Rolls: many}, 0, 120, 12)
	if strings.Count(got, "╎") != 0 || strings.Count(got, "┇") != 1 {
		t.Errorf("18 boundaries in 10 cells: %q; want the active segment's only", got)
	}
}
