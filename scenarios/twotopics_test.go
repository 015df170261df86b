package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A group whose members read two topics, with different subscriptions (app2 reads payments
// alone), under a nemesis of every kind in the safe configuration, never makes the checker cry
// wolf, with each classic assignor and both KIP-848 assignors. Measured with
// KAFKASIM_NEMESIS_SEEDS=40 (kafkasim sweep testdata/nemesis/group-two-topics.scenario --seeds
// 1-40, the keys added to every consumer): 200 runs, every verdict valid.
func TestNoFalseAlarmWithTwoTopicGroups(t *testing.T) {
	path := filepath.Join("testdata", "nemesis", "group-two-topics.scenario")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := nemesisSeeds(t, 6, 2)
	for _, keys := range []string{
		"partition.assignment.strategy=range", "partition.assignment.strategy=roundrobin",
		"partition.assignment.strategy=cooperative-sticky",
		"group.protocol=consumer group.remote.assignor=uniform", "group.protocol=consumer group.remote.assignor=range",
	} {
		t.Run(keys, func(t *testing.T) {
			f := &File{Name: path, text: bytes.ReplaceAll(text, []byte("group=g1\n"), []byte("group=g1 "+keys+"\n"))}
			if _, err := f.Scenario(); err != nil {
				t.Fatal(err)
			}
			faults := 0
			sw := Sweep{Files: []*File{f}, Seeds: SeedRange{First: 1, Last: n, Count: 1}, Parallel: 2}
			_, err := sw.Run(func(r *Result) error {
				faults += len(r.Faults)
				if !r.OK || r.Verdict != "valid" {
					t.Errorf("seed %d: %s (verdict %s, anomalies %v)\nfaults:\n%s", r.Seed, r.Failure, r.Verdict, r.Anomalies, faultsText(r.Faults))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if faults < int(n) {
				t.Errorf("%s: %d faults over %d seeds: the nemesis hardly ran", keys, faults, n)
			}
		})
	}
}
