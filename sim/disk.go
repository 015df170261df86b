package sim

import (
	"maps"
	"slices"
	"strings"
	"unsafe"
)

// Disk is a node's simulated disk: named files of immutable entries, with a page cache (what
// Read sees) and a durable state (what survives a crash). It implements broker/node.Disk.
//
// A slice returned by Read stays valid and unchanged forever: truncation and replacement never
// write into a backing array that Read has handed out.
type Disk struct {
	files map[string]*file
	// dirs holds the names in each directory (List), sorted, by directory: a log's directory
	// holds a few files, and a sorted slice costs one small allocation where a set costs a map
	// (a 30,000-partition topic opens 90,000 of them).
	dirs  map[string][]string
	stats DiskStats
	// recent holds the files looked up last, by the address and length of their name's bytes:
	// a log appends to one segment file, named by one string, again and again, and comparing
	// two words costs less than hashing the name. drop clears it.
	recent     [4]recentFile
	nextRecent int
}

type recentFile struct {
	name *byte
	n    int
	f    *file
}

// DiskStats counts a disk's operations.
type DiskStats struct {
	Appends, Truncates, Writes, Flushes, Removes, Crashes int64
}

// file keeps the page-cache view in data. The durable content is data[:durable] followed by
// tail: tail holds durable entries that a truncation or a Write removed from the cache view
// since the last flush, so Crash can put them back.
type file struct {
	data          []any
	durable       int
	tail          []any
	durableExists bool // the file exists on the durable medium (created and flushed)
	dirty         bool // the cache differs from the durable state
}

// NewDisk returns an empty disk.
func NewDisk() *Disk {
	return &Disk{files: make(map[string]*file), dirs: make(map[string][]string)}
}

// lookup is d.files[name], through recent.
func (d *Disk) lookup(name string) *file {
	if len(name) == 0 {
		return d.files[name]
	}
	p := unsafe.StringData(name)
	for i := range d.recent {
		if r := &d.recent[i]; r.name == p && r.n == len(name) {
			return r.f
		}
	}
	f := d.files[name]
	if f != nil {
		d.recent[d.nextRecent] = recentFile{name: p, n: len(name), f: f}
		d.nextRecent = (d.nextRecent + 1) % len(d.recent)
	}
	return f
}

func (d *Disk) get(name string) *file {
	f := d.lookup(name)
	if f == nil {
		f = &file{}
		d.files[name] = f
		dir := dirOf(name)
		names := d.dirs[dir]
		if names == nil {
			names = make([]string, 0, 4) // a log's checkpoints and first segment
		}
		i, _ := slices.BinarySearch(names, name) // (absent: the file is new)
		d.dirs[dir] = slices.Insert(names, i, name)
	}
	return f
}

// dirOf is the directory of a file name: what comes before its last slash ("" if none).
func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// drop forgets a file.
func (d *Disk) drop(name string) {
	delete(d.files, name)
	d.recent = [len(d.recent)]recentFile{}
	dir := dirOf(name)
	if names := d.dirs[dir]; names != nil {
		if i, ok := slices.BinarySearch(names, name); ok {
			names = slices.Delete(names, i, i+1)
		}
		if len(names) == 0 {
			delete(d.dirs, dir)
		} else {
			d.dirs[dir] = names
		}
	}
}

// Append adds one entry at the end of the file, creating it if needed.
func (d *Disk) Append(name string, entry any) {
	f := d.get(name)
	f.data = append(f.data, entry)
	f.dirty = true
	d.stats.Appends++
}

// Truncate keeps the first n entries of the file (n < 0 counts as 0). A missing file or n at or
// beyond its length is a no-op.
func (d *Disk) Truncate(name string, n int) {
	f := d.files[name]
	if f == nil || n >= len(f.data) {
		return
	}
	if n < 0 {
		n = 0
	}
	d.stats.Truncates++
	if n < f.durable {
		// Save the durable entries being cut, ahead of any already saved.
		saved := make([]any, 0, f.durable-n+len(f.tail))
		saved = append(saved, f.data[n:f.durable]...)
		f.tail = append(saved, f.tail...)
		f.durable = n
	}
	f.data = f.data[:n:n] // the next append copies: earlier Read views stay intact
	f.dirty = true
}

