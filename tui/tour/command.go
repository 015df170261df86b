package tour

import (
	"fmt"
	"io"
	"os"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"kafkasim/scenarios"
	"kafkasim/scenarios/tour"
)

// Exit maps a command's outcome to its exit status (the root package's exitFor): an error is
// bad input (2) unless it is a *scenarios.OutputError (1); else 1 unless ok.
type Exit func(ok bool, err error) error

// Command is kafkasim tour.
func Command(seedUsage string, exit Exit) *cobra.Command {
	o := Options{Lang: "en", Step: 1}
	var list, run bool
	cmd := &cobra.Command{
		Use:   "tour [--lang en|zh] [--step N] [--present] [--list] [--run]",
		Short: "A guided tour of Kafka's concepts, chapter by chapter of the seed documents",
		Long: strings.TrimSpace(`
tour plays the guided tour of the two introductions to Kafka (the seed documents
kafka-intro-1.txt and kafka-intro-2.txt) in the terminal UI: one short scenario per step,
in the seeds' order (1.1 features; 1.2 producer, consumer, topic, partition, offset, replicas,
broker, leader, follower, ZooKeeper, AR/ISR/OSR, HW, LEO; 1.3 the two messaging models;
2.1-2.8 topic, partition, replication, transactions, producer, consumer, offsets, broker). Each
step narrates with captions, pauses to ask the class a question (space continues), and lights
what its caption names: the ISR column when it speaks of the ISR, the HW marker when it speaks
of the HW. > goes on to the next step (enter too, once a step has ended), < back; every other
key is the UI's (? lists them).

--lang zh gives the captions in Chinese, the terms kept as the seeds write them (AR, ISR, OSR,
HW, LEO, Leader, Follower). --list prints the steps and the seed sections each shows. --run (or
an output that is not a terminal) plays every step headless and prints each one's verdict line,
for CI; with an output that is not a terminal and no --run, the captions too.

Exit status: 0 every step held; 1 a step failed; 2 bad input (--lang, --step).`),
		Example: "  kafkasim tour --present\n  kafkasim tour --lang zh --step 10\n  kafkasim tour --run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tour.CheckLang(o.Lang); err != nil {
				return exit(false, err)
			}
			if n := len(tour.Steps()); o.Step < 1 || o.Step > n {
				return exit(false, fmt.Errorf("--step %d: the tour has steps 1..%d", o.Step, n))
			}
			out := cmd.OutOrStdout()
			switch {
			case list:
				if err := tour.WriteList(out, o.Lang); err != nil {
					return exit(false, &scenarios.OutputError{Err: err})
				}
				return nil
			case run || !interactive(out):
				return exit(tour.Run(out, tour.RunOptions{Lang: o.Lang, Seed: o.Seed, From: o.Step, Narrate: !run}))
			}
			m, err := New(o)
			if err != nil {
				return exit(false, err)
			}
			defer m.Close()
			_, err = tea.NewProgram(m).Run()
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Lang, "lang", o.Lang, "the captions' language: en, or zh as the seeds write it")
	fl.IntVar(&o.Step, "step", o.Step, "start at step `N` (--list numbers them)")
	fl.BoolVar(&o.Present, "present", false, "classroom mode: larger glyphs, prominent captions, destructive keys ask first")
	fl.BoolVar(&list, "list", false, "print the steps, the seed sections each shows and the library scenarios that go deeper")
	fl.BoolVar(&run, "run", false, "play every step headless and print each one's verdict line (CI)")
	fl.Uint64Var(&o.Seed, "seed", 0, seedUsage)
	return cmd
}

// interactive reports whether the UI can own the terminal: both stdin and out are one.
func interactive(out io.Writer) bool {
	f, ok := out.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && term.IsTerminal(int(os.Stdin.Fd()))
}
