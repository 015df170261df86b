package log

import (
	"maps"
	"slices"
)

// fakeDisk is a tiny node.Disk with a page cache and a durable copy per file, as the simulated
// disk has them: Flush makes a file durable, Crash (power loss) drops every unflushed change and
// every never-flushed file, Remove is durable at once.
type fakeDisk struct {
	files   map[string]*fakeFile
	flushes map[string]int
}

type fakeFile struct {
	cache, durable []any
	durableExists  bool
}

func newFakeDisk() *fakeDisk {
	return &fakeDisk{files: map[string]*fakeFile{}, flushes: map[string]int{}}
}

func (d *fakeDisk) get(name string) *fakeFile {
	f := d.files[name]
	if f == nil {
		f = &fakeFile{}
		d.files[name] = f
	}
	return f
}

func (d *fakeDisk) Append(name string, entry any) {
	f := d.get(name)
	f.cache = append(f.cache, entry)
}

func (d *fakeDisk) Truncate(name string, n int) {
	if f := d.files[name]; f != nil && n < len(f.cache) {
		f.cache = f.cache[:max(n, 0):max(n, 0)]
	}
}

func (d *fakeDisk) Read(name string) []any {
	if f := d.files[name]; f != nil {
		return f.cache
	}
	return nil
}

func (d *fakeDisk) Len(name string) int { return len(d.Read(name)) }

func (d *fakeDisk) Write(name string, entries []any) {
	d.get(name).cache = append([]any(nil), entries...)
}

func (d *fakeDisk) Flush(name string) {
	if f := d.files[name]; f != nil {
		f.durable = append([]any(nil), f.cache...)
		f.durableExists = true
		d.flushes[name]++
	}
}

func (d *fakeDisk) Remove(name string) { delete(d.files, name) }

func (d *fakeDisk) Files() []string {
	return slices.Sorted(maps.Keys(d.files))
}

// Crash is a power loss: only what was flushed survives.
func (d *fakeDisk) Crash() {
	for name, f := range d.files {
		if !f.durableExists {
			delete(d.files, name)
			continue
		}
		f.cache = append([]any(nil), f.durable...)
	}
}

// durableLen is how many entries of the file would survive a crash.
func (d *fakeDisk) durableLen(name string) int {
	if f := d.files[name]; f != nil && f.durableExists {
		return len(f.durable)
	}
	return 0
}
