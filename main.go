// Command kafkasim runs a simulated Kafka cluster. Until the scenario runner and the terminal
// UI land, it narrates the built-in classroom cluster through a leader failover.
package main

import (
	"flag"
	"fmt"
	"os"

	"kafkasim/sim/cluster"
)

// version is the kafkasim version.
const version = "0.1.0"

func main() {
	fs := flag.NewFlagSet("kafkasim", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "the simulation's seed")
	showVersion := fs.Bool("version", false, "print the version")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: kafkasim [--seed N] [--version]\n\nRuns the classroom cluster (3 brokers, 3 controllers, 6 partitions, RF 3) through a leader failover.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "kafkasim: unexpected argument %q\n", fs.Arg(0))
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println("kafkasim", version)
		return
	}
	if err := cluster.Demo(os.Stdout, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "kafkasim:", err)
		os.Exit(1)
	}
}
