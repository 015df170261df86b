package sim

import (
	"reflect"
	"testing"
)

// argued has a TraceArg, to check that the cache remembers which types are TraceArgers.
type argued struct{ n int64 }

func (a argued) TraceArg() int64 { return a.n }

// TestTypeCodesPastTheCache checks the type codes of more types than the cache of type words
// holds: each type keeps the code it was first given, named after it, whether it was cached or
// not, and TraceArg is asked of the types that have one.
func TestTypeCodesPastTheCache(t *testing.T) {
	tr := newTrace(true, nil)
	vals := []any{argued{7}}
	for n := range typeCacheSize + 50 { // distinct types: [0]byte, [1]byte, ...
		vals = append(vals, reflect.New(reflect.ArrayOf(n, reflect.TypeOf(byte(0)))).Elem().Interface())
	}
	codes := make([]uint16, len(vals))
	for round := range 3 {
		for i, v := range vals {
			c, arg := tr.codeArg(v)
			if round == 0 {
				codes[i] = c
			}
			if c != codes[i] || tr.code(v) != c {
				t.Fatalf("round %d: %T has code %d (code says %d); want %d, its first", round, v, c, tr.code(v), codes[i])
			}
			if name := tr.TypeName(c); name != reflect.TypeOf(v).String() {
				t.Fatalf("%T: code %d is named %q", v, c, name)
			}
			want := int64(0)
			if i == 0 {
				want = 7
			}
			if arg != want {
				t.Fatalf("%T: arg %d; want %d", v, arg, want)
			}
		}
	}
	if tr.cached != typeCacheSize*3/4 {
		t.Fatalf("%d types cached; want %d (three quarters of the cache)", tr.cached, typeCacheSize*3/4)
	}
}
