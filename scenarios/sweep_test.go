package scenarios

import "testing"

// sweep runs a library scenario over seeds [from, to] and fails on any seed that does not pass.
func sweep(t *testing.T, name string, from, to uint64) {
	t.Helper()
	s := Named(name)
	if s == nil {
		t.Fatalf("no library scenario %q", name)
	}
	for seed := from; seed <= to; seed++ {
		r, err := Run(s, Options{Seed: seed})
		if err != nil {
			t.Fatalf("%s seed %d: %v", name, seed, err)
		}
		if !r.OK {
			t.Errorf("%s seed %d: %s\n  replay: %s", name, seed, r.Failure, ReplayCommand(r))
		}
	}
}

// A sweep of 200 seeds of the failover scenario passes: no false alarm.
func TestFailoverSweep(t *testing.T) {
	n := uint64(200)
	if testing.Short() {
		n = 20
	}
	sweep(t, "leader-failover", 1, n)
}
