package cluster

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"kafkasim/broker/config"
)

var rewriteHashes = flag.Bool("rewrite-hashes", false, "rewrite testdata/trace-hashes.txt from this build")

// The traces of random-fault runs (Nemesis and Chaos, which use every fault kind) are pinned
// like the library scenarios' (scenarios/testdata/trace-hashes.txt): a refactoring keeps them.
func TestRandomFaultTraceHashesPinned(t *testing.T) {
	const file = "testdata/trace-hashes.txt"
	var lines []string
	for _, kind := range []string{"nemesis", "chaos"} {
		for seed := uint64(1); seed <= 4; seed++ {
			spec := DefaultSpec()
			spec.Sim.Seed = seed
			c, err := New(spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CreateTopic(TopicSpec{Name: "t", Partitions: 3, Replication: 3, Configs: map[string]string{"min.insync.replicas": "2"}}); err != nil {
				t.Fatal(err)
			}
			if err := c.WaitReady(30 * time.Second); err != nil {
				t.Fatal(err)
			}
			if _, err := c.AddProducer(ProducerSpec{Name: "p", Topic: "t", Config: config.DefaultProducer(), Rate: 100}); err != nil {
				t.Fatal(err)
			}
			var faults []Fault
			if kind == "nemesis" {
				faults = c.Nemesis(3*time.Second, 30*time.Second)
			} else {
				faults = c.Chaos(2*time.Second, 30*time.Second, 1)
			}
			c.RunFor(10 * time.Second)
			lines = append(lines, fmt.Sprintf("%s seed %d trace %016x events %d faults %d", kind, seed, c.World.Trace().Hash(), c.World.Trace().Len(), len(faults)))
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	if *rewriteHashes {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./sim/cluster -run TraceHashes -rewrite-hashes creates it)", err)
	}
	if got != string(want) {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}
