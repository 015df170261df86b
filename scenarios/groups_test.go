package scenarios

import (
	"strings"
	"testing"
)

// Reference: GroupCoordinatorService.joinGroup: a consumer whose session.timeout.ms lies
// outside the broker's group.min.session.timeout.ms..group.max.session.timeout.ms is refused
// with INVALID_SESSION_TIMEOUT, which the Java consumer raises to the application. The run
// says so (narrated, and noted as a failure for the terminal UI) and still finishes.
func TestInvalidSessionTimeoutRunSaysSo(t *testing.T) {
	s := mustParseSrc(t, `cluster brokers=3
topic orders partitions=2 replication=3
consumer c1 topic=orders group=g1 session.timeout.ms=1s
wait 10s
expect state g1 == none
`)
	var out strings.Builder
	r, err := Run(s, Options{Seed: 1, Narrate: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		t.Errorf("run failed: %s", r.Failure)
	}
	want := "consumer c1 gives up on group g1: INVALID_SESSION_TIMEOUT (session.timeout.ms=1s is outside"
	if !strings.Contains(out.String(), want) {
		t.Errorf("narration:\n%s\nwant a line with %q", out.String(), want)
	}
}
