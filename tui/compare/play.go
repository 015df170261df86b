package compare

import (
	"errors"
	"fmt"
	"io"

	tea "charm.land/bubbletea/v2"

	"kafkasim/scenarios"
)

// Flag is the option that asks for a comparison: kafkasim tui FILE --compare KEY=V1,V2.
const Flag = "--compare"

// Play is `kafkasim tui FILE --compare KEY=V1,V2`: the comparison spec read and checked (its
// errors name the flag: bad input), then the two worlds in the terminal UI, or with text (the
// output is not a terminal, or --text) the runs printed side by side as `kafkasim compare`
// prints them. args are tui's arguments: the scenario FILE or library name.
func Play(out io.Writer, args []string, spec string, seed uint64, present, text bool) (bool, error) {
	sets, err := scenarios.ParseComparison(Flag, spec)
	if err != nil {
		return false, err
	}
	if len(args) == 0 {
		return false, fmt.Errorf("%s: give the scenario FILE to compare (kafkasim tui acks1-loss %s acks=1,all)", Flag, Flag)
	}
	f, err := scenarios.Open(args[0])
	if err != nil {
		return false, err
	}
	for _, st := range sets { // an unknown key or a bad value is bad input before anything runs
		if _, err := f.AppliedFor(Flag, st); err != nil {
			return false, err
		}
	}
	if text {
		sides, err := scenarios.Compare(f, seed, sets)
		if err != nil {
			return false, err
		}
		if len(sides) == 0 {
			return false, errors.New("nothing compared")
		}
		return true, scenarios.PrintComparison(out, f.Name, sides[0].Result.Seed, sides)
	}
	m, err := New(Options{File: f, Settings: sets, Flag: Flag, Seed: seed, Present: present})
	if err != nil {
		return false, err
	}
	_, err = tea.NewProgram(m).Run()
	return true, err
}
