package scenarios

import (
	"errors"
	"testing"
)

// Parse never panics: any input is a scenario or an *Error.
func FuzzParse(f *testing.F) {
	for _, name := range libraryNames() {
		src, err := files.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(head + "expect isr orders/0 == {1, 2,3}\nloss p1 -> leader orders/1 p=0.5\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f.scenario", src)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("got %v (%T); want an *Error with a line and column", err, err)
			}
			return
		}
		if s == nil {
			t.Fatal("Parse returned nil, nil")
		}
	})
}

func libraryNames() []string {
	entries, _ := files.ReadDir(".")
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
