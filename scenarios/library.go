package scenarios

import (
	"embed"
	"strings"
)

// files holds the library: every *.scenario file in this directory.
//
//go:embed *.scenario
var files embed.FS

// libraryDir is where the library's files live, relative to the repository root: their File,
// and so their errors and replay commands, name them from there.
const libraryDir = "scenarios/"

// Library returns the built-in scenarios, sorted by file name. It panics only if a shipped
// file does not parse (a test guards against that).
func Library() []*Scenario {
	entries, err := files.ReadDir(".")
	if err != nil {
		panic(err)
	}
	var out []*Scenario
	for _, e := range entries { // ReadDir sorts by name
		out = append(out, mustParse(e.Name()))
	}
	return out
}

func mustParse(name string) *Scenario {
	src, err := files.ReadFile(name)
	if err != nil {
		panic(err)
	}
	s, err := Parse(libraryDir+name, src)
	if err != nil {
		panic(err)
	}
	return s
}

// Classroom returns the built-in classroom scenario (what `go run .` plays).
func Classroom() *Scenario { return mustParse("classroom.scenario") }

// Named returns the library scenario called name ("leader-failover", "leader-failover.scenario"
// or "scenarios/leader-failover.scenario"), or nil.
func Named(name string) *Scenario {
	name = strings.TrimPrefix(name, libraryDir)
	if !strings.HasSuffix(name, ".scenario") {
		name += ".scenario"
	}
	if _, err := files.Open(name); err != nil || strings.Contains(name, "/") {
		return nil
	}
	return mustParse(name)
}
