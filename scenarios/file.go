package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// File is a scenario to run: a file on disk or one of the library's, held as its text so that
// every run parses a fresh copy and worlds running in parallel never share a Scenario.
type File struct {
	Name    string // as runs name it: the path given, or scenarios/NAME.scenario for the library's
	text    []byte
	nemesis bool         // every parse adds a default nemesis (AddNemesis, nemesis.go)
	mode    MetadataMode // the control plane every parse runs on (WithMetadataMode, metadatamode.go)
}

// Open reads and parses path. A path that does not exist but names a library scenario (as
// Named takes it: "leader-failover", "leader-failover.scenario") opens that one. A scenario that
// does not parse is an *Error (FILE:LINE:COL: msg); a file that does not read, the os error.
func Open(path string) (*File, error) {
	text, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if f := LibraryFile(path); f != nil {
			return f, nil
		}
	}
	if errNotExist(err) {
		return nil, notFound(path, err) // cli.go
	}
	if err != nil {
		return nil, err
	}
	if _, err := Parse(path, text); err != nil {
		return nil, err
	}
	return &File{Name: path, text: text}, nil
}

// OpenAll opens every path before anything runs, so that a bad file is rejected first.
func OpenAll(paths []string) ([]*File, error) {
	var out []*File
	for _, p := range paths {
		f, err := Open(p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// LibraryFile is the library's scenario called name (as Named takes it), or nil.
func LibraryFile(name string) *File {
	s := Named(name)
	if s == nil {
		return nil
	}
	text, err := Source(s)
	if err != nil {
		panic(fmt.Sprintf("the library's %s: %v", s.File, err)) // embedded: it always reads
	}
	return &File{Name: s.File, text: text}
}

// Scenario parses a fresh copy of the file.
func (f *File) Scenario() (*Scenario, error) {
	s, err := ParseMode(f.Name, f.text, f.mode)
	if err != nil || !f.nemesis {
		return s, err
	}
	return WithNemesis(s)
}

// Load opens path (as Open does) and parses it.
func Load(path string) (*Scenario, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return f.Scenario()
}
