package client

import (
	"os"
	"testing"
)

// TestMain runs every test of the package with the consumer checking its parked partitions
// (verifyParked) at each walk that passes over them.
func TestMain(m *testing.M) {
	verifyParked = true
	os.Exit(m.Run())
}
