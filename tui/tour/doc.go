// Package tour is `kafkasim tour`: the guided tour of the seed documents (scenarios/tour)
// played in the terminal UI one step after another, each step a short scenario with captions,
// pause points and a question for the class, and the UI lighting what each caption names
// (tui.Options.Highlight: the ISR column when it speaks of the ISR, the HW marker when it
// speaks of the HW). A line over the UI says which step plays and which seed sections it shows;
// `>` goes on to the next step (so does enter once a step has ended), `<` back to the previous.
// Headless, `--run` plays every step and prints each one's verdict line; `--list` prints the
// steps; `--lang zh` gives the captions in Chinese as the seeds write them.
//
// The command lives here rather than in the root package, which keeps to its line budget, as
// gateway.Command and scenarios/triage do.
package tour
