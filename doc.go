// Command kafkasim runs a simulated Kafka cluster: the terminal UI (no command, tui), scenario
// files headless (run), seed sweeps spread over cores and machines (sweep), a history judged by
// the checker (check), its own speed (bench) and the library's scenarios (list).
//
// It only parses the command line and maps outcomes to exit statuses: 0 every expectation
// held, 1 an expectation failed, 2 bad input (an unknown flag, a bad value, a scenario that does
// not parse). Each command's file holds its flags and one call into the packages that do the
// work: scenarios (opening, running and sweeping scenario files, their output, bench), sim (the
// trace file), tui (the terminal UI).
package main
