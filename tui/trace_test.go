package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kafkasim/tui/theme"
)

// A `run --trace` file opens as its faults, starts, halts and observations; deliveries are
// counted, not listed; a line that is not a trace line is an error naming it.
func TestTraceFileListsFaultsAndObservations(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace.txt")
	src := "1ms deliver node=1 from=2 *protocol.FetchRequest\n2s fault node=1 kill\n2.1s observe node=2 *broker.BecameLeader arg=4294967296\n2.2s observe node=10001 history.Ops arg=1\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := newTraceModel(path, theme.New(false))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.lines) != 2 || m.other != 2 || !strings.Contains(m.lines[0], "kill") {
		t.Errorf("lines %q, other %d; want the kill and the election listed, 2 counted", m.lines, m.other)
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newTraceModel(path, theme.New(false)); err == nil || !strings.Contains(err.Error(), "trace.txt:1:") {
		t.Errorf("err %v; want FILE:1: not a trace line", err)
	}
}
