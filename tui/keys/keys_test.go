package keys

import (
	"reflect"
	"testing"
)

// bindings are the Binding fields of a struct (the screen's, the checker pane's, the command
// line's), by name.
func bindings(v any) map[string]*Binding {
	out := map[string]*Binding{}
	rv := reflect.ValueOf(v).Elem()
	for i := 0; i < rv.NumField(); i++ {
		if b, ok := rv.Field(i).Addr().Interface().(*Binding); ok {
			out[rv.Type().Field(i).Name] = b
		}
	}
	return out
}

// No key does two things in one mode (the screen, the checker pane, the command line), and
// every binding has a key.
func TestNoKeyBoundTwice(t *testing.T) {
	km := Default()
	for mode, group := range map[string]any{"screen": km, "checker": &km.CheckerPane, "command line": &km.CommandLine} {
		seen := map[string]string{}
		for name, b := range bindings(group) {
			if len(b.Keys()) == 0 {
				t.Errorf("%s: %s has no key", mode, name)
			}
			for _, k := range b.Keys() {
				if other, ok := seen[k]; ok {
					t.Errorf("%s: %q is bound to both %s and %s", mode, k, other, name)
				}
				seen[k] = name
			}
		}
	}
}

// The help lines have a label, words and short words that fit the two-column layout; a binding
// without a line is one a comment says which line explains it.
func TestLinesAndHints(t *testing.T) {
	km := Default()
	lines := map[*Binding]bool{}
	for _, b := range km.Lines() {
		lines[b] = true
		if b.Help().Key == "" || b.Help().Desc == "" || b.Short == "" || len([]rune(b.Short)) > 26 {
			t.Errorf("line %q %q short %q: want a label, words, and short words of at most 26 cells", b.Help().Key, b.Help().Desc, b.Short)
		}
	}
	for _, b := range km.Hints() {
		if b.Hint == "" {
			t.Errorf("%q is in the bottom line without hint words", b.Help().Key)
		}
	}
	for name, b := range bindings(km) {
		if b.Help().Key != "" && !lines[b] {
			t.Errorf("%s has help words but no line in the help", name)
		}
	}
}

// Each fault key types its statement.
func TestFaultStatements(t *testing.T) {
	km := Default()
	want := map[string]string{
		"K": "kill leader orders/0",
		"c": "crash leader orders/0",
		"s": "stop leader orders/0",
		"r": "restart leader orders/0",
		"p": "pause leader orders/0",
		"i": "isolate leader orders/0",
		"l": "slow leader orders/0 latency=100ms",
		"h": "heal",
	}
	for _, f := range km.Faults() {
		k := f.Keys()[0]
		if got := f.Statement("leader orders/0", false); got != want[k] {
			t.Errorf("%s types %q; want %q", k, got, want[k])
		}
		delete(want, k)
	}
	for k := range want {
		t.Errorf("%s is not a fault key", k)
	}
	if got := km.Pause.Statement("2", true); got != "resume 2" {
		t.Errorf("p on a paused node types %q; want resume 2", got)
	}
	if got := km.Kill.Statement("2", true); got != "kill 2" {
		t.Errorf("K on a paused node types %q; want kill 2", got)
	}
}

// j and k move, as in k9s and lazygit (vim keys); kill is K, which nothing else takes.
func TestVimKeysMove(t *testing.T) {
	km := Default()
	for k, b := range map[string]*Binding{"k": &km.Up, "j": &km.Down, "K": &km.Kill} {
		found := false
		for _, bk := range b.Keys() {
			found = found || bk == k
		}
		if !found {
			t.Errorf("%s is not bound to %q", b.Help().Desc, k)
		}
	}
	for k, b := range map[string]*Binding{"k": &km.CheckerPane.Up, "j": &km.CheckerPane.Down} {
		if len(b.Keys()) < 2 || b.Keys()[1] != k {
			t.Errorf("checker pane: %q does not move (%v)", k, b.Keys())
		}
	}
}
