package scenarios

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"kafkasim/checker"
)

// Each fault is labelled with the next fault statement of its verb, in file order; a heal,
// resume or restart left over is the finish's.
func TestLabelFaultsMatchesStatementsByVerbInOrder(t *testing.T) {
	src := "cluster brokers=3\nkill 1\nwait 1s\n  partition 1 | 2 3\nheal\nkill 2\n"
	faults := []checker.Fault{{Verb: "kill"}, {Verb: "partition"}, {Verb: "heal"}, {Verb: "kill"}, {Verb: "restart"}, {Verb: "crash"}}
	labelFaults(faults, "f.scenario", []byte(src))
	want := []string{"f.scenario:2: kill 1", "f.scenario:4: partition 1 | 2 3", "f.scenario:5: heal", "f.scenario:6: kill 2", "the finish: heal, resume and restart everything", ""}
	for i, f := range faults {
		if f.Statement != want[i] {
			t.Errorf("fault %d (%s): got %q; want %q", i, f.Verb, f.Statement, want[i])
		}
	}
}

// An output that cannot be written stops the runs with an *OutputError naming it.
func TestRunFilesNamesTheOutputItCannotWrite(t *testing.T) {
	f := LibraryFile("leader-failover")
	bad := filepath.Join(t.TempDir(), "missing", "trace.txt")
	_, err := RunFiles(io.Discard, []*File{f}, 1, Outputs{JSON: true, Trace: bad})
	var oe *OutputError
	if !errors.As(err, &oe) || oe.Output != "trace" {
		t.Errorf("got %v; want an *OutputError for the trace", err)
	}
}
