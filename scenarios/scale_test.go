package scenarios

import (
	"os"
	"path/filepath"
	"testing"
)

// The seed's scale claims at full size (1.1, 高并发: a thousand producers and a group of a
// thousand consumers on six brokers) cost minutes of CPU per run, too much for the library's
// tests and sweeps, so they live in testdata/scale. They always parse; they run when asked:
//
//	KAFKASIM_SCALE=1 go test ./scenarios -run Scale -v -timeout 0
func TestScaleScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scale/*.scenario")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scale scenarios (%v)", err)
	}
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(s.producers) + len(s.consumers); n < 2000 {
			t.Errorf("%s: %d clients; want at least 2,000", f, n)
		}
		if os.Getenv("KAFKASIM_SCALE") == "" {
			continue
		}
		r, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			t.Errorf("%s: %s", f, r.Failure)
		}
		t.Logf("%s: %.1fs simulated in %.1fs, %d events, %d ops", f, r.SimSeconds, r.WallSeconds, r.Events, r.Ops)
	}
}