// Read returns the file's entries as the page cache has them (nil for a missing file). The
// caller must not modify the slice.
func (d *Disk) Read(name string) []any {
	if f := d.files[name]; f != nil {
		return f.data
	}
	return nil
}

// Len is the number of entries in the file (0 if missing).
func (d *Disk) Len(name string) int {
	if f := d.files[name]; f != nil {
		return len(f.data)
	}
	return 0
}

// Exists reports whether the file exists in the page cache.
func (d *Disk) Exists(name string) bool { return d.files[name] != nil }

// Write replaces the file's content at once (write a temporary file, then rename). Until the
// next Flush a crash brings back the previous durable content.
func (d *Disk) Write(name string, entries []any) {
	f := d.get(name)
	if f.durable > 0 {
		saved := make([]any, 0, f.durable+len(f.tail))
		saved = append(saved, f.data[:f.durable]...)
		f.tail = append(saved, f.tail...)
		f.durable = 0
	}
	f.data = append(make([]any, 0, len(entries)), entries...)
	f.dirty = true
	d.stats.Writes++
}

// Flush makes the file durable (fsync). A missing file is a no-op.
func (d *Disk) Flush(name string) {
	if f := d.lookup(name); f != nil {
		d.flush(f)
	}
}

func (d *Disk) flush(f *file) {
	if !f.dirty && f.durableExists {
		return
	}
	f.durable = len(f.data)
	f.tail = nil
	f.durableExists = true
	f.dirty = false
	d.stats.Flushes++
}

// Remove deletes the file. Deletion is durable at once.
func (d *Disk) Remove(name string) {
	if _, ok := d.files[name]; ok {
		d.drop(name)
		d.stats.Removes++
	}
}

// Files lists the files in the page cache, sorted by name.
func (d *Disk) Files() []string {
	return slices.Sorted(maps.Keys(d.files))
}

// List lists the files directly in directory dir (names dir+"/"+base, base without a slash)
// in the page cache, sorted by name. It takes time in the size of the directory, not of the
// disk: a broker opening the logs of a 30,000-partition topic lists each log's directory.
func (d *Disk) List(dir string) []string {
	return slices.Clone(d.dirs[dir])
}

// FlushAll makes every file durable (a clean shutdown, or the OS writeback).
func (d *Disk) FlushAll() {
	for _, f := range d.files { // order-independent: each flush touches one file
		d.flush(f)
	}
}

// Crash drops every unflushed change (power loss): files never flushed vanish, the others go
// back to their durable content.
func (d *Disk) Crash() {
	d.stats.Crashes++
	for name, f := range d.files { // order-independent
		if !f.durableExists {
			d.drop(name)
			continue
		}
		if !f.dirty {
			continue
		}
		data := make([]any, 0, f.durable+len(f.tail))
		data = append(data, f.data[:f.durable]...)
		f.data = append(data, f.tail...)
		f.durable = len(f.data)
		f.tail = nil
		f.dirty = false
	}
}

// Durable returns what the file would hold after a crash (nil if it would not exist). It
// allocates; meant for tests and inspection.
func (d *Disk) Durable(name string) []any {
	f := d.files[name]
	if f == nil || !f.durableExists {
		return nil
	}
	out := make([]any, 0, f.durable+len(f.tail))
	out = append(out, f.data[:f.durable]...)
	return append(out, f.tail...)
}

// Dirty reports whether any file has unflushed changes.
func (d *Disk) Dirty() bool {
	for _, f := range d.files {
		if f.dirty || !f.durableExists {
			return true
		}
	}
	return false
}

// Stats returns the disk's operation counts.
func (d *Disk) Stats() DiskStats { return d.stats }
