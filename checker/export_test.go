package checker

import (
	"testing"

	"kafkasim/broker/history"
)

// For the tests of package checker_test, which run the scenario library (package scenarios
// imports checker, so only an external test package can import it).

// DecideAndSearch judges every partition of h with the direct check and with porcupine, fails
// t where they differ, and returns how many partitions each result was reached on.
func DecideAndSearch(t *testing.T, name string, h history.History) map[string]int {
	t.Helper()
	return bothWays(t, name, h)
}
