package scenarios

import (
	"strings"
	"testing"
)

// Every library scenario holds (every await and expect), and runs twice with the same trace.
func TestLibraryScenariosPassAndReplay(t *testing.T) {
	lib := Library()
	if len(lib) == 0 {
		t.Fatal("Library() is empty; want the shipped scenarios")
	}
	for _, s := range lib {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(s.File, libraryDir), ".scenario"), func(t *testing.T) {
			t.Parallel()
			var out strings.Builder
			a, err := Run(s, Options{Narrate: &out})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !a.OK {
				t.Fatalf("got OK=false (%s); want every expectation to hold\n%s", a.Failure, out.String())
			}
			b, err := Run(s, Options{})
			if err != nil {
				t.Fatalf("second Run: %v", err)
			}
			if a.TraceHash != b.TraceHash || a.Events != b.Events {
				t.Errorf("got trace %016x (%d events) then %016x (%d events); want the same twice", a.TraceHash, a.Events, b.TraceHash, b.Events)
			}
			t.Logf("%s: %.1fs simulated in %.2fs, %d events, %d ops", s.File, a.SimSeconds, a.WallSeconds, a.Events, a.Ops)
		})
	}
}
