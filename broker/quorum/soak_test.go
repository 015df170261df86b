package quorum

import (
	"os"
	"testing"
	"time"
)

// Reference: Raft's safety properties under a long random swarm (200 seeds, 3 and 5 voters,
// up to 3% message loss). Slow: runs only with QUORUM_SOAK=1; QUORUM_TRACE=1 logs faults, role
// changes and commits.
func TestSafetySoak(t *testing.T) {
	if os.Getenv("QUORUM_SOAK") == "" {
		t.Skip("set QUORUM_SOAK=1 to run")
	}
	for seed := uint64(1000); seed < 1200; seed++ {
		voters := 3 + 2*int(seed%2)
		w := newWorld(t, seed, voters, 1)
		w.loss = seed % 4 * 10
		w.trace = os.Getenv("QUORUM_TRACE") != ""
		t.Logf("seed %d", seed)
		swarm(w, 40*time.Second, voters)
	}
}
