package session

import (
	"strings"
	"testing"
)

// Retention and the log cleaner are logged when their runs change a log
// (log.retention.check.interval.ms): retention-deletes-segments deletes segments and moves the
// log start; compaction-keeps-last-value removes superseded records. The logs' sizes and
// segments show in the snapshot.
func TestRetentionAndCleanerRunsAreEvents(t *testing.T) {
	for _, tc := range []struct{ scenario, want string }{
		{"retention-deletes-segments", "retention deletes"},
		{"compaction-keeps-last-value", "log cleaner removes"},
	} {
		s := playToEnd(t, tc.scenario)
		n := 0
		for _, e := range s.AllEvents() {
			if e.Kind == Housekeeping {
				if !strings.Contains(e.Text, tc.want) {
					t.Errorf("%s: housekeeping event %q; want %q", tc.scenario, e.Text, tc.want)
				}
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: no housekeeping event; want %q", tc.scenario, tc.want)
		}
		rolled := false
		for _, p := range s.Head().Partitions {
			for _, r := range p.Replicas {
				rolled = rolled || len(r.Rolls) > 0 && r.Rolls[len(r.Rolls)-1] <= r.LEO
			}
		}
		if !rolled {
			t.Errorf("%s: no replica's snapshot shows where its log rolled", tc.scenario)
		}
	}
}
