// Command kafkasim runs a simulated Kafka cluster: scenario files headless (run), seed sweeps
// spread over cores and machines (sweep), a history summary (check) and its own speed (bench).
//
// It only parses the command line and maps outcomes to exit statuses: 0 every expectation
// held, 1 an expectation failed, 2 bad input (an unknown flag, a bad value, a scenario that does
// not parse). The simulation itself lives in the packages it calls.
package main
