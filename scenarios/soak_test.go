package scenarios

import (
	"fmt"
	"os"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// The classroom cluster with no faults for a long time ends valid: no history the simulator
// produces is left unknown for lack of time, whatever its length. The soak is long (an hour of
// virtual time is minutes of wall time), so it runs only when asked:
//
//	KAFKASIM_SOAK=1h go test ./scenarios -run Soak -v -timeout 0
func TestClassroomSoakEndsValid(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("KAFKASIM_SOAK"))
	if err != nil || d <= 0 {
		t.Skip("KAFKASIM_SOAK=1h runs the classroom cluster for an hour of virtual time")
	}
	src, err := Source(Classroom())
	if err != nil {
		t.Fatal(err)
	}
	var setup []string
	for _, line := range strings.Split(string(src), "\n") {
		if w, _, _ := strings.Cut(line, " "); w == "cluster" || w == "topic" || w == "producer" || w == "consumer" {
			setup = append(setup, line)
		}
	}
	s, err := Parse("soak.scenario", []byte(fmt.Sprintf("%s\nwait %v\nexpect verdict valid\n", strings.Join(setup, "\n"), d)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{Memory: -1})
	if err != nil {
		t.Fatal(err)
	}
	peak := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(peak)
	t.Logf("%v of virtual time: %d operations, %d events, verdict %s, %.0fs wall, Go runtime holds %s",
		d, r.Ops, r.Events, r.Verdict, r.WallSeconds, FormatMemory(int64(peak[0].Value.Uint64())))
	if !r.OK || r.Verdict != "valid" {
		t.Errorf("verdict %s, failure %q; want valid\n%v", r.Verdict, r.Failure, r.Report.Text())
	}
}
