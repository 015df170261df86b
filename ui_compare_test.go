package main

import (
	"strings"
	"testing"
)

// kafkasim tui FILE --compare KEY=V1,V2 without a terminal prints the two runs side by side, as
// compare does; a bad --compare is bad input (exit 2) whose message names the flag.
func TestTUICompareFlag(t *testing.T) {
	code, stdout, _ := cli(t, "tui", "acks1-loss", "--compare", "acks=1,all", "--text")
	if code != 0 || !strings.Contains(stdout, "acks=1") || !strings.Contains(stdout, "acks=all") || !strings.Contains(stdout, "lost") {
		t.Errorf("tui --compare --text: status %d\n%s", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tui", "acks1-loss", "--compare", "acks"}, `--compare "acks": want KEY=V1,V2`},
		{[]string{"tui", "acks1-loss", "--compare", "acks=1"}, "--compare acks=1: want two values"},
		{[]string{"tui", "acks1-loss", "--compare", "no.such.key=1,2"}, "--compare no.such.key=1: no.such.key: unknown config key"},
		{[]string{"tui", "acks1-loss", "--compare", "acks=1,most"}, "--compare acks=most"},
		{[]string{"tui", "--compare", "acks=1,all"}, "--compare: give the scenario FILE"},
		{[]string{"tui", "--trace", "t.trace", "--compare", "acks=1,all"}, "--compare"},
	} {
		code, _, stderr := cli(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: status %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
