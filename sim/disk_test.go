package sim

import (
	"reflect"
	"slices"
	"testing"
)

func entries(vs ...int) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func TestDiskCrashKeepsOnlyDurable(t *testing.T) {
	tests := []struct {
		name      string
		ops       func(d *Disk)
		wantCache []any // before the crash
		wantAfter []any // after the crash; nil = file gone
	}{
		{"unflushed new file vanishes", func(d *Disk) {
			d.Append("f", 1)
		}, entries(1), nil},
		{"flushed appends survive, later ones do not", func(d *Disk) {
			d.Append("f", 1)
			d.Append("f", 2)
			d.Flush("f")
			d.Append("f", 3)
		}, entries(1, 2, 3), entries(1, 2)},
		{"truncate above durable then crash", func(d *Disk) {
			d.Append("f", 1)
			d.Flush("f")
			d.Append("f", 2)
			d.Append("f", 3)
			d.Truncate("f", 2)
		}, entries(1, 2), entries(1)},
		{"truncate below durable then crash restores", func(d *Disk) {
			for i := 1; i <= 5; i++ {
				d.Append("f", i)
			}
			d.Flush("f")
			d.Truncate("f", 3)
			d.Append("f", 40)
			d.Truncate("f", 1)
			d.Append("f", 20)
		}, entries(1, 20), entries(1, 2, 3, 4, 5)},
		{"truncate below durable then flush makes it stick", func(d *Disk) {
			for i := 1; i <= 5; i++ {
				d.Append("f", i)
			}
			d.Flush("f")
			d.Truncate("f", 2)
			d.Append("f", 30)
			d.Flush("f")
			d.Append("f", 40)
		}, entries(1, 2, 30, 40), entries(1, 2, 30)},
		{"write keeps old durable content until flush", func(d *Disk) {
			d.Write("f", entries(1, 2))
			d.Flush("f")
			d.Write("f", entries(9))
		}, entries(9), entries(1, 2)},
		{"write then flush", func(d *Disk) {
			d.Write("f", entries(1, 2))
			d.Flush("f")
			d.Write("f", entries(9))
			d.Flush("f")
		}, entries(9), entries(9)},
		{"remove is durable at once", func(d *Disk) {
			d.Append("f", 1)
			d.Flush("f")
			d.Remove("f")
		}, nil, nil},
		{"recreated after remove, unflushed", func(d *Disk) {
			d.Append("f", 1)
			d.Flush("f")
			d.Remove("f")
			d.Append("f", 2)
		}, entries(2), nil},
		{"flush all", func(d *Disk) {
			d.Append("f", 1)
			d.FlushAll()
		}, entries(1), entries(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDisk()
			tt.ops(d)
			if got := d.Read("f"); !reflect.DeepEqual(got, tt.wantCache) {
				t.Fatalf("cache: got %v; want %v", got, tt.wantCache)
			}
			if got := d.Durable("f"); !reflect.DeepEqual(got, tt.wantAfter) {
				t.Fatalf("Durable: got %v; want %v", got, tt.wantAfter)
			}
			d.Crash()
			if got := d.Read("f"); !reflect.DeepEqual(got, tt.wantAfter) {
				t.Fatalf("after crash: got %v; want %v", got, tt.wantAfter)
			}
			if got := d.Len("f"); got != len(tt.wantAfter) {
				t.Fatalf("after crash Len: got %d; want %d", got, len(tt.wantAfter))
			}
			if d.Dirty() {
				t.Fatalf("after crash: got dirty; want clean")
			}
		})
	}
}

func TestDiskReadViewsStayImmutable(t *testing.T) {
	d := NewDisk()
	d.Append("f", 1)
	d.Append("f", 2)
	d.Append("f", 3)
	view := d.Read("f")
	d.Truncate("f", 1)
	d.Append("f", 99)
	if !reflect.DeepEqual(view, entries(1, 2, 3)) {
		t.Fatalf("earlier view: got %v; want [1 2 3] unchanged", view)
	}
	if got := d.Read("f"); !reflect.DeepEqual(got, entries(1, 99)) {
		t.Fatalf("cache: got %v; want [1 99]", got)
	}
}

func TestDiskFilesSorted(t *testing.T) {
	d := NewDisk()
	for _, f := range []string{"orders-0/00000.log", "meta.properties", "__cluster_metadata-0/log", "a"} {
		d.Append(f, 1)
	}
	d.Remove("a")
	want := []string{"__cluster_metadata-0/log", "meta.properties", "orders-0/00000.log"}
	if got := d.Files(); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v; want %v", got, want)
	}
}

func TestDiskMissingFileIsEmpty(t *testing.T) {
	d := NewDisk()
	d.Truncate("nope", 0)
	d.Flush("nope")
	d.Remove("nope")
	if d.Read("nope") != nil || d.Len("nope") != 0 || len(d.Files()) != 0 {
		t.Fatalf("got read %v len %d files %v; want nothing", d.Read("nope"), d.Len("nope"), d.Files())
	}
}

// List names the files directly in one directory, sorted, as they come and go: appended,
// written, removed, lost in a crash (never flushed) or kept by one (flushed).
func TestDiskList(t *testing.T) {
	d := NewDisk()
	for _, f := range []string{"orders-0/01.log", "orders-0/00.log", "orders-0/sub/x", "orders-1/00.log", "meta.properties"} {
		d.Append(f, 1)
	}
	d.Write("orders-0/checkpoint", entries(3))
	check := func(dir string, want ...string) {
		t.Helper()
		if got := d.List(dir); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v; want %v", dir, got, want)
		}
	}
	check("orders-0", "orders-0/00.log", "orders-0/01.log", "orders-0/checkpoint")
	check("orders-0/sub", "orders-0/sub/x")
	check("", "meta.properties")
	check("orders-2")
	d.Remove("orders-0/00.log")
	d.Flush("orders-0/01.log")
	d.Crash()
	check("orders-0", "orders-0/01.log")
	check("orders-1")
	check("")
}
