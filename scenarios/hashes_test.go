package scenarios

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var rewriteHashes = flag.Bool("rewrite-hashes", false, "rewrite testdata/trace-hashes.txt from this build")

// hashSeeds are the seeds whose traces are pinned for every library scenario and for
// testdata/every-word.scenario, which uses every word of the language.
var hashSeeds = []uint64{1, 2, 3}

// The trace of every library scenario on seeds 1–3 is pinned: a change that is meant to keep
// behaviour (a refactoring) must leave every hash as it was. A change that alters behaviour on
// purpose rewrites the file with -rewrite-hashes and says why in its commit.
func TestLibraryTraceHashesPinned(t *testing.T) {
	const file = "testdata/trace-hashes.txt"
	lib := Library()
	everyWord, err := ParseFile("testdata/every-word.scenario")
	if err != nil {
		t.Fatal(err)
	}
	lib = append(lib, everyWord)
	lines := make([]string, len(lib)*len(hashSeeds))
	for i, s := range lib {
		for j, seed := range hashSeeds {
			t.Run(fmt.Sprintf("%s/%d", strings.TrimPrefix(s.File, libraryDir), seed), func(t *testing.T) {
				t.Parallel()
				r, err := Run(s, Options{Seed: seed})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				lines[i*len(hashSeeds)+j] = fmt.Sprintf("%s seed %d trace %016x events %d", strings.TrimPrefix(s.File, libraryDir), seed, r.TraceHash, r.Events)
			})
		}
	}
	t.Cleanup(func() {
		got := strings.Join(lines, "\n") + "\n"
		if *rewriteHashes {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./scenarios -run TraceHashes -rewrite-hashes to create it)", err)
		}
		if got != string(want) {
			wl := strings.Split(string(want), "\n")
			for k, g := range strings.Split(got, "\n") {
				if k >= len(wl) || wl[k] != g {
					w := ""
					if k < len(wl) {
						w = wl[k]
					}
					t.Errorf("got %q; want %q", g, w)
				}
			}
		}
	})
}
