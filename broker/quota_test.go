package broker

import (
	"testing"
	"time"
)

// Reference: KIP-73; SimpleRate over replication.quota.window.num samples of
// replication.quota.window.size.seconds (ReplicationQuotaManagerTest).
func TestReplicationQuotaSimpleRate(t *testing.T) {
	var q replicationQuota
	s := time.Second
	tests := []struct {
		at       time.Duration
		record   int64
		wantRate float64
	}{
		{0, 0, 0},             // the sensor starts its first sample
		{0, 1000, 1000},       // 1000 bytes over the minimum window of 1 s
		{s / 2, 1000, 2000},   // 2000 bytes, still within 1 s
		{2 * s, 0, 1000},      // 2000 bytes over 2 s
		{4 * s, 2000, 1000},   // 4000 bytes over 4 s
		{10 * s, 0, 400},      // 4000 over 10 s
		{12 * s, 0, 2000 / 8}, // the first sample, idle for 11 s, is purged: 2000 since 4 s
		{16 * s, 0, 0},        // everything purged: the window starts again
	}
	for _, tc := range tests {
		if tc.record > 0 {
			q.record(tc.at, tc.record)
		}
		if got := q.rate(tc.at); got != tc.wantRate {
			t.Fatalf("rate at %v: got %v; want %v", tc.at, got, tc.wantRate)
		}
	}
	if q.exceeded(16*s, 0) {
		t.Fatalf("exceeded with no bound: got true; want false")
	}
	// A purged sample restarts at the time of the purge (12 s): 5000 bytes over 4 s.
	q.record(16*s, 5000)
	if !q.exceeded(16*s, 1249) || q.exceeded(16*s, 1250) {
		t.Fatalf("exceeded: 1250 B/s measured must exceed a bound of 1249 and not one of 1250")
	}
}
